//! What a POP3 session hands to its driver: states, command ids, typed replies, events and
//! bytes to send (RFC 1939 sections 3-7, RFC 2449 section 6, RFC 5034 section 4).

use bytes::Bytes;

use super::command::{Capabilities, EncodeError};
use super::types::{Greeting, ListEntry, ParseError, Stat, StatusLine, UidlEntry};
use crate::sasl::SaslError;

/// The session state (RFC 1939 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Before login.
    Authorization,
    /// Logged in: the maildrop is open.
    Transaction,
    /// QUIT was answered, or the greeting refused service.
    Closed,
}

/// Identifies a command within a session; events carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub u64);

/// A use of the API that the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Misuse {
    /// The command is not valid in the current state.
    #[error("{command} is not valid in the {state:?} state")]
    InvalidInState {
        /// The command keyword.
        command: &'static str,
        /// The current state.
        state: SessionState,
    },
    /// A state-changing command is still unanswered.
    #[error("{command} must wait for the reply to the previous login, STLS or QUIT")]
    AwaitingReply {
        /// The refused command's keyword.
        command: &'static str,
    },
    /// An argument cannot be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The typed content of a `+OK` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// A reply with only a status line.
    Status(StatusLine),
    /// STAT.
    Stat(Stat),
    /// LIST without argument.
    List(Vec<ListEntry>),
    /// LIST n.
    ListOne(ListEntry),
    /// UIDL without argument.
    Uidl(Vec<UidlEntry>),
    /// UIDL n.
    UidlOne(UidlEntry),
    /// CAPA.
    Capa(Capabilities),
    /// RETR / TOP accepted: [`Event::BodyChunk`]s and [`Event::BodyEnd`] follow.
    BodyFollows(StatusLine),
}

/// What happened on the connection, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The greeting arrived (an `-ERR` greeting closes the session).
    GreetingReceived(Greeting),
    /// A command succeeded.
    Ok {
        /// The command.
        id: CommandId,
        /// Its typed result.
        reply: Reply,
    },
    /// A command failed with `-ERR`.
    Err {
        /// The command.
        id: CommandId,
        /// The server's status line (code and text).
        status: StatusLine,
    },
    /// A `+OK` whose content does not parse; the stream stays in sync.
    Malformed {
        /// The command.
        id: CommandId,
        /// What was wrong (the first error of a listing).
        error: ParseError,
    },
    /// The client side of an AUTH failed (e.g. SCRAM server proof wrong); the exchange was
    /// cancelled or, after a server `+OK`, the session must not be trusted.
    SaslFailed {
        /// The AUTH command.
        id: CommandId,
        /// What failed.
        error: SaslError,
    },
    /// A piece of a RETR / TOP body, unstuffed.
    BodyChunk {
        /// The command.
        id: CommandId,
        /// The bytes.
        chunk: Bytes,
    },
    /// The end of a RETR / TOP body.
    BodyEnd {
        /// The command.
        id: CommandId,
    },
}

/// Bytes to write, and the redacted command lines they hold (for tracing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The bytes for the socket.
    pub data: Vec<u8>,
    /// One redacted line per command, while trace lines are kept
    /// ([`Session::set_trace`](super::Session::set_trace); empty otherwise).
    pub redacted: Vec<String>,
}
