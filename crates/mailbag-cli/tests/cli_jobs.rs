//! `mailbag download --all-folders --jobs N` against the harness Dovecot: folders over
//! several connections, each exactly once, incremental, and one failing folder leaving the
//! others whole.

mod common;

use common::*;
use mailbag_testserver::{messages, Dovecot, TestUser};

/// Folders with their messages (different indices, so no two folders hold the same bytes).
fn fill_folders(d: &Dovecot, user: &TestUser) -> Vec<(&'static str, &'static str, Vec<Vec<u8>>)> {
    let spec = [
        ("INBOX", "INBOX", 0, 25),
        ("Work", "Work", 100, 20),
        ("Lists/rust", "Lists.rust", 200, 15),
        ("Archive/2013", "Archive.2013", 300, 10),
    ];
    spec.iter()
        .map(|&(folder, stem, first, n)| {
            let msgs: Vec<Vec<u8>> = (first..first + n)
                .map(|i| messages::message(i, 1500 + i * 7))
                .collect();
            d.fill(user, folder, &msgs).unwrap();
            (
                folder,
                stem,
                msgs.iter().map(|m| messages::to_crlf(m)).collect(),
            )
        })
        .collect()
}

/// How many times `user` logged in so far, from the server's log.
fn logins(d: &Dovecot, user: &TestUser) -> usize {
    let log = std::fs::read_to_string(d.dir().join("log/dovecot.log")).unwrap_or_default();
    let needle = format!("Login: user=<{}>", user.name);
    log.lines().filter(|l| l.contains(&needle)).count()
}

fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn download_jobs_3_is_exact_and_incremental() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let folders = fill_folders(d, &user);
    let ca = d.ca_file().display().to_string();
    let src = imaps(d, &user, "");

    for format in ["mbox", "maildir"] {
        let dest = tempfile::tempdir().unwrap();
        let p = dest.path().to_str().unwrap();
        let args = [
            "download",
            &src,
            p,
            "--all-folders",
            "--jobs",
            "3",
            "--format",
            format,
            "--ca-file",
            &ca,
            "--json",
        ];
        let before = logins(d, &user);
        let (o, out, err) = run(mailbag(&user, &args));
        assert!(o.status.success(), "{format}: {err}");
        // Three connections, each logged in once.
        let after = logins(d, &user);
        assert_eq!(after - before, 3, "{format}:\n{}", d.log_tail());
        assert!(!err.contains("one after another"), "{err}");

        let lines = json_lines(&out);
        // One summary per folder, in name order, whatever finished first.
        let order: Vec<&str> = lines.iter().filter_map(|v| v["folder"].as_str()).collect();
        let mut sorted = order.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(order, sorted, "{out}");
        for (folder, stem, msgs) in &folders {
            let v = lines
                .iter()
                .find(|v| v["folder"] == *folder)
                .unwrap_or_else(|| panic!("{format}: no summary for {folder}: {out}"));
            assert_eq!(v["new"], msgs.len(), "{folder}: {v}");
            let got = match format {
                "mbox" => mbox_messages(&dest.path().join(format!("{stem}.mbox"))),
                _ => maildir_messages(&dest.path().join(stem))
                    .into_values()
                    .collect(),
            };
            assert_same_messages(got, msgs);
        }

        // Incremental: a second run downloads nothing and says so for each folder.
        let out = ok(mailbag(&user, &args));
        for v in json_lines(&out) {
            assert_eq!(v["new"], 0, "{format}: {v}");
        }
        for (folder, _, msgs) in &folders {
            let v = json_lines(&out)
                .into_iter()
                .find(|v| v["folder"] == *folder)
                .unwrap();
            assert_eq!(v["skipped"], msgs.len(), "{folder}: {v}");
        }
    }
}

#[test]
fn download_jobs_a_failing_folder_leaves_the_others_whole() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let folders = fill_folders(d, &user);
    let ca = d.ca_file().display().to_string();
    let src = imaps(d, &user, "");
    let dest = tempfile::tempdir().unwrap();
    // Mail that mailbag did not write where Work's output goes: the store refuses Work.
    let foreign = b"From someone Thu Jan  1 00:00:00 1970\nSubject: not mailbag's\n\nhi\n";
    std::fs::write(dest.path().join("Work.mbox"), foreign).unwrap();
    let p = dest.path().to_str().unwrap();
    let (o, out, err) = run(mailbag(
        &user,
        &[
            "download",
            &src,
            p,
            "--all-folders",
            "--jobs",
            "3",
            "--ca-file",
            &ca,
        ],
    ));
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        err.lines().any(|l| l.starts_with("mailbag: Work: ")),
        "the failure names the folder: {err}"
    );
    assert!(
        err.contains("1 of ") && err.contains("folders failed: Work"),
        "{err}"
    );
    assert!(!out.contains("Work:"), "{out}");
    for (folder, stem, msgs) in &folders {
        if *folder == "Work" {
            continue;
        }
        assert!(
            out.contains(&format!("{folder}: {} new", msgs.len())),
            "{out}"
        );
        assert_same_messages(
            mbox_messages(&dest.path().join(format!("{stem}.mbox"))),
            msgs,
        );
    }
    // The foreign file is untouched.
    assert_eq!(
        std::fs::read(dest.path().join("Work.mbox")).unwrap(),
        foreign
    );
}
