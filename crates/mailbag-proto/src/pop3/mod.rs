//! POP3, sans-IO: types, the streaming reply parser, the command encoder and the client
//! session state machine.
//!
//! - RFC 1939: the protocol, states, commands, multi-line replies and byte-stuffing (section 3),
//!   APOP (section 7).
//! - RFC 2449: CAPA, RESP-CODES, PIPELINING; RFC 3206: SYS and AUTH response codes.
//! - RFC 2595 section 4: STLS. RFC 5034: AUTH with SASL and initial response. RFC 6856: UTF8.
//!
//! [`Session`] is the entry point; [`ReplyParser`] can be used alone to split a recorded reply.
//! A driver gives it received bytes with [`Session::feed`], or reads straight into
//! [`Session::receive_buffer`] (message chunks are then slices of the reads, with no copy);
//! [`Session::set_trace`] stops the redacted command lines for a driver that logs nothing.
//!
//! ```
//! use mailbag_proto::pop3::{Command, Event, Reply, Session, SessionState};
//! use mailbag_proto::Secret;
//!
//! let mut session = Session::new();
//! session.feed(b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n");
//! assert!(matches!(session.poll_event(), Ok(Some(Event::GreetingReceived(_)))));
//!
//! session.send(Command::User("mrose".into())).unwrap();
//! assert_eq!(session.poll_transmit().unwrap().data, b"USER mrose\r\n");
//! session.feed(b"+OK\r\n");
//! session.poll_event().unwrap();
//! session.send(Command::Pass(Secret::new("tanstaaf".into()))).unwrap();
//! assert_eq!(session.poll_transmit().unwrap().redacted, ["PASS <redacted>"]);
//! session.feed(b"+OK maildrop has 1 message (369 octets)\r\n");
//! session.poll_event().unwrap();
//! assert_eq!(session.state(), SessionState::Transaction);
//!
//! let retr = session.send(Command::Retr(1)).unwrap();
//! session.poll_transmit();
//! session.feed(b"+OK 369 octets\r\n..a line that starts with a dot\r\n.\r\n");
//! assert!(matches!(session.poll_event(), Ok(Some(Event::Ok { reply: Reply::BodyFollows(_), .. }))));
//! let Ok(Some(Event::BodyChunk { id, chunk })) = session.poll_event() else { panic!() };
//! assert_eq!((id, &chunk[..]), (retr, &b".a line that starts with a dot\r\n"[..]));
//! assert_eq!(session.poll_event(), Ok(Some(Event::BodyEnd { id: retr })));
//! ```

mod command;
mod events;
mod reply;
mod session;
mod types;

pub use command::{Capabilities, Command, EncodeError};
pub use events::{CommandId, Event, Misuse, Reply, SessionState, Transmit};
pub use reply::{ReplyEvent, ReplyParser, ReplyShape, MAX_LINE};
pub use session::{Session, DEFAULT_WINDOW, MAX_LISTING, MAX_LISTING_LINES};
pub use types::{
    Greeting, ListEntry, MessageNumber, ParseError, RespCode, Stat, StatusLine, UidlEntry,
};
