//! Helpers for tests that run the real `mailbag` binary against the harness Dovecot.
#![allow(dead_code)] // each test file uses a different part

use std::borrow::BorrowMut;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mailbag_store::mboxrd;
use mailbag_testserver::{Dovecot, TestUser};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailbag"))
}

/// The user the scripted IMAP and POP3 peers accept (they check no password).
pub fn scripted_user() -> TestUser {
    TestUser {
        name: "ann".into(),
        password: "secret".into(),
    }
}

/// `mailbag ARGS` with the user's password in MAILBAG_PASSWORD and no config file.
pub fn mailbag(user: &TestUser, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env("MAILBAG_PASSWORD", &user.password)
        .env("XDG_CONFIG_HOME", "/nonexistent-mailbag-test")
        .env_remove("RUST_LOG");
    c
}

/// Runs and returns the output, with stdout and stderr as text.
pub fn run(mut cmd: impl BorrowMut<Command>) -> (Output, String, String) {
    let out = cmd.borrow_mut().output().expect("run mailbag");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// Runs, requires success, returns stdout.
pub fn ok(mut cmd: impl BorrowMut<Command>) -> String {
    let cmd = cmd.borrow_mut();
    let (out, stdout, stderr) = run(&mut *cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}:\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    stdout
}

/// `pop3s://user@127.0.0.1:port`.
pub fn pop3s(d: &Dovecot, user: &TestUser) -> String {
    format!("pop3s://{}@127.0.0.1:{}", user.name, d.pop3s_port())
}

/// `imaps://user@127.0.0.1:port/FOLDER`.
pub fn imaps(d: &Dovecot, user: &TestUser, folder: &str) -> String {
    format!(
        "imaps://{}@127.0.0.1:{}/{folder}",
        user.name,
        d.imaps_port()
    )
}

/// The messages of an mbox file, in order, exactly as stored (quoting reversed).
pub fn mbox_messages(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).expect("open mbox");
    let mut reader = mboxrd::Reader::new(std::io::BufReader::new(file));
    let mut out = Vec::new();
    while let Some((_from, m)) = reader.read_message().expect("read mbox") {
        out.push(m);
    }
    out
}

/// The messages of a Maildir (new/ and cur/), keyed by file name.
pub fn maildir_messages(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            let e = e.expect("dir entry");
            out.insert(
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read message"),
            );
        }
    }
    out
}

/// Asserts that `got` holds each of `expected` exactly once (order free).
pub fn assert_same_messages(mut got: Vec<Vec<u8>>, expected: &[Vec<u8>]) {
    let mut want = expected.to_vec();
    got.sort();
    want.sort();
    assert_eq!(got.len(), want.len(), "message count differs");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            g == w,
            "message {i} differs ({} vs {} bytes)",
            g.len(),
            w.len()
        );
    }
}

/// A line of the child's output: `(true, line)` from stdout, `(false, line)` from stderr.
pub type Line = (bool, String);

pub fn forward(reader: impl std::io::Read + Send + 'static, stdout: bool, tx: mpsc::Sender<Line>) {
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(reader)).map_while(Result::ok) {
            let _ = tx.send((stdout, line));
        }
    });
}

/// Waits for a line matching `want` (stdout and stderr are read by two threads, so it may
/// be among the lines already read), keeping every line read in `seen`.
pub fn wait_for(
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
