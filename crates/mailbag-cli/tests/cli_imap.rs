//! The real `mailbag` binary against the harness Dovecot's IMAP: every IMAP command, and
//! `download` (incremental, exactly once, also when killed; --delete-after).

mod common;

use std::time::Duration;

use common::*;
use mailbag_testserver::{messages, Dovecot};

fn ca(d: &Dovecot) -> String {
    d.ca_file().display().to_string()
}

#[test]
fn capabilities_login_folders_examine() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(4, 2000))
        .unwrap();
    let ca = ca(d);
    let src = imaps(d, &user, "INBOX");

    let out = ok(mailbag(&user, &["capabilities", &src, "--ca-file", &ca]));
    assert!(out.starts_with("before login: IMAP4rev1"), "{out}");
    assert!(
        out.contains("after login:") && out.contains("UIDPLUS"),
        "{out}"
    );

    let starttls = format!("imap://{}@127.0.0.1:{}", user.name, d.imap_port());
    assert_eq!(
        ok(mailbag(&user, &["login", &starttls, "--ca-file", &ca])).trim(),
        "ok"
    );
    let (o, _, err) =
        run(mailbag(&user, &["login", &src, "--ca-file", &ca]).env("MAILBAG_PASSWORD", "nope"));
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = ok(mailbag(&user, &["folders", &src, "--ca-file", &ca]));
    assert!(out.contains("\"/\" Sent [\\Sent]"), "{out}");
    assert!(out.lines().any(|l| l.ends_with(" INBOX")), "{out}");

    let out = ok(mailbag(
        &user,
        &["examine", &src, "--ca-file", &ca, "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["exists"], 4);
    assert_eq!(v["uidnext"], 5);
    assert_eq!(v["unseen"], 4);
    // Dovecot offers CONDSTORE: examine enables it, so HIGHESTMODSEQ is known.
    assert!(
        v["highestmodseq"].as_u64().is_some_and(|m| m > 0),
        "no highestmodseq: {out}"
    );
    // EXAMINE marks nothing seen.
    let out = ok(mailbag(&user, &["examine", &src, "--ca-file", &ca]));
    assert!(
        out.contains("unseen: 4") && out.contains("read-only"),
        "{out}"
    );
    let modseq = out
        .lines()
        .find_map(|l| l.strip_prefix("highestmodseq: "))
        .unwrap_or("");
    assert!(modseq.parse::<u64>().is_ok_and(|m| m > 0), "{out}");

    // A missing folder: one line that says what to do.
    let bad = imaps(d, &user, "Inbx");
    let (o, _, err) = run(mailbag(&user, &["examine", &bad, "--ca-file", &ca]));
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("\"Inbx\"") && err.contains("mailbag folders"),
        "{err}"
    );
}

#[test]
fn subjects_show_search_flags() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(6, 2500);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let ca = ca(d);
    let src = imaps(d, &user, "INBOX");

    let out = ok(mailbag(
        &user,
        &["subjects", &src, "--last", "2", "--ca-file", &ca],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("5\t") && lines[0].contains("Test message 4"),
        "{out}"
    );
    let out = ok(mailbag(&user, &["subjects", &src, "--ca-file", &ca]));
    // Encoded words are decoded.
    assert!(out.contains("Grüße aus Köln, Nachricht 2"), "{out}");
    assert!(out.contains("Jörg Müller"), "{out}");

    let raw = mailbag(&user, &["show", &src, "3", "--raw", "--ca-file", &ca])
        .output()
        .unwrap();
    assert_eq!(raw.stdout, messages::to_crlf(&msgs[2]));
    let out = ok(mailbag(&user, &["show", &src, "2", "--ca-file", &ca]));
    assert!(
        out.contains("Subject: Test message 1") && out.contains("application/octet-stream"),
        "{out}"
    );

    let out = ok(mailbag(
        &user,
        &[
            "search",
            &src,
            "SUBJECT",
            "Test message 3",
            "--ca-file",
            &ca,
        ],
    ));
    assert_eq!(out.trim(), "4");
    let out = ok(mailbag(
        &user,
        &[
            "search",
            &src,
            "SINCE",
            "13-Jul-2013",
            "TEXT",
            "Apress",
            "--ca-file",
            &ca,
        ],
    ));
    assert_eq!(out.trim(), "");

    let out = ok(mailbag(
        &user,
        &[
            "flags",
            &src,
            "1:2",
            "--add",
            "\\Flagged",
            "--add",
            "project",
            "--ca-file",
            &ca,
        ],
    ));
    assert!(
        out.contains("1 (") && out.contains("\\Flagged") && out.contains("project"),
        "{out}"
    );
    let out = ok(mailbag(
        &user,
        &[
            "flags",
            &src,
            "1",
            "--remove",
            "\\Flagged",
            "--ca-file",
            &ca,
        ],
    ));
    assert!(!out.contains("\\Flagged"), "{out}");
    let out = ok(mailbag(&user, &["flags", &src, "2", "--ca-file", &ca]));
    assert!(out.contains("\\Flagged"), "{out}");
}

#[test]
fn folders_append_delete_expunge() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(3, 1500))
        .unwrap();
    let ca = ca(d);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.eml");
    std::fs::write(&file, messages::to_crlf(&messages::message(7, 1200))).unwrap();
    let f = file.to_str().unwrap();

    ok(mailbag(
        &user,
        &["mkdir", &imaps(d, &user, "Projects/2026"), "--ca-file", &ca],
    ));
    ok(mailbag(
        &user,
        &[
            "rename",
            &imaps(d, &user, "Projects/2026"),
            "Projects/2027",
            "--ca-file",
            &ca,
        ],
    ));
    let out = ok(mailbag(
        &user,
        &[
            "append",
            &imaps(d, &user, "Projects/2027"),
            f,
            f,
            "--flag",
            "\\Seen",
            "--ca-file",
            &ca,
        ],
    ));
    let uids: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(uids, ["1", "2"], "{out}");
    let out = ok(mailbag(
        &user,
        &["folders", &imaps(d, &user, ""), "--ca-file", &ca],
    ));
    assert!(
        out.contains("Projects/2027") && !out.contains("Projects/2026"),
        "{out}"
    );
    ok(mailbag(
        &user,
        &["rmdir", &imaps(d, &user, "Projects/2027"), "--ca-file", &ca],
    ));

    let src = imaps(d, &user, "INBOX");
    let out = ok(mailbag(&user, &["delete", &src, "1", "--ca-file", &ca]));
    assert_eq!(out.trim(), "marked deleted 1");
    ok(mailbag(
        &user,
        &["delete", &src, "2", "--expunge", "--ca-file", &ca],
    ));
    // UID EXPUNGE removed only UID 2; UID 1 is still there, marked.
    let out = ok(mailbag(&user, &["search", &src, "ALL", "--ca-file", &ca]));
    assert_eq!(out.trim(), "1 3");
    ok(mailbag(&user, &["expunge", &src, "--ca-file", &ca]));
    let out = ok(mailbag(&user, &["search", &src, "ALL", "--ca-file", &ca]));
    assert_eq!(out.trim(), "3");

    // CR/LF in a folder name cannot reach the command stream.
    let (o, _, _) = run(mailbag(
        &user,
        &["mkdir", &imaps(d, &user, "a%0D%0Ab"), "--ca-file", &ca],
    ));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn download_is_incremental_exact_and_leaves_the_server_alone() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let first = messages::generate(20, 3000);
    d.fill(&user, "INBOX", &first).unwrap();
    d.fill(&user, "Archive/2013", &messages::generate(2, 1000))
        .unwrap();
    let ca = ca(d);
    let src = imaps(d, &user, "INBOX");
    let dest = tempfile::tempdir().unwrap();
    let m = dest.path().join("m");
    let md = dest.path().join("d");
    let (ms, mds) = (m.to_str().unwrap(), md.to_str().unwrap());

    let out = ok(mailbag(
        &user,
        &["download", &src, ms, "--ca-file", &ca, "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["new"], 20);
    ok(mailbag(
        &user,
        &[
            "download",
            &src,
            mds,
            "--format",
            "maildir",
            "--ca-file",
            &ca,
        ],
    ));

    // A body buffered whole, one streamed in chunks (over the CLI's 16 KiB), and one over
    // the library's 64 KiB default.
    let second: Vec<Vec<u8>> = [(20, 2000), (21, 30_000), (22, 70_000)]
        .into_iter()
        .map(|(i, size)| messages::message(i, size))
        .collect();
    d.fill(&user, "INBOX", &second).unwrap();
    let out = ok(mailbag(&user, &["download", &src, ms, "--ca-file", &ca]));
    assert!(
        out.contains("3 new messages") && out.contains("20 already there"),
        "{out}"
    );
    ok(mailbag(
        &user,
        &[
            "download",
            &src,
            mds,
            "--format",
            "maildir",
            "--ca-file",
            &ca,
        ],
    ));

    let all: Vec<Vec<u8>> = first
        .iter()
        .chain(&second)
        .map(|x| messages::to_crlf(x))
        .collect();
    assert_same_messages(mbox_messages(&m.join("INBOX.mbox")), &all);
    assert_same_messages(
        maildir_messages(&md.join("INBOX")).into_values().collect(),
        &all,
    );

    // BODY.PEEK: nothing became \Seen.
    let out = ok(mailbag(&user, &["examine", &src, "--ca-file", &ca]));
    assert!(out.contains("unseen: 23"), "{out}");

    // Every folder.
    let out = ok(mailbag(
        &user,
        &[
            "download",
            &imaps(d, &user, ""),
            ms,
            "--all-folders",
            "--ca-file",
            &ca,
        ],
    ));
    assert!(out.contains("Archive/2013: 2 new messages"), "{out}");
    assert!(out.contains("INBOX: 0 new messages"), "{out}");
}

#[test]
fn download_delete_after_expunges_only_what_was_saved() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(5, 1500);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let ca = ca(d);
    let src = imaps(d, &user, "INBOX");
    let dest = tempfile::tempdir().unwrap();
    let out = ok(mailbag(
        &user,
        &[
            "download",
            &src,
            dest.path().to_str().unwrap(),
            "--delete-after",
            "--ca-file",
            &ca,
        ],
    ));
    assert!(out.contains("5 deleted on the server"), "{out}");
    let out = ok(mailbag(&user, &["examine", &src, "--ca-file", &ca]));
    assert!(out.contains("exists: 0"), "{out}");
    let all: Vec<Vec<u8>> = msgs.iter().map(|x| messages::to_crlf(x)).collect();
    assert_same_messages(mbox_messages(&dest.path().join("INBOX.mbox")), &all);
}

/// SIGKILL the downloader at many points, resume each time, check each message once.
#[test]
fn download_killed_anywhere_resumes_with_each_message_once() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(400, 3000);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let ca = ca(d);
    let src = imaps(d, &user, "INBOX");
    let all: Vec<Vec<u8>> = msgs.iter().map(|x| messages::to_crlf(x)).collect();
    for format in ["mbox", "maildir"] {
        let dest = tempfile::tempdir().unwrap();
        let p = dest.path().to_str().unwrap();
        let mut killed = 0;
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

#[test]
fn watch_reports_new_messages_as_they_arrive() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(2, 1000))
        .unwrap();
    let ca = ca(d);
    let src = imaps(d, &user, "INBOX");
    let dir = tempfile::tempdir().unwrap();
    let exec_out = dir.path().join("exec");
    let exec = format!("cat >> {}", exec_out.display());
    let mut child = mailbag(
        &user,
        &["watch", &src, "--ca-file", &ca, "--json", "--exec", &exec],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    d.deliver(&user, "INBOX", &messages::message(10, 1200))
        .unwrap();
    d.deliver(&user, "INBOX", &messages::message(11, 1200))
        .unwrap();
    let mut uids = Vec::new();
    while uids.len() < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("watch printed the new messages");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["event"] == "new" {
            uids.push(v["uid"].as_u64().unwrap());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(uids, [3, 4]);
    let piped = std::fs::read_to_string(&exec_out).unwrap_or_default();
    assert!(
        piped.contains("Test message 10") || piped.contains("Message-ID: <10."),
        "{piped}"
    );
}
