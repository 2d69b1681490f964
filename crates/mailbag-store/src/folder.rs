//! An open folder: streaming messages in, and making batches of them durable.
//!
//! The durability rule lives in [`Folder::sync`]: first the messages' bytes are made durable
//! (mbox: fdatasync the file; Maildir: fsync each file in `tmp/`, rename it into `new/` or
//! `cur/`, fsync those directories), and only then are their records appended to the state and
//! fsync'd. [`MessageWriter::commit`] only writes, so a batch costs two or three fsyncs however
//! many messages it holds.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, IoContext, Result};
use crate::fsutil;
use crate::maildir;
use crate::mboxrd::{self, Quoter};
use crate::meta::{MessageKey, MessageMeta, Source, Uidl};
use crate::name::FolderName;
use crate::state::{Record, State};

/// Quoted mbox bytes are written out once this many are buffered; this and the caller's chunk
/// size bound the memory one message takes, whatever its size.
const BUFFER_SIZE: usize = 64 * 1024;

/// A Maildir file's write buffer (one per folder, reused for every message): small chunks
/// (headers, lines) are gathered, chunks of at least this size (a whole message received in
/// one piece, a socket read) go to `write(2)` directly, without a copy through the buffer
/// (issue 8: copying each 50 KB body into a fresh 64 KB buffer cost a memcpy and page faults
/// per message; a fresh 8 KB buffer per message was still the largest allocation).
const MAILDIR_BUFFER_SIZE: usize = 8 * 1024;

/// One folder's output and sync state, locked for this process. Made by [`crate::Store::open_folder`].
///
/// Methods: queries ([`Folder::is_stored`], [`Folder::stored_uids`],
/// [`Folder::stored_uidls`], [`Folder::pending`]), input ([`Folder::begin_message`], then the
/// [`MessageWriter`]), and durability ([`Folder::sync`], [`Folder::close`]).
///
/// Dropping a folder without `sync` is like a crash: messages committed since the last sync
/// were never confirmed, and the next open removes them (mbox) or adopts the ones already
/// delivered (Maildir).
///
/// After an I/O error in a writer or in `sync`, the folder is poisoned: every later call
/// returns [`Error::Poisoned`], and opening it again reconciles it.
#[derive(Debug)]
pub struct Folder {
    name: FolderName,
    source: Source,
    output: PathBuf,
    state: State,
    /// The folder lock (`.mailbag/<stem>.lock`), held while this value lives.
    _lock: File,
    sink: Sink,
    pending: Vec<Pending>,
    /// The pending messages' keys (an ordered set: no hashing per message).
    pending_keys: BTreeSet<MessageKey>,
    poisoned: Option<String>,
}

/// Where message bytes go.
#[derive(Debug)]
pub(crate) enum Sink {
    Mbox(MboxSink),
    Maildir {
        uid_validity: Option<u32>,
        /// `tmp/`, `new/` and `cur/`, open: files are created and renamed relative to them
        /// (one path component to look up, not the whole path), and fsync'd through them.
        dirs: fsutil::MaildirDirs,
        /// The message being written's buffered bytes.
        buf: Vec<u8>,
        /// Whether a batch's files are fsync'd from several threads at once.
        fsync: FsyncPlan,
    },
}

/// A batch needs this many files before its fsyncs are timed or shared among threads.
const FSYNC_BATCH_MIN: usize = 16;
/// Files fsync'd one after the other that took longer than this each on average show a
/// file system that writes to a device (on tmpfs an fsync takes about a microsecond, on this
/// machine's ext4 disk 150-400 microseconds).
const FSYNC_SLOW: std::time::Duration = std::time::Duration::from_micros(50);
/// At most this many threads fsync one batch.
const FSYNC_THREADS: usize = 8;

/// How a batch of Maildir files is made durable. Every file is fsync'd through the descriptor
/// that wrote it, before any of them is renamed, either way. One after the other, until a
/// batch shows that fsyncs take time; from then on from several threads at once, so that the
/// file system commits them together instead of one journal commit each (issue 8: a
/// download of 10,000 x 2 KB to a Maildir on this machine's ext4 took 1.76-1.91 s one after
/// the other and 0.90-1.04 s from 8 threads).
#[derive(Debug, Default)]
pub(crate) struct FsyncPlan {
    parallel: bool,
}

impl FsyncPlan {
    /// From the first batch on, as after a slow one (for tests).
    #[cfg(test)]
    pub(crate) fn parallel() -> FsyncPlan {
        FsyncPlan { parallel: true }
    }

