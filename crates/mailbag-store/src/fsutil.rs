//! The few file system primitives the crash-safety argument rests on: private permissions,
//! directory fsync after a create or rename, atomic replacement, and `flock`.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

use crate::error::{Error, IoContext, Result};

/// Mail is private: files are created 0600 and directories 0700 (the umask can only narrow).
const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

/// Creates `path` and missing parents with mode 0700, and makes each new entry durable.
pub(crate) fn create_dir(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    match DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => {}
        // Another thread or process made it meanwhile: fine, it is the same directory.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => return Ok(()),
        Err(e) => return Err(e).ctx("create directory", path),
    }
    sync_parent(path)
}

/// Opens `path` for reading and writing, creating it with mode 0600 if missing.
pub(crate) fn open_rw(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .ctx("open", path)
}

/// Creates a new file with mode 0600; fails if it exists.
pub(crate) fn create_new(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .ctx("create", path)
}

/// A Maildir's `tmp/`, `new/` and `cur/`, held open for the life of a folder: messages are
/// created in `tmp/` and renamed into `new/` or `cur/` by name relative to these descriptors
/// (`openat`, `renameat`), so the kernel looks up one path component per call instead of the
/// whole path (issue 8: path lookups led the kernel's profile of a 10,000 x 2 KB download), and
/// the directories are fsync'd through them.
#[derive(Debug)]
pub(crate) struct MaildirDirs {
    tmp: File,
    new: File,
    cur: File,
    /// The paths, for error messages.
    tmp_path: PathBuf,
    new_path: PathBuf,
    cur_path: PathBuf,
}

impl MaildirDirs {
    pub(crate) fn open(dir: &Path) -> Result<MaildirDirs> {
        let open = |sub: &str| {
            let path = dir.join(sub);
            File::open(&path).ctx("open", &path).map(|f| (f, path))
        };
        let (tmp, tmp_path) = open("tmp")?;
        let (new, new_path) = open("new")?;
        let (cur, cur_path) = open("cur")?;
        Ok(MaildirDirs {
            tmp,
            new,
            cur,
            tmp_path,
            new_path,
            cur_path,
        })
    }

    /// The full path of `tmp/<name>`, for error messages (only built when one is needed).
    pub(crate) fn in_tmp(&self, name: &str) -> PathBuf {
        self.tmp_path.join(name)
    }

    /// Creates `tmp/<name>` with mode 0600; fails if it exists.
    pub(crate) fn create_in_tmp(&self, name: &str) -> Result<File> {
        rustix::fs::openat(
            &self.tmp,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(FILE_MODE),
        )
        .map(File::from)
        .map_err(std::io::Error::from)
        .ctx_with("create", || self.in_tmp(name))
    }

    fn subdir(&self, subdir: &str) -> (&File, &Path) {
        if subdir == "cur" {
            (&self.cur, &self.cur_path)
        } else {
            (&self.new, &self.new_path)
        }
    }

    /// Renames `tmp/<from>` to `<subdir>/<name>` (`subdir` is "new" or "cur").
    pub(crate) fn deliver(&self, from: &str, subdir: &str, name: &str) -> Result<()> {
        let (to_dir, _) = self.subdir(subdir);
        rustix::fs::renameat(&self.tmp, from, to_dir, name)
            .map_err(std::io::Error::from)
            .ctx_with("rename", || self.in_tmp(from))
    }

    /// Removes `tmp/<name>`.
    pub(crate) fn remove_from_tmp(&self, name: &str) -> Result<()> {
        rustix::fs::unlinkat(&self.tmp, name, rustix::fs::AtFlags::empty())
            .map_err(std::io::Error::from)
            .ctx_with("remove", || self.in_tmp(name))
    }

    /// Fsyncs `new/` or `cur/`, which makes the renames into it durable.
    pub(crate) fn sync(&self, subdir: &str) -> Result<()> {
        let (dir, path) = self.subdir(subdir);
        dir.sync_all().ctx("sync", path)
    }
}

/// Fsyncs a directory, which is what makes creates, renames and unlinks in it durable.
pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .ctx("sync directory", path)
}

/// Fsyncs the directory that holds `path`.
pub(crate) fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// Replaces `path` with `contents` atomically: write a temporary file, fsync it, rename it
/// over `path`, fsync the directory. A crash leaves the old file or the new one, never a mix.
pub(crate) fn replace_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    // A leftover from a crash during an earlier replacement is garbage by construction.
    match fs::remove_file(tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e).ctx("remove", tmp),
        _ => {}
    }
    let mut file = create_new(tmp)?;
    file.write_all(contents).ctx("write to", tmp)?;
    file.sync_all().ctx("sync", tmp)?;
    drop(file);
    rename(tmp, path)?;
    sync_parent(path)
}

/// Renames, with the error naming the source.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).ctx("rename", from)
}

/// Takes an exclusive `flock` on `file` without waiting; [`Error::Locked`] if another open
/// file description holds one. The lock goes when the file is closed.
pub(crate) fn lock(file: &File, path: &Path) -> Result<()> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(Error::Locked {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(io::Error::from(e)).ctx("lock", path),
    }
}

/// Whether `path` is missing or an empty file or directory tree (a Maildir whose `cur`,
/// `new` and `tmp` hold nothing counts as empty).
pub(crate) fn is_empty(path: &Path) -> Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e).ctx("inspect", path),
    };
    if !meta.is_dir() {
        return Ok(meta.len() == 0);
    }
    for entry in fs::read_dir(path).ctx("read directory", path)? {
        let entry = entry.ctx("read directory", path)?;
        if !is_empty(&entry.path())? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// This host's name for Maildir file names, with `/` and `:` written `\057` and `\072` as the
/// Maildir convention asks, and cut to 64 bytes so names stay well under 255.
pub(crate) fn maildir_hostname() -> String {
    let uname = rustix::system::uname();
    let raw = uname.nodename().to_string_lossy();
    let raw = if raw.is_empty() {
        "localhost".into()
    } else {
        raw
    };
    let mut host = String::new();
    for c in raw.chars() {
        let piece = match c {
            '/' => "\\057".to_owned(),
            ':' => "\\072".to_owned(),
            c => c.to_string(),
        };
        if host.len() + piece.len() > 64 {
            break;
        }
        host.push_str(&piece);
    }
    host
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn modes_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_dir(&sub).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let file = sub.join("f");
        open_rw(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn second_lock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = open_rw(&path).unwrap();
        lock(&first, &path).unwrap();
        let second = open_rw(&path).unwrap();
        assert!(matches!(lock(&second, &path), Err(Error::Locked { .. })));
        drop(first);
        lock(&second, &path).unwrap();
    }

    #[test]
    fn hostname_has_no_separators() {
        let host = maildir_hostname();
        assert!(!host.is_empty() && !host.contains('/') && !host.contains(':'));
    }
}
