//! The values the download engine hands to the store: which format, which protocol, and what
//! it knows about each message before its body arrives.

use std::fmt;
use std::time::SystemTime;

use crate::error::{Error, Result};

/// The output format of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One mboxrd file per folder (`<name>.mbox`).
    Mbox,
    /// One Maildir directory per folder (`<name>/{cur,new,tmp}`).
    Maildir,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Mbox => "mbox",
            Format::Maildir => "maildir",
        })
    }
}

/// Where the folder's messages come from, which decides how they are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An IMAP mailbox as selected now; messages are keyed by UID (RFC 3501, section 2.3.1.1).
    Imap {
        /// The mailbox's UIDVALIDITY. When it differs from the stored one, the old output is
        /// set aside and a new one started.
        uid_validity: u32,
    },
    /// A POP3 maildrop; messages are keyed by UIDL (RFC 1939, section 7).
    Pop3,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Imap { uid_validity } => write!(f, "IMAP UIDVALIDITY {uid_validity}"),
            Source::Pop3 => f.write_str("POP3"),
        }
    }
}

/// A POP3 unique-id listing: 1 to 70 characters from 0x21 to 0x7E (RFC 1939, section 7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uidl(String);

impl Uidl {
    /// Checks `uidl` against RFC 1939's rule.
    ///
    /// # Errors
    /// [`Error::InvalidUidl`] when it is empty, longer than 70 bytes or holds a byte outside
    /// 0x21..=0x7E.
    pub fn new(uidl: impl Into<String>) -> Result<Uidl> {
        let uidl = uidl.into();
        let valid =
            (1..=70).contains(&uidl.len()) && uidl.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if valid {
            Ok(Uidl(uidl))
        } else {
            Err(Error::InvalidUidl(uidl))
        }
    }

    /// The UIDL as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uidl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What identifies a message within its folder across runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKey {
    /// An IMAP UID, valid together with the folder's UIDVALIDITY.
    Uid(u32),
    /// A POP3 UIDL.
    Uidl(Uidl),
}

impl fmt::Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageKey::Uid(uid) => write!(f, "UID {uid}"),
            MessageKey::Uidl(uidl) => write!(f, "UIDL {uidl}"),
        }
    }
}

/// The IMAP system flags that Maildir can record in a file name's `:2,` info.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    /// `\Seen`, Maildir `S`.
    pub seen: bool,
    /// `\Answered`, Maildir `R`.
    pub answered: bool,
    /// `\Flagged`, Maildir `F`.
    pub flagged: bool,
    /// `\Deleted`, Maildir `T` (trashed).
    pub deleted: bool,
    /// `\Draft`, Maildir `D`.
    pub draft: bool,
}

impl Flags {
    /// Picks the system flags out of IMAP flag names, ignoring case and keywords.
    ///
    /// ```
    /// let flags = mailbag_store::Flags::from_imap(["\\Seen", "$Junk", "\\flagged"]);
    /// assert!(flags.seen && flags.flagged && !flags.answered);
    /// ```
    pub fn from_imap<I, S>(names: I) -> Flags
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut flags = Flags::default();
        for name in names {
            let name = name.as_ref();
            let slot = match () {
                _ if name.eq_ignore_ascii_case("\\Seen") => &mut flags.seen,
                _ if name.eq_ignore_ascii_case("\\Answered") => &mut flags.answered,
                _ if name.eq_ignore_ascii_case("\\Flagged") => &mut flags.flagged,
                _ if name.eq_ignore_ascii_case("\\Deleted") => &mut flags.deleted,
                _ if name.eq_ignore_ascii_case("\\Draft") => &mut flags.draft,
                _ => continue,
            };
            *slot = true;
        }
        flags
    }

    /// Appends the Maildir info letters to `out`, in the ASCII order the Maildir convention
    /// requires.
    pub(crate) fn push_maildir_letters(self, out: &mut String) {
        for (set, letter) in [
            (self.draft, 'D'),
            (self.flagged, 'F'),
            (self.answered, 'R'),
            (self.seen, 'S'),
            (self.deleted, 'T'),
        ] {
            if set {
                out.push(letter);
            }
        }
    }
}

/// What the engine knows about a message when it starts storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    /// The message's UID or UIDL.
    pub key: MessageKey,
    /// Its flags on the server (used by Maildir; mbox ignores them).
    pub flags: Flags,
    /// The envelope sender for the mbox `From ` line; `MAILER-DAEMON` when absent or unusable.
    pub envelope_sender: Option<String>,
    /// The IMAP INTERNALDATE, for the mbox `From ` line; the current time when absent.
    pub internal_date: Option<SystemTime>,
}

impl MessageMeta {
    /// Metadata with just a key: no flags, no sender, no date.
    pub fn new(key: MessageKey) -> MessageMeta {
        MessageMeta {
            key,
            flags: Flags::default(),
            envelope_sender: None,
            internal_date: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uidl_follows_rfc_1939() {
        assert!(Uidl::new("whqtswO00WBw418f9t5JxYwZ").is_ok());
        assert!(Uidl::new("a/b:c.%").is_ok());
        assert!(Uidl::new("x".repeat(70)).is_ok());
        assert!(Uidl::new("x".repeat(71)).is_err());
        assert!(Uidl::new("").is_err());
        assert!(Uidl::new("a b").is_err());
        assert!(Uidl::new("é").is_err());
    }

    #[test]
    fn maildir_letters_are_sorted() {
        let all = Flags::from_imap(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]);
        let letters = |flags: Flags| {
            let mut out = String::from(":2,");
            flags.push_maildir_letters(&mut out);
            out
        };
        assert_eq!(letters(all), ":2,DFRST");
        assert_eq!(letters(Flags::default()), ":2,");
    }
}
