//! POP3 commands, their encoding (RFC 1939 section 3, RFC 2449 section 5, RFC 2595 section 4,
//! RFC 5034 section 4, RFC 6856 section 2) and the capability list (RFC 2449 section 6).

use std::fmt;

use super::reply::ReplyShape;
use super::types::MessageNumber;
use crate::secret::Secret;

/// Why a command cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An argument contains CR, LF or NUL, which would end or corrupt the command line.
    #[error("argument contains CR, LF or NUL")]
    ForbiddenByte,
    /// An argument is empty or contains a space where the grammar needs one word.
    #[error("argument is empty or contains a space")]
    BadWord,
    /// Message number 0 does not exist (numbers start at 1).
    #[error("message number 0 does not exist")]
    ZeroMessageNumber,
}

/// A command to send. Credentials live in [`Secret`]s, so `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `USER name`.
    User(String),
    /// `PASS password`.
    Pass(Secret<String>),
    /// `APOP name digest`.
    Apop {
        /// The user name.
        user: String,
        /// Hex MD5 of timestamp and secret, see [`super::Greeting::apop_digest`].
        digest: Secret<String>,
    },
    /// `AUTH mechanism [initial-response]` (initial response already base64, `=` if empty).
    Auth {
        /// The SASL mechanism name.
        mechanism: String,
        /// The base64 initial response.
        initial_response: Option<Secret<String>>,
    },
    /// One line answering an AUTH challenge (base64, or `*` to cancel).
    AuthResponse(Secret<String>),
    /// `STAT`.
    Stat,
    /// `LIST` or `LIST n`.
    List(Option<MessageNumber>),
    /// `UIDL` or `UIDL n`.
    Uidl(Option<MessageNumber>),
    /// `RETR n`.
    Retr(MessageNumber),
    /// `TOP n lines`.
    Top(MessageNumber, u32),
    /// `DELE n`.
    Dele(MessageNumber),
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `CAPA`.
    Capa,
    /// `STLS`.
    Stls,
    /// `UTF8`.
    Utf8,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Command {
    /// The command keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::Auth { .. } => "AUTH",
            Command::AuthResponse(_) => "",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Uidl(_) => "UIDL",
            Command::Retr(_) => "RETR",
            Command::Top(..) => "TOP",
            Command::Dele(_) => "DELE",
            Command::Rset => "RSET",
            Command::Noop => "NOOP",
            Command::Quit => "QUIT",
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::Utf8 => "UTF8",
        }
    }

    /// The shape of the reply to this command.
    pub fn reply_shape(&self) -> ReplyShape {
        match self {
            Command::List(None) | Command::Uidl(None) | Command::Capa => ReplyShape::MultiLineLines,
            Command::Retr(_) | Command::Top(..) => ReplyShape::MultiLineBody,
            Command::Auth { .. } | Command::AuthResponse(_) => ReplyShape::Auth,
            _ => ReplyShape::SingleLine,
        }
    }

    /// The command line as it may be logged: credentials replaced by `<redacted>`.
    pub fn redacted(&self) -> String {
        match self {
            Command::Pass(_) => "PASS <redacted>".to_owned(),
            Command::Apop { user, .. } => format!("APOP {user} <redacted>"),
            Command::Auth {
                mechanism,
                initial_response: Some(_),
            } => format!("AUTH {mechanism} <redacted>"),
            Command::AuthResponse(_) => "<redacted SASL response>".to_owned(),
            _ => {
                let mut out = Vec::new();
                match self.encode(&mut out) {
                    Ok(()) => String::from_utf8_lossy(&out).trim_end().to_owned(),
                    Err(_) => format!("{} <unencodable>", self.keyword()),
                }
            }
        }
    }

    /// Appends the command line, CRLF included, to `out`.
    ///
    /// # Errors
    /// [`EncodeError`] when an argument would break the line; `out` is then unchanged.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        match self.encode_line(out) {
            Ok(()) => {
                out.extend_from_slice(b"\r\n");
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// The line without its CRLF, written straight into `out` (issue 8: a download sends
    /// 10,000 RETRs, which went through two strings and `core::fmt` each); on error `out`
    /// may hold part of it.
    fn encode_line(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Command::User(name) => push(out, "USER", &[word(name)?]),
            Command::Pass(p) => push(out, "PASS", &[text(p.expose())?]),
            Command::Apop { user, digest } => {
                push(out, "APOP", &[word(user)?, word(digest.expose())?]);
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                push(out, "AUTH", &[word(mechanism)?]);
                if let Some(ir) = initial_response {
                    push(out, "", &[word(ir.expose())?]);
                }
            }
            Command::AuthResponse(r) => push(out, text_allow_empty(r.expose())?, &[]),
            Command::List(n) | Command::Uidl(n) => {
                push(out, self.keyword(), &[]);
                if let Some(n) = n {
                    number(out, *n)?;
                }
            }
            Command::Retr(n) | Command::Dele(n) => {
                push(out, self.keyword(), &[]);
                number(out, *n)?;
            }
            Command::Top(n, lines) => {
                push(out, "TOP", &[]);
                number(out, *n)?;
                push(out, "", &[itoa::Buffer::new().format(*lines)]);
            }
            _ => push(out, self.keyword(), &[]),
        }
        Ok(())
    }
}

