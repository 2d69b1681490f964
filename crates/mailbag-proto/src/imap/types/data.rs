//! Untagged data (RFC 9051 7.2-7.5 and the extensions' responses).

use bytes::Bytes;

use super::atoms::Flag;
use super::capability::Capability;
use super::fetch::FetchItem;
use super::mailbox::{MailboxAttribute, MailboxName};
use super::numbers::{ModSeq, SeqNum, Uid};
use super::response::StatusText;
use super::sequence::SequenceSet;
use super::value::Value;

/// Everything a server sends after `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data {
    /// `* OK/NO/BAD/BYE [code] text` (a PREAUTH outside the greeting is kept too).
    Status(StatusText),
    /// `* CAPABILITY ...`
    Capability(Vec<Capability>),
    /// `* LIST`, `* LSUB` or `* XLIST`.
    List(ListItem),
    /// `* STATUS mailbox (...)`
    MailboxStatus {
        /// The mailbox.
        mailbox: MailboxName,
        /// Its counters, in the order sent.
        items: Vec<StatusItem>,
    },
    /// `* FLAGS (...)`: the flags defined in the selected mailbox.
    Flags(Vec<Flag>),
    /// `* n EXISTS`
    Exists(u32),
    /// `* n RECENT` (IMAP4rev1)
    Recent(u32),
    /// `* n EXPUNGE`
    Expunge(SeqNum),
    /// `* SEARCH n n ... [(MODSEQ m)]`: UIDs after UID SEARCH, sequence numbers otherwise.
    Search {
        /// The matching numbers.
        numbers: Vec<u32>,
        /// The highest mod-sequence of the matches (RFC 7162 3.1.5).
        modseq: Option<ModSeq>,
    },
    /// `* ESEARCH ...` (RFC 4731, RFC 9051 7.3.4)
    ESearch(ESearch),
    /// `* SORT n n ... [(MODSEQ m)]` (RFC 5256)
    Sort {
        /// The numbers in sorted order.
        numbers: Vec<u32>,
        /// The highest mod-sequence of the matches.
        modseq: Option<ModSeq>,
    },
    /// `* THREAD (...)...` (RFC 5256)
    Thread(Vec<Thread>),
    /// `* n FETCH (...)`
    Fetch {
        /// The message's sequence number.
        seq: SeqNum,
        /// Its items, in the order sent.
        items: Vec<FetchItem>,
    },
    /// `* VANISHED [(EARLIER)] uids` (RFC 7162 3.2.10)
    Vanished {
        /// Whether this answers a QRESYNC or UID FETCH VANISHED (EARLIER) rather than
        /// announcing new expunges.
        earlier: bool,
        /// The expunged UIDs.
        uids: SequenceSet<Uid>,
    },
    /// `* ENABLED ...` (RFC 5161)
    Enabled(Vec<Capability>),
    /// `* NAMESPACE personal other shared` (RFC 2342)
    Namespace {
        /// The user's own namespaces.
        personal: Vec<Namespace>,
        /// Other users' namespaces.
        other: Vec<Namespace>,
        /// Shared namespaces.
        shared: Vec<Namespace>,
    },
    /// `* ID (...)` or `* ID NIL` (RFC 2971): field/value pairs.
    Id(Option<Vec<(String, Option<String>)>>),
    /// `* QUOTA root (...)` (RFC 9208)
    Quota {
        /// The quota root.
        root: String,
        /// The resources and their usage.
        resources: Vec<QuotaResource>,
    },
    /// `* QUOTAROOT mailbox root...` (RFC 9208)
    QuotaRoot {
        /// The mailbox.
        mailbox: MailboxName,
        /// Its quota roots.
        roots: Vec<String>,
    },
    /// `* METADATA mailbox (...)` or `* METADATA mailbox entry...` (RFC 5464)
    Metadata {
        /// The mailbox (empty for server metadata).
        mailbox: MailboxName,
        /// The entries.
        entries: MetadataEntries,
    },
    /// Any other untagged response (ACL, ANNOTATION, ...): its name in upper case, a number if
    /// one came before the name, and the rest as generic values.
    Other {
        /// The number before the name (`* 3 XYZ`), if any.
        number: Option<u32>,
        /// The response name, in upper case.
        name: String,
        /// The values after the name.
        values: Vec<Value>,
    },
}

