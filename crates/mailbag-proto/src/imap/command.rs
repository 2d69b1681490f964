//! Client commands (RFC 9051 section 6, RFC 3501, and the extensions of the issue).
//!
//! A [`Command`] holds typed values only; [`encode`](crate::imap::encode()) turns it into
//! bytes. Whether a command is UID-based follows from its [`MessageSet`]: `MessageSet::Uid`
//! makes `UID FETCH`, `UID STORE` and so on, so a UID can never be sent as a sequence number.

use crate::imap::search::SearchKey;
use crate::imap::types::{
    Capability, Flag, MailboxAttribute, MailboxName, ModSeq, Section, SeqNum, SequenceSet, Uid,
    UidValidity,
};
use crate::secret::Secret;

/// A command, without its tag (the state machine gives tags).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `CAPABILITY`
    Capability,
    /// `NOOP`
    Noop,
    /// `LOGOUT`
    Logout,
    /// `STARTTLS`
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (RFC 9051 6.2.2, SASL-IR RFC 4959). The
    /// initial response is raw bytes; the encoder base64-encodes it (`=` when empty). Send
    /// one only when the server offers SASL-IR.
    Authenticate {
        /// The SASL mechanism (`PLAIN`, `XOAUTH2`, ...).
        mechanism: String,
        /// The initial client response.
        initial_response: Option<Secret<Vec<u8>>>,
    },
    /// `LOGIN user password`
    Login {
        /// The user name.
        username: String,
        /// The password.
        password: Secret<String>,
    },
    /// `ENABLE capability...` (RFC 5161)
    Enable(Vec<Capability>),
    /// `SELECT mailbox [(params)]`
    Select {
        /// The mailbox.
        mailbox: MailboxName,
        /// CONDSTORE / QRESYNC parameters.
        params: Vec<SelectParam>,
    },
    /// `EXAMINE mailbox [(params)]`
    Examine {
        /// The mailbox.
        mailbox: MailboxName,
        /// CONDSTORE / QRESYNC parameters.
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(USE (attrs))]` (special-use per RFC 6154)
    Create {
        /// The mailbox.
        mailbox: MailboxName,
        /// Special-use attributes to give it.
        special_use: Vec<MailboxAttribute>,
    },
    /// `DELETE mailbox`
    Delete(MailboxName),
    /// `RENAME from to`
    Rename {
        /// The current name.
        from: MailboxName,
        /// The new name.
        to: MailboxName,
    },
    /// `SUBSCRIBE mailbox`
    Subscribe(MailboxName),
    /// `UNSUBSCRIBE mailbox`
    Unsubscribe(MailboxName),
    /// `LIST [(selection)] reference pattern(s) [RETURN (...)]` (RFC 9051, RFC 5258, RFC 5819,
    /// RFC 6154)
    List {
        /// The reference name (usually empty).
        reference: MailboxName,
        /// Patterns with `*` and `%` wildcards; several need LIST-EXTENDED.
        patterns: Vec<String>,
        /// Selection options.
        selection: Vec<ListSelect>,
        /// Return options.
        returns: Vec<ListReturn>,
    },
    /// `LSUB reference pattern` (IMAP4rev1)
    Lsub {
        /// The reference name.
        reference: MailboxName,
        /// The pattern.
        pattern: String,
    },
    /// `NAMESPACE`
    Namespace,
    /// `STATUS mailbox (items)`
    Status {
        /// The mailbox.
        mailbox: MailboxName,
        /// The counters wanted.
        items: Vec<StatusAttribute>,
    },
    /// `APPEND mailbox [flags] [date] literal` (several messages need MULTIAPPEND)
    Append {
        /// The target mailbox.
        mailbox: MailboxName,
        /// The messages.
        messages: Vec<AppendMessage>,
    },
    /// `APPEND mailbox [flags] [date] {len}` of one message whose `len` bytes the caller
    /// supplies while it goes out, so that it is never held whole: the core asks for them
    /// with [`crate::imap::client::ClientEvent::LiteralWanted`] and takes them through
    /// [`crate::imap::client::ClientCore::send_literal`].
    AppendStream {
        /// The target mailbox.
        mailbox: MailboxName,
        /// Flags to set.
        flags: Vec<Flag>,
        /// The internal date, as `dd-Mon-yyyy hh:mm:ss +zzzz`.
        date: Option<String>,
        /// The message's exact length in bytes.
        len: u64,
    },
    /// `IDLE` (end it with [`crate::imap::encode::done`])
    Idle,
    /// `CHECK` (IMAP4rev1)
    Check,
    /// `CLOSE`
    Close,
    /// `UNSELECT` (RFC 3691)
    Unselect,
    /// `EXPUNGE`
    Expunge,
    /// `UID EXPUNGE set` (UIDPLUS)
    UidExpunge(SequenceSet<Uid>),
    /// `[UID] SEARCH [RETURN (...)] [CHARSET c] keys`
    Search {
        /// Whether the results are UIDs.
        uid: bool,
        /// The charset of the strings in the keys (`None`: US-ASCII, or UTF-8 when enabled).
        charset: Option<String>,
        /// The criteria, all of which must match (an empty list means `ALL`).
        criteria: Vec<SearchKey>,
        /// ESEARCH return options (`None`: a plain SEARCH answer).
        returns: Option<Vec<SearchReturn>>,
    },
    /// `[UID] FETCH set items [(CHANGEDSINCE m [VANISHED])]`
    Fetch {
        /// The messages.
        set: MessageSet,
        /// What to fetch.
        items: Vec<FetchAttribute>,
        /// Only messages changed since this mod-sequence (CONDSTORE).
        changed_since: Option<ModSeq>,
        /// Also report expunged UIDs (QRESYNC; needs a UID set and `changed_since`).
        vanished: bool,
    },
    /// `[UID] STORE set [(UNCHANGEDSINCE m)] [+|-]FLAGS[.SILENT] (flags)`
    Store {
        /// The messages.
        set: MessageSet,
        /// Add, remove or replace.
        kind: StoreKind,
        /// Whether to suppress the untagged FETCH answers.
        silent: bool,
        /// The flags.
        flags: Vec<Flag>,
        /// Only if not changed since (CONDSTORE).
        unchanged_since: Option<ModSeq>,
    },
    /// `[UID] STORE set X-GM-LABELS` (Gmail)
    StoreGmailLabels {
        /// The messages.
        set: MessageSet,
        /// Add, remove or replace.
        kind: StoreKind,
        /// Whether to suppress the untagged FETCH answers.
        silent: bool,
        /// The labels.
        labels: Vec<String>,
    },
    /// `[UID] COPY set mailbox`
    Copy {
        /// The messages.
        set: MessageSet,
        /// The target.
        mailbox: MailboxName,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851)
    Move {
        /// The messages.
        set: MessageSet,
        /// The target.
        mailbox: MailboxName,
    },
    /// `[UID] SORT (criteria) charset keys` (RFC 5256)
    Sort {
        /// Whether the results are UIDs.
        uid: bool,
        /// Sort order.
        criteria: Vec<SortCriterion>,
        /// The charset (`UTF-8` is always supported).
        charset: String,
        /// Which messages.
        search: Vec<SearchKey>,
    },
    /// `[UID] THREAD algorithm charset keys` (RFC 5256)
    Thread {
        /// Whether the results are UIDs.
        uid: bool,
        /// `REFERENCES`, `ORDEREDSUBJECT`, ...
        algorithm: String,
        /// The charset.
        charset: String,
        /// Which messages.
        search: Vec<SearchKey>,
    },
    /// `ID (field value ...)` or `ID NIL` (RFC 2971)
    Id(Option<Vec<(String, Option<String>)>>),
    /// `COMPRESS DEFLATE` (RFC 4978)
    CompressDeflate,
    /// `GETQUOTA root` (RFC 9208)
    GetQuota(String),
    /// `GETQUOTAROOT mailbox` (RFC 9208)
    GetQuotaRoot(MailboxName),
    /// `SETQUOTA root (resource limit ...)` (RFC 9208)
    SetQuota {
        /// The quota root.
        root: String,
        /// Resource names and limits.
        limits: Vec<(String, u64)>,
    },
    /// `GETMETADATA [(options)] mailbox (entries)` (RFC 5464)
    GetMetadata {
        /// The mailbox ("" for server metadata).
        mailbox: MailboxName,
        /// Entry names.
        entries: Vec<String>,
        /// `MAXSIZE n`
        max_size: Option<u64>,
        /// `DEPTH 0|1|infinity`
        depth: Option<MetadataDepth>,
    },
    /// `SETMETADATA mailbox (entry value ...)` (RFC 5464); `None` removes an entry.
    SetMetadata {
        /// The mailbox ("" for server metadata).
        mailbox: MailboxName,
        /// Entries and values.
        entries: Vec<(String, Option<Vec<u8>>)>,
    },
    /// `NOTIFY NONE` or `NOTIFY SET [STATUS] (...)...` (RFC 5465)
    Notify(Notify),
}

/// Which messages a command acts on; a UID set makes it a `UID` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSet {
    /// Message sequence numbers.
    Seq(SequenceSet<SeqNum>),
    /// UIDs (`UID FETCH`, `UID STORE`, ...).
    Uid(SequenceSet<Uid>),
    /// `$`: the result of the last SEARCH with `RETURN (SAVE)` (RFC 5182); `uid` says which
    /// form of the command to use.
    Saved {
        /// Whether to send the UID form.
        uid: bool,
    },
}

impl MessageSet {
    /// Whether this makes a UID command.
    pub fn is_uid(&self) -> bool {
        matches!(self, MessageSet::Uid(_) | MessageSet::Saved { uid: true })
    }
}

/// SELECT/EXAMINE parameters (RFC 7162).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectParam {
    /// `CONDSTORE`
    CondStore,
    /// `QRESYNC (uidvalidity modseq [known-uids [(seq-match uid-match)]])`
    QResync {
        /// The UIDVALIDITY the client knows.
        uid_validity: UidValidity,
        /// The highest mod-sequence it saw.
        modseq: ModSeq,
        /// The UIDs it knows.
        known_uids: Option<SequenceSet<Uid>>,
        /// Sample sequence numbers and their UIDs, to find expunges fast.
        seq_match: Option<(SequenceSet<SeqNum>, SequenceSet<Uid>)>,
    },
}

/// LIST selection options (RFC 5258, RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the RFC's option names
pub enum ListSelect {
    Subscribed,
    Remote,
    RecursiveMatch,
    SpecialUse,
}

/// LIST return options (RFC 5258, RFC 5819, RFC 6154).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    /// `SUBSCRIBED`
    Subscribed,
    /// `CHILDREN`
    Children,
    /// `SPECIAL-USE`
    SpecialUse,
    /// `STATUS (items)` (LIST-STATUS)
    Status(Vec<StatusAttribute>),
}

/// STATUS items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the RFC's item names
pub enum StatusAttribute {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    /// RFC 8438
    Size,
    /// RFC 7162
    HighestModSeq,
    /// RFC 8474
    MailboxId,
    /// RFC 7889
    AppendLimit,
}

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// Flags to set.
    pub flags: Vec<Flag>,
    /// The internal date, as `dd-Mon-yyyy hh:mm:ss +zzzz`.
    pub date: Option<String>,
    /// The message (sent as a literal; as literal8 when it holds NUL and BINARY is offered).
    pub data: Vec<u8>,
}

/// ESEARCH return options (RFC 4731, RFC 5182).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the RFC's option names
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    Save,
}

/// A FETCH data item to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each is the RFC's item of the same name
pub enum FetchAttribute {
    /// `ALL` macro (IMAP4rev1)
    All,
    /// `FAST` macro
    Fast,
    /// `FULL` macro
    Full,
    Uid,
    Flags,
    InternalDate,
    Rfc822Size,
    Envelope,
    BodyStructure,
    /// `BODY` (structure without extension data)
    Body,
    /// `BODY[section]<offset.count>` or `BODY.PEEK[...]` (peek keeps `\Seen` unset).
    BodySection {
        section: Section,
        partial: Option<(u32, u32)>,
        peek: bool,
    },
    /// `BINARY[part]<offset.count>` or `BINARY.PEEK[...]` (RFC 3516)
    Binary {
        part: Vec<u32>,
        partial: Option<(u32, u32)>,
        peek: bool,
    },
    /// `BINARY.SIZE[part]`
    BinarySize(Vec<u32>),
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    /// RFC 7162
    ModSeq,
    /// RFC 8474
    EmailId,
    /// RFC 8474
    ThreadId,
    /// RFC 8970 (`lazy` asks for `PREVIEW (LAZY)`)
    Preview {
        lazy: bool,
    },
    /// RFC 8514
    SaveDate,
    GmMsgId,
    GmThrId,
    GmLabels,
}

impl FetchAttribute {
    /// `BODY.PEEK[]`: the whole message, without setting `\Seen`.
    pub fn whole_message() -> FetchAttribute {
        FetchAttribute::BodySection {
            section: Section::full(),
            partial: None,
            peek: true,
        }
    }
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// `+FLAGS`
    Add,
    /// `-FLAGS`
    Remove,
    /// `FLAGS`
    Replace,
}

/// A SORT key (RFC 5256, RFC 5957).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortCriterion {
    /// Descending order.
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

/// What SORT orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the RFC's key names
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// GETMETADATA's DEPTH option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataDepth {
    /// `0`
    Zero,
    /// `1`
    One,
    /// `infinity`
    Infinity,
}

/// A NOTIFY command (RFC 5465).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// `NOTIFY NONE`
    None,
    /// `NOTIFY SET [STATUS] (filter events)...`
    Set {
        /// Send STATUS for the watched mailboxes first.
        status: bool,
        /// The event groups.
        groups: Vec<(NotifyFilter, Vec<NotifyEvent>)>,
    },
}

/// Which mailboxes a NOTIFY event group covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyFilter {
    /// `SELECTED`
    Selected,
    /// `SELECTED-DELAYED`
    SelectedDelayed,
    /// `INBOXES`
    Inboxes,
    /// `PERSONAL`
    Personal,
    /// `SUBSCRIBED`
    Subscribed,
    /// `SUBTREE (mailboxes)`
    Subtree(Vec<MailboxName>),
    /// `MAILBOXES (mailboxes)`
    Mailboxes(Vec<MailboxName>),
}

/// A NOTIFY event (an empty list writes `NONE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// `MessageNew [(fetch-att...)]`
    MessageNew(Vec<FetchAttribute>),
    /// `MessageExpunge`
    MessageExpunge,
    /// `FlagChange`
    FlagChange,
    /// `AnnotationChange`
    AnnotationChange,
    /// `MailboxName`
    MailboxName,
    /// `SubscriptionChange`
    SubscriptionChange,
    /// `MailboxMetadataChange`
    MailboxMetadataChange,
    /// `ServerMetadataChange`
    ServerMetadataChange,
}
