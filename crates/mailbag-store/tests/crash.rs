//! Every crash point of a download, simulated by leaving the files as a crash would, then
//! resuming: each case must end with every message in the output exactly once.
//!
//! Dropping a `Folder` does no clean-up, so "drop" below is a crash as far as the files go;
//! states a drop cannot produce (half an fsync'd batch, a torn record) are made by hand.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;

use common::{all_cases, Fixture};
use mailbag_store::{Error, Format};

#[test]
fn clean_run_then_nothing_new() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 6);
        let (report, fetched) = fx.resume_and_check();
        assert!(report.created);
        assert_eq!(fetched, 6);
        let (_, fetched) = fx.resume_and_check();
        assert_eq!(
            fetched, 0,
            "{format} pop3={pop3}: a second run fetches nothing"
        );
    }
}

#[test]
fn crash_inside_a_message() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 6);
        let (mut folder, _) = fx.open();
        fx.put(&mut folder, 0);
        fx.put(&mut folder, 1);
        folder.sync().unwrap();
        // Message 2 is larger than the write buffer, so part of it reaches the file.
        let mut writer = folder.begin_message(&fx.meta(2)).unwrap();
        writer.write_chunk(&fx.messages[2][..100_000]).unwrap();
        std::mem::forget(writer);
        drop(folder);

        let (report, fetched) = fx.resume_and_check();
        match format {
            Format::Mbox => assert!(report.truncated_bytes >= 65_536, "{report:?}"),
            Format::Maildir => assert_eq!(report.removed_temp_files, 1),
        }
        assert_eq!(fetched, 4);
    }
}

#[test]
fn crash_after_commit_before_sync() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 6);
        let (mut folder, _) = fx.open();
        fx.put(&mut folder, 0);
        folder.sync().unwrap();
        for i in 1..4 {
            fx.put(&mut folder, i);
        }
        drop(folder);

        let (report, fetched) = fx.resume_and_check();
        match format {
            Format::Mbox => assert!(report.truncated_bytes > 0),
            Format::Maildir => assert_eq!(report.removed_temp_files, 3),
        }
        assert_eq!(fetched, 5);
    }
}

#[test]
fn crash_after_output_sync_before_records() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 6);
        let (mut folder, _) = fx.open();
        fx.put(&mut folder, 0);
        folder.sync().unwrap();
        let recorded = fs::metadata(fx.state_path()).unwrap().len();
        for i in 1..4 {
            fx.put(&mut folder, i);
        }
        folder.sync().unwrap();
        drop(folder);
        // The records of that sync never reached the disk.
        OpenOptions::new()
            .write(true)
            .open(fx.state_path())
            .unwrap()
            .set_len(recorded)
            .unwrap();

        let (report, fetched) = fx.resume_and_check();
        match format {
            Format::Mbox => {
                assert!(report.truncated_bytes > 0);
                assert_eq!(fetched, 5);
            }
            Format::Maildir => {
                assert_eq!(
                    report.adopted, 3,
                    "delivered files are adopted, not fetched again"
                );
                assert_eq!(fetched, 2);
            }
        }
    }
}

#[test]
fn maildir_crash_between_fsync_and_rename() {
    for pop3 in [false, true] {
        let fx = Fixture::new(Format::Maildir, pop3, 4);
        let (mut folder, _) = fx.open();
        let recorded = fs::metadata(fx.state_path()).unwrap().len();
        fx.put(&mut folder, 0);
        fx.put(&mut folder, 1);
        folder.sync().unwrap();
        drop(folder);
        // Undo the renames and the records: the files are whole but still in tmp/.
        for sub in ["new", "cur"] {
            for entry in fs::read_dir(fx.output().join(sub)).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                let base = name.split(':').next().unwrap();
                fs::rename(entry.path(), fx.output().join("tmp").join(base)).unwrap();
            }
        }
        OpenOptions::new()
            .write(true)
            .open(fx.state_path())
            .unwrap()
            .set_len(recorded)
            .unwrap();

        let (report, fetched) = fx.resume_and_check();
        assert_eq!(report.removed_temp_files, 2);
        assert_eq!(fetched, 4);
    }
}

/// A crash while appending a batch's records can leave any prefix of them on disk.
#[test]
fn crash_at_every_byte_of_a_record_append() {
    for (format, pop3) in all_cases() {
        let probe = Fixture::new(format, pop3, 5);
        let (mut folder, _) = probe.open();
        probe.put(&mut folder, 0);
        folder.sync().unwrap();
        let before = fs::metadata(probe.state_path()).unwrap().len();
        for i in 1..4 {
            probe.put(&mut folder, i);
        }
        folder.sync().unwrap();
        let after = fs::metadata(probe.state_path()).unwrap().len();
        drop(folder);
        let full_state = fs::read(probe.state_path()).unwrap();

        for cut in before..=after {
            let fx = Fixture::new(format, pop3, 5);
            let (mut folder, _) = fx.open();
            fx.put(&mut folder, 0);
            folder.sync().unwrap();
            for i in 1..4 {
                fx.put(&mut folder, i);
            }
            folder.sync().unwrap();
            drop(folder);
            let state = fs::read(fx.state_path()).unwrap();
            assert_eq!(state.len(), full_state.len());
            fs::write(fx.state_path(), &state[..usize::try_from(cut).unwrap()]).unwrap();
            fx.resume_and_check();
        }
    }
}

