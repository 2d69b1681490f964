//! `--compress`: COMPRESS=DEFLATE (RFC 4978) is negotiated only when asked for, and a download
//! over a compressed connection writes exactly what an uncompressed one writes.

mod common;

use common::*;
use mailbag_testserver::{messages, Dovecot};

/// The commands a `-v` trace shows the client sending.
fn sent_commands(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("C: ").map(|(_, c)| c.to_ascii_uppercase()))
        .collect()
}

fn download(user: &mailbag_testserver::TestUser, args: &[&str]) -> Vec<String> {
    let (out, stdout, stderr) = run(mailbag(user, args));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("12 new messages"), "{stdout}");
    sent_commands(&stderr)
}

#[test]
fn compress_only_when_asked_and_the_same_bytes_arrive() {
    let d = Dovecot::shared();
    let user = d.new_user();
    // Mixed sizes, some large enough that the deflate stream spans many reads.
    let mut mail = messages::generate(8, 3_000);
    mail.extend(messages::generate(4, 400_000));
    d.fill(&user, "INBOX", &mail).unwrap();
    let ca = d.ca_file().display().to_string();
    let src = imaps(d, &user, "INBOX");
    let dest = tempfile::tempdir().unwrap();
    let plain = dest.path().join("plain");
    let deflated = dest.path().join("deflated");

    let sent = download(
        &user,
        &[
            "download",
            &src,
            plain.to_str().unwrap(),
            "--format",
            "mbox",
            "--ca-file",
            &ca,
            "-v",
        ],
    );
    assert!(
        sent.iter().any(|c| c.contains("UID FETCH")),
        "the trace shows no commands: {sent:?}"
    );
    assert!(
        !sent.iter().any(|c| c.contains("COMPRESS")),
        "COMPRESS without --compress: {sent:?}"
    );

    // The option after the command word, as every global option.
    let sent = download(
        &user,
        &[
            "download",
            &src,
            deflated.to_str().unwrap(),
            "--format",
            "mbox",
            "--ca-file",
            &ca,
            "-v",
            "--compress",
        ],
    );
    assert!(
        sent.iter().any(|c| c.contains("COMPRESS DEFLATE")),
        "no COMPRESS DEFLATE with --compress: {sent:?}"
    );
    assert!(sent.iter().any(|c| c.contains("UID FETCH")), "{sent:?}");

    // The messages, byte for byte (the mbox `From ` lines carry the time of the download,
    // which may differ by a second between the two runs).
    let a = mbox_messages(&plain.join("INBOX.mbox"));
    let b = mbox_messages(&deflated.join("INBOX.mbox"));
    let total: usize = a.iter().map(Vec::len).sum();
    assert!(total > 1_600_000, "{total} bytes");
    assert_eq!(a.len(), 12);
    assert!(a == b, "the compressed download differs from the plain one");
}
