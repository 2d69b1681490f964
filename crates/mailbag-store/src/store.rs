//! Opening a folder: locking, loading the state, setting an old UIDVALIDITY's output aside,
//! and reconciling the output with the state so that every crash ends in exactly-once.

use std::fs;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::folder::{Folder, Sink};
use crate::fsutil;
use crate::maildir;
use crate::meta::{Format, Source};
use crate::name::FolderName;
use crate::state::{Header, Record, State};

/// A destination directory that holds the mail of one account in one format.
///
/// Creating it does no I/O; [`Store::open_folder`] creates what is missing. See the
/// [crate documentation](crate) for the layout.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    format: Format,
    account: String,
}

/// What [`Store::open_folder`] found and repaired, for the caller to tell the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// There was no state: this folder starts empty.
    pub created: bool,
    /// The folder's UIDVALIDITY changed and its old output was set aside.
    pub uid_validity_change: Option<UidValidityChange>,
    /// mbox: bytes of an unconfirmed message cut off the end of the file.
    pub truncated_bytes: u64,
    /// Maildir: unconfirmed messages removed from `tmp/`.
    pub removed_temp_files: usize,
    /// Maildir: delivered messages the state lacked, now recorded.
    pub adopted: usize,
}

/// The server reset a folder's UIDs (RFC 3501, section 2.3.1.1): the old UIDs mean nothing
/// now, so the old output was kept under a new name and a new output started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidValidityChange {
    /// The UIDVALIDITY the old output was downloaded under.
    pub old: u32,
    /// The UIDVALIDITY now.
    pub new: u32,
    /// Where the old output is now (it may not exist if nothing had been written yet).
    pub archived_output: PathBuf,
}

impl Store {
    /// A store of `format` in directory `root` for `account` (any stable identifier, such as
    /// `imaps://ann@example.org`; a state written for another account is refused).
    pub fn new(root: impl Into<PathBuf>, format: Format, account: impl Into<String>) -> Store {
        Store {
            root: root.into(),
            format,
            account: account.into(),
        }
    }

    /// The destination directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The format folders are stored in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Locks `name`'s output, reconciles it with its state (see the crate documentation for
    /// each crash case) and returns it ready for new messages.
    ///
    /// The lock is held until the [`Folder`] is dropped; folders can be open in parallel.
    ///
    /// # Errors
    /// [`Error::Locked`] if another open `Folder` has it; [`Error::StateMismatch`] if the state
    /// belongs to another account, format or protocol; [`Error::OutputWithoutState`] if mail
    /// is there that mailbag did not record; [`Error::OutputModified`] and
    /// [`Error::CorruptState`] if another program changed the files; [`Error::Io`].
    pub fn open_folder(&self, name: &FolderName, source: Source) -> Result<(Folder, OpenReport)> {
        let meta_dir = self.root.join(".mailbag");
        fsutil::create_dir(&meta_dir)?;
        let stem = name.file_stem();
        let lock_path = meta_dir.join(format!("{stem}.lock"));
        let lock = fsutil::open_rw(&lock_path)?;
        fsutil::lock(&lock, &lock_path)?;

        let uid_validity = match source {
            Source::Imap { uid_validity } => Some(uid_validity),
            Source::Pop3 => None,
        };
        let wanted = Header::new(&self.account, name.as_str(), self.format, uid_validity);
        let state_path = meta_dir.join(format!("{stem}.state"));
        let output = self.output_path(stem);
        let mut report = OpenReport::default();

        let kept = match State::load(&state_path)? {
            Some(old) => {
                check_header(&old, &wanted)?;
                if old.header.uid_validity == uid_validity {
                    Some(old)
                } else {
                    report.uid_validity_change =
                        Some(self.archive(stem, old, &output, uid_validity)?);
                    None
                }
            }
            None => None,
        };
        let mut state = match kept {
            Some(state) => state,
            None => {
                if !fsutil::is_empty(&output)? {
                    return Err(Error::OutputWithoutState { path: output });
                }
                // The state goes to disk before the output exists, so an output is never
                // found without the state that owns it (the check above relies on that).
                let mut fresh = State::new(state_path, wanted);
                fresh.compact()?;
                report.created = report.uid_validity_change.is_none();
                fresh
            }
        };
        let sink = reconcile(&output, &mut state, &mut report)?;
        state.compact_if_needed()?;
        let folder = Folder::new(name.clone(), source, output, state, lock, sink);
        Ok((folder, report))
    }

