//! Responses, their status and response codes (RFC 9051 7.1, 7.5; RFC 5530 and the
//! extensions' codes).

use bytes::Bytes;

use super::atoms::{Flag, Tag};
use super::capability::Capability;
use super::data::Data;
use super::numbers::{ModSeq, Uid, UidValidity};
use super::sequence::SequenceSet;

/// One complete server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The first response of a connection (`* OK`, `* PREAUTH` or `* BYE`).
    Greeting(StatusText),
    /// The completion of the command with this tag.
    Tagged {
        /// The command's tag.
        tag: Tag,
        /// The outcome and its details (never PREAUTH).
        status: StatusText,
    },
    /// Data or a status the server sends with `*`.
    Untagged(Data),
    /// `+`: the server waits for the rest of a command (a literal, a SASL step, IDLE).
    Continuation(Continuation),
}

/// The outcome a status response states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`
    Ok,
    /// `NO`: the command failed.
    No,
    /// `BAD`: the server did not understand the command (a client bug or a protocol error).
    Bad,
    /// `PREAUTH`: the connection starts authenticated (greeting only).
    PreAuth,
    /// `BYE`: the server closes the connection.
    Bye,
}

/// A status with its optional response code and human-readable text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusText {
    /// The outcome.
    pub status: Status,
    /// The bracketed response code, if any.
    pub code: Option<ResponseCode>,
    /// The text after it (may be empty: some servers send none).
    pub text: String,
}

/// What follows a `+`: base64 data for SASL, or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// A response code, in the rare case a server sends one here.
    pub code: Option<ResponseCode>,
    /// The rest of the line, as sent (empty for a bare `+`). For AUTHENTICATE this is the
    /// base64 challenge.
    pub text: Bytes,
}

/// A response code: the bracketed part after OK, NO, BAD, PREAUTH or BYE.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseCode {
    /// `ALERT`: the text must be shown to the user.
    Alert,
    /// `BADCHARSET` with the charsets the server supports.
    BadCharset(Vec<String>),
    /// `CAPABILITY` list (in a greeting or an OK after login).
    Capability(Vec<Capability>),
    /// `PARSE`: the server could not parse a message's headers.
    Parse,
    /// `PERMANENTFLAGS`: the flags the client can store permanently.
    PermanentFlags(Vec<Flag>),
    /// `READ-ONLY`
    ReadOnly,
    /// `READ-WRITE`
    ReadWrite,
    /// `TRYCREATE`: the target mailbox does not exist but can be created.
    TryCreate,
    /// `UIDNEXT`
    UidNext(Uid),
    /// `UIDVALIDITY`
    UidValidity(UidValidity),
    /// `UNSEEN` (IMAP4rev1): the first unseen message's sequence number.
    Unseen(u32),
    /// `APPENDUID` (RFC 4315): the UIDVALIDITY and UIDs of appended messages.
    AppendUid {
        /// The target mailbox's UIDVALIDITY.
        uid_validity: UidValidity,
        /// The UIDs given to the appended messages.
        uids: SequenceSet<Uid>,
    },
    /// `COPYUID` (RFC 4315)
    CopyUid {
        /// The target mailbox's UIDVALIDITY.
        uid_validity: UidValidity,
        /// The source UIDs.
        source: SequenceSet<Uid>,
        /// The UIDs in the target mailbox, in the same order.
        target: SequenceSet<Uid>,
    },
    /// `UIDNOTSTICKY` (RFC 4315)
    UidNotSticky,
    /// `HIGHESTMODSEQ` (RFC 7162)
    HighestModSeq(ModSeq),
    /// `NOMODSEQ` (RFC 7162)
    NoModSeq,
    /// `MODIFIED` (RFC 7162): the messages a conditional STORE did not change.
    Modified(SequenceSet<std::num::NonZeroU32>),
    /// `CLOSED` (RFC 7162): the previous mailbox is closed.
    Closed,
    /// `COMPRESSIONACTIVE` (RFC 4978)
    CompressionActive,
    /// `NOTSAVED` (RFC 5182)
    NotSaved,
    /// `MAILBOXID` (RFC 8474)
    MailboxId(String),
    /// `METADATA LONGENTRIES n`, `METADATA MAXSIZE n`, `METADATA TOOMANY`,
    /// `METADATA NOPRIVATE` (RFC 5464)
    Metadata(MetadataCode),
    /// `BADEVENT` (RFC 5465) with the events the server supports (raw).
    BadEvent(String),
    /// `NOUPDATE "tag"` (RFC 5465)
    NoUpdate(String),
    /// `UNAVAILABLE`, `AUTHENTICATIONFAILED` and the other RFC 5530 codes, and `NONEXISTENT`,
    /// `ALREADYEXISTS` (which RFC 5530 also defines).
    Rfc5530(Rfc5530Code),
    /// Any other code: its atom and the rest of the bracket as sent.
    Other {
        /// The code's name.
        name: String,
        /// The text after the name, if any.
        text: Option<String>,
    },
}

/// The METADATA response codes (RFC 5464 4.2-4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataCode {
    /// `LONGENTRIES n`
    LongEntries(u64),
    /// `MAXSIZE n`
    MaxSize(u64),
    /// `TOOMANY`
    TooMany,
    /// `NOPRIVATE`
    NoPrivate,
}

/// The response codes of RFC 5530, which say why a command failed in words a program can act
/// on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the names are the RFC's; see RFC 5530 section 3
pub enum Rfc5530Code {
    Unavailable,
    AuthenticationFailed,
    AuthorizationFailed,
    Expired,
    PrivacyRequired,
    ContactAdmin,
    NoPerm,
    InUse,
    ExpungeIssued,
    Corruption,
    ServerBug,
    ClientBug,
    CannotDo,
    Limit,
    OverQuota,
    AlreadyExists,
    NonExistent,
}

impl Rfc5530Code {
    /// The code for an atom, matched without regard to case.
    pub fn from_wire(atom: &str) -> Option<Self> {
        use Rfc5530Code::*;
        Some(match atom.to_ascii_uppercase().as_str() {
            "UNAVAILABLE" => Unavailable,
            "AUTHENTICATIONFAILED" => AuthenticationFailed,
            "AUTHORIZATIONFAILED" => AuthorizationFailed,
            "EXPIRED" => Expired,
            "PRIVACYREQUIRED" => PrivacyRequired,
            "CONTACTADMIN" => ContactAdmin,
            "NOPERM" => NoPerm,
            "INUSE" => InUse,
            "EXPUNGEISSUED" => ExpungeIssued,
            "CORRUPTION" => Corruption,
            "SERVERBUG" => ServerBug,
            "CLIENTBUG" => ClientBug,
            "CANNOT" => CannotDo,
            "LIMIT" => Limit,
            "OVERQUOTA" => OverQuota,
            "ALREADYEXISTS" => AlreadyExists,
            "NONEXISTENT" => NonExistent,
            _ => return None,
        })
    }
}
