//! FETCH data items (RFC 9051 7.5.2, RFC 3516 BINARY, RFC 7162 MODSEQ, RFC 8474 OBJECTID,
//! RFC 8970 PREVIEW, RFC 8514 SAVEDATE, Gmail's X-GM-EXT-1).

use bytes::Bytes;

use super::atoms::Flag;
use super::body::{BodyStructure, Envelope};
use super::date::InternalDate;
use super::numbers::{ModSeq, Uid};
use super::value::Value;

/// One item of a FETCH response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItem {
    /// `UID n`
    Uid(Uid),
    /// `FLAGS (...)`
    Flags(Vec<Flag>),
    /// `INTERNALDATE "dd-Mon-yyyy hh:mm:ss +zzzz"`: the text as sent and, when it follows
    /// the grammar, its value.
    InternalDate(InternalDate),
    /// `RFC822.SIZE n`
    Rfc822Size(u64),
    /// `ENVELOPE (...)`
    Envelope(Box<Envelope>),
    /// `BODYSTRUCTURE (...)`
    BodyStructure(Box<BodyStructure>),
    /// `BODY (...)`: the body structure without extension data.
    Body(Box<BodyStructure>),
    /// `BODY[section]<origin> data`
    BodySection {
        /// The section.
        section: Section,
        /// The offset of a partial fetch.
        origin: Option<u32>,
        /// The content; `None` for NIL.
        data: Option<Bytes>,
    },
    /// `BINARY[part]<origin> data` (RFC 3516)
    Binary {
        /// The part numbers.
        part: Vec<u32>,
        /// The offset of a partial fetch.
        origin: Option<u32>,
        /// The decoded content; `None` for NIL.
        data: Option<Bytes>,
    },
    /// `BINARY.SIZE[part] n` (RFC 3516)
    BinarySize {
        /// The part numbers.
        part: Vec<u32>,
        /// The decoded size.
        size: u64,
    },
    /// `RFC822 data` (IMAP4rev1)
    Rfc822(Option<Bytes>),
    /// `RFC822.HEADER data` (IMAP4rev1)
    Rfc822Header(Option<Bytes>),
    /// `RFC822.TEXT data` (IMAP4rev1)
    Rfc822Text(Option<Bytes>),
    /// `MODSEQ (m)` (RFC 7162)
    ModSeq(ModSeq),
    /// `EMAILID (id)` (RFC 8474)
    EmailId(String),
    /// `THREADID (id)` or `THREADID NIL` (RFC 8474)
    ThreadId(Option<String>),
    /// `X-GM-MSGID n` (Gmail)
    GmMsgId(u64),
    /// `X-GM-THRID n` (Gmail)
    GmThrId(u64),
    /// `X-GM-LABELS (...)` (Gmail): labels, system ones with their backslash.
    GmLabels(Vec<String>),
    /// `PREVIEW text` (RFC 8970); `None` for NIL.
    Preview(Option<Bytes>),
    /// `SAVEDATE "date"` or NIL (RFC 8514)
    SaveDate(Option<String>),
    /// Any other item: its name in upper case and its value.
    Other(String, Value),
}

/// A body section specifier (RFC 9051 `section`): part numbers, then what of that part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Section {
    /// The part path (`1.2.3`); empty for the whole message.
    pub part: Vec<u32>,
    /// What of the part; `None` for all of it.
    pub text: Option<SectionText>,
}

/// The part of a section after the part numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    /// `HEADER`
    Header,
    /// `HEADER.FIELDS (...)` or, with `not`, `HEADER.FIELDS.NOT (...)`
    HeaderFields {
        /// Whether these are the fields to leave out.
        not: bool,
        /// The field names.
        fields: Vec<String>,
    },
    /// `TEXT`
    Text,
    /// `MIME`
    Mime,
}

impl Section {
    /// The whole message (`BODY[]`).
    pub fn full() -> Self {
        Section::default()
    }
}
