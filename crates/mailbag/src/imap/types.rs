//! Typed results of the session methods (RFC 9051 7.1 response codes, 7.3 mailbox data).

use bytes::Bytes;
use mailbag_proto::imap::types::{
    Data, Flag, MetadataEntries, ModSeq, Namespace, QuotaResource, ResponseCode, SequenceSet,
    StatusItem, Uid, UidValidity,
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

/// NAMESPACE (RFC 2342, RFC 9051 7.2.2): where the user's, other users' and shared mailboxes
/// live, each with its prefix and hierarchy delimiter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// The user's own namespaces (usually one, prefix `""` or `"INBOX."`).
    pub personal: Vec<Namespace>,
    /// Other users' namespaces.
    pub other: Vec<Namespace>,
    /// Shared namespaces.
    pub shared: Vec<Namespace>,
}

impl Namespaces {
    pub(crate) fn from_data(data: Vec<Data>) -> Self {
        data.into_iter()
            .find_map(|d| match d {
                Data::Namespace {
                    personal,
                    other,
                    shared,
                } => Some(Namespaces {
                    personal,
                    other,
                    shared,
                }),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// One quota root's resources (RFC 9208 `QUOTA` response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// The quota root's name (may be empty).
    pub root: String,
    /// Each resource with its usage and limit (STORAGE in units of 1024 octets).
    pub resources: Vec<QuotaResource>,
}

/// GETQUOTAROOT's answer (RFC 9208): the mailbox's quota roots and the quota of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaRoots {
    /// The quota roots of the mailbox, in the server's order.
    pub roots: Vec<String>,
    /// The quotas the server reported.
    pub quotas: Vec<Quota>,
}

impl QuotaRoots {
    pub(crate) fn from_data(data: Vec<Data>) -> Self {
        let mut out = QuotaRoots::default();
        for d in data {
            match d {
                Data::QuotaRoot { roots, .. } => out.roots.extend(roots),
                Data::Quota { root, resources } => out.quotas.push(Quota { root, resources }),
                _ => {}
            }
        }
        out
    }
}

/// One entry of GETMETADATA (RFC 5464): its name and value (`None` for NIL: not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEntry {
    /// The entry name (`/private/comment`, `/shared/vendor/...`).
    pub name: String,
    /// The value; `None` when the server has none.
    pub value: Option<Bytes>,
}

impl MetadataEntry {
    pub(crate) fn from_data(data: Vec<Data>) -> Vec<MetadataEntry> {
        data.into_iter()
            .flat_map(|d| match d {
                Data::Metadata {
                    entries: MetadataEntries::Values(values),
                    ..
                } => values,
                _ => Vec::new(),
            })
            .map(|(name, value)| MetadataEntry { name, value })
            .collect()
    }
}
