//! The one error type of the mailbag client, shared by IMAP and POP3.
//!
//! Each variant is something a program can act on: retry later (`Timeout`,
//! `ConnectionLost`, `No` with a temporary code), ask the user again (`Auth`), fix the
//! configuration (`Connect`, `Tls`), or report a bug (`Protocol`, `Misuse`). Server words are
//! kept verbatim. No variant ever holds a password or token: credentials are in
//! [`mailbag_proto::Secret`] and never copied into an error.

use std::fmt;
use std::io;

/// Which check a TLS connection failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The server's certificate chain does not lead to a trusted CA (add it with a CA file).
    UnknownIssuer,
    /// The certificate has expired or is not yet valid.
    Expired,
    /// The certificate does not name the host that was dialled.
    NameMismatch,
    /// Any other handshake failure (protocol version, alert from the server, ...).
    Handshake,
    /// The local TLS configuration is unusable (bad CA file, no roots, bad host name).
    Config,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFailure::UnknownIssuer => "certificate issued by an unknown authority",
            TlsFailure::Expired => "certificate expired or not yet valid",
            TlsFailure::NameMismatch => "certificate is not valid for this host name",
            TlsFailure::Handshake => "TLS handshake failed",
            TlsFailure::Config => "TLS configuration error",
        })
    }
}

/// Everything that can go wrong talking to a mail server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TCP connection could not be made (DNS, refused, unreachable).
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The host dialled.
        host: String,
        /// The port dialled.
        port: u16,
        /// The cause.
        source: io::Error,
    },
    /// TLS failed; `failure` says which check.
    #[error("TLS{}: {failure}: {message}", if host.is_empty() { String::new() } else { format!(" with {host}") })]
    Tls {
        /// The host name checked.
        host: String,
        /// Which check failed.
        failure: TlsFailure,
        /// Details from rustls.
        message: String,
    },
    /// The server rejected the credentials; `text` is its reply.
    #[error("authentication failed: {}{text}", code.as_deref().map(|c| format!("[{c}] ")).unwrap_or_default())]
    Auth {
        /// The response code (`AUTH`, `IN-USE`, `LOGIN-DELAY`, `SYS/TEMP`, ...), if any.
        code: Option<String>,
        /// The server's words.
        text: String,
    },
    /// The server refused a command (POP3 `-ERR`, IMAP `NO`).
    #[error("{command} refused: {}{text}", code.as_deref().map(|c| format!("[{c}] ")).unwrap_or_default())]
    No {
        /// The command refused.
        command: String,
        /// The response code, if any.
        code: Option<String>,
        /// The server's words.
        text: String,
    },
    /// The server did not understand a command (IMAP `BAD`).
    #[error("server says bad command: {text}")]
    Bad {
        /// The server's words.
        text: String,
    },
    /// The server closed the session on its own (IMAP `BYE`, POP3 `-ERR` greeting).
    #[error("server closed the session: {text}")]
    Bye {
        /// The server's words.
        text: String,
    },
    /// The server broke the protocol; the session cannot continue.
    #[error("protocol violation: {detail}{}", if bytes.is_empty() { String::new() } else { format!(" in {:?}", String::from_utf8_lossy(bytes)) })]
    Protocol {
        /// What was wrong.
        detail: String,
        /// The offending bytes, truncated to [`Error::MAX_SHOWN`].
        bytes: Vec<u8>,
    },
    /// The server sent more than a configured limit allows in one reply (a line, a literal,
    /// a response, the untagged responses to one command, the lines of a POP3 listing): a
    /// hostile or broken server. The connection is closed; nothing of the reply is kept.
    #[error(
        "the server sent more than {limit} {what} (a configured limit); the connection was closed"
    )]
    LimitExceeded {
        /// What was counted: `"bytes in one line"`, `"untagged responses to one command"`, ...
        what: &'static str,
        /// The limit in force.
        limit: u64,
    },
    /// An operation took longer than its configured limit.
    #[error("timed out: {what}")]
    Timeout {
        /// What timed out: `"connect"`, `"TLS handshake"`, `"command"`.
        what: &'static str,
    },
    /// The connection closed or broke in the middle of a reply.
    #[error("connection lost: {detail}")]
    ConnectionLost {
        /// Where it happened.
        detail: String,
    },
    /// The program used the API in a way the protocol does not allow.
    #[error("API misuse: {detail}")]
    Misuse {
        /// What was wrong.
        detail: String,
    },
    /// A local I/O error (writing a downloaded message, ...).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// How many offending bytes a `Protocol` error keeps.
    pub const MAX_SHOWN: usize = 200;

    /// A protocol error with the offending bytes truncated.
    pub fn protocol(detail: impl Into<String>, bytes: &[u8]) -> Error {
        Error::Protocol {
            detail: detail.into(),
            bytes: bytes.iter().take(Self::MAX_SHOWN).copied().collect(),
        }
    }

    /// The same error again, for every party waiting on a connection that ended with it:
    /// timeouts, limits and protocol violations keep their kind (they say what went wrong),
    /// anything else becomes [`Error::ConnectionLost`] with its text.
    pub(crate) fn for_each_waiter(&self) -> Error {
        match self {
            Error::Timeout { what } => Error::Timeout { what },
            Error::LimitExceeded { what, limit } => Error::LimitExceeded {
                what,
                limit: *limit,
            },
            Error::Protocol { detail, bytes } => Error::Protocol {
                detail: detail.clone(),
                bytes: bytes.clone(),
            },
            Error::ConnectionLost { detail } => Error::ConnectionLost {
                detail: detail.clone(),
            },
            // A failed TLS upgrade keeps its kind, so the STARTTLS caller can say which check
            // failed (expired, another host name, unknown authority).
            Error::Tls {
                host,
                failure,
                message,
            } => Error::Tls {
                host: host.clone(),
                failure: failure.clone(),
                message: message.clone(),
            },
            other => Error::ConnectionLost {
                detail: other.to_string(),
            },
        }
    }

    /// A misuse error.
    pub fn misuse(detail: impl fmt::Display) -> Error {
        Error::Misuse {
            detail: detail.to_string(),
        }
    }

    /// Whether retrying later may succeed (timeouts, lost connections, temporary codes).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::ConnectionLost { .. } | Error::Connect { .. } => true,
            Error::No { code, .. } | Error::Auth { code, .. } => matches!(
                code.as_deref(),
                Some("SYS/TEMP" | "IN-USE" | "LOGIN-DELAY" | "UNAVAILABLE")
            ),
            _ => false,
        }
    }
}

/// The result type of the client.
pub type Result<T, E = Error> = std::result::Result<T, E>;
