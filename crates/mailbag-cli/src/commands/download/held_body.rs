//! A body that comes before its message's UID (`* 5 FETCH (BODY[] {1234}\r\n... UID 77)`).
//!
//! RFC 9051 (7.5.2) lets a server send a FETCH response's items in any order, and some send
//! the body first. The store needs the UID before the first byte (it names the Maildir file
//! and is the key of exactly-once), so such a body is streamed into a holding file (in the
//! Maildir's `tmp/`, or beside the mbox), and copied into the folder once the end of the
//! response brought the UID. Memory stays flat: both steps go chunk by chunk.
//!
//! The holding file has one fixed name per folder: the folder's lock makes this process
//! its only writer, and [`remove_stale`], called once the folder is open, removes what a
//! crash left behind. A held body never counts as stored: only the copy does, after the
//! folder's next sync, like any other message.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use mailbag::imap::{FetchEvent, FetchStream, Flag};
use mailbag::proto::imap::types::FetchItem;
use mailbag_store::{Folder, Format, MessageKey, MessageMeta};

use super::Failure;

/// Bytes per read when copying the held body into the folder.
const COPY_CHUNK: usize = 64 * 1024;

/// Where `folder`'s held body goes.
pub fn holding_path(folder: &Folder, format: Format) -> PathBuf {
    let output = folder.output_path();
    match format {
        Format::Maildir => output.join("tmp").join("mailbag-body-before-uid"),
        // A dot name: no folder's output starts with a dot.
        _ => {
            let name = output
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            output.with_file_name(format!(".{name}.body-before-uid"))
        }
    }
}

/// Removes a held body that a crash left behind.
///
/// # Errors
/// When the file exists and cannot be removed.
pub fn remove_stale(folder: &Folder, format: Format) -> mailbag_store::Result<()> {
    let path = holding_path(folder, format);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", &path, e)),
        _ => Ok(()),
    }
}

/// The rest of a FETCH response whose body came before the UID: streams the body into the
/// holding file, takes the UID (and FLAGS) from the items after it, then stores the message
/// in `folder`. `flags` are those that came before the body. Returns its size.
pub async fn receive(
    folder: &mut Folder,
    format: Format,
    flags: &[Flag],
    fetch: &mut FetchStream,
) -> Result<u64, Failure> {
    let path = holding_path(folder, format);
    let mut held = Held::create(path).map_err(Failure::Store)?;
    let mut in_first_body = true;
    let after = loop {
        match fetch.next().await {
            Some(Ok(FetchEvent::BodyChunk(chunk))) if in_first_body => {
                held.write(&chunk).map_err(Failure::Store)?
            }
            // A second body in the same response is not what was asked for: skipped.
            Some(Ok(FetchEvent::NextBody { .. })) => in_first_body = false,
            Some(Ok(FetchEvent::BodyEnd { items })) => break items,
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(Failure::Net(e)),
            None => {
                return Err(Failure::Net(mailbag::Error::ConnectionLost {
                    detail: "FETCH ended inside a message".into(),
                }))
            }
        }
    };
    let uid = after
        .iter()
        .find_map(|i| match i {
            FetchItem::Uid(u) => Some(u.get()),
            _ => None,
        })
        .ok_or_else(|| {
            Failure::Net(mailbag::Error::protocol(
                "the server sent a message body without the message's UID",
                &[],
            ))
        })?;
    let flags_after = after.iter().find_map(|i| match i {
        FetchItem::Flags(f) => Some(f.as_slice()),
        _ => None,
    });
    let flags = flags_after.unwrap_or(flags);
    let meta = MessageMeta {
        flags: super::store_flags(flags),
        ..MessageMeta::new(MessageKey::Uid(uid))
    };
    held.store(folder, &meta).map_err(Failure::Store)
}

/// The holding file; removed when dropped.
struct Held {
    file: File,
    path: PathBuf,
}

impl Held {
    fn create(path: PathBuf) -> mailbag_store::Result<Held> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io_error("create", &path, e))?;
        Ok(Held { file, path })
    }

    fn write(&mut self, chunk: &[u8]) -> mailbag_store::Result<()> {
        self.file
            .write_all(chunk)
            .map_err(|e| io_error("write to", &self.path, e))
    }

    /// Copies the held body into `folder` as one message; returns its size.
    fn store(mut self, folder: &mut Folder, meta: &MessageMeta) -> mailbag_store::Result<u64> {
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| io_error("read", &self.path, e))?;
        let mut writer = folder.begin_message(meta)?;
        let mut buf = vec![0u8; COPY_CHUNK];
        loop {
            let n = match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error("read", &self.path, e)),
            };
            writer.write_chunk(buf.get(..n).unwrap_or_default())?;
        }
        writer.commit()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // Left behind only if this fails too; remove_stale takes it on the next run.
        let _ = fs::remove_file(&self.path);
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> mailbag_store::Error {
    mailbag_store::Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
