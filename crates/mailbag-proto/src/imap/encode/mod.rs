//! The command encoder: a [`Command`] becomes [`Fragment`]s (RFC 9051 section 4 and 9).
//!
//! Each string argument is written in the cheapest form that is exact: an atom when every
//! byte may stand bare, a quoted string when it is short and holds no CR, LF, NUL (or 8-bit
//! bytes, unless UTF8=ACCEPT is on), else a literal. Literals end a [`Fragment::Line`], so a
//! state machine can wait for the server's `+` before it sends a synchronising one; with
//! LITERAL+ (any size) or LITERAL- (up to 4096 bytes, RFC 7888) they are non-synchronising.
//! A NUL can only travel in a `literal8` where the grammar allows one (APPEND and metadata
//! values with BINARY); anywhere else it is an error, as is a line break in a position that
//! allows no literal. So no value can break out of its argument.

mod commands;
mod items;
mod params;

use base64::Engine as _;

use crate::imap::command::Command;
use crate::imap::types::{is_astring_char, is_atom_char, MailboxName, Tag};

/// A piece of an encoded command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    /// Bytes to send as they are. A line ending in a literal header (`{n}\r\n`) is followed
    /// by a [`Fragment::Literal`].
    Line(Vec<u8>),
    /// A literal's content, to send after the line before it.
    Literal {
        /// The content.
        data: Vec<u8>,
        /// Whether to wait for the server's continuation request first.
        mode: LiteralMode,
    },
    /// A literal of `len` bytes whose content the caller supplies while it is sent
    /// ([`Command::AppendStream`]): the client core asks for it with
    /// [`crate::imap::client::ClientEvent::LiteralWanted`].
    Deferred {
        /// The content's length, announced in the header before it.
        len: u64,
        /// Whether to wait for the server's continuation request first.
        mode: LiteralMode,
    },
}

/// How a literal is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralMode {
    /// `{n}`: wait for `+` before sending the content.
    Sync,
    /// `{n+}` (LITERAL+ / LITERAL-): send the content at once.
    NonSync,
}

/// What the server allows, which changes how a command is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    /// The server offers LITERAL+ (RFC 7888): every literal may be non-synchronising.
    pub literal_plus: bool,
    /// The server offers LITERAL- (RFC 7888): literals up to 4096 bytes may be
    /// non-synchronising.
    pub literal_minus: bool,
    /// UTF8=ACCEPT is enabled (RFC 6855): mailbox names go as UTF-8, and quoted strings may
    /// hold UTF-8.
    pub utf8: bool,
    /// The server offers BINARY (RFC 3516): data holding NUL may go as `literal8`.
    pub binary: bool,
}

/// Why a command could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A value holds NUL, which only a literal8 can carry and none is allowed here.
    #[error("{what} holds a NUL byte, which cannot be sent here")]
    Nul {
        /// Which argument.
        what: &'static str,
    },
    /// A value must be an atom here (no literal allowed) but holds a byte that is not.
    #[error("{what} must be an atom: {value:?}")]
    NotAnAtom {
        /// Which argument.
        what: &'static str,
        /// The offending value.
        value: String,
    },
    /// A list or set that must not be empty is.
    #[error("{what} must not be empty")]
    Empty {
        /// Which argument.
        what: &'static str,
    },
    /// The command combines options the grammar does not allow together.
    #[error("invalid command: {0}")]
    Invalid(&'static str),
}

/// Literals up to this size may be non-synchronising under LITERAL- (RFC 7888 section 5).
const LITERAL_MINUS_MAX: usize = 4096;

/// Quoted strings longer than this go as literals: servers cap line lengths.
const QUOTED_MAX: usize = 1024;

/// Encodes `command` with `tag`.
///
/// The fragments of LOGIN and AUTHENTICATE hold the credential in clear: do not log them
/// ([`Command::is_sensitive`] says which commands these are).
///
/// ```
/// use mailbag_proto::imap::{encode, Command, EncodeOptions, Fragment, LiteralMode, Tag};
/// use mailbag_proto::Secret;
///
/// let login = Command::Login { username: "joe".into(), password: Secret::new("a\"b\nc".into()) };
/// let frags = encode(&Tag::new("A1").unwrap(), &login, &EncodeOptions::default()).unwrap();
/// assert_eq!(frags, vec![
///     Fragment::Line(b"A1 LOGIN joe {5}\r\n".to_vec()),
///     Fragment::Literal { data: b"a\"b\nc".to_vec(), mode: LiteralMode::Sync },
///     Fragment::Line(b"\r\n".to_vec()),
/// ]);
/// ```
pub fn encode(
    tag: &Tag,
    command: &Command,
    options: &EncodeOptions,
) -> Result<Vec<Fragment>, EncodeError> {
    let mut w = Writer::new(options);
    w.raw(tag.as_str().as_bytes());
    w.sp();
    commands::command(&mut w, command)?;
    Ok(w.finish())
}

