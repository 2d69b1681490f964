//! The real `mailbag` binary against the harness Dovecot's POP3: every `pop` command,
//! `capabilities`, `login`, and `download` (incremental, exactly once, also when killed).

mod common;

use std::time::Duration;

use common::*;
use mailbag_testserver::{messages, Dovecot};

fn ca(d: &Dovecot) -> String {
    d.ca_file().display().to_string()
}

#[test]
fn pop_commands_print_what_poplib_would() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(3, 2500);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let src = pop3s(d, &user);
    let ca = ca(d);

    let out = ok(mailbag(&user, &["pop", "stat", &src, "--ca-file", &ca]));
    let total: usize = msgs.iter().map(|m| messages::to_crlf(m).len()).sum();
    assert_eq!(out.trim(), format!("3 messages, {total} bytes"));

    let out = ok(mailbag(
        &user,
        &["pop", "list", &src, "--ca-file", &ca, "--json"],
    ));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["number"], 1);
    assert_eq!(lines[0]["size"], messages::to_crlf(&msgs[0]).len());

    let out = ok(mailbag(&user, &["pop", "uidl", &src, "--ca-file", &ca]));
    assert_eq!(out.lines().count(), 3);
    assert!(out.starts_with("1 "), "{out}");

    let raw = mailbag(&user, &["pop", "retr", &src, "2", "--ca-file", &ca])
        .output()
        .unwrap();
    assert!(raw.status.success());
    assert_eq!(
        raw.stdout,
        messages::to_crlf(&msgs[1]),
        "RETR gives the exact bytes"
    );

    let top = ok(mailbag(
        &user,
        &["pop", "top", &src, "1", "0", "--ca-file", &ca],
    ));
    assert!(top.contains("Subject: Test message 0"), "{top}");
    assert!(!top.contains("Hello,"), "TOP 0 has no body: {top}");

    // DELE happens at QUIT, and only the named message goes.
    let out = ok(mailbag(
        &user,
        &["pop", "dele", &src, "3", "--ca-file", &ca],
    ));
    assert_eq!(out.trim(), "deleted 3");
    let out = ok(mailbag(&user, &["pop", "stat", &src, "--ca-file", &ca]));
    assert!(out.starts_with("2 messages"), "{out}");
}

#[test]
fn capabilities_login_and_the_errors_users_meet() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let src = pop3s(d, &user);
    let ca = ca(d);
    let out = ok(mailbag(&user, &["capabilities", &src, "--ca-file", &ca]));
    assert!(out.lines().any(|l| l == "PIPELINING"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("SASL ")), "{out}");

    assert_eq!(
        ok(mailbag(&user, &["login", &src, "--ca-file", &ca])).trim(),
        "ok"
    );
    // STLS on the plain port, required by default for pop3://.
    let plain = format!("pop3://{}@127.0.0.1:{}", user.name, d.pop3_port());
    assert_eq!(
        ok(mailbag(&user, &["login", &plain, "--ca-file", &ca])).trim(),
        "ok"
    );

    // Wrong password: exit 3, one line with the server's words.
    let (out, _, err) =
        run(mailbag(&user, &["login", &src, "--ca-file", &ca]).env("MAILBAG_PASSWORD", "wrong"));
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Authentication failed") && !err.contains("wrong"),
        "{err}"
    );

    // Unknown CA: exit 4 and the hint to use --ca-file.
    let (out, _, err) = run(&mut mailbag(&user, &["login", &src]));
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("unknown authority") && err.contains("--ca-file"),
        "{err}"
    );

    // Nothing listening: exit 4.
    let closed = format!("pop3s://{}@127.0.0.1:1", user.name);
    let (out, _, err) = run(&mut mailbag(&user, &["login", &closed]));
    assert_eq!(out.status.code(), Some(4), "{err}");

    // A password in the URL or a bad URL: exit 2, and the password is not echoed.
    let with_pw = format!("pop3s://{}:s3cr3t@127.0.0.1:1", user.name);
    let (out, _, err) = run(&mut mailbag(&user, &["login", &with_pw]));
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    let (out, _, _) = run(&mut mailbag(&user, &["login", "gopher://x"]));
    assert_eq!(out.status.code(), Some(2));

    // --tls none without --allow-plaintext is refused before connecting.
    let (out, _, err) = run(&mut mailbag(&user, &["login", &plain, "--tls", "none"]));
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--allow-plaintext"), "{err}");
    let out = ok(mailbag(
        &user,
        &["login", &plain, "--tls", "none", "--allow-plaintext"],
    ));
    assert_eq!(out.trim(), "ok");
}

