//! The streaming response parser: bytes in, [`Event`]s out.
//!
//! # Shape
//! Two layers, as in imap-next: a *framer* finds where each response ends (a line end outside
//! any literal, RFC 9051 section 4.3), counting literal lengths and enforcing [`Limits`] before
//! anything is buffered; then a hand-written parser reads the complete frame with a cursor
//! (`cursor.rs`), one function per ABNF rule. Because the parser only ever sees whole frames,
//! a response split at any byte boundary parses exactly as when whole, and "not enough bytes"
//! is the framer's business alone.
//!
//! # Streaming bodies
//! A literal longer than [`Limits::stream_threshold`] that is the content of a FETCH body item
//! (`BODY[...]`, `BINARY[...]`, `RFC822*`) is not buffered. The parser emits
//! [`Event::FetchStart`] with the items before it, then [`Event::BodyChunk`]s as bytes
//! arrive, then [`Event::FetchEnd`] with the items after it (or [`Event::FetchBody`] when a
//! second streamed body follows in the same FETCH). Memory stays bounded for any message size.
//!
//! # Values
//! Nothing is copied out of a frame that need not be: a literal or string value is a `Bytes`
//! slice of the frame (itself a slice of what was fed through
//! [`ResponseParser::feed_bytes`]), and an [`Envelope`](crate::imap::types::Envelope) or
//! [`BodyStructure`](crate::imap::types::BodyStructure) keeps one reference to its bytes and
//! where each of its strings lies, read through accessors. Short tokens (flags, keywords)
//! are [`Text`](crate::imap::types::Text), inline up to 24 bytes.
//!
//! # Errors
//! A response that breaks the grammar, or a limit, is skipped up to the next line end outside
//! a literal and reported as [`Event::Error`] with its first bytes; the next response parses
//! normally. Nothing the server sends can panic the parser.

mod body;
mod cursor;
mod data;
mod fetch;
mod framer;
mod response;

use bytes::Bytes;

use crate::imap::types::{FetchItem, Response, Section, SeqNum};

pub use framer::ResponseParser;

/// Bounds on what the parser buffers, so a broken or hostile server cannot exhaust memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (bytes between line ends, literals excluded). Default 32 MiB: large
    /// enough for a SEARCH answer listing millions of UIDs, a known failure of 1 MB limits.
    pub max_line_len: usize,
    /// Largest literal that is buffered whole (one not streamed). Default 64 MiB.
    pub max_literal_size: u64,
    /// Largest buffered response, lines and literals together. Default 128 MiB.
    pub max_response_size: usize,
    /// Deepest nesting of parenthesised lists (BODYSTRUCTURE nests per MIME level).
    /// Default 64.
    pub max_depth: usize,
    /// Most elements in one list or sequence (SEARCH numbers, FETCH items, ...).
    /// Default 16 million.
    pub max_items: usize,
    /// FETCH body literals longer than this are streamed as chunks. Default 64 KiB.
    pub stream_threshold: u64,
    /// Largest literal accepted for streaming. Default: no limit, since streaming holds
    /// nothing in memory.
    pub max_streamed_literal: u64,
    /// How many bytes of a malformed response an [`Event::Error`] carries. Default 4 KiB.
    pub error_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_len: 32 << 20,
            max_literal_size: 64 << 20,
            max_response_size: 128 << 20,
            max_depth: 64,
            max_items: 16 << 20,
            stream_threshold: 64 << 10,
            max_streamed_literal: u64::MAX,
            error_bytes: 4096,
        }
    }
}

/// What the parser produces, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole response.
    Response(Response),
    /// A FETCH whose body is being streamed has begun.
    FetchStart {
        /// The message's sequence number.
        seq: SeqNum,
        /// The items that came before the streamed one.
        items: Vec<FetchItem>,
        /// The streamed item and its length; [`Event::BodyChunk`]s follow.
        body: StreamedBody,
    },
    /// The next piece of the streamed body's content (never empty).
    BodyChunk(Bytes),
    /// Another streamed body begins in the same FETCH.
    FetchBody {
        /// The items between the previous streamed body and this one.
        items: Vec<FetchItem>,
        /// The streamed item and its length.
        body: StreamedBody,
    },
    /// The streamed FETCH is complete.
    FetchEnd {
        /// The items after the last streamed body.
        items: Vec<FetchItem>,
    },
    /// A response could not be parsed and was skipped (when it followed a `FetchStart`, the
    /// FETCH ends here).
    Error(ParseError),
}

/// A FETCH item whose content arrives as [`Event::BodyChunk`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedBody {
    /// Which item.
    pub item: StreamedItem,
    /// The content's length in bytes.
    pub len: u64,
}

/// The FETCH items whose content can be streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamedItem {
    /// `BODY[section]<origin>`
    BodySection {
        /// The section.
        section: Section,
        /// The offset of a partial fetch.
        origin: Option<u32>,
    },
    /// `BINARY[part]<origin>`
    Binary {
        /// The part numbers.
        part: Vec<u32>,
        /// The offset of a partial fetch.
        origin: Option<u32>,
    },
    /// `RFC822`
    Rfc822,
    /// `RFC822.HEADER`
    Rfc822Header,
    /// `RFC822.TEXT`
    Rfc822Text,
}

/// A response that was skipped: why, and its first bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}; response starts {:?}", String::from_utf8_lossy(bytes))]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// The response's first bytes (at most [`Limits::error_bytes`]).
    pub bytes: Bytes,
}

/// What made a response unparseable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The grammar was broken.
    #[error("malformed response: {0}")]
    Syntax(SyntaxError),
    /// A line was longer than [`Limits::max_line_len`].
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A literal was larger than allowed.
    #[error("literal of {size} bytes exceeds the limit of {limit}")]
    LiteralTooLarge {
        /// The announced size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A response was larger than [`Limits::max_response_size`].
    #[error("response larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit.
        limit: usize,
    },
}

/// Where and how a frame broke the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// Something else was expected at this offset of the response.
    #[error("expected {expected} at byte {offset}")]
    Expected {
        /// What the grammar wanted.
        expected: &'static str,
        /// Where, from the response's first byte.
        offset: usize,
    },
    /// Lists nested deeper than [`Limits::max_depth`].
    #[error("lists nested deeper than {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A list longer than [`Limits::max_items`].
    #[error("more than {limit} items in a list")]
    TooManyItems {
        /// The limit.
        limit: usize,
    },
}

/// Parses one complete response (greeting when `greeting`), for tests and tools that
/// already hold a whole response. Streaming is not possible here, so bodies are inline.
pub fn parse_response(bytes: &[u8], greeting: bool) -> Result<Response, SyntaxError> {
    let limits = Limits::default();
    let mut c = cursor::Cursor::new(Bytes::copy_from_slice(bytes), &limits);
    if greeting {
        response::greeting(&mut c)
    } else {
        response::response(&mut c)
    }
}
