//! A small download engine and checks shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use mailbag_store::mboxrd::Reader;
use mailbag_store::{
    Flags, Folder, FolderName, Format, MessageKey, MessageMeta, OpenReport, Source, Store, Uidl,
};
use tempfile::TempDir;

/// One destination, one folder, one protocol, and the "server's" messages.
pub struct Fixture {
    pub dir: PathBuf,
    _guard: Option<TempDir>,
    pub format: Format,
    pub pop3: bool,
    pub uid_validity: u32,
    pub messages: Vec<Vec<u8>>,
}

impl Fixture {
    pub fn new(format: Format, pop3: bool, count: usize) -> Fixture {
        let guard = tempfile::tempdir().unwrap();
        let mut fixture = Fixture::at(guard.path().to_owned(), format, pop3, count);
        fixture._guard = Some(guard);
        fixture
    }

    /// A fixture on an existing directory (kept when the fixture goes).
    pub fn at(dir: PathBuf, format: Format, pop3: bool, count: usize) -> Fixture {
        Fixture {
            dir,
            _guard: None,
            format,
            pop3,
            uid_validity: 77,
            messages: messages(count),
        }
    }

    pub fn dest(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> Store {
        Store::new(self.dest(), self.format, "imaps://ann@example.org")
    }

    pub fn folder_name() -> FolderName {
        FolderName::new("INBOX", Some('/')).unwrap()
    }

    pub fn source(&self) -> Source {
        if self.pop3 {
            Source::Pop3
        } else {
            Source::Imap {
                uid_validity: self.uid_validity,
            }
        }
    }

    pub fn open(&self) -> (Folder, OpenReport) {
        self.store()
            .open_folder(&Self::folder_name(), self.source())
            .unwrap()
    }

    pub fn key(&self, i: usize) -> MessageKey {
        if self.pop3 {
            MessageKey::Uidl(Uidl::new(format!("u{i}:/.%~")).unwrap())
        } else {
            MessageKey::Uid(u32::try_from(i).unwrap() * 3 + 1)
        }
    }

    pub fn meta(&self, i: usize) -> MessageMeta {
        MessageMeta {
            flags: Flags {
                seen: i % 2 == 0,
                flagged: i % 3 == 0,
                ..Flags::default()
            },
            envelope_sender: Some(format!("sender{i}@example.org")),
            ..MessageMeta::new(self.key(i))
        }
    }

    /// Writes message `i` whole and commits it (no sync).
    pub fn put(&self, folder: &mut Folder, i: usize) {
        let mut writer = folder.begin_message(&self.meta(i)).unwrap();
        for chunk in self.messages[i].chunks(7) {
            writer.write_chunk(chunk).unwrap();
        }
        writer.commit().unwrap();
    }

    /// Fetches every message not stored, syncing every `batch`; returns how many it fetched.
    pub fn download(&self, folder: &mut Folder, batch: usize) -> usize {
        let mut fetched = 0;
        for i in 0..self.messages.len() {
            if folder.is_stored(&self.key(i)) {
                continue;
            }
            self.put(folder, i);
            fetched += 1;
            if folder.pending() >= batch {
                folder.sync().unwrap();
            }
        }
        folder.sync().unwrap();
        fetched
    }

    pub fn output(&self) -> PathBuf {
        match self.format {
            Format::Mbox => self.dest().join("INBOX.mbox"),
            Format::Maildir => self.dest().join("INBOX"),
        }
    }

    pub fn state_path(&self) -> PathBuf {
        self.dest().join(".mailbag/INBOX.state")
    }

    /// Resumes after whatever happened and checks the output holds each message exactly once.
    pub fn resume_and_check(&self) -> (OpenReport, usize) {
        let (mut folder, report) = self.open();
        let fetched = self.download(&mut folder, 2);
        drop(folder);
        self.check_exactly_once();
        (report, fetched)
    }

    pub fn check_exactly_once(&self) {
        let mut got = stored_messages(self.format, &self.output());
        let mut want = self.messages.clone();
        if self.format == Format::Maildir {
            got.sort();
            want.sort();
            assert_eq!(
                fs::read_dir(self.output().join("tmp")).unwrap().count(),
                0,
                "tmp/ is empty"
            );
        }
        assert!(
            got == want,
            "output differs: {} messages, want {}",
            got.len(),
            want.len()
        );
        let (folder, _) = self.open();
        for i in 0..self.messages.len() {
            assert!(folder.is_stored(&self.key(i)), "message {i} recorded");
        }
    }
}

/// Messages with everything mboxrd must get right: From lines quoted to various depths, CRLF,
/// one without a final line end, one larger than the writer's buffer.
pub fn messages(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut m = format!(
                "Message-Id: <{i}@test>\r\nSubject: m{i}\r\n\r\nFrom the start\r\n>From quoted\r\n>>From twice\r\n\r\nFrom \r\nbody {i}\r\n"
            )
            .into_bytes();
            match i % 4 {
                1 => m.truncate(m.len() - 2),
                2 => m.extend(b"x".repeat(70).iter().chain(b"\r\n").cycle().take(150_000)),
                _ => {}
            }
            m
        })
        .collect()
}

/// Every message in an mbox file (in order) or a Maildir's new/ and cur/ (in no order).
pub fn stored_messages(format: Format, output: &Path) -> Vec<Vec<u8>> {
    match format {
        Format::Mbox => {
            let mut reader = Reader::new(BufReader::new(fs::File::open(output).unwrap()));
            let mut all = Vec::new();
            while let Some((_, body)) = reader.read_message().unwrap() {
                all.push(body);
            }
            all
        }
        Format::Maildir => ["new", "cur"]
            .iter()
            .flat_map(|sub| fs::read_dir(output.join(sub)).unwrap())
            .map(|entry| fs::read(entry.unwrap().path()).unwrap())
            .collect(),
    }
}

/// Every format and protocol combination.
pub fn all_cases() -> [(Format, bool); 4] {
    [
        (Format::Mbox, false),
        (Format::Mbox, true),
        (Format::Maildir, false),
        (Format::Maildir, true),
    ]
}