/// The line that ends IDLE (RFC 2177): `DONE`, untagged.
pub fn done() -> Fragment {
    Fragment::Line(b"DONE\r\n".to_vec())
}

/// A response to an AUTHENTICATE challenge: `data` base64-encoded on one line, or `*` to
/// cancel when `data` is `None` (RFC 9051 6.2.2).
pub fn authenticate_response(data: Option<&[u8]>) -> Fragment {
    let mut line = match data {
        Some(d) => base64::engine::general_purpose::STANDARD
            .encode(d)
            .into_bytes(),
        None => b"*".to_vec(),
    };
    line.extend_from_slice(b"\r\n");
    Fragment::Line(line)
}

impl Command {
    /// Whether the command's bytes carry a credential (LOGIN, AUTHENTICATE).
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Command::Login { .. } | Command::Authenticate { .. })
    }
}

/// Accumulates the current line and the fragments so far.
pub(crate) struct Writer<'o> {
    frags: Vec<Fragment>,
    line: Vec<u8>,
    opts: &'o EncodeOptions,
}

impl<'o> Writer<'o> {
    fn new(opts: &'o EncodeOptions) -> Self {
        Writer {
            frags: Vec::new(),
            line: Vec::with_capacity(64),
            opts,
        }
    }

    fn finish(mut self) -> Vec<Fragment> {
        self.line.extend_from_slice(b"\r\n");
        self.frags.push(Fragment::Line(self.line));
        self.frags
    }

