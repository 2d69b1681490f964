//! Maildir delivery: names, flags, permissions, and coexistence with other programs' files.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Fixture;
use mailbag_store::{Error, Flags, Format, MessageKey, MessageMeta};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn files_are_0600_and_directories_0700() {
    let fx = Fixture::new(Format::Maildir, false, 4);
    fx.resume_and_check();
    assert_eq!(mode(&fx.dest().join(".mailbag")), 0o700);
    assert_eq!(mode(&fx.output()), 0o700);
    for sub in ["cur", "new", "tmp"] {
        assert_eq!(mode(&fx.output().join(sub)), 0o700, "{sub}");
    }
    for sub in ["cur", "new"] {
        for name in names(&fx.output().join(sub)) {
            assert_eq!(mode(&fx.output().join(sub).join(&name)), 0o600, "{name}");
        }
    }
    assert_eq!(mode(&fx.state_path()), 0o600);
}

#[test]
fn missing_destination_is_created_0700() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup/mail");
    let store = mailbag_store::Store::new(&dest, Format::Maildir, "acct");
    store
        .open_folder(&Fixture::folder_name(), mailbag_store::Source::Pop3)
        .unwrap();
    assert_eq!(mode(&dest), 0o700);
    assert_eq!(mode(&dir.path().join("backup")), 0o700);
}

#[test]
fn mbox_file_is_0600() {
    let fx = Fixture::new(Format::Mbox, true, 2);
    fx.resume_and_check();
    assert_eq!(mode(&fx.output()), 0o600);
    assert_eq!(mode(&fx.state_path()), 0o600);
}

#[test]
fn flags_choose_cur_and_info() {
    let fx = Fixture::new(Format::Maildir, false, 1);
    let (mut folder, _) = fx.open();
    let all = Flags {
        seen: true,
        answered: true,
        flagged: true,
        deleted: true,
        draft: true,
    };
    for (uid, flags) in [
        (1, Flags::default()),
        (
            2,
            Flags {
                seen: true,
                ..Flags::default()
            },
        ),
        (3, all),
    ] {
        let meta = MessageMeta {
            flags,
            ..MessageMeta::new(MessageKey::Uid(uid))
        };
        let mut writer = folder.begin_message(&meta).unwrap();
        writer.write_chunk(b"Subject: x\r\n\r\n").unwrap();
        writer.commit().unwrap();
    }
    assert_eq!(
        names(&fx.output().join("tmp")).len(),
        3,
        "written to tmp/ until sync"
    );
    assert!(names(&fx.output().join("new")).is_empty());
    folder.sync().unwrap();
    assert!(names(&fx.output().join("tmp")).is_empty());

    let new = names(&fx.output().join("new"));
    assert_eq!(new.len(), 1);
    assert!(
        new[0].contains("V77U1.") && !new[0].contains(':'),
        "{}",
        new[0]
    );
    let cur = names(&fx.output().join("cur"));
    assert_eq!(cur.len(), 2);
    assert!(
        cur.iter()
            .any(|n| n.contains("V77U2.") && n.ends_with(":2,S")),
        "{cur:?}"
    );
    assert!(
        cur.iter()
            .any(|n| n.contains("V77U3.") && n.ends_with(":2,DFRST")),
        "{cur:?}"
    );
    for name in new.iter().chain(&cur) {
        let (secs, rest) = name.split_once('.').unwrap();
        assert!(secs.bytes().all(|b| b.is_ascii_digit()));
        assert!(
            rest.starts_with('M') && rest.contains('P') && rest.contains('Q'),
            "{name}"
        );
        assert!(!name.contains('/'));
    }
}

#[test]
fn flag_changes_by_a_mail_reader_keep_the_message_known() {
    let fx = Fixture::new(Format::Maildir, false, 3);
    fx.resume_and_check();
    // A mail reader moves a message from new/ to cur/ and adds flags; the key survives.
    let new = fx.output().join("new");
    let name = names(&new).remove(0);
    fs::rename(
        new.join(&name),
        fx.output().join("cur").join(format!("{name}:2,RS")),
    )
    .unwrap();
    let (_, fetched) = fx.resume_and_check();
    assert_eq!(fetched, 0);
}

