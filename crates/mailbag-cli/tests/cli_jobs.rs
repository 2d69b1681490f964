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

/// The connection of one worker is cut in the middle of a folder: that folder fails with its
/// name, the worker logs in again for the rest, every other folder is whole, and the next
/// run completes the cut folder with each message once.
#[test]
fn download_jobs_a_lost_connection_fails_only_its_folder() {
    use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};

    let d = Dovecot::shared();
    let user = d.new_user();
    let mut folders = fill_folders(d, &user);
    // First in name order, so the first worker (the connection that listed the folders,
    // the only one logged in at the start) takes it at once; 200 KB.
    let big: Vec<Vec<u8>> = (400..410).map(|i| messages::message(i, 20_000)).collect();
    d.fill(&user, "AAA", &big).unwrap();
    folders.push((
        "AAA",
        "AAA",
        big.iter().map(|m| messages::to_crlf(m)).collect(),
    ));
    let ca = d.ca_file().display().to_string();
    // Connection 1 is cut after 100 KB from the server: inside AAA's FETCH.
    let plan = FaultPlan::pass().connection(1, Faults::none().cut_after_server(100_000));
    let proxy = FaultProxy::spawn(d.addr(d.imaps_port()), plan).unwrap();
    let src = format!("imaps://{}@127.0.0.1:{}/", user.name, proxy.port());
    let dest = tempfile::tempdir().unwrap();
    let p = dest.path().to_str().unwrap();
    let args = [
        "download",
        &src,
        p,
        "--all-folders",
        "--jobs",
        "3",
        "--ca-file",
        &ca,
    ];
    let (o, out, err) = run(mailbag(&user, &args));
    assert_eq!(o.status.code(), Some(4), "{out}\n{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("mailbag: AAA: connection to ") && l.contains("lost")),
        "{err}"
    );
    assert!(err.contains("folders failed: AAA;"), "{err}");
    assert!(proxy.accepted() >= 4, "no new login after the cut");
    for (folder, stem, msgs) in &folders {
        if *folder == "AAA" {
            continue;
        }
        assert!(
            out.contains(&format!("\n{folder}: {} new", msgs.len()))
                || out.starts_with(&format!("{folder}: {} new", msgs.len())),
            "{out}"
        );
        assert_same_messages(
            mbox_messages(&dest.path().join(format!("{stem}.mbox"))),
            msgs,
        );
    }

    let out = ok(mailbag(&user, &args));
    assert!(out.starts_with("AAA: "), "{out}");
    for (folder, stem, msgs) in &folders {
        assert_same_messages(
            mbox_messages(&dest.path().join(format!("{stem}.mbox"))),
            msgs,
        );
        if *folder != "AAA" {
            assert!(out.contains(&format!("{folder}: 0 new")), "{out}");
        }
    }
}

/// Not a check but a measurement: 8 folders over a link that delays every segment by 5 ms,
/// with --jobs 1 and --jobs 4 (`cargo test -p mailbag-cli --test cli_jobs -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn measure_jobs_over_a_slow_link() {
    use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};

    let d = Dovecot::shared();
    let user = d.new_user();
    let mut all = Vec::new();
    for f in 0..8 {
        let msgs: Vec<Vec<u8>> = (0..30)
            .map(|i| messages::message(f * 100 + i, 4000))
            .collect();
        let name = format!("F{f}");
        d.fill(&user, &name, &msgs).unwrap();
        all.push((name, msgs));
    }
    let ca = d.ca_file().display().to_string();
    let plan = FaultPlan::every(Faults::none().delay(std::time::Duration::from_millis(5)));
    let proxy = FaultProxy::spawn(d.addr(d.imaps_port()), plan).unwrap();
    let src = format!("imaps://{}@127.0.0.1:{}/", user.name, proxy.port());
    for jobs in ["1", "4", "1", "4"] {
        let dest = tempfile::tempdir().unwrap();
        let p = dest.path().to_str().unwrap();
        let start = std::time::Instant::now();
        ok(mailbag(
            &user,
            &[
                "download",
                &src,
                p,
                "--all-folders",
                "--jobs",
                jobs,
                "--ca-file",
                &ca,
            ],
        ));
        eprintln!("--jobs {jobs}: {:?}", start.elapsed());
        for (name, msgs) in &all {
            let want: Vec<Vec<u8>> = msgs.iter().map(|m| messages::to_crlf(m)).collect();
            assert_same_messages(
                mbox_messages(&dest.path().join(format!("{name}.mbox"))),
                &want,
            );
        }
    }
}