    /// IMAP: the UIDNEXT that the state of `name` recorded after a complete download under
    /// `uid_validity` ([`Folder::record_uid_next`]), read from the state's first line alone:
    /// no lock, no records, no look inside the output. `None` when there is no state or no
    /// output, or the state belongs to another account, format, protocol or UIDVALIDITY, or
    /// records none.
    ///
    /// A caller that finds it equal to the server's UIDNEXT may stop there: UIDs only grow,
    /// so nothing arrived since the run that recorded it, and that run had stored every
    /// message below it (a later run that stored more and crashed before recording its own
    /// UIDNEXT saw a higher UIDNEXT on the server, which never goes down).
    pub fn recorded_uid_next(&self, name: &FolderName, uid_validity: u32) -> Option<u32> {
        let stem = name.file_stem();
        let state_path = self.root.join(".mailbag").join(format!("{stem}.state"));
        let have = State::load_header(&state_path)?;
        let wanted = Header::new(
            &self.account,
            name.as_str(),
            self.format,
            Some(uid_validity),
        );
        if !same_owner(&have, &wanted)
            || have.uid_validity != wanted.uid_validity
            || !self.output_path(stem).exists()
        {
            return None;
        }
        have.uid_next
    }

    /// Where the mail of `name` goes: `DEST/<stem>.mbox` or the Maildir `DEST/<stem>`.
    pub fn output_of(&self, name: &FolderName) -> PathBuf {
        self.output_path(name.file_stem())
    }

    fn output_path(&self, stem: &str) -> PathBuf {
        match self.format {
            Format::Mbox => self.root.join(format!("{stem}.mbox")),
            Format::Maildir => self.root.join(stem),
        }
    }

    /// Sets the output and state of an old UIDVALIDITY aside as `<stem>~uidvalidity-<old>`
    /// (then `-2`, `-3`... if that name was used by an earlier change).
    ///
    /// The output is renamed before the state. A crash in between leaves the old state and
    /// no output; the next open lands here again and picks the first name whose state is free,
    /// which is the one the output went to.
    fn archive(
        &self,
        stem: &str,
        mut old: State,
        output: &Path,
        new: Option<u32>,
    ) -> Result<UidValidityChange> {
        let old_validity = old.header.uid_validity.unwrap_or(0);
        let output_exists = fs::symlink_metadata(output).is_ok();
        if output_exists {
            // Leave a clean archive: no torn message at the end, no orphans in tmp/.
            let _sink = reconcile(output, &mut old, &mut OpenReport::default())?;
            old.compact()?;
        }
        let meta_dir = self.root.join(".mailbag");
        let names = |n: u32| {
            let suffix = match n {
                1 => format!("~uidvalidity-{old_validity}"),
                n => format!("~uidvalidity-{old_validity}-{n}"),
            };
            let stem = format!("{stem}{suffix}");
            (
                self.output_path(&stem),
                meta_dir.join(format!("{stem}.state")),
            )
        };
        let free = |(out, state): &(PathBuf, PathBuf)| {
            let output_taken = output_exists && fs::symlink_metadata(out).is_ok();
            !state.exists() && !output_taken
        };
        let (archived_output, archived_state) = (1..)
            .map(names)
            .find(free)
            .unwrap_or_else(|| unreachable!("names are unbounded"));
        if output_exists {
            fsutil::rename(output, &archived_output)?;
            fsutil::sync_dir(&self.root)?;
        }
        let state_path = old.path().to_path_buf();
        drop(old);
        fsutil::rename(&state_path, &archived_state)?;
        fsutil::sync_dir(&meta_dir)?;
        Ok(UidValidityChange {
            old: old_validity,
            new: new.unwrap_or(0),
            archived_output,
        })
    }
}