    /// fsyncs every file, and returns only once all are done; on failure the error names a
    /// file that failed (the others may or may not be durable: the batch counts as failed).
    fn sync_all(&mut self, files: &[(&File, &str)], dirs: &fsutil::MaildirDirs) -> Result<()> {
        let sync_one =
            |(file, name): &(&File, &str)| file.sync_all().ctx_with("sync", || dirs.in_tmp(name));
        if !self.parallel || files.len() < FSYNC_BATCH_MIN {
            let started = std::time::Instant::now();
            files.iter().try_for_each(sync_one)?;
            if files.len() >= FSYNC_BATCH_MIN {
                let count = u32::try_from(files.len()).unwrap_or(u32::MAX);
                self.parallel = started.elapsed() / count > FSYNC_SLOW;
            }
            return Ok(());
        }
        let threads = FSYNC_THREADS
            .min(files.len() / (FSYNC_BATCH_MIN / 2))
            .max(2);
        let share = files.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut spawned = Vec::new();
            let mut result = Ok(());
            for part in files.chunks(share) {
                let work = move || part.iter().try_for_each(sync_one);
                match std::thread::Builder::new()
                    .name("mailbag-fsync".into())
                    .spawn_scoped(scope, work)
                {
                    Ok(handle) => spawned.push(handle),
                    // No thread to be had: this part is done here, in turn.
                    Err(_) => result = result.and_then(|()| part.iter().try_for_each(sync_one)),
                }
            }
            for handle in spawned {
                let joined = handle.join().unwrap_or_else(|_| {
                    Err(Error::Io {
                        action: "sync",
                        path: dirs.in_tmp(""),
                        source: std::io::Error::other("an fsync thread panicked"),
                    })
                });
                result = result.and(joined);
            }
            result
        })
    }
}

#[derive(Debug)]
pub(crate) struct MboxSink {
    file: File,
    /// The file length as this process wrote it (the file position).
    written: u64,
    buf: Vec<u8>,
    quoter: Quoter,
}

impl Sink {
    pub(crate) fn mbox(file: File, written: u64) -> Sink {
        Sink::Mbox(MboxSink {
            file,
            written,
            buf: Vec::with_capacity(BUFFER_SIZE),
            quoter: Quoter::new(),
        })
    }

    pub(crate) fn maildir(dir: PathBuf, uid_validity: Option<u32>) -> Result<Sink> {
        let dirs = fsutil::MaildirDirs::open(&dir)?;
        Ok(Sink::Maildir {
            uid_validity,
            dirs,
            buf: Vec::with_capacity(MAILDIR_BUFFER_SIZE),
            fsync: FsyncPlan::default(),
        })
    }
}

impl MboxSink {
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// A committed message waiting for [`Folder::sync`].
#[derive(Debug)]
struct Pending {
    key: MessageKey,
    /// mbox: the file length after this message.
    end: Option<u64>,
    /// Maildir: the file in `tmp/` and where it goes.
    delivery: Option<Delivery>,
}

#[derive(Debug)]
struct Delivery {
    file: File,
    /// `new` or `cur`.
    subdir: &'static str,
    /// The name it is delivered under: its unique base, then `:2,<flags>` in `cur/`.
    name: String,
    /// The length of the base, which is its name in `tmp/`.
    base_len: usize,
}

impl Delivery {
    fn tmp_name(&self) -> &str {
        self.name.get(..self.base_len).unwrap_or(&self.name)
    }

    /// Writes `chunk` after what `buf` holds, as a `BufWriter` of `MAILDIR_BUFFER_SIZE`
    /// would.
    fn write(&mut self, buf: &mut Vec<u8>, chunk: &[u8]) -> std::io::Result<()> {
        if buf.len().saturating_add(chunk.len()) > MAILDIR_BUFFER_SIZE {
            self.flush(buf)?;
        }
        if chunk.len() >= MAILDIR_BUFFER_SIZE {
            self.file.write_all(chunk)
        } else {
            buf.extend_from_slice(chunk);
            Ok(())
        }
    }

    fn flush(&mut self, buf: &mut Vec<u8>) -> std::io::Result<()> {
        let result = if buf.is_empty() {
            Ok(())
        } else {
            self.file.write_all(buf)
        };
        buf.clear();
        result
    }
}

impl Folder {
    pub(crate) fn new(
        name: FolderName,
        source: Source,
        output: PathBuf,
        state: State,
        lock: File,
        sink: Sink,
    ) -> Folder {
        Folder {
            name,
            source,
            output,
            state,
            _lock: lock,
            sink,
            pending: Vec::new(),
            pending_keys: BTreeSet::new(),
            poisoned: None,
        }
    }

