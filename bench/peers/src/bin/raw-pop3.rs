//! The POP3 limit: USER, PASS and STAT, then every RETR pipelined (written by a second
//! thread while the main one reads), then QUIT. Discards the messages, counting their
//! bytes with dot-stuffing undone (CRLF line ends, as the server sends them).
//!
//! raw-pop3 PORT USER [--maildir DIR]
//! Prints: `messages=N bytes=B`.
//! With --maildir it is the limit of a client that stores the mail: each message goes to its
//! own Maildir file as mailbag's writer does it (`mailbag_bench_peers::MaildirSink`).
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut store = args
        .iter()
        .position(|a| a == "--maildir")
        .map(|i| mailbag_bench_peers::MaildirSink::new(args[i + 1].clone().into()));
    let tcp = TcpStream::connect(("127.0.0.1", args[0].parse::<u16>().unwrap())).unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut writer = tcp.try_clone().unwrap();
    let mut r = BufReader::with_capacity(1 << 18, tcp);
    let mut line = Vec::with_capacity(1024);
    let status = |r: &mut BufReader<TcpStream>, line: &mut Vec<u8>| {
        line.clear();
        r.read_until(b'\n', line).unwrap();
        assert!(
            line.starts_with(b"+OK"),
            "{}",
            String::from_utf8_lossy(line)
        );
    };
    status(&mut r, &mut line); // greeting
    let pw = mailbag_bench_peers::password();
    write!(writer, "USER {}\r\nPASS {}\r\nSTAT\r\n", args[1], pw).unwrap();
    status(&mut r, &mut line);
    status(&mut r, &mut line);
    status(&mut r, &mut line);
    let count: u64 = String::from_utf8_lossy(&line)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let sender = std::thread::spawn(move || {
        let mut cmds = String::with_capacity(count as usize * 12 + 8);
        for i in 1..=count {
            cmds.push_str(&format!("RETR {i}\r\n"));
        }
        cmds.push_str("QUIT\r\n");
        writer.write_all(cmds.as_bytes()).unwrap();
    });
    let (mut messages, mut bytes) = (0u64, 0u64);
    for _ in 0..count {
        status(&mut r, &mut line);
        if let Some(st) = store.as_mut() {
            st.begin();
        }
        loop {
            line.clear();
            r.read_until(b'\n', &mut line).unwrap();
            if line == b".\r\n" {
                break;
            }
            let dot = usize::from(line[0] == b'.');
            bytes += (line.len() - dot) as u64;
            if let Some(st) = store.as_mut() {
                st.write(&line[dot..]);
            }
        }
        if let Some(st) = store.as_mut() {
            st.finish();
        }
        messages += 1;
    }
    if let Some(st) = store.as_mut() {
        st.sync();
    }
    status(&mut r, &mut line); // QUIT
    sender.join().unwrap();
    println!("messages={messages} bytes={bytes}");
}