fn check_header(found: &State, wanted: &Header) -> Result<()> {
    let have = &found.header;
    let describe = |h: &Header| {
        format!(
            "account {:?} folder {:?} as {} over {:?}",
            h.account, h.folder, h.format, h.protocol
        )
    };
    if !same_owner(have, wanted) {
        return Err(Error::StateMismatch {
            path: found.path().to_path_buf(),
            expected: describe(wanted),
            found: describe(have),
        });
    }
    Ok(())
}

/// Whether a state with header `have` belongs to the account, folder, format and protocol
/// of `wanted` (its UIDVALIDITY aside).
fn same_owner(have: &Header, wanted: &Header) -> bool {
    have.account == wanted.account
        && have.folder == wanted.folder
        && have.format == wanted.format
        && have.protocol == wanted.protocol
}

/// Brings the output in line with the state and opens it for writing.
fn reconcile(output: &Path, state: &mut State, report: &mut OpenReport) -> Result<Sink> {
    match state.header.format {
        Format::Mbox => reconcile_mbox(output, state, report),
        Format::Maildir => {
            maildir::create_layout(output)?;
            let found = maildir::reconcile(output, state)?;
            report.removed_temp_files += found.removed_tmp;
            report.adopted += found.adopt.len();
            for key in found.adopt {
                state.adopt(Record::new(&key, None));
            }
            Sink::maildir(output.to_path_buf(), state.header.uid_validity)
        }
    }
}

/// The state's last `end` is where the last confirmed message stops. Anything after it was
/// written but never confirmed (a crash before or during [`Folder::sync`]), so it is cut off;
/// it was not claimed, so the engine downloads it again. A file shorter than `end`, or one
/// whose bytes at `end` or at the start of the last recorded message do not look like
/// mailbag's own, was changed by another program, and is
/// refused rather than cut.
fn reconcile_mbox(output: &Path, state: &mut State, report: &mut OpenReport) -> Result<Sink> {
    let existed = fs::symlink_metadata(output).is_ok();
    let mut file = fsutil::open_rw(output)?;
    fsutil::lock(&file, output)?;
    if !existed {
        fsutil::sync_parent(output)?;
    }
    let len = file.metadata().ctx("inspect", output)?.len();
    let end = state.last_end();
    let modified = |detail: String| Error::OutputModified {
        path: output.to_path_buf(),
        state: state.path().to_path_buf(),
        detail,
    };
    if len < end {
        return Err(modified(format!(
            "it is {len} bytes but {end} were recorded"
        )));
    }
    let read = |offset: u64, n: u64| -> Result<Vec<u8>> {
        let n = n.min(len.saturating_sub(offset));
        let mut buf = vec![0; usize::try_from(n).unwrap_or(0)];
        file.read_exact_at(&mut buf, offset).ctx("read", output)?;
        Ok(buf)
    };
    if end > 0 {
        if read(end - 1, 1)? != b"\n" {
            return Err(modified(format!("byte {} should end a message", end - 1)));
        }
        let start = state.last_start();
        if read(start, 5)? != b"From " {
            return Err(modified(format!(
                "the last recorded message should start at byte {start}"
            )));
        }
    }
    // Whatever follows was written by mailbag's begin_message, so it is (a prefix of) a
    // `From ` line.
    let tail = read(end, 5)?;
    if !b"From ".starts_with(&tail) {
        return Err(modified(format!(
            "bytes after offset {end} are not a message mailbag began"
        )));
    }
    if len > end {
        file.set_len(end).ctx("truncate", output)?;
        file.sync_data().ctx("sync", output)?;
        report.truncated_bytes += len - end;
    }
    file.seek(SeekFrom::Start(end)).ctx("seek in", output)?;
    Ok(Sink::mbox(file, end))
}