    /// The folder's name.
    pub fn name(&self) -> &FolderName {
        &self.name
    }

    /// The mbox file or Maildir directory written to.
    pub fn output_path(&self) -> &Path {
        &self.output
    }

    /// Whether `key` is durably stored (written, fsync'd and recorded). Only these may be
    /// deleted on the server.
    pub fn is_stored(&self, key: &MessageKey) -> bool {
        self.state.contains(key)
    }

    /// The durably stored UIDs, ascending (empty for POP3).
    pub fn stored_uids(&self) -> impl Iterator<Item = u32> + '_ {
        self.state.uids().iter().copied()
    }

    /// The durably stored UIDLs, in no order (empty for IMAP).
    pub fn stored_uidls(&self) -> impl Iterator<Item = &Uidl> + '_ {
        self.state.uidls().iter()
    }

    /// IMAP: the UIDNEXT recorded by [`Folder::record_uid_next`] (`None` if never recorded, or
    /// for POP3). When the server's UIDNEXT (with the same UIDVALIDITY) still equals it,
    /// nothing new arrived and the folder needs no UID comparison.
    pub fn uid_next(&self) -> Option<u32> {
        self.state.header.uid_next
    }

    /// IMAP: records that every message with a UID below `uid_next` is durably stored (or
    /// was deliberately left out), so that the next run can skip the UID comparison while the
    /// server's UIDNEXT stays the same. Call it after [`Folder::sync`] returned, and only when
    /// every message the server listed below `uid_next` was stored. The header is rewritten
    /// atomically (and fsync'd); returns `false` and records nothing while messages still wait
    /// for a sync, or for POP3.
    ///
    /// # Errors
    /// [`Error::Io`] (the folder is then poisoned), or [`Error::Poisoned`].
    pub fn record_uid_next(&mut self, uid_next: u32) -> Result<bool> {
        self.check()?;
        if !self.pending.is_empty() || !matches!(self.source, Source::Imap { .. }) {
            return Ok(false);
        }
        let result = self.state.set_uid_next(Some(uid_next));
        if let Err(error) = &result {
            self.poison(error);
        }
        result.map(|()| true)
    }

    /// How many committed messages wait for [`Folder::sync`].
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Starts storing a message; stream its bytes into the returned writer, then commit it.
    ///
    /// # Errors
    /// [`Error::AlreadyStored`] if the key is stored or pending; [`Error::WrongKeyKind`] for a
    /// UIDL in an IMAP folder, a UID in a POP3 folder, or UID 0; [`Error::Poisoned`];
    /// [`Error::Io`] if the Maildir file cannot be created.
    pub fn begin_message(&mut self, meta: &MessageMeta) -> Result<MessageWriter<'_>> {
        self.check()?;
        let key = meta.key.clone();
        let fits = match (&key, self.source) {
            (MessageKey::Uid(uid), Source::Imap { .. }) => *uid > 0,
            (MessageKey::Uidl(_), Source::Pop3) => true,
            _ => false,
        };
        if !fits {
            return Err(Error::WrongKeyKind(key));
        }
        if self.state.contains(&key) || self.pending_keys.contains(&key) {
            return Err(Error::AlreadyStored(key));
        }
        let target = match &mut self.sink {
            Sink::Mbox(mbox) => {
                let date = meta.internal_date.unwrap_or_else(SystemTime::now);
                mbox.buf
                    .extend(mboxrd::from_line(meta.envelope_sender.as_deref(), date));
                Target::Mbox {
                    start: mbox.written,
                }
            }
            Sink::Maildir {
                uid_validity,
                dirs,
                buf,
                ..
            } => {
                let base = maildir::unique_base(&key, *uid_validity);
                let file = dirs.create_in_tmp(&base)?;
                let base_len = base.len();
                let (subdir, name) = maildir::delivered_name(base, meta.flags);
                buf.clear();
                Target::Maildir(Delivery {
                    file,
                    subdir,
                    name,
                    base_len,
                })
            }
        };
        Ok(MessageWriter {
            folder: self,
            key: Some(key),
            target: Some(target),
            size: 0,
        })
    }

    /// Makes every committed message durable, then records it, and returns their keys: from
    /// now on they count as stored (and may be deleted on the server).
    ///
    /// Call it every few hundred messages at most and at the end: each pending Maildir
    /// message keeps its file open until then (fsync through the descriptor that wrote it is
    /// the one that reliably reports write-back errors), and unsynced messages are lost to a
    /// crash and fetched again.
    ///
    /// # Errors
    /// [`Error::Io`] (the folder is then poisoned: none of the pending messages count as
    /// stored, and the next open reconciles them), or [`Error::Poisoned`].
    pub fn sync(&mut self) -> Result<Vec<MessageKey>> {
        self.check()?;
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let result = self.sync_pending();
        if let Err(error) = &result {
            self.poison(error);
        }
        result
    }

    /// Syncs and releases the folder.
    ///
    /// # Errors
    /// As [`Folder::sync`].
    pub fn close(mut self) -> Result<Vec<MessageKey>> {
        self.sync()
    }

    fn sync_pending(&mut self) -> Result<Vec<MessageKey>> {
        match &mut self.sink {
            Sink::Mbox(mbox) => mbox.file.sync_data().ctx("sync", &self.output)?,
            Sink::Maildir { dirs, fsync, .. } => {
                // All fsyncs first: a file must be whole before its name appears in new/ or
                // cur/, because reconciliation adopts whatever it finds there.
                let files: Vec<(&File, &str)> = self
                    .pending
                    .iter()
                    .filter_map(|p| p.delivery.as_ref())
                    .map(|d| (&d.file, d.tmp_name()))
                    .collect();
                fsync.sync_all(&files, dirs)?;
                let mut used = Vec::new();
                for delivery in self.pending.iter_mut().filter_map(|p| p.delivery.take()) {
                    dirs.deliver(delivery.tmp_name(), delivery.subdir, &delivery.name)?;
                    if !used.contains(&delivery.subdir) {
                        used.push(delivery.subdir);
                    }
                }
                for subdir in used {
                    dirs.sync(subdir)?;
                }
            }
        }
        let records = self
            .pending
            .iter()
            .map(|p| Record::new(&p.key, p.end))
            .collect();
        self.state.append(records)?;
        self.pending_keys.clear();
        Ok(self.pending.drain(..).map(|p| p.key).collect())
    }

    fn check(&self) -> Result<()> {
        match &self.poisoned {
            Some(reason) => Err(Error::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    fn poison(&mut self, error: &Error) {
        self.poisoned.get_or_insert_with(|| error.to_string());
    }
}

/// Streams one message into its folder. Made by [`Folder::begin_message`].
///
/// Call [`MessageWriter::write_chunk`] with the message's bytes in order, split anywhere,
/// then [`MessageWriter::commit`], or [`MessageWriter::abort`] if the download failed.
/// Dropping the writer without either aborts.
#[derive(Debug)]
pub struct MessageWriter<'a> {
    folder: &'a mut Folder,
    /// `None` once committed or aborted.
    key: Option<MessageKey>,
    target: Option<Target>,
    size: u64,
}

#[derive(Debug)]
enum Target {
    Mbox { start: u64 },
    Maildir(Delivery),
}

impl MessageWriter<'_> {
    /// Appends the next bytes of the message, exactly as received (CRLF line ends included).
    ///
    /// # Errors
    /// [`Error::Io`] (the folder is then poisoned) or [`Error::Poisoned`].
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<()> {
        self.folder.check()?;
        let result = match (&mut self.target, &mut self.folder.sink) {
            (Some(Target::Mbox { .. }), Sink::Mbox(mbox)) => {
                mbox.quoter.push(chunk, &mut mbox.buf);
                if mbox.buf.len() >= BUFFER_SIZE {
                    mbox.flush().ctx("write to", &self.folder.output)
                } else {
                    Ok(())
                }
            }
            (Some(Target::Maildir(delivery)), Sink::Maildir { dirs, buf, .. }) => delivery
                .write(buf, chunk)
                .ctx_with("write to", || dirs.in_tmp(delivery.tmp_name())),
            _ => unreachable!("a writer's target matches its folder and exists until consumed"),
        };
        self.size += chunk.len() as u64;
        result.inspect_err(|error| self.folder.poison(error))
    }

    /// Completes the message and returns its size in bytes. It is written, but counts as
    /// stored only after the next [`Folder::sync`].
    ///
    /// # Errors
    /// As [`MessageWriter::write_chunk`].
    pub fn commit(mut self) -> Result<u64> {
        self.folder.check()?;
        let key = self
            .key
            .take()
            .unwrap_or_else(|| unreachable!("only commit and abort take the key"));
        let result = match (self.target.take(), &mut self.folder.sink) {
            (Some(Target::Mbox { .. }), Sink::Mbox(mbox)) => {
                mbox.quoter.finish(&mut mbox.buf);
                mbox.buf.push(b'\n');
                mbox.flush()
                    .ctx("write to", &self.folder.output)
                    .map(|()| Pending {
                        key: key.clone(),
                        end: Some(mbox.written),
                        delivery: None,
                    })
            }
            (Some(Target::Maildir(mut delivery)), Sink::Maildir { dirs, buf, .. }) => {
                match delivery.flush(buf) {
                    Ok(()) => Ok(Pending {
                        key: key.clone(),
                        end: None,
                        delivery: Some(delivery),
                    }),
                    Err(e) => Err(e).ctx_with("write to", || dirs.in_tmp(delivery.tmp_name())),
                }
            }
            _ => unreachable!("a writer's target matches its folder and exists until consumed"),
        };
        let pending = result.inspect_err(|error| self.folder.poison(error))?;
        self.folder.pending.push(pending);
        self.folder.pending_keys.insert(key);
        Ok(self.size)
    }

    /// Discards the message: nothing of it stays in the output.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be removed (the folder is then poisoned; the next open
    /// removes it).
    pub fn abort(mut self) -> Result<()> {
        self.discard()
    }

    fn discard(&mut self) -> Result<()> {
        if self.key.take().is_none() {
            return Ok(());
        }
        let result = match (self.target.take(), &mut self.folder.sink) {
            (Some(Target::Mbox { start }), Sink::Mbox(mbox)) => {
                mbox.buf.clear();
                mbox.quoter = Quoter::new();
                mbox.written = start;
                let output = &self.folder.output;
                mbox.file
                    .set_len(start)
                    .and_then(|()| mbox.file.seek(SeekFrom::Start(start)).map(drop))
                    .ctx("truncate", output)
            }
            (Some(Target::Maildir(delivery)), Sink::Maildir { dirs, buf, .. }) => {
                buf.clear();
                dirs.remove_from_tmp(delivery.tmp_name())
            }
            _ => Ok(()),
        };
        result.inspect_err(|error| self.folder.poison(error))
    }
}

