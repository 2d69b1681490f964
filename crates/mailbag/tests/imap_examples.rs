//! Every program in `examples/` run against the harness Dovecot, with its arguments and its
//! password in MAILBAG_PASSWORD, its output checked: the examples are proven to work, not
//! just to compile.
//!
//! `cargo test -p mailbag` builds the examples before the tests; when they are missing (a
//! run filtered with `--test imap_examples`) the test builds them with the same cargo.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mailbag_testserver::messages::{generate, message, subject, to_crlf};
use mailbag_testserver::{Dovecot, TestUser};

const EXAMPLES: [&str; 8] = [
    "imap_attachments",
    "imap_capabilities",
    "imap_login",
    "imap_list",
    "imap_summary",
    "imap_download",
    "imap_idle",
    "pop3_seed004",
];

/// The directory cargo puts example binaries in, next to this test's `deps/`.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/PROFILE/deps/TEST");
    profile.join("examples")
}

/// The example's binary, building the examples once if any is missing.
fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let dir = examples_dir();
    if EXAMPLES.iter().any(|e| !dir.join(e).exists()) {
        BUILT.call_once(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut child = Command::new(cargo)
                .args(["build", "-p", "mailbag", "--examples"])
                .spawn()
                .expect("run cargo to build the examples");
            let deadline = Instant::now() + Duration::from_secs(600);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(status.success(), "cargo build --examples: {status}");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("building the examples took over 10 minutes");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
    }
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing", path.display());
    path
}

fn fresh_user(d: &Dovecot) -> TestUser {
    let user = d.new_user();
    std::thread::sleep(Duration::from_millis(1100));
    user
}

/// `EXAMPLE localhost:IMAPS USER --ca-file CA EXTRA...` with the password in the environment.
fn imap_example(d: &Dovecot, user: &TestUser, name: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(example(name));
    c.arg(format!("localhost:{}", d.imaps_port()))
        .arg(&user.name)
        .args(extra)
        .arg("--ca-file")
        .arg(d.ca_file())
        .env("MAILBAG_PASSWORD", &user.password)
        .env_remove("RUST_LOG");
    c
}

fn succeed(mut c: Command) -> String {
    let out: Output = c.output().expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{c:?}: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn capabilities_list_summary_and_download() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let msgs: Vec<Vec<u8>> = generate(3, 1500).iter().map(|m| to_crlf(m)).collect();
    d.fill(&user, "INBOX", &msgs).unwrap();

    let out = succeed(imap_example(d, &user, "imap_capabilities", &[]));
    let before = out.lines().find(|l| l.starts_with("before login: "));
    let after = out.lines().find(|l| l.starts_with("after login: "));
    assert!(before.is_some_and(|l| l.contains("Imap4rev1")), "{out}");
    assert!(after.is_some_and(|l| l.contains("Idle")), "{out}");

    let out = succeed(imap_example(d, &user, "imap_list", &[]));
    for folder in ["INBOX", "Drafts", "Sent", "Trash"] {
        assert!(
            out.lines().any(|l| l.ends_with(&format!(" {folder}"))),
            "{folder} in {out}"
        );
    }

    let out = succeed(imap_example(d, &user, "imap_summary", &["INBOX"]));
    assert!(
        out.starts_with("INBOX: 3 messages, ") && out.contains("UIDNEXT Some(Uid(4))"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("out.mbox");
    let mbox_arg = mbox.display().to_string();
    let out = succeed(imap_example(
        d,
        &user,
        "imap_download",
        &["INBOX", &mbox_arg],
    ));
    assert_eq!(out.trim(), format!("3 messages written to {mbox_arg}"));
    let written = std::fs::read(&mbox).unwrap();
    for m in &msgs {
        assert!(
            written.windows(m.len()).any(|w| w == m.as_slice()),
            "every message whole in the mbox"
        );
    }
    // BODY.PEEK and EXAMINE: nothing was marked seen, message 1 is still the first unseen.
    let out = succeed(imap_example(d, &user, "imap_summary", &["INBOX"]));
    assert!(out.contains("first unseen Some(1)"), "{out}");
}

#[test]
fn attachments_listed_from_bodystructure_and_saved_decoded() {
    use base64::Engine as _;
    let d = Dovecot::shared();
    let user = fresh_user(d);
    // Messages 0-3: plain, multipart/mixed with a base64 attachment (message 1 only),
    // quoted-printable, multipart/alternative.
    d.fill(&user, "INBOX", &generate(4, 3000)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().display().to_string();
    let out = succeed(imap_example(
        d,
        &user,
        "imap_attachments",
        &["INBOX", "--save", &dir_arg],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("2 2 application/octet-stream ") && lines[0].ends_with(" data1.bin"),
        "{out}"
    );
    // What the generator encoded: the attachment's base64 lines, decoded.
    let text = String::from_utf8(message(1, 3000)).unwrap();
    let start = text.find("Content-Transfer-Encoding: base64\n\n").unwrap() + 35;
    let end = text.find("\n--=_boundary_1--").unwrap();
    let b64: String = text[start..end].split_whitespace().collect();
    let expected = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let path = dir.path().join("2-2-data1.bin");
    assert_eq!(std::fs::read(&path).unwrap(), expected, "saved decoded");
    assert_eq!(
        lines[1],
        format!("saved {} ({} bytes)", path.display(), expected.len())
    );
}

#[test]
fn login_asks_again_after_a_wrong_password() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let mut c = imap_example(d, &user, "imap_login", &[]);
    c.env("MAILBAG_PASSWORD", "wrong-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", user.password).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.starts_with("login failed: "), "{stderr}");
    assert_eq!(stdout.trim(), format!("logged in as {}", user.name));
}

#[test]
fn idle_prints_each_new_message() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(1, 500)).unwrap();
    let mut child = imap_example(d, &user, "imap_idle", &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    d.deliver(&user, "INBOX", &to_crlf(&message(5, 700)))
        .unwrap();
    let line = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("imap_idle printed the new message");
    assert_eq!(line, format!("2 {}", subject(5)));
}

#[test]
fn pop3_seed004_lists_and_retrieves() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let msgs: Vec<Vec<u8>> = generate(2, 800).iter().map(|m| to_crlf(m)).collect();
    d.fill(&user, "INBOX", &msgs).unwrap();
    let mut c = Command::new(example("pop3_seed004"));
    c.args(["localhost", &d.pop3s_port().to_string(), &user.name])
        .arg("--ca-file")
        .arg(d.ca_file())
        .env("MAILBAG_PASSWORD", &user.password);
    let out = succeed(c);
    let size: usize = msgs.iter().map(Vec::len).sum();
    assert!(out.contains(&format!("(2, {size})")), "{out}");
    assert!(
        out.contains("message 1: ") && out.contains("message 2: "),
        "{out}"
    );
    assert!(out.contains(&format!("1 {}", msgs[0].len())), "{out}");
    assert!(out.contains(&format!("Subject: {}", subject(0))), "{out}");
}
