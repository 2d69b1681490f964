//! `mailbag download` against a scripted server that sends a FETCH response's body before
//! the message's UID (RFC 9051 7.5.2 allows any order; some servers do this): the body is
//! held in a file until the UID arrives, then stored exactly like any other message.

mod common;

use common::*;
use mailbag_testserver::messages;
use mailbag_testserver::peer::{Script, ScriptedPeer};

/// Three messages: two over the client's streaming threshold (64 KiB), one small.
fn bodies() -> Vec<Vec<u8>> {
    vec![
        messages::to_crlf(&messages::message(1, 200_000)),
        messages::to_crlf(&messages::message(2, 90_000)),
        messages::to_crlf(&messages::message(3, 2_000)),
    ]
}

/// One download session in which every FETCH response puts BODY[] before UID.
fn script(bodies: &[Vec<u8>]) -> Script {
    let mut fetch = Vec::new();
    let items = [
        ("FLAGS (\\Seen) ", " UID 76)"),
        ("", " FLAGS () UID 77)"),
        ("", " UID 78 FLAGS (\\Seen))"),
    ];
    for (i, (body, (before, after))) in bodies.iter().zip(items).enumerate() {
        fetch.extend_from_slice(
            format!("* {} FETCH ({before}BODY[] {{{}}}\r\n", i + 1, body.len()).as_bytes(),
        );
        fetch.extend_from_slice(body);
        fetch.extend_from_slice(after.as_bytes());
        fetch.extend_from_slice(b"\r\n");
    }
    Script::from_transcript(
        "S: * OK [CAPABILITY IMAP4rev1 UIDPLUS] scripted server ready
         C: {tag} LOGIN {any}
         S: {tag} OK [CAPABILITY IMAP4rev1 UIDPLUS] logged in
         C: {tag} EXAMINE INBOX
         S: * 3 EXISTS
         S: * 0 RECENT
         S: * OK [UIDVALIDITY 42] ok
         S: * OK [UIDNEXT 79] ok
         S: {tag} OK [READ-ONLY] done
         C: {tag} UID SEARCH ALL
         S: * SEARCH 76 77 78
         S: {tag} OK done
         C: {tag} UID FETCH 76:78 {any}",
    )
    .send(fetch)
    .transcript(
        "S: {tag} OK done
         C: {tag} LOGOUT
         S: * BYE bye
         S: {tag} OK done",
    )
}

#[test]
fn download_accepts_the_body_before_the_uid() {
    let bodies = bodies();
    let peer = ScriptedPeer::builder()
        .connection(script(&bodies))
        .connection(script(&bodies))
        .spawn()
        .unwrap();
    let user = scripted_user();
    let src = format!("imap://ann@127.0.0.1:{}/INBOX", peer.port());
    let dest = tempfile::tempdir().unwrap();
    let m = dest.path().join("m");
    let md = dest.path().join("d");
    let common = ["--tls", "none", "--allow-plaintext", "--json"];

    // What a crash in the middle of a held body leaves: removed when the folder opens.
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join(".INBOX.mbox.body-before-uid"), b"torn").unwrap();
    let mut args = vec!["download", &src, m.to_str().unwrap()];
    args.extend(common);
    let out = ok(mailbag(&user, &args));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["new"], 3, "{out}");
    let total: usize = bodies.iter().map(Vec::len).sum();
    assert_eq!(v["bytes"], total, "{out}");
    assert_eq!(mbox_messages(&m.join("INBOX.mbox")), bodies);

    let mut args = vec![
        "download",
        &src,
        md.to_str().unwrap(),
        "--format",
        "maildir",
    ];
    args.extend(common);
    let out = ok(mailbag(&user, &args));
    assert!(out.contains("\"new\":3"), "{out}");
    let stored = maildir_messages(&md.join("INBOX"));
    assert_same_messages(stored.values().cloned().collect(), &bodies);
    // FLAGS before the body (UID 76) and after the UID (UID 78) both count: \Seen.
    let seen: Vec<&String> = stored.keys().filter(|k| k.ends_with(":2,S")).collect();
    assert_eq!(seen.len(), 2, "{stored:?}", stored = stored.keys());

    // No holding file is left behind.
    for dir in [m.clone(), md.join("INBOX").join("tmp")] {
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("body-before-uid"))
            .collect();
        assert!(left.is_empty(), "{dir:?}: {left:?}");
    }
    peer.join().expect("the client followed the script");
}

