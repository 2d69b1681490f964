//! IMAP (RFC 3501 IMAP4rev1, RFC 9051 IMAP4rev2 and extensions): types, a streaming response
//! parser and a command encoder, with no I/O.
//!
//! - [`types`]: the values exchanged (numbers, sequence sets, mailbox names, flags,
//!   capabilities, responses and their data).
//! - [`parse`]: [`ResponseParser`] turns received bytes into [`Event`]s.
//! - [`command`], [`search`] and [`encode`](mod@encode): a [`Command`] becomes [`Fragment`]s to send.
//!
//! ```
//! use mailbag_proto::imap::{encode, Command, EncodeOptions, Event, Fragment, ResponseParser, Tag};
//! use mailbag_proto::imap::types::{Data, Response, Status};
//!
//! // Encode a command; a synchronising literal would come as its own fragment.
//! let tag = Tag::new("A1").unwrap();
//! let select = Command::Select { mailbox: "INBOX".into(), params: vec![] };
//! let frags = encode(&tag, &select, &EncodeOptions::default()).unwrap();
//! assert_eq!(frags, vec![Fragment::Line(b"A1 SELECT INBOX\r\n".to_vec())]);
//!
//! // Parse the answer, in whatever pieces it arrives.
//! let mut parser = ResponseParser::new();
//! parser.set_expect_greeting(false);
//! parser.feed(b"* 172 EXISTS\r\nA1 OK [READ-WRITE] SELECT completed\r\n");
//! assert_eq!(parser.next_event(), Some(Event::Response(Response::Untagged(Data::Exists(172)))));
//! match parser.next_event() {
//!     Some(Event::Response(Response::Tagged { tag, status })) => {
//!         assert_eq!(tag.as_str(), "A1");
//!         assert_eq!(status.status, Status::Ok);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(parser.next_event(), None);
//! ```

pub mod client;
pub mod command;
pub mod encode;
pub mod parse;
pub mod search;
pub mod types;
pub mod utf7;

pub use command::Command;
pub use encode::{
    authenticate_response, done, encode, EncodeError, EncodeOptions, Fragment, LiteralMode,
};
pub use parse::{Event, Limits, ParseError, ResponseParser};
pub use types::{MailboxName, Response, SeqNum, SequenceSet, Tag, Uid};
