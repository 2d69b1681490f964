//! B6: many folders watched with IDLE by one process, on the `mailbag` library.
//!
//! ```text
//! idle-watch PORT USER N ROUNDS      (password in MAILBAG_PASSWORD; plain IMAP on 127.0.0.1)
//! ```
//! Creates folders `w/0` .. `w/N-1` where missing, then opens N connections with the
//! `mailbag` library, each LOGIN + EXAMINE of its folder + IDLE, and reads this process's
//! resident memory before and after (VmRSS, /proc/self/status): the difference over N is the
//! memory per watcher. Then, ROUNDS times, it APPENDs one message to folder `w/0` on another
//! connection and times, from the moment the APPEND is written, (a) the mailbag watcher of
//! `w/0` receiving `EXISTS` and (b) a raw-socket client idling on the same folder (a plain
//! TcpStream, no library) seeing `* n EXISTS`. The difference is what the library adds.
//! Prints `key=value` lines for bench.sh.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use mailbag::imap::{ConnectOptions, ImapClient, ImapEvent, Notification};
use mailbag::Security;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn options(port: u16) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", Security::Plaintext)
        .port(port)
        .allow_plaintext_login(true);
    o.notification_capacity = 16;
    o
}

/// A raw IMAP line client over a blocking socket.
struct Raw {
    w: TcpStream,
    r: BufReader<TcpStream>,
    tag: u32,
}

impl Raw {
    fn connect(port: u16, user: &str, pass: &str) -> Res<Raw> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        let mut raw = Raw {
            w: s.try_clone()?,
            r: BufReader::new(s),
            tag: 0,
        };
        let mut greeting = String::new();
        raw.r.read_line(&mut greeting)?;
        raw.cmd(&format!("LOGIN \"{user}\" \"{pass}\""))?;
        Ok(raw)
    }

    /// Sends a command and reads up to its tagged completion, which must be OK.
    fn cmd(&mut self, command: &str) -> Res<Vec<String>> {
        self.tag += 1;
        let tag = format!("r{}", self.tag);
        write!(self.w, "{tag} {command}\r\n")?;
        self.until(&tag)
    }

    fn until(&mut self, tag: &str) -> Res<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line)? == 0 {
                return Err("connection closed".into());
            }
            if let Some(rest) = line.strip_prefix(tag) {
                if rest.starts_with(" OK") {
                    return Ok(lines);
                }
                return Err(format!("{tag}: {}", line.trim_end()).into());
            }
            lines.push(line);
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        return Err("usage: idle-watch PORT USER N ROUNDS".into());
    }
    let port: u16 = args[1].parse()?;
    let user = args[2].clone();
    let n: usize = args[3].parse()?;
    let rounds: usize = args[4].parse()?;
    let pass = std::env::var("MAILBAG_PASSWORD")?;

    // Folders, pipelined on one raw connection (untimed set-up).
    let mut setup = Raw::connect(port, &user, &pass)?;
    let existing: String = setup.cmd("LIST \"\" \"w/*\"")?.concat();
    let mut tags = Vec::new();
    for i in 0..n {
        let quoted = format!("\"w/{i}\"\r\n");
        let bare = format!(" w/{i}\r\n");
        if !existing.contains(&quoted) && !existing.contains(&bare) {
            setup.tag += 1;
            write!(setup.w, "r{} CREATE \"w/{i}\"\r\n", setup.tag)?;
            tags.push(format!("r{}", setup.tag));
        }
    }
    for tag in tags {
        setup.until(&tag)?;
    }

    // The watchers: LOGIN + EXAMINE + IDLE each, a few dozen logins at a time.
    let before = rss_kb();
    let started = Instant::now();
    let mut watchers = Vec::with_capacity(n);
    let mut first_events = None;
    for chunk_start in (0..n).step_by(50) {
        let mut joins = Vec::new();
        for i in chunk_start..(chunk_start + 50).min(n) {
            let user = user.clone();
            let pass = pass.clone();
            joins.push(tokio::spawn(async move {
                let client = ImapClient::connect(options(port)).await?;
                client.login(&user, &pass).await?;
                client.examine(&format!("w/{i}")).await?;
                let events = client.notifications();
                client.idle(true).await?;
                Ok::<_, mailbag::Error>((client, events))
            }));
        }
        for j in joins {
            let (client, events) = j.await??;
            if first_events.is_none() {
                first_events = events;
            } else {
                drop(events);
            }
            watchers.push(client);
        }
    }
    let mut events = first_events.ok_or("no watcher")?;
    let setup_s = started.elapsed().as_secs_f64();
    // Let every connection settle into IDLE before reading the memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kb();
    println!("watchers={n}");
    println!("setup_s={setup_s:.2}");
    println!("rss_before_kb={before}");
    println!("rss_after_kb={after}");
    println!(
        "rss_per_watcher_kb={:.1}",
        after.saturating_sub(before) as f64 / n as f64
    );

    // The raw watcher of w/0, on its own thread; it reports each EXISTS with its time.
    let mut raw = Raw::connect(port, &user, &pass)?;
    raw.cmd("EXAMINE \"w/0\"")?;
    write!(raw.w, "i IDLE\r\n")?;
    let mut cont = String::new();
    raw.r.read_line(&mut cont)?;
    let (tx, rx) = std_mpsc::channel::<Instant>();
    std::thread::spawn(move || loop {
        let mut line = String::new();
        match raw.r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if line.starts_with("* ") && line.trim_end().ends_with(" EXISTS") {
                    let _ = tx.send(Instant::now());
                }
            }
        }
    });
    // Drain anything the library queued before the first APPEND.
    while events.try_next().is_some() {}

    let body = "From: bench@example.org\r\nTo: watcher@example.org\r\nSubject: idle bench\r\n\r\nhello\r\n";
    let mut lib_ms = Vec::new();
    let mut raw_ms = Vec::new();
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(300)).await;
        setup.tag += 1;
        let tag = format!("r{}", setup.tag);
        let t0 = Instant::now();
        write!(
            setup.w,
            "{tag} APPEND \"w/0\" {{{}+}}\r\n{body}\r\n",
            body.len()
        )?;
        let lib_at = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                match events.next().await {
                    Some(ImapEvent::Server(Notification::Exists(_))) => return Ok(Instant::now()),
                    Some(ImapEvent::ConnectionLost { detail }) => return Err(detail),
                    Some(_) => {}
                    None => return Err("notifications ended".to_owned()),
                }
            }
        })
        .await
        .map_err(|_| "no EXISTS within 30 s")??;
        let raw_at = rx.recv_timeout(Duration::from_secs(30))?;
        setup.until(&tag)?;
        lib_ms.push(lib_at.duration_since(t0).as_secs_f64() * 1000.0);
        raw_ms.push(raw_at.duration_since(t0).as_secs_f64() * 1000.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let mut diff: Vec<f64> = lib_ms.iter().zip(&raw_ms).map(|(l, r)| l - r).collect();
    println!("rounds={rounds}");
    println!(
        "lib_delay_ms={}",
        lib_ms
            .iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    println!(
        "raw_delay_ms={}",
        raw_ms
            .iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    println!("lib_delay_median_ms={:.1}", median(&mut lib_ms.clone()));
    println!("raw_delay_median_ms={:.1}", median(&mut raw_ms.clone()));
    println!("added_delay_median_ms={:.2}", median(&mut diff));
    println!("alive={}", watchers.len());
    drop(watchers);
    Ok(())
}