/// `keyword`, then each argument after a space.
fn push(out: &mut Vec<u8>, keyword: &str, args: &[&str]) {
    out.extend_from_slice(keyword.as_bytes());
    for a in args {
        out.push(b' ');
        out.extend_from_slice(a.as_bytes());
    }
}

/// A space and a message number (RFC 1939: 1 or more).
fn number(out: &mut Vec<u8>, n: MessageNumber) -> Result<(), EncodeError> {
    if n == 0 {
        return Err(EncodeError::ZeroMessageNumber);
    }
    push(out, "", &[itoa::Buffer::new().format(n)]);
    Ok(())
}

fn text_allow_empty(s: &str) -> Result<&str, EncodeError> {
    if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(EncodeError::ForbiddenByte);
    }
    Ok(s)
}

/// A PASS argument may contain spaces (RFC 1939 section 7 lets the server take the rest of
/// the line) but not line breaks.
fn text(s: &str) -> Result<&str, EncodeError> {
    if s.is_empty() {
        return Err(EncodeError::BadWord);
    }
    text_allow_empty(s)
}

fn word(s: &str) -> Result<&str, EncodeError> {
    let s = text(s)?;
    if s.contains(' ') {
        return Err(EncodeError::BadWord);
    }
    Ok(s)
}

/// The server's capabilities, from CAPA (RFC 2449 section 6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Each capability line: the tag (upper-cased) and its arguments.
    pub entries: Vec<(String, Vec<String>)>,
}

impl Capabilities {
    /// Adds one CAPA line: `capa-tag *(SP param)`.
    pub fn push_line(&mut self, line: &str) {
        let mut words = line.split_ascii_whitespace();
        if let Some(tag) = words.next() {
            let args = words.map(str::to_owned).collect();
            self.entries.push((tag.to_ascii_uppercase(), args));
        }
    }

