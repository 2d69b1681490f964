//! Storage for downloaded mail: mbox and Maildir writers, and the sync state that makes
//! downloads incremental and exactly-once.
//!
//! # Use
//!
//! The download engine opens a [`Store`] (a destination directory, a [`Format`], an account),
//! and for each folder:
//!
//! 1. [`Store::open_folder`] locks the folder, reconciles its output with its state after
//!    any crash, and returns a [`Folder`] and an [`OpenReport`] (tell the user about a
//!    [`UidValidityChange`]).
//! 2. [`Folder::is_stored`] / [`Folder::stored_uids`] / [`Folder::stored_uidls`] say what
//!    not to fetch again.
//! 3. For each new message: [`Folder::begin_message`], [`MessageWriter::write_chunk`] as the
//!    bytes arrive, [`MessageWriter::commit`] (or [`MessageWriter::abort`]).
//! 4. Every N messages and at the end, [`Folder::sync`] (or [`Folder::close`]): it returns
//!    the keys that are now durable. Only those may be deleted on the server
//!    (`--delete-after`).
//! 5. After an [`Error`] from a writer or from `sync`, the folder is poisoned: drop it and
//!    open it again, which reconciles. Dropping a folder without `sync` is treated like a
//!    crash: its unsynced messages are discarded or adopted at the next open.
//!
//! Folders are independent and `Send`: `--jobs N` can open several at once, one per thread.
//!
//! ```
//! use mailbag_store::{Flags, FolderName, Format, MessageKey, MessageMeta, Source, Store};
//!
//! let dest = tempfile::tempdir()?;
//! let store = Store::new(dest.path(), Format::Maildir, "imaps://ann@example.org");
//! let inbox = FolderName::new("INBOX", Some('/'))?;
//! let (mut folder, report) = store.open_folder(&inbox, Source::Imap { uid_validity: 7 })?;
//! assert!(report.created);
//!
//! for (uid, body) in [(1, b"Subject: a\r\n\r\nHi\r\n"), (2, b"Subject: b\r\n\r\nHo\r\n")] {
//!     let key = MessageKey::Uid(uid);
//!     if folder.is_stored(&key) {
//!         continue;
//!     }
//!     let meta = MessageMeta { flags: Flags::from_imap(["\\Seen"]), ..MessageMeta::new(key) };
//!     let mut writer = folder.begin_message(&meta)?;
//!     for chunk in body.chunks(5) {
//!         writer.write_chunk(chunk)?;
//!     }
//!     writer.commit()?;
//! }
//! let durable = folder.sync()?;
//! assert_eq!(durable, [MessageKey::Uid(1), MessageKey::Uid(2)]);
//! drop(folder);
//!
//! // The next run fetches only what is new.
//! let (folder, _) = store.open_folder(&inbox, Source::Imap { uid_validity: 7 })?;
//! assert_eq!(folder.stored_uids().collect::<Vec<_>>(), [1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! ```text
//! DEST/                              0700
//!   INBOX.mbox                       mbox format: one mboxrd file per folder, 0600
//!   INBOX/{cur,new,tmp}/             Maildir format: one Maildir per folder, 0700, files 0600
//!   INBOX~uidvalidity-7[.mbox]       output of an earlier UIDVALIDITY, kept
//!   .mailbag/INBOX.state             sync state (see below)
//!   .mailbag/INBOX.lock              flock'd while the folder is open
//! ```
//!
//! Folder names map to file names as [`FolderName`] documents (`a/b` becomes `a.b`).
//!
//! mbox: mboxrd, described with its line-end rule in [`mboxrd`]: the message bytes exactly
//! as received (CRLF kept), `From ` lines quoted, a `From <sender> <asctime>` separator and a
//! `\n` after each message, all bare LF.
//!
//! Maildir: `tmp/<name>`, then `new/<name>`, or `cur/<name>:2,<DFRST>` for a message with
//! flags. `<name>` is `<secs>.M<usec>P<pid>Q<counter><key>.<host>` where `<key>` is
//! `V<UIDVALIDITY>U<UID>` (IMAP) or `L<UIDL in lower-case hex>` (POP3), so a delivered file
//! can be matched to its message after a crash; `/` and `:` in the host are written `\057`
//! and `\072`.
//!
//! State: JSON Lines, a header then one record per durably stored message:
//!
//! ```text
//! {"mailbag_state":1,"account":"imaps://ann@example.org","folder":"INBOX","format":"mbox","protocol":"imap","uid_validity":1700000000}
//! {"uid":1,"end":2301}
//! {"uidl":"whqtswO00WBw418f9t5JxYwZ","end":9120}
//! ```
//!
//! `end` (mbox only) is the file length right after the message. Records are only ever
//! appended (and fsync'd); each open rewrites the file whole through an atomic rename.
//!
//! # Exactly once
//!
//! Invariant: the state never records a message that is not whole and durable in the output.
//! [`Folder::sync`] fsyncs the messages (and, for Maildir, renames them into place and fsyncs
//! the directories) before it appends and fsyncs their records. A Maildir batch's files are
//! fsync'd one after the other until fsyncs are seen to take time (a disk, not tmpfs), then
//! from up to 8 threads at once, so that the file system commits them together; every file
//! is fsync'd before any is renamed either way. At open, the output is
//! brought in line with the state. Each crash point ends with every message once:
//!
//! | crash | on disk after it | at the next open | the engine then |
//! |---|---|---|---|
//! | inside `write_chunk`, before `commit` | mbox: part of a message after the last recorded `end`; Maildir: part of a file in `tmp/` | mbox: cut back to the last `end`; Maildir: mailbag's files in `tmp/` removed | fetches it again |
//! | after `commit`, before `sync` | mbox: whole unrecorded messages at the end; Maildir: files in `tmp/` | the same | fetches them again |
//! | in `sync`, after the output fsync, before the records | mbox: as above; Maildir: files in `new/`/`cur/` (whole: fsync'd before the rename) or still in `tmp/` | mbox: cut; Maildir: files in `new/`/`cur/` whose key is missing from the state are adopted (recorded), `tmp/` cleared | fetches the cut or cleared ones again, not the adopted ones |
//! | while appending records | a torn or zero-filled last line in the state | ignored, then rewritten whole; as above for its message | as above |
//! | while rewriting the state at open | `*.state.tmp` next to the old state | the temporary file is discarded (the rename is atomic) | nothing |
//! | while setting an old UIDVALIDITY aside | output renamed, old state not yet | the state is moved to the matching name | starts the new output |
//! | after setting it aside, before the new state exists | no state, no output | starts afresh (the change is not reported twice) | fetches everything |
//! | before the first state exists | nothing, or an empty output | starts afresh | fetches everything |
//! | while reconciling at open | partly reconciled output | reconciliation is idempotent and runs again | as above |
//!
//! The mbox check also refuses an mbox that is shorter than recorded or whose bytes at the
//! recorded end are not mailbag's ([`Error::OutputModified`]) instead of cutting another
//! program's data; and an output that holds mail but has no state is refused
//! ([`Error::OutputWithoutState`]) instead of being appended to.
//!
//! # UIDVALIDITY
//!
//! When an IMAP folder's UIDVALIDITY differs from the one stored, the old output and state are
//! renamed to `<name>~uidvalidity-<old>` (the `~` cannot come from a folder name), never
//! deleted or mixed with the new mail, and [`OpenReport::uid_validity_change`] says so.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod folder;
mod fsutil;
mod maildir;
pub mod mboxrd;
mod meta;
mod name;
mod state;
mod store;

pub use error::{Error, Result};
pub use folder::{Folder, MessageWriter};
pub use meta::{Flags, Format, MessageKey, MessageMeta, Source, Uidl};
pub use name::FolderName;
pub use store::{OpenReport, Store, UidValidityChange};
