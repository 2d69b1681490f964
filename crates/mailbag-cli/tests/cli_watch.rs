//! `mailbag watch` across a dropped connection: the real binary watches through the fault
//! proxy, the proxy resets the connection and refuses new ones while a message arrives, and
//! the watch must reconnect by itself, say so on stderr, and print (and `--exec`) the message
//! delivered meanwhile, once.

mod common;

use std::io::BufRead;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
use mailbag_testserver::{messages, Dovecot};

/// A line of the child's output: `(true, line)` from stdout, `(false, line)` from stderr.
type Line = (bool, String);

fn forward(reader: impl std::io::Read + Send + 'static, stdout: bool, tx: mpsc::Sender<Line>) {
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send((stdout, line));
        }
    });
}

/// Waits for a line matching `want` (stdout and stderr are read by two threads, so it may
/// be among the lines already read), keeping every line read in `seen`.
fn wait_for(
    rx: &mpsc::Receiver<Line>,
    seen: &mut Vec<Line>,
    what: &str,
    want: impl Fn(&Line) -> bool,
) {
    if seen.iter().any(&want) {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = want(&line);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(_) => panic!("no {what} within 40 s; output so far: {seen:#?}"),
        }
    }
}

#[test]
fn watch_reconnects_after_a_reset_and_prints_what_arrived_meanwhile() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(2, 1000))
        .unwrap();
    let proxy = FaultProxy::spawn(d.addr(d.imaps_port()), FaultPlan::pass()).unwrap();
    let src = format!("imaps://{}@127.0.0.1:{}/INBOX", user.name, proxy.port());
    let ca = d.ca_file().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let exec_out = dir.path().join("exec");
    let exec = format!("cat >> {}", exec_out.display());
    let mut child = mailbag(&user, &["watch", &src, "--ca-file", &ca, "--exec", &exec])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    forward(child.stdout.take().unwrap(), true, tx.clone());
    forward(child.stderr.take().unwrap(), false, tx);
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, "the watching note", |(out, l)| {
        !out && l.starts_with("watching INBOX (uidnext 3)")
    });

    d.deliver(&user, "INBOX", &messages::message(10, 1200))
        .unwrap();
    wait_for(&rx, &mut seen, "new uid 3", |(out, l)| {
        *out && l.starts_with("new uid 3\t")
    });

    // The connection is reset; reconnects are refused while message 11 arrives.
    proxy.set_plan(FaultPlan::every(Faults::refuse().rst()));
    proxy.reset_all();
    d.deliver(&user, "INBOX", &messages::message(11, 1200))
        .unwrap();
    wait_for(&rx, &mut seen, "the connection-lost note", |(out, l)| {
        !out && l.starts_with("connection lost")
    });
    std::thread::sleep(Duration::from_secs(2));
    proxy.set_plan(FaultPlan::pass());
    wait_for(&rx, &mut seen, "the reconnected note", |(out, l)| {
        !out && l.starts_with("reconnected; watching INBOX")
    });
    wait_for(&rx, &mut seen, "new uid 4", |(out, l)| {
        *out && l.starts_with("new uid 4\t")
    });
    // Anything more (a duplicate) would come right after the catch-up.
    std::thread::sleep(Duration::from_secs(1));
    seen.extend(rx.try_iter());
    let _ = child.kill();
    let _ = child.wait();

    let new: Vec<&str> = seen
        .iter()
        .filter(|(out, l)| *out && l.starts_with("new uid "))
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(new.len(), 2, "each new message once: {seen:#?}");
    assert!(new[1].ends_with(&messages::subject(11)), "{new:?}");
    assert!(
        proxy.accepted() >= 3,
        "refused reconnects: {}",
        proxy.accepted()
    );
    let piped = std::fs::read_to_string(&exec_out).unwrap_or_default();
    for i in [10, 11] {
        assert!(
            piped.contains(&format!("Message-ID: <{i}.")),
            "--exec got message {i}: {piped}"
        );
    }
}
