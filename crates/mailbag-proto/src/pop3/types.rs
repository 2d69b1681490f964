//! POP3 values: status lines with RESP-CODES (RFC 2449 section 8, RFC 3206), STAT / LIST /
//! UIDL entries (RFC 1939 sections 5 and 7), the greeting's APOP timestamp (RFC 1939
//! section 7) and parse errors.

use std::fmt;

use md5::{Digest, Md5};

use super::reply::truncate;
use crate::sasl::hex;

/// A message number: 1-based, valid for one session (RFC 1939 section 5).
pub type MessageNumber = u32;

/// Why bytes from the server could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A status line is neither `+OK` nor `-ERR` (nor `+` where a challenge may come).
    #[error("bad status line {:?}", String::from_utf8_lossy(.0))]
    BadStatus(Vec<u8>),
    /// A line exceeds the parser's bound.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The bound.
        limit: usize,
    },
    /// A listing (LIST, UIDL, CAPA) exceeds the session's bound.
    #[error("listing larger than {limit} bytes")]
    TooLarge {
        /// The bound.
        limit: usize,
    },
    /// A listing (LIST, UIDL, CAPA) has more lines than the session's bound.
    #[error("listing of more than {limit} lines")]
    TooManyLines {
        /// The bound.
        limit: usize,
    },
    /// Bytes arrived while no reply was expected.
    #[error("unsolicited data from the server {:?}", String::from_utf8_lossy(.0))]
    Unsolicited(Vec<u8>),
    /// A `+OK` reply's content does not follow its command's grammar.
    #[error("malformed {what}: {:?}", String::from_utf8_lossy(.line))]
    Malformed {
        /// What was being parsed (`"STAT reply"`, `"LIST entry"`, ...).
        what: &'static str,
        /// The offending bytes, truncated.
        line: Vec<u8>,
    },
}

impl ParseError {
    /// The offending bytes (truncated), if the error carries them.
    pub fn offending_bytes(&self) -> &[u8] {
        match self {
            ParseError::BadStatus(b) | ParseError::Unsolicited(b) => b,
            ParseError::Malformed { line, .. } => line,
            _ => &[],
        }
    }
}

/// A response code in brackets at the start of a status text (RFC 2449 section 8).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RespCode {
    /// `IN-USE`: the maildrop is locked by another session (RFC 2449 section 8.1.1).
    InUse,
    /// `LOGIN-DELAY`: logged in too soon after the last login (RFC 2449 section 8.1.2).
    LoginDelay,
    /// `SYS/TEMP`: a temporary system problem, try again later (RFC 3206 section 4).
    SysTemp,
    /// `SYS/PERM`: a permanent system problem (RFC 3206 section 4).
    SysPerm,
    /// `AUTH`: the credentials are wrong (RFC 3206 section 5).
    Auth,
    /// `UTF8`: the command needs UTF-8 mode (RFC 6856 section 2).
    Utf8,
    /// Any other code, kept as sent.
    Other(String),
}

impl RespCode {
    fn parse(code: &str) -> RespCode {
        match code.to_ascii_uppercase().as_str() {
            "IN-USE" => RespCode::InUse,
            "LOGIN-DELAY" => RespCode::LoginDelay,
            "SYS/TEMP" => RespCode::SysTemp,
            "SYS/PERM" => RespCode::SysPerm,
            "AUTH" => RespCode::Auth,
            "UTF8" => RespCode::Utf8,
            _ => RespCode::Other(code.to_owned()),
        }
    }
}

impl fmt::Display for RespCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RespCode::InUse => "IN-USE",
            RespCode::LoginDelay => "LOGIN-DELAY",
            RespCode::SysTemp => "SYS/TEMP",
            RespCode::SysPerm => "SYS/PERM",
            RespCode::Auth => "AUTH",
            RespCode::Utf8 => "UTF8",
            RespCode::Other(s) => s,
        })
    }
}

/// A `+OK` or `-ERR` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// `true` for `+OK`.
    pub ok: bool,
    /// The response code, if the text starts with one.
    pub code: Option<RespCode>,
    /// The rest of the text (lossily decoded), without the code.
    pub text: String,
}

impl StatusLine {
    /// `status-line = ("+OK" / "-ERR") [SP text]` without its CRLF (RFC 2449 section 9).
    ///
    /// # Errors
    /// [`ParseError::BadStatus`] when the line starts with neither indicator.
    pub fn parse(line: &[u8]) -> Result<StatusLine, ParseError> {
        let (ok, rest) = if let Some(r) = strip_prefix_ci(line, b"+OK") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(line, b"-ERR") {
            (false, r)
        } else {
            return Err(ParseError::BadStatus(truncate(line)));
        };
        // Lenient: some servers omit the space ("+OKdone") or send trailing blanks.
        let text = String::from_utf8_lossy(rest);
        let text = text.trim();
        let (code, text) = match text.strip_prefix('[').and_then(|t| t.split_once(']')) {
            Some((code, rest)) if !code.is_empty() && !code.contains(' ') => {
                (Some(RespCode::parse(code)), rest.trim_start().to_owned())
            }
            _ => (None, text.to_owned()),
        };
        Ok(StatusLine { ok, code, text })
    }
}

