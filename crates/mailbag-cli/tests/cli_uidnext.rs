//! `mailbag download` with nothing new stops after EXAMINE (issue 8, case B4): the state
//! records UIDNEXT after a complete run, and a re-run whose EXAMINE shows the same UIDNEXT
//! sends no UID SEARCH and no UID FETCH.

mod common;

use common::*;
use mailbag_testserver::{messages, Dovecot};

/// The commands a `-v` trace shows the client sending (tagged lines after the tag).
fn sent_commands(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("C: ").map(|(_, c)| c.to_owned()))
        .collect()
}

fn download(
    user: &mailbag_testserver::TestUser,
    src: &str,
    dest: &str,
    format: &str,
    ca: &str,
) -> (String, Vec<String>) {
    let (out, stdout, stderr) = run(mailbag(
        user,
        &[
            "download",
            src,
            dest,
            "--format",
            format,
            "--ca-file",
            ca,
            "-v",
        ],
    ));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    (stdout, sent_commands(&stderr))
}

fn has(commands: &[String], word: &str) -> bool {
    commands
        .iter()
        .any(|c| c.to_ascii_uppercase().contains(word))
}

#[test]
fn download_with_nothing_new_sends_no_search_or_fetch() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let first = messages::generate(6, 1500);
    d.fill(&user, "INBOX", &first).unwrap();
    let ca = d.ca_file().display().to_string();
    let src = imaps(d, &user, "INBOX");
    let dest = tempfile::tempdir().unwrap();

    for format in ["mbox", "maildir"] {
        let out_dir = dest.path().join(format);
        let out_dir = out_dir.to_str().unwrap();
        let (out, sent) = download(&user, &src, out_dir, format, &ca);
        assert!(out.contains("6 new messages"), "{out}");
        assert!(has(&sent, "UID FETCH"), "{sent:?}");

        // Nothing new: EXAMINE, then nothing about messages.
        let (out, sent) = download(&user, &src, out_dir, format, &ca);
        assert!(
            out.contains("0 new messages") && out.contains("6 already there"),
            "{out}"
        );
        assert!(
            has(&sent, "EXAMINE"),
            "the trace shows no commands: {sent:?}"
        );
        assert!(
            !has(&sent, "SEARCH") && !has(&sent, "FETCH"),
            "a run with nothing new asked about messages: {sent:?}"
        );
        // INBOX has no level to split: no LIST to learn the delimiter.
        assert!(!has(&sent, "LIST"), "{sent:?}");
    }

    // Something new moves UIDNEXT: the next runs fetch exactly it.
    d.fill(&user, "INBOX", &[messages::message(6, 1200)])
        .unwrap();
    for format in ["mbox", "maildir"] {
        let out_dir = dest.path().join(format);
        let out_dir = out_dir.to_str().unwrap();
        let (out, sent) = download(&user, &src, out_dir, format, &ca);
        assert!(
            out.contains("1 new message ") && out.contains("6 already there"),
            "{out}"
        );
        assert!(has(&sent, "UID FETCH"), "{sent:?}");
        let (out, sent) = download(&user, &src, out_dir, format, &ca);
        assert!(
            out.contains("0 new messages") && out.contains("7 already there"),
            "{out}"
        );
        assert!(!has(&sent, "FETCH"), "{sent:?}");
    }
    let all: Vec<Vec<u8>> = first
        .iter()
        .chain(&[messages::message(6, 1200)])
        .map(|x| messages::to_crlf(x))
        .collect();
    assert_same_messages(mbox_messages(&dest.path().join("mbox/INBOX.mbox")), &all);
    assert_same_messages(
        maildir_messages(&dest.path().join("maildir/INBOX"))
            .into_values()
            .collect(),
        &all,
    );
}

/// One folder read-only: EXAMINE goes out before LOGIN's answer came (pipelined, one round
/// trip for both), and a wrong password is still reported as such.
#[test]
fn login_and_examine_are_pipelined() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(2, 1000))
        .unwrap();
    let ca = d.ca_file().display().to_string();
    let src = imaps(d, &user, "INBOX");
    let dest = tempfile::tempdir().unwrap();
    let p = dest.path().to_str().unwrap();
    let (o, _, stderr) = run(mailbag(
        &user,
        &["download", &src, p, "--ca-file", &ca, "-v"],
    ));
    assert!(o.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let at = |pred: &dyn Fn(&str) -> bool| lines.iter().position(|l| pred(l));
    let login = at(&|l| l.contains("C: ") && l.contains(" LOGIN ")).expect("LOGIN traced");
    let tag = lines[login]
        .split_once("C: ")
        .and_then(|(_, c)| c.split_whitespace().next())
        .unwrap()
        .to_owned();
    let examine = at(&|l| l.contains("C: ") && l.contains(" EXAMINE ")).expect("EXAMINE traced");
    let answered = at(&|l| l.contains(&format!("S: {tag} "))).expect("LOGIN's answer traced");
    assert!(
        examine < answered,
        "EXAMINE waited for LOGIN's answer:\n{stderr}"
    );

    let (o, _, stderr) =
        run(mailbag(&user, &["download", &src, p, "--ca-file", &ca])
            .env("MAILBAG_PASSWORD", "nope"));
    assert_eq!(o.status.code(), Some(3), "{stderr}");
}
