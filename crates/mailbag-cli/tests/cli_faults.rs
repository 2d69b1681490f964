//! The real `mailbag` binary through the fault proxy, between it and the harness Dovecot:
//!
//! - a download cut at 200 pseudo-random byte offsets (server-to-client and client-to-server,
//!   FIN and RST) and then resumed ends with every message exactly once, IMAP and POP3, mbox
//!   and Maildir; the cut run itself fails with one line and exit code 4, and never leaves a
//!   message twice;
//! - every command works when each byte arrives in its own TCP segment (plaintext, so the
//!   parsers see 1-byte reads; STARTTLS/STLS too, so the TLS layer does) and prints what
//!   the same command prints without the proxy.
//!
//! Plaintext here is loopback to a private server, allowed explicitly with
//! `--tls none --allow-plaintext`.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::*;
use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
use mailbag_testserver::{messages, Dovecot, TestUser};

const PLAIN: [&str; 3] = ["--tls", "none", "--allow-plaintext"];

/// A small deterministic generator (xorshift64*), so a failure names a reproducible offset.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn args<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(extra).copied().collect()
}

/// The messages found in DEST for INBOX, whatever the format.
fn stored(dest: &Path, format: &str) -> Vec<Vec<u8>> {
    match format {
        "mbox" => {
            let path = dest.join("INBOX.mbox");
            if path.exists() {
                mbox_messages(&path)
            } else {
                Vec::new()
            }
        }
        _ => maildir_messages(&dest.join("INBOX"))
            .into_values()
            .collect(),
    }
}

/// Every stored message is one of `all`, and none is there twice.
fn assert_subset_once(got: &[Vec<u8>], all: &[Vec<u8>], what: &str) {
    let mut seen = std::collections::HashSet::new();
    for m in got {
        assert!(all.contains(m), "{what}: a stored message is not one sent");
        assert!(seen.insert(m.clone()), "{what}: a message is stored twice");
    }
}