#[test]
fn download_is_incremental_and_exact_for_mbox_and_maildir() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let first = messages::generate(12, 3000);
    d.fill(&user, "INBOX", &first).unwrap();
    let src = pop3s(d, &user);
    let ca = ca(d);
    let dest = tempfile::tempdir().unwrap();
    let mbox_dest = dest.path().join("m");
    let mdir_dest = dest.path().join("d");
    let m = mbox_dest.to_str().unwrap();
    let md = mdir_dest.to_str().unwrap();

    let out = ok(mailbag(
        &user,
        &["download", &src, m, "--ca-file", &ca, "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["new"].as_u64(), v["skipped"].as_u64()),
        (Some(12), Some(0))
    );
    ok(mailbag(
        &user,
        &[
            "download",
            &src,
            md,
            "--format",
            "maildir",
            "--ca-file",
            &ca,
        ],
    ));

    // More mail arrives; the second run fetches only that.
    let second: Vec<Vec<u8>> = (12..15).map(|i| messages::message(i, 2000)).collect();
    d.fill(&user, "INBOX", &second).unwrap();
    let (status, out, trace) = run(mailbag(
        &user,
        &["download", &src, m, "--ca-file", &ca, "-v"],
    ));
    assert!(status.status.success(), "{out}\n{trace}");
    assert!(
        out.contains("3 new messages") && out.contains("12 already there"),
        "{out}"
    );
    // No progress bar (standard error is not a terminal): LIST, which only feeds the bar's
    // byte count, is not sent; UIDL is.
    let sent: Vec<&str> = trace
        .lines()
        .filter_map(|l| l.split_once("C: ").map(|(_, c)| c))
        .collect();
    assert!(sent.iter().any(|c| c.starts_with("UIDL")), "{sent:?}");
    assert!(!sent.iter().any(|c| c.starts_with("LIST")), "{sent:?}");
    ok(mailbag(
        &user,
        &[
            "download",
            &src,
            md,
            "--format",
            "maildir",
            "--ca-file",
            &ca,
        ],
    ));

    let all: Vec<Vec<u8>> = first
        .iter()
        .chain(&second)
        .map(|m| messages::to_crlf(m))
        .collect();
    assert_same_messages(mbox_messages(&mbox_dest.join("INBOX.mbox")), &all);
    let files = maildir_messages(&mdir_dest.join("INBOX"));
    assert_same_messages(files.into_values().collect(), &all);

    // Nothing changed on the server.
    let out = ok(mailbag(&user, &["pop", "stat", &src, "--ca-file", &ca]));
    assert!(out.starts_with("15 messages"), "{out}");

    // Files 0600, directories 0700.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&mbox_dest.join("INBOX.mbox")), 0o600);
    assert_eq!(mode(&mbox_dest), 0o700);
    assert_eq!(mode(&mdir_dest.join("INBOX").join("new")), 0o700);
}

#[test]
fn download_delete_after_removes_only_what_was_saved() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(5, 1500);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let src = pop3s(d, &user);
    let ca = ca(d);
    let dest = tempfile::tempdir().unwrap();
    let m = dest.path().to_str().unwrap();
    let out = ok(mailbag(
        &user,
        &["download", &src, m, "--delete-after", "--ca-file", &ca],
    ));
    assert!(out.contains("5 deleted on the server"), "{out}");
    let out = ok(mailbag(&user, &["pop", "stat", &src, "--ca-file", &ca]));
    assert!(out.starts_with("0 messages"), "{out}");
    let all: Vec<Vec<u8>> = msgs.iter().map(|m| messages::to_crlf(m)).collect();
    assert_same_messages(mbox_messages(&dest.path().join("INBOX.mbox")), &all);
}

/// SIGKILL the downloader at many points, resume each time, and check that the final
/// output holds every message of the server exactly once, byte for byte.
#[test]
fn download_killed_anywhere_resumes_with_each_message_once() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(400, 3000);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let src = pop3s(d, &user);
    let ca = ca(d);
    let all: Vec<Vec<u8>> = msgs.iter().map(|m| messages::to_crlf(m)).collect();
    for format in ["mbox", "maildir"] {
        let dest = tempfile::tempdir().unwrap();
        let p = dest.path().to_str().unwrap();
        let mut killed = 0;
        // Delays spread over the run: connect, login, listing, bodies, syncs.
        for i in 0..24u64 {
            let delay = Duration::from_millis(5 + (i * 37) % 400);
            let mut child = mailbag(
                &user,
                &[
                    "download",
                    &src,
                    p,
                    "--format",
                    format,
                    "--ca-file",
                    &ca,
                    "-q",
                ],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                killed += 1;
            }
            child.wait().unwrap();
        }
        ok(mailbag(
            &user,
            &["download", &src, p, "--format", format, "--ca-file", &ca],
        ));
        let got = match format {
            "mbox" => mbox_messages(&dest.path().join("INBOX.mbox")),
            _ => maildir_messages(&dest.path().join("INBOX"))
                .into_values()
                .collect(),
        };
        assert_same_messages(got, &all);
        eprintln!("{format}: killed {killed} of 24 runs; output exact");
        assert!(killed > 0, "no run was killed: the test proves nothing");
    }
}
