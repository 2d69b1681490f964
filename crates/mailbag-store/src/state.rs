//! The sync state of one folder: which messages are durably stored.
//!
//! File `DEST/.mailbag/<stem>.state`, JSON Lines (one JSON object per `\n`-ended line, UTF-8):
//!
//! ```text
//! {"mailbag_state":1,"account":"imaps://ann@example.org","folder":"INBOX","format":"mbox","protocol":"imap","uid_validity":1700000000}
//! {"uid":1,"end":2301}
//! {"uid":4,"end":9120}
//! ```
//!
//! The first line is the header. Each later line records one message: `uid` (IMAP) or `uidl`
//! (POP3, a JSON string), and for mbox `end`, the file length right after that message. The
//! records are appended and fsync'd by [`crate::Folder::sync`] only after the messages they
//! name are durable, so the file never claims more than is on disk.
//!
//! A crash during an append can leave a torn last line, or on some file systems a tail of
//! zero bytes. Loading therefore ignores unparsable lines at the end of the file, which only
//! forgets messages that were never confirmed (reconciliation then removes or adopts them);
//! an unparsable line followed by a good one is real damage and is reported. Every open
//! rewrites the file whole (compaction) through an atomic replace, which drops such a tail.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::fsutil;
use crate::meta::{Format, MessageKey, Uidl};

const VERSION: u32 = 1;

/// The first line of a state file: whose folder this is and how it is stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Header {
    pub mailbag_state: u32,
    pub account: String,
    pub folder: String,
    pub format: Format,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_validity: Option<u32>,
    /// IMAP: the folder's UIDNEXT when every message below it was durably stored (see
    /// [`crate::Folder::record_uid_next`]). Absent in older files, which older versions (that
    /// ignore unknown header fields) drop when they rewrite the file: either way the next run
    /// only does the full UID comparison it would do without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_next: Option<u32>,
}

impl Header {
    pub fn new(account: &str, folder: &str, format: Format, uid_validity: Option<u32>) -> Header {
        Header {
            mailbag_state: VERSION,
            account: account.to_owned(),
            folder: folder.to_owned(),
            format,
            protocol: if uid_validity.is_some() {
                Protocol::Imap
            } else {
                Protocol::Pop3
            },
            uid_validity,
            uid_next: None,
        }
    }
}

/// Which protocol's keys the records hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Protocol {
    Imap,
    Pop3,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uidl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
}

impl Record {
    pub fn new(key: &MessageKey, end: Option<u64>) -> Record {
        let (uid, uidl) = match key {
            MessageKey::Uid(uid) => (Some(*uid), None),
            MessageKey::Uidl(uidl) => (None, Some(uidl.as_str().to_owned())),
        };
        Record { uid, uidl, end }
    }

    fn key(&self) -> Option<MessageKey> {
        match (self.uid, &self.uidl) {
            (Some(uid), None) if uid > 0 => Some(MessageKey::Uid(uid)),
            (None, Some(uidl)) => Uidl::new(uidl.as_str()).ok().map(MessageKey::Uidl),
            _ => None,
        }
    }
}

/// A folder's state in memory, and the open journal appends go to.
#[derive(Debug)]
pub(crate) struct State {
    path: PathBuf,
    pub header: Header,
    records: Vec<Record>,
    uids: BTreeSet<u32>,
    uidls: HashSet<Uidl>,
    journal: Option<File>,
    /// Loading dropped a torn tail (or records were inserted in memory since): the file must be
    /// rewritten before appends go to it.
    dirty: bool,
}

impl State {
    /// A new, empty state (not yet on disk; see [`State::compact`]).
    pub fn new(path: PathBuf, header: Header) -> State {
        State {
            path,
            header,
            records: Vec::new(),
            uids: BTreeSet::new(),
            uidls: HashSet::new(),
            journal: None,
            dirty: true,
        }
    }