#[test]
fn other_programs_files_are_left_alone() {
    let fx = Fixture::new(Format::Maildir, false, 2);
    fx.resume_and_check();
    let foreign = fx.output().join("tmp").join("1700000000.12345.otherhost");
    fs::write(&foreign, b"procmail was here").unwrap();
    let (_, report) = fx.open();
    assert_eq!(report.removed_temp_files, 0);
    assert!(foreign.exists());
}

#[test]
fn keys_are_checked() {
    let fx = Fixture::new(Format::Maildir, false, 1);
    let (mut folder, _) = fx.open();
    let err = folder
        .begin_message(&MessageMeta::new(MessageKey::Uid(0)))
        .unwrap_err();
    assert!(matches!(err, Error::WrongKeyKind(_)));
    let uidl = MessageKey::Uidl(mailbag_store::Uidl::new("x").unwrap());
    let err = folder.begin_message(&MessageMeta::new(uidl)).unwrap_err();
    assert!(matches!(err, Error::WrongKeyKind(_)));
    folder
        .begin_message(&MessageMeta::new(MessageKey::Uid(5)))
        .unwrap()
        .commit()
        .unwrap();
    let err = folder
        .begin_message(&MessageMeta::new(MessageKey::Uid(5)))
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyStored(_)), "pending counts");
    assert!(
        !folder.is_stored(&MessageKey::Uid(5)),
        "not durable before sync"
    );
    assert_eq!(folder.sync().unwrap(), [MessageKey::Uid(5)]);
    assert!(folder.is_stored(&MessageKey::Uid(5)));
}

#[test]
fn nested_folder_names_are_flat() {
    let fx = Fixture::new(Format::Maildir, false, 1);
    let name = mailbag_store::FolderName::new("Archive/2024/März", Some('/')).unwrap();
    let (folder, _) = fx.store().open_folder(&name, fx.source()).unwrap();
    assert_eq!(folder.output_path(), fx.dest().join("Archive.2024.März"));
    assert!(fx.dest().join(".mailbag/Archive.2024.März.state").exists());
}

/// Bytes arrive in chunks of any size: small ones are gathered in the folder's buffer, large
/// ones go straight to the file, and each file holds exactly its message's bytes, in order
/// (the buffer is shared by the messages of a folder, one after another).
#[test]
fn chunks_of_any_size_make_exact_files() {
    let fx = Fixture::new(Format::Maildir, false, 1);
    let (mut folder, _) = fx.open();
    let sizes = [1, 100, 5000, 4000, 9000, 3, 16384, 8191, 8192, 7, 20000, 1];
    let body: Vec<u8> = (0..sizes.iter().sum::<usize>())
        .map(|i| (i % 251) as u8)
        .collect();
    let mut expected = Vec::new();
    for (uid, rotate) in [(1u32, 0usize), (2, 3)] {
        let mut sizes = sizes;
        sizes.rotate_left(rotate);
        let bytes: Vec<u8> = body.iter().map(|b| b.wrapping_add(uid as u8)).collect();
        let mut writer = folder
            .begin_message(&MessageMeta::new(MessageKey::Uid(uid)))
            .unwrap();
        let mut at = 0;
        for size in sizes {
            writer.write_chunk(&bytes[at..at + size]).unwrap();
            at += size;
        }
        assert_eq!(writer.commit().unwrap(), bytes.len() as u64);
        expected.push(bytes);
    }
    folder.sync().unwrap();
    let new = fx.output().join("new");
    let mut files: Vec<Vec<u8>> = names(&new)
        .iter()
        .map(|n| fs::read(new.join(n)).unwrap())
        .collect();
    files.sort_by_key(|f| f[0]);
    assert_eq!(files, expected);
    assert!(names(&fx.output().join("tmp")).is_empty());
}
