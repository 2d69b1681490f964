//! mboxrd round trips: whatever the messages and however they are chunked, writing then
//! reading gives back the exact bytes.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::stored_messages;
use mailbag_store::mboxrd::{from_line, Quoter, Reader};
use mailbag_store::{FolderName, Format, MessageKey, MessageMeta, Source, Store};
use proptest::prelude::*;

/// Lines that exercise quoting, in any mix and with any line end (or none at the very end).
fn line() -> impl Strategy<Value = Vec<u8>> {
    let content = prop_oneof![
        Just(b"From ".to_vec()),
        Just(b">From ".to_vec()),
        Just(b">>From x".to_vec()),
        Just(b">>>>From".to_vec()),
        Just(b"From".to_vec()),
        Just(b">".to_vec()),
        Just(b"".to_vec()),
        Just(b"Fro".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..20),
        "[>F ]{0,8}From [a-z]{0,5}".prop_map(String::into_bytes),
    ];
    let end = prop_oneof![
        Just(&b"\r\n"[..]),
        Just(&b"\n"[..]),
        Just(&b""[..]),
        Just(&b"\r"[..])
    ];
    (content, end).prop_map(|(mut content, end)| {
        content.extend_from_slice(end);
        content
    })
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(line(), 0..12).prop_map(|lines| lines.concat())
}

/// Splits `bytes` at the given (sorted, deduplicated) fractions of its length.
fn chunked(bytes: &[u8], cuts: &[u16]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) * bytes.len() / usize::from(u16::MAX))
        .collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::new();
    let mut at = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        chunks.push(bytes[at..point.max(at)].to_vec());
        at = point.max(at);
    }
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn quoter_and_reader_round_trip(
        messages in proptest::collection::vec((message(), proptest::collection::vec(any::<u16>(), 0..6)), 0..6)
    ) {
        let mut file = Vec::new();
        let mut quoter = Quoter::new();
        for (body, cuts) in &messages {
            file.extend(from_line(Some("a@b"), UNIX_EPOCH));
            for chunk in chunked(body, cuts) {
                quoter.push(&chunk, &mut file);
            }
            quoter.finish(&mut file);
            file.push(b'\n');
        }
        let mut reader = Reader::new(&file[..]);
        for (body, _) in &messages {
            let (from, got) = reader.read_message().unwrap().unwrap();
            prop_assert_eq!(from, b"From a@b Thu Jan  1 00:00:00 1970".to_vec());
            prop_assert_eq!(&got, body);
        }
        prop_assert!(reader.read_message().unwrap().is_none());
    }
}

proptest! {
    // Each case opens a store and fsyncs; fewer cases, the quoting itself is covered above.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn store_round_trip(
        messages in proptest::collection::vec((message(), proptest::collection::vec(any::<u16>(), 0..6)), 1..5),
        sync_every in 1usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), Format::Mbox, "acct");
        let name = FolderName::new("INBOX", None).unwrap();
        let (mut folder, _) = store.open_folder(&name, Source::Imap { uid_validity: 1 }).unwrap();
        for (i, (body, cuts)) in messages.iter().enumerate() {
            let meta = MessageMeta {
                internal_date: Some(UNIX_EPOCH + Duration::from_secs(i as u64 * 86_400 * 400)),
                ..MessageMeta::new(MessageKey::Uid(i as u32 + 1))
            };
            let mut writer = folder.begin_message(&meta).unwrap();
            for chunk in chunked(body, cuts) {
                writer.write_chunk(&chunk).unwrap();
            }
            writer.commit().unwrap();
            if folder.pending() >= sync_every {
                folder.sync().unwrap();
            }
        }
        folder.close().unwrap();
        let want: Vec<Vec<u8>> = messages.into_iter().map(|(body, _)| body).collect();
        prop_assert_eq!(stored_messages(Format::Mbox, &dir.path().join("INBOX.mbox")), want);
    }
}

#[test]
fn chunk_boundaries_inside_a_quoted_from() {
    let body: &[u8] = b"a\r\n>>From x\r\nFrom y\r\n";
    for split in 0..=body.len() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), Format::Mbox, "acct");
        let name = FolderName::new("INBOX", None).unwrap();
        let (mut folder, _) = store.open_folder(&name, Source::Pop3).unwrap();
        let key = MessageKey::Uidl(mailbag_store::Uidl::new("u1").unwrap());
        let mut writer = folder.begin_message(&MessageMeta::new(key)).unwrap();
        writer.write_chunk(&body[..split]).unwrap();
        writer.write_chunk(&body[split..]).unwrap();
        writer.commit().unwrap();
        folder.close().unwrap();
        let file = std::fs::read(dir.path().join("INBOX.mbox")).unwrap();
        let start = file.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(
            &file[start..],
            b"a\r\n>>>From x\r\n>From y\r\n\n",
            "split at {split}"
        );
    }
}

#[test]
fn from_line_carries_sender_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path(), Format::Mbox, "acct");
    let name = FolderName::new("INBOX", None).unwrap();
    let (mut folder, _) = store
        .open_folder(&name, Source::Imap { uid_validity: 1 })
        .unwrap();
    for (uid, sender) in [(1, Some("ann@example.org")), (2, None)] {
        let meta = MessageMeta {
            envelope_sender: sender.map(str::to_owned),
            internal_date: Some(UNIX_EPOCH + Duration::from_secs(1_000_000_000)),
            ..MessageMeta::new(MessageKey::Uid(uid))
        };
        folder.begin_message(&meta).unwrap().commit().unwrap();
    }
    folder.close().unwrap();
    let file = std::fs::read(dir.path().join("INBOX.mbox")).unwrap();
    assert_eq!(
        file,
        b"From ann@example.org Sun Sep  9 01:46:40 2001\n\nFrom MAILER-DAEMON Sun Sep  9 01:46:40 2001\n\n"
    );
}