    /// The arguments of a capability, if the server lists it.
    pub fn get(&self, tag: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(tag))
            .map(|(_, a)| a.as_slice())
    }

    /// Whether the server lists a capability.
    pub fn has(&self, tag: &str) -> bool {
        self.get(tag).is_some()
    }

    /// `PIPELINING` (RFC 2449 section 6.6).
    pub fn pipelining(&self) -> bool {
        self.has("PIPELINING")
    }

    /// `STLS` (RFC 2595 section 4).
    pub fn stls(&self) -> bool {
        self.has("STLS")
    }

    /// `UTF8` (RFC 6856 section 2).
    pub fn utf8(&self) -> bool {
        self.has("UTF8")
    }

    /// `USER` (RFC 2449 section 6.3).
    pub fn user(&self) -> bool {
        self.has("USER")
    }

    /// The mechanisms of `SASL` (RFC 2449 section 6.3, RFC 5034 section 5), upper-cased.
    pub fn sasl_mechanisms(&self) -> Vec<String> {
        self.get("SASL")
            .map(|m| m.iter().map(|s| s.to_ascii_uppercase()).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(c: &Command) -> Result<String, EncodeError> {
        let mut out = Vec::new();
        c.encode(&mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// Every command with a message number, through the quick path and the general one.
    #[test]
    fn numbered_commands_encode_and_refuse_message_zero() {
        for (c, want) in [
            (Command::Retr(1), "RETR 1\r\n"),
            (Command::Dele(4_294_967_295), "DELE 4294967295\r\n"),
            (Command::List(Some(10)), "LIST 10\r\n"),
            (Command::Uidl(Some(100_000)), "UIDL 100000\r\n"),
            (Command::List(None), "LIST\r\n"),
            (Command::Uidl(None), "UIDL\r\n"),
            (Command::Top(7, 0), "TOP 7 0\r\n"),
            (Command::Stat, "STAT\r\n"),
        ] {
            assert_eq!(encoded(&c).unwrap(), want, "{c:?}");
        }
        for c in [
            Command::Retr(0),
            Command::Dele(0),
            Command::List(Some(0)),
            Command::Uidl(Some(0)),
            Command::Top(0, 5),
        ] {
            assert!(
                matches!(encoded(&c), Err(EncodeError::ZeroMessageNumber)),
                "{c:?}"
            );
            // What was in `out` before stays, and nothing of the refused line is added.
            let mut out = b"NOOP\r\n".to_vec();
            assert!(c.encode(&mut out).is_err());
            assert_eq!(out, b"NOOP\r\n", "{c:?}");
        }
    }

    /// The other commands, and arguments that would break the line.
    #[test]
    fn arguments_encode_and_line_breaks_are_refused() {
        let secret = |s: &str| Secret::new(s.to_owned());
        for (c, want) in [
            (Command::User("joe".into()), "USER joe\r\n"),
            (
                Command::Pass(secret("pass with spaces")),
                "PASS pass with spaces\r\n",
            ),
            (
                Command::Apop {
                    user: "joe".into(),
                    digest: secret("c4c9334bac560ecc979e58001b3e22fb"),
                },
                "APOP joe c4c9334bac560ecc979e58001b3e22fb\r\n",
            ),
            (
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial_response: None,
                },
                "AUTH PLAIN\r\n",
            ),
            (
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial_response: Some(secret("AGpvZQBwYXNz")),
                },
                "AUTH PLAIN AGpvZQBwYXNz\r\n",
            ),
            (Command::AuthResponse(secret("")), "\r\n"),
            (Command::AuthResponse(secret("dGVzdA==")), "dGVzdA==\r\n"),
            (Command::Top(3, 10), "TOP 3 10\r\n"),
            (Command::Quit, "QUIT\r\n"),
        ] {
            assert_eq!(encoded(&c).unwrap(), want, "{c:?}");
        }
        for c in [
            Command::User("joe\r\nDELE 1".into()),
            Command::User("two words".into()),
            Command::User(String::new()),
            Command::Pass(secret("pw\r\nDELE 1")),
            Command::Auth {
                mechanism: "PLAIN".into(),
                initial_response: Some(secret("a\nb")),
            },
            Command::AuthResponse(secret("x\r\nDELE 1")),
        ] {
            let mut out = b"NOOP\r\n".to_vec();
            assert!(c.encode(&mut out).is_err(), "{c:?}");
            assert_eq!(out, b"NOOP\r\n", "{c:?}");
        }
    }
}
