//! Typed results of the session methods (RFC 9051 7.1 response codes, 7.3 mailbox data).

use mailbag_proto::imap::types::{
    Data, Flag, ModSeq, ResponseCode, SequenceSet, StatusItem, Uid, UidValidity,
};

/// What SELECT or EXAMINE tells about a mailbox (RFC 9051 6.3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxSummary {
    /// EXISTS: the number of messages.
    pub exists: u32,
    /// RECENT (IMAP4rev1 servers only).
    pub recent: u32,
    /// UIDVALIDITY.
    pub uid_validity: Option<UidValidity>,
    /// UIDNEXT.
    pub uid_next: Option<Uid>,
    /// FLAGS: the flags defined in the mailbox.
    pub flags: Vec<Flag>,
    /// PERMANENTFLAGS: the flags that can be stored permanently.
    pub permanent_flags: Vec<Flag>,
    /// READ-ONLY was not announced (EXAMINE is always read-only).
    pub read_write: bool,
    /// HIGHESTMODSEQ (CONDSTORE).
    pub highest_modseq: Option<ModSeq>,
    /// UNSEEN: the sequence number of the first unseen message (IMAP4rev1).
    pub first_unseen: Option<u32>,
}

impl MailboxSummary {
    pub(crate) fn from_responses(data: &[Data], code: Option<&ResponseCode>) -> Self {
        let mut s = MailboxSummary {
            read_write: true,
            ..MailboxSummary::default()
        };
        let mut apply = |code: &ResponseCode| match code {
            ResponseCode::UidValidity(v) => s.uid_validity = Some(*v),
            ResponseCode::UidNext(n) => s.uid_next = Some(*n),
            ResponseCode::PermanentFlags(f) => s.permanent_flags = f.clone(),
            ResponseCode::HighestModSeq(m) => s.highest_modseq = Some(*m),
            ResponseCode::Unseen(n) => s.first_unseen = Some(*n),
            ResponseCode::ReadOnly => s.read_write = false,
            ResponseCode::ReadWrite => s.read_write = true,
            _ => {}
        };
        for d in data {
            if let Data::Status(st) = d {
                if let Some(c) = &st.code {
                    apply(c);
                }
            }
        }
        if let Some(c) = code {
            apply(c);
        }
        for d in data {
            match d {
                Data::Exists(n) => s.exists = *n,
                Data::Recent(n) => s.recent = *n,
                Data::Flags(f) => s.flags = f.clone(),
                _ => {}
            }
        }
        s
    }
}

/// The counters of STATUS (RFC 9051 6.3.11, RFC 8438 SIZE).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    /// MESSAGES
    pub messages: Option<u32>,
    /// RECENT
    pub recent: Option<u32>,
    /// UIDNEXT
    pub uid_next: Option<u32>,
    /// UIDVALIDITY
    pub uid_validity: Option<u32>,
    /// UNSEEN
    pub unseen: Option<u32>,
    /// DELETED
    pub deleted: Option<u32>,
    /// SIZE
    pub size: Option<u64>,
    /// HIGHESTMODSEQ
    pub highest_modseq: Option<u64>,
}

impl MailboxStatus {
    pub(crate) fn from_items(items: &[StatusItem]) -> Self {
        let mut s = MailboxStatus::default();
        for item in items {
            match item {
                StatusItem::Messages(n) => s.messages = Some(*n),
                StatusItem::Recent(n) => s.recent = Some(*n),
                StatusItem::UidNext(n) => s.uid_next = Some(*n),
                StatusItem::UidValidity(n) => s.uid_validity = Some(*n),
                StatusItem::Unseen(n) => s.unseen = Some(*n),
                StatusItem::Deleted(n) => s.deleted = Some(*n),
                StatusItem::Size(n) => s.size = Some(*n),
                StatusItem::HighestModSeq(n) => s.highest_modseq = Some(*n),
                _ => {}
            }
        }
        s
    }
}

/// APPENDUID (RFC 4315): where an appended message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    /// The target mailbox's UIDVALIDITY.
    pub uid_validity: UidValidity,
    /// The new UIDs.
    pub uids: SequenceSet<Uid>,
}

/// COPYUID (RFC 4315): where copied or moved messages went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyResult {
    /// The target mailbox's UIDVALIDITY.
    pub uid_validity: UidValidity,
    /// The source UIDs.
    pub source: SequenceSet<Uid>,
    /// The target UIDs, in the same order.
    pub target: SequenceSet<Uid>,
}
