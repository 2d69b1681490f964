//! `mailbag download` with nothing new stops after EXAMINE (issue 8, case B4): the state
//! records UIDNEXT after a complete run, and a re-run whose EXAMINE shows the same UIDNEXT
//! sends no UID SEARCH and no UID FETCH.

mod common;

use common::*;
use mailbag_testserver::peer::{Script, ScriptedPeer};
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

    // The re-run finds nothing new: LOGOUT goes out, and its answer is not waited for (the
    // session's only wait is for LOGIN and EXAMINE).
    let (o, _, stderr) = run(mailbag(
        &user,
        &["download", &src, p, "--ca-file", &ca, "-v"],
    ));
    assert!(o.status.success(), "{stderr}");
    let logout = stderr
        .lines()
        .find_map(|l| {
            let c = l.split_once("C: ")?.1;
            c.ends_with(" LOGOUT")
                .then(|| c.split_whitespace().next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("LOGOUT traced:\n{stderr}"));
    assert!(
        !stderr.contains(&format!("S: {logout} ")),
        "LOGOUT's answer was read:\n{stderr}"
    );

    let (o, _, stderr) =
        run(mailbag(&user, &["download", &src, p, "--ca-file", &ca])
            .env("MAILBAG_PASSWORD", "nope"));
    assert_eq!(o.status.code(), Some(3), "{stderr}");
}

/// A command ends with LOGOUT and closes without waiting for the answer: against a server
/// that never answers LOGOUT the command still ends at once, and successfully.
#[test]
fn logout_is_not_waited_for() {
    let script = Script::from_transcript(
        "S: * OK [CAPABILITY IMAP4rev1] scripted server ready
         C: {tag} LOGIN {any}
         S: {tag} OK [CAPABILITY IMAP4rev1] logged in
         C: {tag} LOGOUT",
    )
    .expect_eof();
    let peer = ScriptedPeer::builder()
        .connection(script)
        .timeout(std::time::Duration::from_secs(20))
        .spawn()
        .unwrap();
    let user = scripted_user();
    let src = format!("imap://ann@127.0.0.1:{}", peer.port());
    let started = std::time::Instant::now();
    let (o, stdout, stderr) = run(mailbag(
        &user,
        &["login", &src, "--tls", "none", "--allow-plaintext"],
    ));
    assert!(o.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    peer.join().expect("the client sent LOGOUT and closed");
}
