//! The values IMAP exchanges: numbers, sets, names, flags, capabilities, responses and their
//! data. Everything here is plain data; parsing lives in [`crate::imap::parse`] and writing
//! commands in [`crate::imap::command`].

mod atoms;
pub(crate) mod body;
mod capability;
mod data;
mod date;
mod fetch;
mod mailbox;
mod numbers;
mod response;
mod sequence;
mod text;
mod value;

pub use atoms::{Flag, InvalidTag, Tag};
pub use body::{
    Address, AddressEntry, Addresses, BodyStructure, Children, Disposition, Envelope, Params, Part,
};
pub use capability::Capability;
pub use data::{
    Data, ESearch, ESearchItem, ListItem, ListKind, MetadataEntries, Namespace, QuotaResource,
    StatusItem, Thread,
};
pub use date::{DateTime, InternalDate};
pub use fetch::{FetchItem, Section, SectionText};
pub use mailbox::{MailboxAttribute, MailboxName};
pub use numbers::{ModSeq, SeqNum, Uid, UidValidity, ZeroNumber};
pub use response::{
    Continuation, MetadataCode, Response, ResponseCode, Rfc5530Code, Status, StatusText,
};
pub use sequence::{Bound, InvalidSequenceSet, SeqRange, SequenceSet, SetKind};
pub use text::Text;
pub use value::Value;

pub(crate) use atoms::{is_astring_char, is_atom_char};