    /// Bytes the encoder itself chose (keywords, numbers, punctuation).
    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.line.extend_from_slice(b);
    }

    pub(crate) fn sp(&mut self) {
        self.line.push(b' ');
    }

    pub(crate) fn display(&mut self, v: impl std::fmt::Display) {
        use std::io::Write as _;
        // Writing to a Vec cannot fail.
        let _ = write!(self.line, "{v}");
    }

    /// A value that must be an atom (mechanism names, flags, charsets...): no literal is
    /// allowed in these positions, so anything else is refused.
    pub(crate) fn atom(&mut self, what: &'static str, s: &str) -> Result<(), EncodeError> {
        if s.is_empty() || !s.bytes().all(is_atom_char) {
            return Err(EncodeError::NotAnAtom {
                what,
                value: s.to_string(),
            });
        }
        self.raw(s.as_bytes());
        Ok(())
    }

    /// `"\\" atom` (mailbox attributes, Gmail system labels), or a plain atom.
    pub(crate) fn backslash_atom(
        &mut self,
        what: &'static str,
        s: &str,
    ) -> Result<(), EncodeError> {
        let body = s.strip_prefix('\\').unwrap_or(s);
        if body.is_empty() || !body.bytes().all(is_atom_char) {
            return Err(EncodeError::NotAnAtom {
                what,
                value: s.to_string(),
            });
        }
        self.raw(s.as_bytes());
        Ok(())
    }

    /// A flag: system flags and `\*` as they are, keywords checked as atoms.
    pub(crate) fn flag(&mut self, f: &crate::imap::types::Flag) -> Result<(), EncodeError> {
        let s = f.to_string();
        let body = s.strip_prefix('\\').unwrap_or(&s);
        if body.is_empty() || !(body == "*" || body.bytes().all(is_atom_char)) {
            return Err(EncodeError::NotAnAtom {
                what: "flag",
                value: s,
            });
        }
        self.raw(s.as_bytes());
        Ok(())
    }

    /// `astring = 1*ASTRING-CHAR / string`
    pub(crate) fn astring(&mut self, what: &'static str, b: &[u8]) -> Result<(), EncodeError> {
        if !b.is_empty() && b.iter().all(|&c| is_astring_char(c)) && !b.eq_ignore_ascii_case(b"NIL")
        {
            self.raw(b);
            Ok(())
        } else {
            self.string(what, b)
        }
    }

    /// `string = quoted / literal`
    pub(crate) fn string(&mut self, what: &'static str, b: &[u8]) -> Result<(), EncodeError> {
        if b.contains(&0) {
            return Err(EncodeError::Nul { what });
        }
        let eight_bit_ok = self.opts.utf8 && std::str::from_utf8(b).is_ok();
        let quotable = b.len() <= QUOTED_MAX
            && b.iter()
                .all(|&c| c != b'\r' && c != b'\n' && (c < 0x80 || eight_bit_ok));
        if quotable {
            self.line.push(b'"');
            for &c in b {
                if c == b'"' || c == b'\\' {
                    self.line.push(b'\\');
                }
                self.line.push(c);
            }
            self.line.push(b'"');
            Ok(())
        } else {
            self.literal(b.to_vec(), false);
            Ok(())
        }
    }

    /// `nstring = string / nil`
    pub(crate) fn nstring(
        &mut self,
        what: &'static str,
        b: Option<&[u8]>,
    ) -> Result<(), EncodeError> {
        match b {
            Some(b) => self.string(what, b),
            None => {
                self.raw(b"NIL");
                Ok(())
            }
        }
    }

    /// Data that may need a literal8 (`~{n}`): APPEND messages, metadata values.
    pub(crate) fn data(&mut self, what: &'static str, b: &[u8]) -> Result<(), EncodeError> {
        if b.contains(&0) {
            if !self.opts.binary {
                return Err(EncodeError::Nul { what });
            }
            self.literal(b.to_vec(), true);
        } else {
            self.literal(b.to_vec(), false);
        }
        Ok(())
    }

    /// Ends the current line with a literal header and queues the content.
    pub(crate) fn literal(&mut self, data: Vec<u8>, literal8: bool) {
        let mode = self.literal_header(data.len() as u64, literal8);
        self.frags.push(Fragment::Literal { data, mode });
    }

    /// Ends the current line with the header of a literal of `len` bytes whose content comes
    /// later ([`Fragment::Deferred`]).
    pub(crate) fn deferred_literal(&mut self, len: u64) {
        let mode = self.literal_header(len, false);
        self.frags.push(Fragment::Deferred { len, mode });
    }

    /// Writes `{len}`, `{len+}` or `~{len}` and CRLF, ends the line, and says whether the
    /// content may follow at once (LITERAL+, or LITERAL- up to 4096 bytes; RFC 7888).
    fn literal_header(&mut self, len: u64, literal8: bool) -> LiteralMode {
        let non_sync =
            self.opts.literal_plus || (self.opts.literal_minus && len <= LITERAL_MINUS_MAX as u64);
        if literal8 {
            self.line.push(b'~');
        }
        self.display(format_args!(
            "{{{len}{}}}\r\n",
            if non_sync { "+" } else { "" }
        ));
        let line = std::mem::take(&mut self.line);
        self.frags.push(Fragment::Line(line));
        if non_sync {
            LiteralMode::NonSync
        } else {
            LiteralMode::Sync
        }
    }

    /// A mailbox name: modified UTF-7, or UTF-8 under UTF8=ACCEPT.
    pub(crate) fn mailbox(&mut self, m: &MailboxName) -> Result<(), EncodeError> {
        let wire = m.to_wire(self.opts.utf8);
        self.astring("mailbox name", &wire)
    }

    /// `list-mailbox = 1*list-char / string`, where `list-char` adds `%` and `*`.
    pub(crate) fn list_mailbox(&mut self, pattern: &str) -> Result<(), EncodeError> {
        let wire = if self.opts.utf8 {
            pattern.as_bytes().to_vec()
        } else {
            crate::imap::utf7::encode(pattern).into_bytes()
        };
        if !wire.is_empty()
            && wire
                .iter()
                .all(|&c| is_astring_char(c) || c == b'%' || c == b'*')
        {
            self.raw(&wire);
            Ok(())
        } else {
            self.string("list pattern", &wire)
        }
    }

    /// `"(" item *(SP item) ")"`
    pub(crate) fn list<T>(
        &mut self,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.raw(b"(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            each(self, item)?;
        }
        self.raw(b")");
        Ok(())
    }
}