    /// The header of the state at `path` alone (its first line), or `None` if there is no
    /// state or its first line is not a header of this version.
    pub fn load_header(path: &Path) -> Option<Header> {
        use std::io::BufRead as _;
        let file = fs::File::open(path).ok()?;
        let mut line = Vec::new();
        io::BufReader::new(file).read_until(b'\n', &mut line).ok()?;
        let header: Header = serde_json::from_slice(&line).ok()?;
        (header.mailbag_state == VERSION).then_some(header)
    }

    /// Reads the state at `path`, or `None` if there is none.
    pub fn load(path: &Path) -> Result<Option<State>> {
        let text = match fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).ctx("read", path),
        };
        let corrupt = |line: usize, reason: String| Error::CorruptState {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut lines = text.split(|&b| b == b'\n');
        let header: Header = lines
            .next()
            .and_then(|line| serde_json::from_slice(line).ok())
            .ok_or_else(|| corrupt(1, "the header line is not a mailbag state header".into()))?;
        if header.mailbag_state != VERSION {
            return Err(corrupt(
                1,
                format!("unknown version {}", header.mailbag_state),
            ));
        }
        let mut state = State::new(path.to_path_buf(), header);
        // The header is written by atomic replace, so it is whole; only records can be torn.
        let mut first_bad: Option<(usize, String)> = None;
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let parsed = serde_json::from_slice::<Record>(line)
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    r.key()
                        .map(|_| r)
                        .ok_or_else(|| "no valid uid or uidl".into())
                });
            match (parsed, &first_bad) {
                (Ok(record), None) => state.insert(record),
                (Ok(_), Some((line, reason))) => return Err(corrupt(*line, reason.clone())),
                (Err(reason), None) => first_bad = Some((i + 2, reason)),
                (Err(_), Some(_)) => {}
            }
        }
        // A last line without its `\n` (a torn append that happens to parse) would run into
        // the next append: rewrite then too.
        state.dirty = first_bad.is_some() || !text.ends_with(b"\n");
        Ok(Some(state))
    }

    /// Adds a record to memory only (adoption uses it; see [`State::append`]). The file is
    /// then rewritten by the next [`State::compact_if_needed`].
    pub fn adopt(&mut self, record: Record) {
        self.insert(record);
        self.dirty = true;
    }

    /// Adds a record to memory only (loading and appending use it).
    fn insert(&mut self, record: Record) {
        match record.key() {
            Some(MessageKey::Uid(uid)) => self.uids.insert(uid),
            Some(MessageKey::Uidl(uidl)) => self.uidls.insert(uidl),
            None => return,
        };
        self.records.push(record);
    }

    /// Whether the state records `key`.
    pub fn contains(&self, key: &MessageKey) -> bool {
        match key {
            MessageKey::Uid(uid) => self.uids.contains(uid),
            MessageKey::Uidl(uidl) => self.uidls.contains(uidl),
        }
    }

    /// The recorded UIDs, ascending.
    pub fn uids(&self) -> &BTreeSet<u32> {
        &self.uids
    }

    /// The recorded UIDLs.
    pub fn uidls(&self) -> &HashSet<Uidl> {
        &self.uidls
    }

    /// The mbox length after the last recorded message (0 when none).
    pub fn last_end(&self) -> u64 {
        self.records.iter().filter_map(|r| r.end).max().unwrap_or(0)
    }

    /// The mbox offset where the last recorded message starts: the `end` before the last.
    pub fn last_start(&self) -> u64 {
        let mut ends: Vec<u64> = self.records.iter().filter_map(|r| r.end).collect();
        ends.sort_unstable();
        ends.iter().rev().nth(1).copied().unwrap_or(0)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the journal for appends, first rewriting the file (see [`State::compact`]) only
    /// when it differs from what is in memory: a torn tail was dropped, records were adopted,
    /// or it is new. A clean file as loaded is appended to as it is, which keeps a re-run with
    /// nothing new from rewriting a large state.
    pub fn compact_if_needed(&mut self) -> Result<()> {
        if self.dirty {
            return self.compact();
        }
        let journal = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .ctx("open", &self.path)?;
        self.journal = Some(journal);
        Ok(())
    }

    /// Records `uid_next` in the header (an atomic rewrite of the file).
    pub fn set_uid_next(&mut self, uid_next: Option<u32>) -> Result<()> {
        if self.header.uid_next == uid_next {
            return Ok(());
        }
        self.header.uid_next = uid_next;
        self.compact()
    }

    /// Writes the whole state atomically, then opens the journal for appends.
    pub fn compact(&mut self) -> Result<()> {
        let mut text = serde_json::to_vec(&self.header)
            .map_err(io::Error::other)
            .ctx("encode", &self.path)?;
        text.push(b'\n');
        write_records(&mut text, &self.records);
        self.journal = None;
        fsutil::replace_file(&self.path, &text)?;
        self.dirty = false;
        let journal = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .ctx("open", &self.path)?;
        self.journal = Some(journal);
        Ok(())
    }

    /// Appends `records` in one write and fsyncs them: after this returns they are claimed.
    pub fn append(&mut self, records: Vec<Record>) -> Result<()> {
        let mut text = Vec::new();
        write_records(&mut text, &records);
        let journal = self
            .journal
            .as_mut()
            .ok_or_else(|| Error::Poisoned("state journal is not open".into()))?;
        journal.write_all(&text).ctx("write to", &self.path)?;
        journal.sync_data().ctx("sync", &self.path)?;
        for record in records {
            self.insert(record);
        }
        Ok(())
    }
}

