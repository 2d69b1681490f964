//! What the client core reports to its driver: events, notifications, states and errors.

use bytes::Bytes;

use crate::imap::parse::{ParseError, StreamedBody};
use crate::imap::types::{
    Data, FetchItem, Flag, ModSeq, SeqNum, SequenceSet, StatusText, Uid, UidValidity,
};

/// The handle of one submitted command: every event about it carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub u64);

/// The connection states of RFC 9051 section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Waiting for the greeting.
    Greeting,
    /// Not authenticated: only CAPABILITY, NOOP, LOGOUT, STARTTLS, AUTHENTICATE, LOGIN, ID.
    NotAuthenticated,
    /// Authenticated, no mailbox selected.
    Authenticated,
    /// A mailbox is selected.
    Selected,
    /// LOGOUT sent or BYE received: nothing more may be sent.
    Logout,
}

/// What the core tells its driver, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The greeting arrived (OK, PREAUTH or BYE).
    GreetingReceived(StatusText),
    /// Untagged data that answers the command `id`.
    Data {
        /// The command.
        id: CommandId,
        /// The data.
        data: Data,
    },
    /// A FETCH response of command `id` whose body is streamed: the items before the body.
    FetchStarted {
        /// The command.
        id: CommandId,
        /// The message.
        seq: SeqNum,
        /// Items sent before the streamed body.
        items: Vec<FetchItem>,
        /// Which body and its length.
        body: StreamedBody,
    },
    /// A piece of the streamed body of command `id`.
    BodyChunk {
        /// The command.
        id: CommandId,
        /// The bytes, shared with the parser's buffer.
        chunk: Bytes,
    },
    /// A second streamed body in the same FETCH response.
    FetchBodyStarted {
        /// The command.
        id: CommandId,
        /// Items between the previous body and this one.
        items: Vec<FetchItem>,
        /// Which body and its length.
        body: StreamedBody,
    },
    /// The end of a streamed FETCH response, with the items after the last body.
    FetchEnded {
        /// The command.
        id: CommandId,
        /// Items after the last streamed body.
        items: Vec<FetchItem>,
    },
    /// The server accepted IDLE (its `+`): notifications follow until DONE.
    IdleAccepted(CommandId),
    /// The literal of command `id` ([`crate::imap::Command::AppendStream`]) may go now: give
    /// its `len` bytes to [`super::ClientCore::send_literal`], in pieces of any size. Nothing
    /// else is sent until they are all given.
    LiteralWanted {
        /// The command.
        id: CommandId,
        /// How many bytes the literal holds.
        len: u64,
    },
    /// The command completed with the tagged status (OK, NO or BAD, with code and text).
    CommandCompleted {
        /// The command.
        id: CommandId,
        /// The tagged response.
        status: StatusText,
    },
    /// An unsolicited response, emitted as soon as it arrives.
    Notification(Notification),
    /// STARTTLS was accepted: the driver must switch to TLS now, then call
    /// [`super::ClientCore::tls_established`].
    StartTls,
    /// COMPRESS was accepted: every later byte, both ways, is raw DEFLATE.
    CompressionStarted,
    /// A response could not be parsed; it was skipped and the session goes on.
    ParseError(ParseError),
    /// A command ran past its deadline (see [`super::ClientCore::handle_timeout`]).
    TimedOut(CommandId),
}

/// An unsolicited response, typed, with the mailbox view's knowledge added (the UID of an
/// expunged message where known).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notification {
    /// `* n EXISTS`: the mailbox now holds `n` messages.
    Exists(u32),
    /// `* n RECENT`
    Recent(u32),
    /// `* n EXPUNGE`, with the message's UID when the view knew it.
    Expunge {
        /// The sequence number that was removed.
        seq: SeqNum,
        /// Its UID, when known.
        uid: Option<Uid>,
    },
    /// `* VANISHED uids` (QRESYNC).
    Vanished {
        /// Whether EARLIER was given.
        earlier: bool,
        /// The UIDs.
        uids: SequenceSet<Uid>,
    },
    /// A FETCH nobody asked for: flags or modseq changed.
    FlagsChanged {
        /// The message.
        seq: SeqNum,
        /// Its UID when sent or known.
        uid: Option<Uid>,
        /// The new flags, when sent.
        flags: Option<Vec<Flag>>,
        /// The new mod-sequence, when sent.
        modseq: Option<ModSeq>,
    },
    /// `* FLAGS`: the flags defined in the mailbox.
    MailboxFlags(Vec<Flag>),
    /// The UIDVALIDITY of the selected mailbox changed under it.
    UidValidityChanged(UidValidity),
    /// `[ALERT]`: text the user must see.
    Alert(String),
    /// `* BYE`: the server is closing the connection.
    Bye(StatusText),
    /// The server's capabilities changed (an unsolicited CAPABILITY).
    Capabilities,
    /// Any other untagged status or data nobody asked for.
    Other(Data),
}

/// Why the core refused a request: a mistake of the local program, never a round trip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The command is not valid in the current connection state.
    #[error("{command} is not valid in state {state:?}")]
    WrongState {
        /// The command's name.
        command: &'static str,
        /// The state it was issued in.
        state: ConnectionState,
    },
    /// The server does not offer what the command needs.
    #[error("the server does not offer {0}")]
    NotOffered(&'static str),
    /// The command could not be encoded.
    #[error("cannot encode the command: {0}")]
    Encode(#[from] crate::imap::encode::EncodeError),
    /// SASL failed on our side.
    #[error("SASL: {0}")]
    Sasl(String),
    /// Literal bytes were given when no literal was wanted, or more than it holds.
    #[error("{given} literal bytes given where {wanted} were wanted")]
    LiteralOverrun {
        /// The bytes given.
        given: u64,
        /// The bytes the literal still wanted.
        wanted: u64,
    },
}