/// Runs `download` through the proxy under `faults`, then resumes it with no fault, and
/// checks the result. Returns whether the cut run failed (the cut hit the session).
#[allow(clippy::too_many_arguments)]
fn cut_and_resume(
    user: &TestUser,
    proxy: &FaultProxy,
    src: &str,
    format: &str,
    faults: Faults,
    all: &[Vec<u8>],
    what: &str,
) -> bool {
    let dest = tempfile::tempdir().unwrap();
    let p = dest.path().to_str().unwrap();
    let base = ["download", src, p, "--format", format, "--timeout", "10"];

    proxy.set_plan(FaultPlan::every(faults));
    let (o, _, err) = run(mailbag(user, &args(&base, &PLAIN)));
    let failed = !o.status.success();
    if failed {
        // A dropped connection is a connection failure: exit 4 and one line that says so.
        assert_eq!(o.status.code(), Some(4), "{what}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
        assert!(err.starts_with("mailbag: "), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
    assert_subset_once(&stored(dest.path(), format), all, what);

    proxy.set_plan(FaultPlan::pass());
    let (o, _, err) = run(mailbag(user, &args(&base, &PLAIN)));
    assert!(o.status.success(), "{what}: resume failed: {err}");
    assert_same_messages(stored(dest.path(), format), all);
    failed
}

/// The bytes each way of one whole download, measured through a proxy with no fault.
fn full_run_bytes(user: &TestUser, proxy: &FaultProxy, src: &str) -> (u64, u64) {
    let dest = tempfile::tempdir().unwrap();
    let p = dest.path().to_str().unwrap();
    let before = proxy.accepted();
    ok(mailbag(user, &args(&["download", src, p], &PLAIN)));
    let c = proxy
        .connection(before + 1)
        .expect("the download's connection");
    (c.server_to_client, c.client_to_server)
}

fn cut_test(
    src_for: impl Fn(&TestUser, u16) -> String,
    upstream_port: u16,
    trials: u64,
    seed: u64,
) {
    let d = Dovecot::shared();
    let user = d.new_user();
    // Sizes vary so that cuts land in literals of every length and between messages.
    let msgs: Vec<Vec<u8>> = (0..24)
        .map(|i| messages::message(i, 600 + i * 331))
        .collect();
    d.fill(&user, "INBOX", &msgs).unwrap();
    let all: Vec<Vec<u8>> = msgs.iter().map(|m| messages::to_crlf(m)).collect();
    let proxy = FaultProxy::spawn(d.addr(upstream_port), FaultPlan::pass()).unwrap();
    let src = src_for(&user, proxy.port());
    let (down, up) = full_run_bytes(&user, &proxy, &src);
    assert!(
        down > 20_000,
        "the session is too small to cut: {down} bytes"
    );

    let mut rng = Rng(seed);
    let mut failed = 0;
    for i in 0..trials {
        // Four in five cut the server's bytes (anywhere in greeting, login, select, fetch,
        // logout), one in five the client's; one in three with RST rather than FIN.
        let (faults, at) = if i % 5 == 4 {
            let at = 1 + rng.below(up - 1);
            (
                Faults::none().cut_after_client(at),
                format!("client byte {at}"),
            )
        } else {
            let at = 1 + rng.below(down - 1);
            (
                Faults::none().cut_after_server(at),
                format!("server byte {at}"),
            )
        };
        let (faults, close) = if i % 3 == 0 {
            (faults.rst(), "RST")
        } else {
            (faults, "FIN")
        };
        let format = if i % 2 == 0 { "mbox" } else { "maildir" };
        let what = format!("trial {i}: {format}, cut after {at} ({close})");
        if cut_and_resume(&user, &proxy, &src, format, faults, &all, &what) {
            failed += 1;
        }
    }
    eprintln!("{trials} cuts: {failed} runs failed and were resumed; each ended exact");
    // Almost every cut lands before LOGOUT completes; a run that survived its cut is one
    // cut in the last bytes of the session, which loses nothing.
    assert!(
        failed * 10 >= trials * 8,
        "only {failed} of {trials} cuts hit"
    );
}

#[test]
fn imap_download_cut_at_200_offsets_and_resumed_holds_each_message_once() {
    let d = Dovecot::shared();
    cut_test(
        |user, port| format!("imap://{}@127.0.0.1:{port}/INBOX", user.name),
        d.imap_port(),
        200,
        0x6d61_696c_6261_6701,
    );
}

#[test]
fn pop3_download_cut_at_60_offsets_and_resumed_holds_each_message_once() {
    let d = Dovecot::shared();
    cut_test(
        |user, port| format!("pop3://{}@127.0.0.1:{port}", user.name),
        d.pop3_port(),
        60,
        0x6d61_696c_6261_6702,
    );
}

/// Runs a command directly and through the 1-byte proxy; both must succeed with the same
/// stdout, which is returned.
fn same_both_ways(user: &TestUser, direct: &str, proxied: &str, cmd: &[&str]) -> String {
    let with = |src: &str| -> Vec<String> {
        cmd.iter()
            .map(|a| {
                if *a == "SRC" {
                    src.to_string()
                } else {
                    a.to_string()
                }
            })
            .chain(PLAIN.iter().map(|s| s.to_string()))
            .collect()
    };
    let d_args = with(direct);
    let p_args = with(proxied);
    let d_out = ok(mailbag(
        user,
        &d_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let p_out = ok(mailbag(
        user,
        &p_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert_eq!(p_out, d_out, "{cmd:?} differs through 1-byte segments");
    p_out
}

/// Runs a command through the 1-byte proxy only; returns stdout.
fn proxied(user: &TestUser, src: &str, cmd: &[&str]) -> String {
    let a: Vec<&str> = cmd
        .iter()
        .map(|a| if *a == "SRC" { src } else { a })
        .chain(PLAIN)
        .collect();
    ok(mailbag(user, &a))
}

#[test]
fn every_imap_command_works_with_one_byte_segments() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(6, 1500);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let proxy = FaultProxy::spawn(
        d.addr(d.imap_port()),
        FaultPlan::every(Faults::none().one_byte_segments()),
    )
    .unwrap();
    let url = |port: u16, folder: &str| format!("imap://{}@127.0.0.1:{port}/{folder}", user.name);
    let (dir, via) = (url(d.imap_port(), "INBOX"), url(proxy.port(), "INBOX"));
    let (droot, vroot) = (url(d.imap_port(), ""), url(proxy.port(), ""));

    // Read-only commands: the same output as without the proxy.
    let out = same_both_ways(&user, &dir, &via, &["capabilities", "SRC"]);
    assert!(out.contains("IMAP4rev1"), "{out}");
    assert_eq!(
        same_both_ways(&user, &dir, &via, &["login", "SRC"]).trim(),
        "ok"
    );
    let out = same_both_ways(&user, &droot, &vroot, &["folders", "SRC"]);
    assert!(out.contains("INBOX"), "{out}");
    let out = same_both_ways(&user, &dir, &via, &["examine", "SRC"]);
    assert!(out.contains("exists: 6"), "{out}");
    let out = same_both_ways(&user, &dir, &via, &["subjects", "SRC"]);
    assert_eq!(out.lines().count(), 6, "{out}");
    let out = same_both_ways(&user, &dir, &via, &["show", "SRC", "2"]);
    assert!(out.contains(&messages::subject(1)), "{out}");
    let raw = proxied(&user, &via, &["show", "SRC", "3", "--raw"]);
    assert_eq!(raw.as_bytes(), messages::to_crlf(&msgs[2]).as_slice());
    let out = same_both_ways(
        &user,
        &dir,
        &via,
        &["search", "SRC", "SUBJECT", "message 3"],
    );
    assert_eq!(out.trim(), "4", "{out}");

    // Commands that change things, through the proxy only, checked by their effect.
    let out = proxied(&user, &via, &["flags", "SRC", "2", "--add", "\\Flagged"]);
    assert!(out.contains("\\Flagged"), "{out}");
    let out = proxied(&user, &via, &["flags", "SRC", "2", "--remove", "\\Flagged"]);
    assert!(out.starts_with("2 ") && !out.contains("\\Flagged"), "{out}");
    let out = proxied(&user, &url(proxy.port(), "Projects"), &["mkdir", "SRC"]);
    assert!(out.contains("created Projects"), "{out}");
    let out = proxied(
        &user,
        &url(proxy.port(), "Projects"),
        &["rename", "SRC", "Done"],
    );
    assert!(out.contains("renamed"), "{out}");
    let out = proxied(&user, &url(proxy.port(), "Done"), &["rmdir", "SRC"]);
    assert!(out.contains("deleted Done"), "{out}");
    let out = same_both_ways(&user, &droot, &vroot, &["folders", "SRC"]);
    assert!(!out.contains("Projects") && !out.contains("Done"), "{out}");

    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("m.eml");
    std::fs::write(&file, messages::to_crlf(&messages::message(50, 2000))).unwrap();
    let f = file.to_str().unwrap();
    let out = proxied(&user, &via, &["append", "SRC", f, "--flag", "\\Seen"]);
    assert!(out.starts_with("7\t"), "{out}");

    // Download everything (7 messages) to both formats through the proxy.
    let mut all: Vec<Vec<u8>> = msgs.iter().map(|m| messages::to_crlf(m)).collect();
    all.push(messages::to_crlf(&messages::message(50, 2000)));
    for format in ["mbox", "maildir"] {
        let dest = tmp.path().join(format);
        let p = dest.to_str().unwrap();
        let out = proxied(&user, &via, &["download", "SRC", p, "--format", format]);
        assert!(out.contains("7 new messages"), "{out}");
        assert_same_messages(stored(&dest, format), &all);
    }

    let out = proxied(&user, &via, &["delete", "SRC", "1"]);
    assert!(out.contains("marked deleted 1"), "{out}");
    let out = proxied(&user, &via, &["delete", "SRC", "2", "--expunge"]);
    assert!(out.contains("expunged"), "{out}");
    proxied(&user, &via, &["expunge", "SRC"]);
    let out = same_both_ways(&user, &dir, &via, &["search", "SRC", "ALL"]);
    assert_eq!(out.trim(), "3 4 5 6 7", "{out}");

    // STARTTLS with every TLS byte in its own segment.
    let ca = d.ca_file().display().to_string();
    let out = ok(mailbag(&user, &["login", &via, "--ca-file", &ca]));
    assert_eq!(out.trim(), "ok");
    let out = ok(mailbag(&user, &["search", &via, "ALL", "--ca-file", &ca]));
    assert_eq!(out.trim(), "3 4 5 6 7", "{out}");

    // Every connection above went through the proxy in 1-byte segments.
    assert!(proxy.accepted() >= 20, "{} connections", proxy.accepted());
}

#[test]
fn watch_works_with_one_byte_segments() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(2, 1000))
        .unwrap();
    let proxy = FaultProxy::spawn(
        d.addr(d.imap_port()),
        FaultPlan::every(Faults::none().one_byte_segments()),
    )
    .unwrap();
    let src = format!("imap://{}@127.0.0.1:{}/INBOX", user.name, proxy.port());
    let mut child = mailbag(&user, &args(&["watch", &src], &PLAIN))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    forward(child.stdout.take().unwrap(), true, tx.clone());
    forward(child.stderr.take().unwrap(), false, tx);
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, "the watching note", |(out, l)| {
        !out && l.starts_with("watching INBOX")
    });
    d.deliver(&user, "INBOX", &messages::message(10, 1200))
        .unwrap();
    wait_for(&rx, &mut seen, "new uid 3", |(out, l)| {
        *out && l.starts_with("new uid 3\t")
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn every_pop3_command_works_with_one_byte_segments() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(5, 1800);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let all: Vec<Vec<u8>> = msgs.iter().map(|m| messages::to_crlf(m)).collect();
    let proxy = FaultProxy::spawn(
        d.addr(d.pop3_port()),
        FaultPlan::every(Faults::none().one_byte_segments()),
    )
    .unwrap();
    let dir = format!("pop3://{}@127.0.0.1:{}", user.name, d.pop3_port());
    let via = format!("pop3://{}@127.0.0.1:{}", user.name, proxy.port());

    let out = same_both_ways(&user, &dir, &via, &["capabilities", "SRC"]);
    assert!(out.contains("UIDL"), "{out}");
    assert_eq!(
        same_both_ways(&user, &dir, &via, &["login", "SRC"]).trim(),
        "ok"
    );
    let out = same_both_ways(&user, &dir, &via, &["pop", "stat", "SRC"]);
    assert!(out.starts_with("5 messages"), "{out}");
    let out = same_both_ways(&user, &dir, &via, &["pop", "list", "SRC"]);
    assert_eq!(out.lines().count(), 5, "{out}");
    let out = same_both_ways(&user, &dir, &via, &["pop", "uidl", "SRC"]);
    assert_eq!(out.lines().count(), 5, "{out}");
    let out = same_both_ways(&user, &dir, &via, &["pop", "top", "SRC", "1", "0"]);
    assert!(out.contains(&messages::subject(0)), "{out}");
    let raw = proxied(&user, &via, &["pop", "retr", "SRC", "2"]);
    assert_eq!(raw.as_bytes(), all[1].as_slice());

    let tmp = tempfile::tempdir().unwrap();
    for format in ["mbox", "maildir"] {
        let dest = tmp.path().join(format);
        let p = dest.to_str().unwrap();
        let out = proxied(&user, &via, &["download", "SRC", p, "--format", format]);
        assert!(out.contains("5 new messages"), "{out}");
        assert_same_messages(stored(&dest, format), &all);
    }

    let out = proxied(&user, &via, &["pop", "dele", "SRC", "3"]);
    assert!(out.contains("deleted 3"), "{out}");
    let out = same_both_ways(&user, &dir, &via, &["pop", "stat", "SRC"]);
    assert!(out.starts_with("4 messages"), "{out}");

    // STLS with every TLS byte in its own segment.
    let ca = d.ca_file().display().to_string();
    let out = ok(mailbag(&user, &["pop", "stat", &via, "--ca-file", &ca]));
    assert!(out.starts_with("4 messages"), "{out}");
    assert!(proxy.accepted() >= 10, "{} connections", proxy.accepted());
}
