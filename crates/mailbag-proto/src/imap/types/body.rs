//! ENVELOPE and BODYSTRUCTURE (RFC 9051 7.5.2 `envelope`, `body`).
//!
//! Header-derived strings stay bytes: servers send them raw (RFC 2047 encoded words, or 8-bit
//! text in any charset), and only a MIME decoder above this layer can read them right.

use bytes::Bytes;

use super::text::Text;
use super::value::Value;

/// The parsed header summary of a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// `Date:`
    pub date: Option<Bytes>,
    /// `Subject:`
    pub subject: Option<Bytes>,
    /// `From:`
    pub from: Vec<AddressEntry>,
    /// `Sender:`
    pub sender: Vec<AddressEntry>,
    /// `Reply-To:`
    pub reply_to: Vec<AddressEntry>,
    /// `To:`
    pub to: Vec<AddressEntry>,
    /// `Cc:`
    pub cc: Vec<AddressEntry>,
    /// `Bcc:`
    pub bcc: Vec<AddressEntry>,
    /// `In-Reply-To:`
    pub in_reply_to: Option<Bytes>,
    /// `Message-ID:`
    pub message_id: Option<Bytes>,
}

/// One address of an envelope (RFC 9051 `address`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// The display name.
    pub name: Option<Bytes>,
    /// The source route (obsolete).
    pub adl: Option<Bytes>,
    /// The local part.
    pub mailbox: Option<Bytes>,
    /// The domain.
    pub host: Option<Bytes>,
}

/// An address, or an RFC 5322 group with its members (which the wire writes as marker
/// addresses with a NIL host around the members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressEntry {
    /// A single mailbox.
    Mailbox(Address),
    /// `name: member, member;`
    Group {
        /// The group's name.
        name: Option<Bytes>,
        /// Its members.
        members: Vec<Address>,
    },
}

/// A message's MIME structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStructure {
    /// A non-multipart part.
    Single {
        /// Type, parameters, encoding and size.
        fields: BodyFields,
        /// What the media type adds.
        kind: SingleKind,
        /// Extension data (BODYSTRUCTURE only).
        extension: Option<SingleExtension>,
    },
    /// A multipart.
    Multi {
        /// The sub-parts (RFC 9051 requires at least one; a server sending none is tolerated).
        parts: Vec<BodyStructure>,
        /// The subtype (`MIXED`, `ALTERNATIVE`, ...), as sent.
        subtype: Text,
        /// Extension data (BODYSTRUCTURE only).
        extension: Option<MultiExtension>,
    },
}

/// The fields every single part has (RFC 9051 `body-fields`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyFields {
    /// The media type (`TEXT`, `IMAGE`, ...), as sent.
    pub media_type: Text,
    /// The subtype, as sent.
    pub subtype: Text,
    /// `Content-Type` parameters.
    pub params: Vec<(Text, Bytes)>,
    /// `Content-ID`
    pub id: Option<Bytes>,
    /// `Content-Description`
    pub description: Option<Bytes>,
    /// `Content-Transfer-Encoding`, as sent (`7BIT`, `BASE64`, ...).
    pub encoding: Text,
    /// The size in octets of the encoded body (0 when a server sent NIL or a negative number).
    pub size: u64,
}

/// What a single part adds for its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SingleKind {
    /// Any type but TEXT and MESSAGE/RFC822.
    Basic,
    /// TEXT/*: the size in lines.
    Text {
        /// Lines.
        lines: u64,
    },
    /// MESSAGE/RFC822 (or MESSAGE/GLOBAL): the inner message.
    Message {
        /// The inner message's envelope.
        envelope: Box<Envelope>,
        /// Its structure.
        body: Box<BodyStructure>,
        /// Lines.
        lines: u64,
    },
}

/// `Content-Disposition` (RFC 9051 `body-fld-dsp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    /// `inline`, `attachment`, ...
    pub kind: Text,
    /// Its parameters (`filename`, ...).
    pub params: Vec<(Text, Bytes)>,
}

/// Extension data of a single part (RFC 9051 `body-ext-1part`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SingleExtension {
    /// `Content-MD5`
    pub md5: Option<Bytes>,
    /// `Content-Disposition`
    pub disposition: Option<Disposition>,
    /// `Content-Language` values.
    pub language: Vec<Text>,
    /// `Content-Location`
    pub location: Option<Bytes>,
    /// Anything after, as generic values.
    pub more: Vec<Value>,
}

/// Extension data of a multipart (RFC 9051 `body-ext-mpart`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiExtension {
    /// `Content-Type` parameters (the boundary, ...).
    pub params: Vec<(Text, Bytes)>,
    /// `Content-Disposition`
    pub disposition: Option<Disposition>,
    /// `Content-Language` values.
    pub language: Vec<Text>,
    /// `Content-Location`
    pub location: Option<Bytes>,
    /// Anything after, as generic values.
    pub more: Vec<Value>,
}
