//! Folder names to file names.
//!
//! Every folder becomes one flat name in the destination directory: its hierarchy components,
//! each escaped, joined with `.` (the Maildir++ convention), so `Archive/2024` with delimiter
//! `/` becomes `Archive.2024`, and `INBOX.Sent` with delimiter `.` becomes `INBOX.Sent`.
//! Flat rather than nested, so a folder that has children and also holds mail never needs a
//! name that is a file and a directory at once.
//!
//! Inside a component these bytes are written `%XX` (upper-case hex): `%`, `/`, `.`, `~`,
//! the control characters 0x00-0x1F and 0x7F. Everything else, non-ASCII UTF-8 included, is
//! kept. So the mapping is injective, a flat name never starts with `.` (no hidden files, no
//! `.` or `..`, no clash with the `.mailbag` state directory), and `~` is free to mark archived
//! outputs (`INBOX~uidvalidity-7`), which no folder name can produce.

use std::fmt::Write as _;

use crate::error::{Error, Result};

/// Longest flat name accepted, leaving room within the usual 255-byte file name limit for the
/// `.mbox`, `.state`, `~uidvalidity-N-N` suffixes.
const MAX_FLAT_LEN: usize = 200;

/// A folder name checked and mapped to the flat file name it is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FolderName {
    display: String,
    flat: String,
}

impl FolderName {
    /// Maps a decoded folder name (UTF-8, IMAP's modified UTF-7 already undone) whose hierarchy
    /// levels are separated by `delimiter` (`None` for a flat namespace, and for POP3, where
    /// `"INBOX"` is the usual name).
    ///
    /// ```
    /// use mailbag_store::FolderName;
    /// assert_eq!(FolderName::new("Archive/2024", Some('/'))?.file_stem(), "Archive.2024");
    /// assert_eq!(FolderName::new("a.b", Some('/'))?.file_stem(), "a%2Eb");
    /// assert_eq!(FolderName::new("Entwürfe", None)?.file_stem(), "Entwürfe");
    /// # Ok::<(), mailbag_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidFolderName`] when the name or one of its levels is empty, or the
    /// mapped name would be longer than 200 bytes.
    pub fn new(name: &str, delimiter: Option<char>) -> Result<FolderName> {
        let invalid = |reason| Error::InvalidFolderName {
            name: name.to_owned(),
            reason,
        };
        let components: Vec<&str> = match delimiter {
            Some(delimiter) => name.split(delimiter).collect(),
            None => vec![name],
        };
        let mut flat = String::with_capacity(name.len());
        for (i, component) in components.iter().enumerate() {
            if component.is_empty() {
                return Err(invalid("it has an empty hierarchy level"));
            }
            if i > 0 {
                flat.push('.');
            }
            escape_component(component, &mut flat);
        }
        if flat.len() > MAX_FLAT_LEN {
            return Err(invalid("it is too long for a file name"));
        }
        Ok(FolderName {
            display: name.to_owned(),
            flat,
        })
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The flat, escaped name the folder's files are called after.
    pub fn file_stem(&self) -> &str {
        &self.flat
    }
}

fn escape_component(component: &str, out: &mut String) {
    for c in component.chars() {
        let escaped = matches!(c, '%' | '/' | '.' | '~') || c.is_ascii_control();
        if escaped {
            // `c` is ASCII here, so one byte; `write!` to a String cannot fail.
            let _ = write!(out, "%{:02X}", c as u32);
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(name: &str, delimiter: Option<char>) -> String {
        FolderName::new(name, delimiter)
            .unwrap()
            .file_stem()
            .to_owned()
    }

    #[test]
    fn hierarchy_is_flattened_with_dots() {
        assert_eq!(stem("INBOX", None), "INBOX");
        assert_eq!(stem("INBOX.Sent", Some('.')), "INBOX.Sent");
        assert_eq!(stem("a/b/c", Some('/')), "a.b.c");
    }

    #[test]
    fn dangerous_bytes_are_escaped() {
        assert_eq!(stem("..", None), "%2E%2E");
        assert_eq!(stem("../etc", Some('/')), "%2E%2E.etc");
        assert!(FolderName::new("../etc", Some('.')).is_err());
    }

    #[test]
    fn escapes_cover_the_reserved_set() {
        assert_eq!(stem("a/b", None), "a%2Fb");
        assert_eq!(stem("x\0y\nz\u{7f}", None), "x%00y%0Az%7F");
        assert_eq!(stem("100%~", None), "100%25%7E");
        assert_eq!(stem(".hidden", None), "%2Ehidden");
        assert_eq!(stem("Почта", None), "Почта");
    }

    #[test]
    fn distinct_names_stay_distinct() {
        assert_ne!(stem("a.b", Some('/')), stem("a/b", Some('/')));
        assert_ne!(stem("a%2Eb", None), stem("a.b", None));
    }

    #[test]
    fn empty_levels_and_long_names_are_refused() {
        assert!(FolderName::new("", None).is_err());
        assert!(FolderName::new("a//b", Some('/')).is_err());
        assert!(FolderName::new("/a", Some('/')).is_err());
        assert!(FolderName::new(&"x".repeat(201), None).is_err());
        assert!(FolderName::new(&"x".repeat(200), None).is_ok());
    }
}