impl Drop for MessageWriter<'_> {
    fn drop(&mut self) {
        // Errors poison the folder, which is all a destructor can do with them.
        let _ = self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches fsync'd from several threads: every message is whole in `new/`, recorded, and
    /// counted once, in batches of every size around the thresholds.
    #[test]
    fn parallel_fsyncs_store_every_message_of_every_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::new(dir.path(), crate::Format::Maildir, "acct");
        let name = FolderName::new("INBOX", None).unwrap();
        let (mut folder, _) = store
            .open_folder(&name, Source::Imap { uid_validity: 7 })
            .unwrap();
        match &mut folder.sink {
            Sink::Maildir { fsync, .. } => *fsync = FsyncPlan::parallel(),
            Sink::Mbox(_) => unreachable!("a Maildir store"),
        }
        let body = |uid: u32| format!("Subject: {uid}\r\n\r\nbody {uid}\r\n").into_bytes();
        let mut uid = 0u32;
        let mut synced = 0;
        for batch in [1, 7, 8, 15, 16, 17, 64, 255, 256, 300] {
            for _ in 0..batch {
                uid += 1;
                let mut writer = folder
                    .begin_message(&MessageMeta::new(MessageKey::Uid(uid)))
                    .unwrap();
                writer.write_chunk(&body(uid)).unwrap();
                writer.commit().unwrap();
            }
            let keys = folder.sync().unwrap();
            assert_eq!(keys.len(), batch);
            synced += keys.len();
        }
        assert_eq!(synced, usize::try_from(uid).unwrap());
        for u in 1..=uid {
            assert!(folder.is_stored(&MessageKey::Uid(u)), "{u}");
        }
        let new = folder.output_path().join("new");
        let mut found: Vec<Vec<u8>> = std::fs::read_dir(&new)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        found.sort();
        let mut want: Vec<Vec<u8>> = (1..=uid).map(body).collect();
        want.sort();
        assert!(found == want, "new/ holds every message once");
        let tmp = folder.output_path().join("tmp");
        assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);
    }

    #[test]
    fn folders_can_move_to_worker_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<Folder>();
        assert_send::<MessageWriter<'static>>();
        assert_send::<crate::Store>();
    }
}
