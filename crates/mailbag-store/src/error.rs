//! The one error type of the crate.
//!
//! Variants say who is at fault, so the CLI can word its message: the disk or the operating
//! system (`Io`), another program (`Locked`, `OutputModified`), the user's destination
//! (`OutputWithoutState`, `StateMismatch`, `CorruptState`) or the calling program
//! (`AlreadyStored`, `WrongKeyKind`, `Poisoned`).

use std::io;
use std::path::PathBuf;

use crate::meta::MessageKey;

/// Everything that can go wrong while storing mail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "write to" or "rename".
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Another process (or another `Folder` in this one) holds the lock.
    #[error("{} is locked by another program; wait for it to finish", path.display())]
    Locked {
        /// The locked file.
        path: PathBuf,
    },
    /// The state file cannot be parsed beyond a torn last write.
    #[error("sync state {} is damaged at line {line}: {reason}; move it away to start over", path.display())]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// 1-based line number of the first bad record.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The state belongs to another account, format or protocol than the one asked for.
    #[error("{} was written for {found}, not {expected}; use another destination", path.display())]
    StateMismatch {
        /// The state file.
        path: PathBuf,
        /// What the caller asked for.
        expected: String,
        /// What the state file says.
        found: String,
    },
    /// The output holds mail but there is no sync state for it, so mailbag cannot tell which
    /// messages it holds; appending would risk duplicates.
    #[error("{} already holds mail that mailbag did not record; move it away or choose another destination", path.display())]
    OutputWithoutState {
        /// The mbox file or Maildir directory.
        path: PathBuf,
    },
    /// The mbox no longer matches the offsets the state recorded: it was shortened or edited
    /// by another program since the last run.
    #[error("{} was changed by another program since mailbag wrote it ({detail}); move it and its state {} away to start over", path.display(), state.display())]
    OutputModified {
        /// The mbox file.
        path: PathBuf,
        /// Its state file.
        state: PathBuf,
        /// What does not match.
        detail: String,
    },
    /// The folder name cannot be mapped to a file name.
    #[error("folder name {name:?} cannot be stored: {reason}")]
    InvalidFolderName {
        /// The name as given.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// A POP3 UIDL is not 1 to 70 characters in the range 0x21 to 0x7E (RFC 1939, section 7).
    #[error("invalid UIDL {0:?}: RFC 1939 allows 1 to 70 characters from 0x21 to 0x7E")]
    InvalidUidl(String),
    /// The caller began a message that is already stored or pending in this folder.
    #[error("message {0} is already stored in this folder")]
    AlreadyStored(MessageKey),
    /// The caller passed a UID to a POP3 folder, a UIDL to an IMAP folder, or UID 0.
    #[error(
        "message key {0} does not fit this folder (IMAP folders take UIDs > 0, POP3 folders UIDLs)"
    )]
    WrongKeyKind(MessageKey),
    /// An earlier write or sync failed, so this folder refuses further work; open it again to
    /// reconcile.
    #[error("an earlier error left this folder unusable ({0}); open it again")]
    Poisoned(String),
}

/// Shorthand for the crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds the action and path to an `io::Error`, the form every I/O failure is reported in.
pub(crate) trait IoContext<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T>;
    /// As `ctx`, with the path built only on failure (per-message calls build none).
    fn ctx_with(self, action: &'static str, path: impl FnOnce() -> std::path::PathBuf)
        -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T> {
        self.ctx_with(action, || path.to_path_buf())
    }

    fn ctx_with(
        self,
        action: &'static str,
        path: impl FnOnce() -> std::path::PathBuf,
    ) -> Result<T> {
        self.map_err(|source| Error::Io {
            action,
            path: path(),
            source,
        })
    }
}