/// A crash during the fsync of a batch can leave any prefix of it in an mbox file. Every byte
/// near the start, end and the boundary between the two messages, every third one elsewhere
/// (each case costs several fsyncs).
#[test]
fn crash_at_every_byte_of_an_mbox_batch() {
    for pop3 in [false, true] {
        let probe = Fixture::new(Format::Mbox, pop3, 4);
        let (mut folder, _) = probe.open();
        probe.put(&mut folder, 0);
        folder.sync().unwrap();
        let start = fs::metadata(probe.output()).unwrap().len();
        probe.put(&mut folder, 1);
        let boundary = fs::metadata(probe.output()).unwrap().len();
        probe.put(&mut folder, 3);
        folder.sync().unwrap();
        let end = fs::metadata(probe.output()).unwrap().len();
        drop(folder);

        let near = |cut: u64, at: u64| cut.abs_diff(at) <= 8;
        let cuts = (start..=end)
            .filter(|&c| c % 3 == 0 || near(c, start) || near(c, boundary) || near(c, end));
        for cut in cuts {
            let fx = Fixture::new(Format::Mbox, pop3, 4);
            let (mut folder, _) = fx.open();
            fx.put(&mut folder, 0);
            folder.sync().unwrap();
            let recorded = fs::metadata(fx.state_path()).unwrap().len();
            fx.put(&mut folder, 1);
            fx.put(&mut folder, 3);
            drop(folder);
            OpenOptions::new()
                .write(true)
                .open(fx.output())
                .unwrap()
                .set_len(cut)
                .unwrap();
            assert_eq!(fs::metadata(fx.state_path()).unwrap().len(), recorded);
            let (report, fetched) = fx.resume_and_check();
            assert_eq!(report.truncated_bytes, cut - start);
            assert_eq!(fetched, 3);
        }
    }
}

#[test]
fn leftover_state_rewrite_and_zero_filled_tail_are_harmless() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 4);
        let (mut folder, _) = fx.open();
        fx.put(&mut folder, 0);
        folder.sync().unwrap();
        drop(folder);
        fs::write(fx.dest().join(".mailbag/INBOX.state.tmp"), b"{\"half").unwrap();
        let mut state = OpenOptions::new()
            .append(true)
            .open(fx.state_path())
            .unwrap();
        state.write_all(&[0; 300]).unwrap();
        let (_, fetched) = fx.resume_and_check();
        assert_eq!(fetched, 3);
    }
}

#[test]
fn aborted_and_dropped_writers_leave_nothing() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 4);
        let (mut folder, _) = fx.open();
        let mut writer = folder.begin_message(&fx.meta(2)).unwrap();
        writer.write_chunk(&fx.messages[2]).unwrap();
        writer.abort().unwrap();
        let mut writer = folder.begin_message(&fx.meta(1)).unwrap();
        writer.write_chunk(&fx.messages[1][..10]).unwrap();
        drop(writer);
        assert_eq!(folder.pending(), 0);
        assert_eq!(fx.download(&mut folder, 10), 4);
        drop(folder);
        fx.check_exactly_once();
    }
}

#[test]
fn mbox_changed_by_another_program_is_refused_not_cut() {
    let fx = Fixture::new(Format::Mbox, false, 3);
    fx.resume_and_check();
    let mut bytes = fs::read(fx.output()).unwrap();
    bytes.insert(10, b'X');
    fs::write(fx.output(), &bytes).unwrap();
    let err = fx
        .store()
        .open_folder(&Fixture::folder_name(), fx.source())
        .unwrap_err();
    assert!(matches!(err, Error::OutputModified { .. }), "{err}");
    bytes.truncate(bytes.len() - 20);
    fs::write(fx.output(), &bytes).unwrap();
    let err = fx
        .store()
        .open_folder(&Fixture::folder_name(), fx.source())
        .unwrap_err();
    assert!(matches!(err, Error::OutputModified { .. }), "{err}");
    assert_eq!(fs::read(fx.output()).unwrap(), bytes, "nothing was cut");
    // A reader that added a header to the last message: the length still fits, the offsets
    // do not.
    let fx = Fixture::new(Format::Mbox, false, 3);
    fx.resume_and_check();
    let bytes = fs::read(fx.output()).unwrap();
    let last = bytes.windows(6).rposition(|w| w == b"\nFrom ").unwrap() + 1;
    let mut edited = bytes[..last].to_vec();
    edited.extend_from_slice(b"Status: RO\n");
    edited.extend_from_slice(&bytes[last..]);
    edited.truncate(bytes.len());
    fs::write(fx.output(), &edited).unwrap();
    let err = fx
        .store()
        .open_folder(&Fixture::folder_name(), fx.source())
        .unwrap_err();
    assert!(matches!(err, Error::OutputModified { .. }), "{err}");
}

#[test]
fn output_without_state_is_refused() {
    for (format, pop3) in all_cases() {
        let fx = Fixture::new(format, pop3, 2);
        fx.resume_and_check();
        fs::remove_file(fx.state_path()).unwrap();
        let err = fx
            .store()
            .open_folder(&Fixture::folder_name(), fx.source())
            .unwrap_err();
        assert!(matches!(err, Error::OutputWithoutState { .. }), "{err}");
    }
}

#[test]
fn second_open_is_locked_out() {
    let fx = Fixture::new(Format::Maildir, false, 1);
    let (_folder, _) = fx.open();
    let err = fx
        .store()
        .open_folder(&Fixture::folder_name(), fx.source())
        .unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
}