fn strip_prefix_ci<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        line.get(prefix.len()..)
    } else {
        None
    }
}

/// The answer to STAT (RFC 1939 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Number of messages (not counting those marked deleted).
    pub count: u32,
    /// Their total size in octets.
    pub size: u64,
}

/// One LIST entry (RFC 1939 section 5): `msg-number SP size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListEntry {
    /// The message number.
    pub number: MessageNumber,
    /// Its size in octets (as the server counts them, with CRLF).
    pub size: u64,
}

/// One UIDL entry (RFC 1939 section 7): `msg-number SP unique-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidlEntry {
    /// The message number.
    pub number: MessageNumber,
    /// The unique id: 1 to 70 characters in 0x21..=0x7E.
    pub uid: String,
}

impl Stat {
    /// Parses the text of STAT's `+OK` line: `count SP size [...]`.
    ///
    /// # Errors
    /// [`ParseError::Malformed`] when either number is missing or not a number.
    pub fn parse(text: &str) -> Result<Stat, ParseError> {
        let (a, b) = two_fields(text, "STAT reply")?;
        Ok(Stat {
            count: number(a, text, "STAT reply")?,
            size: number(b, text, "STAT reply")?,
        })
    }
}

impl ListEntry {
    /// Parses one scan listing: `msg-number SP size [...]` (a line or a `+OK` text).
    ///
    /// # Errors
    /// [`ParseError::Malformed`] when either number is missing or not a number, or the
    /// number is 0.
    pub fn parse(text: &str) -> Result<ListEntry, ParseError> {
        let (a, b) = two_fields(text, "LIST entry")?;
        let number = number(a, text, "LIST entry")?;
        if number == 0 {
            return Err(malformed("LIST entry", text));
        }
        Ok(ListEntry {
            number,
            size: number_u64(b, text, "LIST entry")?,
        })
    }
}

impl UidlEntry {
    /// Parses one unique-id listing: `msg-number SP unique-id`.
    ///
    /// # Errors
    /// [`ParseError::Malformed`] when a field is missing, the number is not a positive
    /// number, or the id has bytes outside 0x21..=0x7E.
    pub fn parse(text: &str) -> Result<UidlEntry, ParseError> {
        let (a, b) = two_fields(text, "UIDL entry")?;
        let number = number(a, text, "UIDL entry")?;
        // Lenient on length (some servers exceed 70) but not on content.
        if number == 0 || !b.bytes().all(|c| (0x21..=0x7e).contains(&c)) {
            return Err(malformed("UIDL entry", text));
        }
        Ok(UidlEntry {
            number,
            uid: b.to_owned(),
        })
    }
}

fn two_fields<'a>(text: &'a str, what: &'static str) -> Result<(&'a str, &'a str), ParseError> {
    let mut it = text.split_ascii_whitespace();
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(malformed(what, text)),
    }
}

fn number<T: std::str::FromStr>(s: &str, text: &str, what: &'static str) -> Result<T, ParseError> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(what, text));
    }
    s.parse().map_err(|_| malformed(what, text))
}

fn number_u64(s: &str, text: &str, what: &'static str) -> Result<u64, ParseError> {
    number(s, text, what)
}

fn malformed(what: &'static str, text: &str) -> ParseError {
    ParseError::Malformed {
        what,
        line: truncate(text.as_bytes()),
    }
}

/// The server's greeting (RFC 1939 section 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The greeting's status line; `-ERR` means the server refuses service.
    pub status: StatusLine,
    /// The APOP timestamp `<...>`, brackets included, if the server offers APOP.
    pub timestamp: Option<String>,
}

impl Greeting {
    /// Builds the greeting from its status line, extracting the timestamp (RFC 1939
    /// section 7: `<` msg-id `>` where the msg-id contains `@`... though we accept any
    /// printable text without spaces between the brackets).
    pub fn from_status(status: StatusLine) -> Greeting {
        let timestamp = status.text.find('<').and_then(|start| {
            let rest = status.text.get(start..)?;
            let end = rest.find('>')?;
            let stamp = rest.get(..=end)?;
            let printable = stamp.bytes().all(|b| (0x21..=0x7e).contains(&b));
            (printable && stamp.len() > 2).then(|| stamp.to_owned())
        });
        Greeting { status, timestamp }
    }

    /// The APOP digest: lower-case hex MD5 of timestamp and secret (RFC 1939 section 7).
    pub fn apop_digest(timestamp: &str, secret: &str) -> String {
        let mut md5 = Md5::new();
        md5.update(timestamp.as_bytes());
        md5.update(secret.as_bytes());
        hex(&md5.finalize())
    }
}
