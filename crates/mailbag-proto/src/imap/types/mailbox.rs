//! Mailbox names and LIST attributes (RFC 9051 `mailbox`, `mbx-list-flags`; RFC 6154).

use std::fmt;

use bytes::Bytes;

use crate::imap::utf7;

/// A mailbox name as a Rust string, with the bytes the server used for it when it came from
/// the server.
///
/// On the wire a name is modified UTF-7 (RFC 3501 5.1.3), or UTF-8 once UTF8=ACCEPT is enabled
/// (RFC 6855). A parsed name keeps its exact wire bytes so that a client sends back the very
/// name the server listed, even when a server wrote invalid modified UTF-7 (then [`name`]
/// holds those bytes read leniently).
///
/// Two names are equal when their Rust strings are, whatever their wire spelling.
///
/// [`name`]: MailboxName::name
#[derive(Clone)]
pub struct MailboxName {
    name: String,
    wire: Option<Bytes>,
}

impl MailboxName {
    /// A name given by the program; the encoder writes it in modified UTF-7 or UTF-8.
    pub fn new(name: impl Into<String>) -> Self {
        MailboxName {
            name: name.into(),
            wire: None,
        }
    }

    /// `INBOX`.
    pub fn inbox() -> Self {
        Self::new("INBOX")
    }

    /// A name read from the server: modified UTF-7 when it decodes, UTF-8 when it does not
    /// (servers with UTF8=ACCEPT, and servers that never encoded), else lossy.
    pub fn from_wire(wire: Bytes) -> Self {
        // "INBOX" is case-insensitive (RFC 9051 5.1); normalise it so comparisons work.
        let name = if wire.eq_ignore_ascii_case(b"INBOX") {
            "INBOX".to_string()
        } else {
            match utf7::decode(&wire) {
                Ok(s) => s,
                Err(_) => String::from_utf8_lossy(&wire).into_owned(),
            }
        };
        MailboxName {
            name,
            wire: Some(wire),
        }
    }

    /// The name as a Rust string.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bytes the server used, when the name came from the server.
    pub fn wire(&self) -> Option<&Bytes> {
        self.wire.as_ref()
    }

    /// Whether this is the INBOX (compared without regard to case).
    pub fn is_inbox(&self) -> bool {
        self.name.eq_ignore_ascii_case("INBOX")
    }

    /// The name's bytes for the wire: the server's own bytes if it sent them, else modified
    /// UTF-7, or UTF-8 when `utf8` is true (UTF8=ACCEPT enabled).
    pub fn to_wire(&self, utf8: bool) -> Vec<u8> {
        match &self.wire {
            Some(w) => w.to_vec(),
            None if self.is_inbox() => b"INBOX".to_vec(),
            None if utf8 => self.name.as_bytes().to_vec(),
            None => utf7::encode(&self.name).into_bytes(),
        }
    }
}

impl PartialEq for MailboxName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for MailboxName {}

impl std::hash::Hash for MailboxName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl fmt::Debug for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailboxName({:?})", self.name)
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl From<&str> for MailboxName {
    fn from(s: &str) -> Self {
        MailboxName::new(s)
    }
}

/// A mailbox attribute from LIST, LSUB or XLIST (RFC 9051 7.3.1, RFC 6154 special-use,
/// RFC 5258 LIST-EXTENDED).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailboxAttribute {
    /// `\Noinferiors`
    NoInferiors,
    /// `\Noselect`
    NoSelect,
    /// `\Marked`
    Marked,
    /// `\Unmarked`
    Unmarked,
    /// `\NonExistent`
    NonExistent,
    /// `\Subscribed`
    Subscribed,
    /// `\Remote`
    Remote,
    /// `\HasChildren`
    HasChildren,
    /// `\HasNoChildren`
    HasNoChildren,
    /// `\All`
    All,
    /// `\Archive`
    Archive,
    /// `\Drafts`
    Drafts,
    /// `\Flagged`
    Flagged,
    /// `\Junk` (also XLIST's `\Spam`)
    Junk,
    /// `\Sent`
    Sent,
    /// `\Trash`
    Trash,
    /// `\Important` (RFC 8457)
    Important,
    /// XLIST's `\Inbox`
    Inbox,
    /// Any other attribute, as sent (with its backslash if it had one).
    Other(String),
}

impl MailboxAttribute {
    /// The attribute for its wire form, matched without regard to case.
    pub fn from_wire(s: &str) -> Self {
        use MailboxAttribute::*;
        match s.to_ascii_lowercase().as_str() {
            "\\noinferiors" => NoInferiors,
            "\\noselect" => NoSelect,
            "\\marked" => Marked,
            "\\unmarked" => Unmarked,
            "\\nonexistent" => NonExistent,
            "\\subscribed" => Subscribed,
            "\\remote" => Remote,
            "\\haschildren" => HasChildren,
            "\\hasnochildren" => HasNoChildren,
            "\\all" | "\\allmail" => All,
            "\\archive" => Archive,
            "\\drafts" => Drafts,
            "\\flagged" | "\\starred" => Flagged,
            "\\junk" | "\\spam" => Junk,
            "\\sent" => Sent,
            "\\trash" => Trash,
            "\\important" => Important,
            "\\inbox" => Inbox,
            _ => Other(s.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let n = MailboxName::from_wire(Bytes::from_static(b"Entw&APw-rfe"));
        assert_eq!(n.name(), "Entwürfe");
        assert_eq!(n.to_wire(false), b"Entw&APw-rfe");
        assert_eq!(MailboxName::new("Entwürfe").to_wire(false), b"Entw&APw-rfe");
        assert_eq!(
            MailboxName::new("Entwürfe").to_wire(true),
            "Entwürfe".as_bytes()
        );
        assert!(MailboxName::from_wire(Bytes::from_static(b"inbox")).is_inbox());
        assert_eq!(
            MailboxName::from_wire(Bytes::from_static(b"Bad&-x&")).name(),
            "Bad&-x&"
        );
    }
}
