//! Real crashes: a child process downloads and is killed with SIGKILL at points spread over
//! its run, again and again; after a last, uninterrupted run every message is in the output
//! exactly once, for mbox and Maildir, keyed by UID and by UIDL.
//!
//! The child is this same test binary running the ignored test `child_download`, told what to
//! do through environment variables.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{all_cases, Fixture};
use mailbag_store::Format;

const MESSAGES: usize = 40;
const KILLS: u64 = 25;

fn child(dest: &std::path::Path, format: Format, pop3: bool) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--ignored",
            "--exact",
            "child_download",
            "--test-threads=1",
            "-q",
        ])
        .env("MAILBAG_KILL_DEST", dest)
        .env("MAILBAG_KILL_FORMAT", format.to_string())
        .env("MAILBAG_KILL_POP3", if pop3 { "1" } else { "0" })
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

#[test]
fn sigkill_at_many_points_then_resume() {
    for (format, pop3) in all_cases() {
        // Time one whole run to spread the kills over it.
        let scratch = tempfile::tempdir().unwrap();
        let started = Instant::now();
        assert!(child(scratch.path(), format, pop3)
            .status()
            .unwrap()
            .success());
        let whole = started.elapsed();

        let dir = tempfile::tempdir().unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut killed = 0;
        for kill in 0..KILLS {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Evenly spread, plus jitter, so both early and late points are hit.
            let nanos = whole.as_nanos() as u64;
            let at = nanos * kill / KILLS + seed % (nanos / KILLS + 1);
            let mut running = child(dir.path(), format, pop3).spawn().unwrap();
            std::thread::sleep(Duration::from_nanos(at));
            let _ = running.kill();
            let status = running.wait().unwrap();
            // Killed, or finished before the kill: never a failure of its own.
            assert!(
                status.success() || status.code().is_none(),
                "{format} pop3={pop3}: child failed: {status}"
            );
            killed += u32::from(status.code().is_none());
        }
        eprintln!("{format} pop3={pop3}: run takes {whole:?}, {killed} of {KILLS} children killed");
        assert!(killed >= 3, "the kills should land inside runs");
        let fx = Fixture::at(dir.path().to_owned(), format, pop3, MESSAGES);
        fx.resume_and_check();
    }
}

/// The downloader the test above kills; does nothing unless started by it.
#[test]
#[ignore = "run as a child process by sigkill_at_many_points_then_resume"]
fn child_download() {
    let Ok(dest) = std::env::var("MAILBAG_KILL_DEST") else {
        return;
    };
    let format = match std::env::var("MAILBAG_KILL_FORMAT").unwrap().as_str() {
        "mbox" => Format::Mbox,
        _ => Format::Maildir,
    };
    let pop3 = std::env::var("MAILBAG_KILL_POP3").unwrap() == "1";
    let fx = Fixture::at(dest.into(), format, pop3, MESSAGES);
    let (mut folder, _) = fx.open();
    fx.download(&mut folder, 3);
}
