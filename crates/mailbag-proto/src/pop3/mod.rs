//! POP3, sans-IO: types, the streaming reply parser, the command encoder and the client
//! session state machine.
//!
//! - RFC 1939: the protocol, states, commands, multi-line replies and byte-stuffing (section 3),
//!   APOP (section 7).
//! - RFC 2449: CAPA, RESP-CODES, PIPELINING; RFC 3206: SYS and AUTH response codes.
//! - RFC 2595 section 4: STLS. RFC 5034: AUTH with SASL and initial response. RFC 6856: UTF8.
//!
//! [`Session`] is the entry point; [`ReplyParser`] can be used alone to split a recorded reply.

mod command;
mod events;
mod reply;
mod session;
mod types;

pub use command::{Capabilities, Command, EncodeError};
pub use events::{CommandId, Event, Misuse, Reply, SessionState, Transmit};
pub use reply::{ReplyEvent, ReplyParser, ReplyShape, MAX_LINE};
pub use session::{Session, DEFAULT_WINDOW, MAX_LISTING};
pub use types::{
    Greeting, ListEntry, MessageNumber, ParseError, RespCode, Stat, StatusLine, UidlEntry,
};