/// Appends one JSON line per record to `text`.
fn write_records(text: &mut Vec<u8>, records: &[Record]) {
    for record in records {
        // A derived Serialize of plain fields cannot fail.
        let _ = serde_json::to_writer(&mut *text, record);
        text.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header::new("acct", "INBOX", Format::Mbox, Some(7))
    }

    #[test]
    fn round_trips_through_compaction_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.state");
        let mut state = State::new(path.clone(), header());
        state.compact().unwrap();
        state
            .append(vec![Record::new(&MessageKey::Uid(3), Some(10))])
            .unwrap();
        state
            .append(vec![Record::new(&MessageKey::Uid(9), Some(25))])
            .unwrap();
        let loaded = State::load(&path).unwrap().unwrap();
        assert_eq!(loaded.header, header());
        assert_eq!(loaded.uids().iter().copied().collect::<Vec<_>>(), [3, 9]);
        assert_eq!(loaded.last_end(), 25);
        assert_eq!(loaded.last_start(), 10);
    }

    #[test]
    fn torn_tail_is_ignored_but_damage_in_the_middle_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.state");
        let head = serde_json::to_string(&header()).unwrap();
        fs::write(
            &path,
            format!("{head}\n{{\"uid\":1,\"end\":5}}\n{{\"uid\":2,\"en"),
        )
        .unwrap();
        assert_eq!(State::load(&path).unwrap().unwrap().uids().len(), 1);
        fs::write(
            &path,
            format!("{head}\n{{\"uid\":1,\"end\":5}}\n\0\0\0\0\n"),
        )
        .unwrap();
        assert_eq!(State::load(&path).unwrap().unwrap().uids().len(), 1);
        fs::write(&path, format!("{head}\ngarbage\n{{\"uid\":1,\"end\":5}}\n")).unwrap();
        assert!(matches!(
            State::load(&path),
            Err(Error::CorruptState { line: 2, .. })
        ));
    }

    #[test]
    fn uidls_are_kept_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.state");
        let mut state = State::new(
            path.clone(),
            Header::new("a", "INBOX", Format::Maildir, None),
        );
        state.compact().unwrap();
        let odd = Uidl::new("\"q\\uo/te:d\"~").unwrap();
        state
            .append(vec![Record::new(&MessageKey::Uidl(odd.clone()), None)])
            .unwrap();
        let loaded = State::load(&path).unwrap().unwrap();
        assert!(loaded.contains(&MessageKey::Uidl(odd)));
        assert_eq!(loaded.header.protocol, Protocol::Pop3);
    }
}
