//! Tags and flags (RFC 9051 `tag`, `flag`, `flag-perm`, `flag-fetch`).

use std::fmt;

use super::text::Text;

/// A command tag: the atom a client puts before a command and the server repeats in the
/// command's completion. The client state machine makes them; this type only guarantees they
/// can go on the wire (non-empty, `ASTRING-CHAR` except `+`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

/// The error for a string that cannot be a tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid IMAP tag: {0:?}")]
pub struct InvalidTag(pub String);

impl Tag {
    /// A tag, or an error when `s` is empty or holds a byte the grammar forbids in a tag.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidTag> {
        let s = s.into();
        if !s.is_empty() && s.bytes().all(|b| is_astring_char(b) && b != b'+') {
            Ok(Tag(s))
        } else {
            Err(InvalidTag(s))
        }
    }

    /// Builds a tag from bytes a server sent, which the parser already checked.
    pub(crate) fn from_wire(s: &[u8]) -> Self {
        Tag(String::from_utf8_lossy(s).into_owned())
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `ATOM-CHAR = <any CHAR except atom-specials>` (RFC 9051 section 9).
pub(crate) fn is_atom_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e)
        && !matches!(
            b,
            b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']'
        )
}

/// `ASTRING-CHAR = ATOM-CHAR / resp-specials`
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// A message flag (RFC 9051 2.3.2), as seen in FLAGS, PERMANENTFLAGS and STORE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `\Seen`
    Seen,
    /// `\Answered`
    Answered,
    /// `\Flagged`
    Flagged,
    /// `\Deleted`
    Deleted,
    /// `\Draft`
    Draft,
    /// `\Recent` (IMAP4rev1 only; the server sets it, a client cannot store it).
    Recent,
    /// `\*` in PERMANENTFLAGS: the client may create new keywords.
    MayCreate,
    /// A keyword such as `$Forwarded` or `NonJunk`. Kept as sent, including the `[` and `]`
    /// some servers let through.
    Keyword(Text),
    /// Another `\`-prefixed flag (the text after the backslash).
    Extension(Text),
}

impl Flag {
    /// The flag for its wire form (`\Seen`, `$Junk`, ...); system flags match without regard
    /// to case, as RFC 9051 says atoms do.
    pub fn from_wire(s: &str) -> Flag {
        Flag::from_wire_bytes(s.as_bytes())
    }

    /// [`Flag::from_wire`] for the bytes a server sent (text that is not UTF-8 is read
    /// lossily).
    pub(crate) fn from_wire_bytes(s: &[u8]) -> Flag {
        let Some(name) = s.strip_prefix(b"\\") else {
            return Flag::Keyword(Text::from_wire(s));
        };
        const SYSTEM: [(&[u8], Flag); 7] = [
            (b"seen", Flag::Seen),
            (b"answered", Flag::Answered),
            (b"flagged", Flag::Flagged),
            (b"deleted", Flag::Deleted),
            (b"draft", Flag::Draft),
            (b"recent", Flag::Recent),
            (b"*", Flag::MayCreate),
        ];
        for (word, flag) in SYSTEM {
            if name.eq_ignore_ascii_case(word) {
                return flag;
            }
        }
        Flag::Extension(Text::from_wire(name))
    }

    /// A keyword flag, or `None` if `s` is empty or holds a byte not allowed in an atom.
    pub fn keyword(s: &str) -> Option<Flag> {
        (!s.is_empty() && s.bytes().all(is_atom_char)).then(|| Flag::Keyword(Text::from(s)))
    }

    /// The wire form of a system flag (`\Seen`, ..., `\*`), without allocating; `None` for
    /// keywords and extension flags.
    pub fn system_name(&self) -> Option<&'static str> {
        Some(match self {
            Flag::Seen => "\\Seen",
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Deleted => "\\Deleted",
            Flag::Draft => "\\Draft",
            Flag::Recent => "\\Recent",
            Flag::MayCreate => "\\*",
            Flag::Keyword(_) | Flag::Extension(_) => return None,
        })
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Keyword(k) => f.write_str(k),
            Flag::Extension(e) => write!(f, "\\{e}"),
            system => f.write_str(system.system_name().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_names_read_back_as_their_flags() {
        let system = [
            Flag::Seen,
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Draft,
            Flag::Recent,
            Flag::MayCreate,
        ];
        for flag in system {
            let name = flag.system_name().unwrap();
            assert_eq!(Flag::from_wire(name), flag);
            assert_eq!(flag.to_string(), name);
        }
        assert_eq!(Flag::Keyword("$Junk".into()).system_name(), None);
        assert_eq!(Flag::Extension("X".into()).system_name(), None);
        assert_eq!(Flag::Extension("X".into()).to_string(), "\\X");
    }

    #[test]
    fn tags_and_flags() {
        assert!(Tag::new("A0001").is_ok());
        assert!(Tag::new("").is_err());
        assert!(Tag::new("a b").is_err());
        assert!(Tag::new("a+").is_err());
        assert_eq!(Flag::from_wire("\\SEEN"), Flag::Seen);
        assert_eq!(Flag::from_wire("\\*"), Flag::MayCreate);
        assert_eq!(Flag::from_wire("$Junk").to_string(), "$Junk");
        assert_eq!(Flag::keyword("a b"), None);
    }
}