/// A 200 MB message whose body comes before its UID: stored whole, with the memory of the
/// downloader flat (it goes socket -> holding file -> mbox in chunks). The peak resident
/// size of the binary is read with `/usr/bin/time -f %M`.
#[test]
fn a_200_mb_body_before_the_uid_keeps_memory_flat() {
    const LINE: &[u8] = b"From here on every line of this message is quoted in an mbox, padding padding padding.\r\n";
    const TIMES: u64 = 200 * 1024 * 1024 / LINE.len() as u64;
    let head: &[u8] = b"Subject: big\r\n\r\n";
    let size = head.len() as u64 + LINE.len() as u64 * TIMES;
    let script = Script::from_transcript(
        "S: * OK [CAPABILITY IMAP4rev1 UIDPLUS] scripted server ready
         C: {tag} LOGIN {any}
         S: {tag} OK [CAPABILITY IMAP4rev1 UIDPLUS] logged in
         C: {tag} EXAMINE INBOX
         S: * 1 EXISTS
         S: * OK [UIDVALIDITY 42] ok
         S: * OK [UIDNEXT 10] ok
         S: {tag} OK [READ-ONLY] done
         C: {tag} UID SEARCH ALL
         S: * SEARCH 9
         S: {tag} OK done
         C: {tag} UID FETCH 9 {any}",
    )
    .send([format!("* 1 FETCH (BODY[] {{{size}}}\r\n").as_bytes(), head].concat())
    .send_repeated(LINE, TIMES)
    .send(b" UID 9)\r\n")
    .transcript(
        "S: {tag} OK done
         C: {tag} LOGOUT
         S: * BYE bye
         S: {tag} OK done",
    );
    let peer = ScriptedPeer::builder()
        .connection(script)
        .timeout(std::time::Duration::from_secs(120))
        .spawn()
        .unwrap();
    let user = scripted_user();
    let src = format!("imap://ann@127.0.0.1:{}/INBOX", peer.port());
    let dest = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.args(["-f", "maxrss_kb=%M"])
        .arg(bin())
        .args(["download", &src, dest.path().to_str().unwrap()])
        .args(["--tls", "none", "--allow-plaintext", "--json"])
        .env("MAILBAG_PASSWORD", &user.password)
        .env("XDG_CONFIG_HOME", "/nonexistent-mailbag-test")
        .env_remove("RUST_LOG");
    let (o, out, err) = run(cmd);
    assert!(o.status.success(), "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["new"], 1, "{out}");
    assert_eq!(v["bytes"], size, "{out}");
    let rss_kb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss from /usr/bin/time: {err}"));
    eprintln!("200 MB body before the UID: peak RSS {rss_kb} KiB");
    assert!(
        rss_kb < 64 * 1024,
        "peak RSS {rss_kb} KiB for a 200 MB message"
    );
    peer.join().expect("the client followed the script");

    // The message is whole, and its "From " lines come back exactly.
    let stored = mbox_messages(&dest.path().join("INBOX.mbox"));
    assert_eq!(stored.len(), 1);
    let got = &stored[0];
    assert_eq!(got.len() as u64, size);
    assert!(got.starts_with(head));
    assert!(got[head.len()..].chunks(LINE.len()).all(|l| l == LINE));
}

/// A server that sends a message twice (once streamed, once small) and leaves one listed
/// message out: each message is stored once, the summary says one was not sent, and the next
/// run asks for exactly that one.
#[test]
fn a_repeated_message_is_kept_once_and_a_missing_one_is_asked_again() {
    let big = messages::to_crlf(&messages::message(1, 90_000));
    let small = messages::to_crlf(&messages::message(2, 2_000));
    let third = messages::to_crlf(&messages::message(3, 2_000));
    let head = "S: * OK [CAPABILITY IMAP4rev1 UIDPLUS] scripted server ready
         C: {tag} LOGIN {any}
         S: {tag} OK [CAPABILITY IMAP4rev1 UIDPLUS] logged in
         C: {tag} EXAMINE INBOX
         S: * 3 EXISTS
         S: * OK [UIDVALIDITY 42] ok
         S: * OK [UIDNEXT 79] ok
         S: {tag} OK [READ-ONLY] done
         C: {tag} UID SEARCH ALL
         S: * SEARCH 76 77 78
         S: {tag} OK done";
    let tail = "S: {tag} OK done
         C: {tag} LOGOUT
         S: * BYE bye
         S: {tag} OK done";
    let fetch = |seq: usize, uid: u32, body: &[u8]| {
        let mut r = format!(
            "* {seq} FETCH (UID {uid} FLAGS () BODY[] {{{}}}\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r.extend_from_slice(b")\r\n");
        r
    };
    let mut first = Vec::new();
    first.extend(fetch(1, 76, &big));
    first.extend(fetch(1, 76, &big));
    first.extend(fetch(2, 77, &small));
    first.extend(fetch(2, 77, &small));
    let run1 = Script::from_transcript(&format!("{head}\n C: {{tag}} UID FETCH 76:78 {{any}}"))
        .send(first)
        .transcript(tail);
    let run2 = Script::from_transcript(&format!("{head}\n C: {{tag}} UID FETCH 78 {{any}}"))
        .send(fetch(3, 78, &third))
        .transcript(tail);
    let peer = ScriptedPeer::builder()
        .connection(run1)
        .connection(run2)
        .spawn()
        .unwrap();
    let user = scripted_user();
    let src = format!("imap://ann@127.0.0.1:{}/INBOX", peer.port());
    let dest = tempfile::tempdir().unwrap();
    let m = dest.path().join("m");
    let args = [
        "download",
        &src,
        m.to_str().unwrap(),
        "--tls",
        "none",
        "--allow-plaintext",
        "--json",
    ];
    let out = ok(mailbag(&user, &args));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["new"].as_u64(), v["missing"].as_u64()),
        (Some(2), Some(1)),
        "{out}"
    );
    assert_eq!(
        mbox_messages(&m.join("INBOX.mbox")),
        vec![big.clone(), small.clone()]
    );

    let out = ok(mailbag(&user, &args));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["new"].as_u64(), v["missing"].as_u64()),
        (Some(1), Some(0)),
        "{out}"
    );
    assert_eq!(v["skipped"].as_u64(), Some(2), "{out}");
    assert_eq!(
        mbox_messages(&m.join("INBOX.mbox")),
        vec![big, small, third]
    );
    peer.join().expect("the client followed the script");
}