/// Which command a [`ListItem`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// LIST
    List,
    /// LSUB
    Lsub,
    /// XLIST (Gmail)
    XList,
}

/// One mailbox of a LIST, LSUB or XLIST (RFC 9051 `mailbox-list`, RFC 5258).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Which response this came in.
    pub kind: ListKind,
    /// The mailbox's attributes.
    pub attributes: Vec<MailboxAttribute>,
    /// The hierarchy delimiter, or `None` for a flat namespace (NIL).
    pub delimiter: Option<char>,
    /// The mailbox's name.
    pub mailbox: MailboxName,
    /// `CHILDINFO (...)` (RFC 5258): why a non-matching parent is listed.
    pub child_info: Vec<String>,
    /// `OLDNAME (name)` (RFC 9051): the name before a rename.
    pub old_name: Option<MailboxName>,
    /// Other extended items, by tag.
    pub extended: Vec<(String, Value)>,
}

/// One counter of a STATUS response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the names are the RFC's status-att items
pub enum StatusItem {
    Messages(u32),
    Recent(u32),
    UidNext(u32),
    UidValidity(u32),
    Unseen(u32),
    Deleted(u32),
    /// `SIZE` (RFC 8438)
    Size(u64),
    /// `HIGHESTMODSEQ` (RFC 7162)
    HighestModSeq(u64),
    /// `APPENDLIMIT` (RFC 7889); `None` for NIL.
    AppendLimit(Option<u64>),
    /// `MAILBOXID (id)` (RFC 8474)
    MailboxId(String),
    /// Another item, by name.
    Other(String, u64),
}

/// An ESEARCH response (RFC 4731).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ESearch {
    /// The tag of the command this answers (`(TAG "A1")`).
    pub tag: Option<String>,
    /// Whether the numbers are UIDs.
    pub uid: bool,
    /// The results.
    pub items: Vec<ESearchItem>,
}

/// One ESEARCH result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ESearchItem {
    /// `MIN n`
    Min(u32),
    /// `MAX n`
    Max(u32),
    /// `COUNT n`
    Count(u32),
    /// `ALL set` (UIDs when [`ESearch::uid`]; see [`SequenceSet::into_kind`]).
    All(SequenceSet<std::num::NonZeroU32>),
    /// `MODSEQ m`
    ModSeq(ModSeq),
    /// Another result, by name.
    Other(String, Value),
}

/// A thread of THREAD (RFC 5256): a chain of messages, each the parent of the next, then the
/// sub-threads that branch from the last one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Thread {
    /// The chain (may be empty when the thread starts by branching: `((1)(2))`).
    pub chain: Vec<u32>,
    /// The branches after the chain.
    pub children: Vec<Thread>,
}

/// One namespace (RFC 2342).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The prefix (for example `""` or `"INBOX."`).
    pub prefix: MailboxName,
    /// The hierarchy delimiter, or `None` for NIL.
    pub delimiter: Option<char>,
    /// Namespace response extensions: name and values.
    pub extensions: Vec<(String, Vec<String>)>,
}

/// One quota resource (RFC 9208).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaResource {
    /// The resource name (`STORAGE`, `MESSAGE`, ...), in upper case.
    pub name: String,
    /// Current usage.
    pub usage: u64,
    /// The limit.
    pub limit: u64,
}

/// The entries of a METADATA response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataEntries {
    /// Entries with values (the answer to GETMETADATA); `None` for NIL.
    Values(Vec<(String, Option<Bytes>)>),
    /// Entry names only (an unsolicited change notice).
    Names(Vec<String>),
}
