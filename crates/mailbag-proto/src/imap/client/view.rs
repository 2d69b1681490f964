//! The selected mailbox as the client knows it, kept current by every response (RFC 9051
//! sections 7.4.1 EXPUNGE and 7.3.1 EXISTS, RFC 7162 for HIGHESTMODSEQ).

use crate::imap::types::{ModSeq, SeqNum, Uid, UidValidity};

/// The largest message count for which the sequence-number-to-UID map is kept; above it
/// the map is dropped and UIDs of expunged messages are reported as unknown.
const MAX_MAPPED: u32 = 4_000_000;

/// What is known of the selected mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxView {
    /// The number of messages (last EXISTS, minus EXPUNGEs since).
    pub exists: u32,
    /// Last RECENT.
    pub recent: u32,
    /// UIDVALIDITY, once sent.
    pub uid_validity: Option<UidValidity>,
    /// UIDNEXT, once sent.
    pub uid_next: Option<Uid>,
    /// HIGHESTMODSEQ, raised by every MODSEQ seen.
    pub highest_modseq: Option<ModSeq>,
    /// UIDs by sequence number minus one; 0 where unknown.
    uids: Vec<u32>,
}

impl MailboxView {
    /// The UID of message `seq`, when known.
    pub fn uid(&self, seq: SeqNum) -> Option<Uid> {
        let index = usize::try_from(u32::from(std::num::NonZeroU32::from(seq)) - 1).ok()?;
        self.uids.get(index).and_then(|&u| Uid::try_from(u).ok())
    }

    pub(crate) fn set_exists(&mut self, n: u32) {
        self.exists = n;
        if n <= MAX_MAPPED {
            self.uids.resize(n as usize, 0);
        } else {
            self.uids = Vec::new();
        }
    }

    pub(crate) fn learn_uid(&mut self, seq: SeqNum, uid: Uid) {
        let s = u32::from(std::num::NonZeroU32::from(seq));
        if s > self.exists {
            // A FETCH beyond the last EXISTS: the server announced it late; believe it.
            self.set_exists(s);
        }
        if let Some(slot) = self.uids.get_mut((s - 1) as usize) {
            *slot = u32::from(std::num::NonZeroU32::from(uid));
        }
        if let Some(next) = self.uid_next {
            if u32::from(std::num::NonZeroU32::from(next))
                <= u32::from(std::num::NonZeroU32::from(uid))
            {
                self.uid_next = u32::from(std::num::NonZeroU32::from(uid))
                    .checked_add(1)
                    .and_then(|n| Uid::try_from(n).ok());
            }
        }
    }

    /// Removes message `seq`, shifting the later ones down; returns its UID when known.
    pub(crate) fn expunge(&mut self, seq: SeqNum) -> Option<Uid> {
        let s = u32::from(std::num::NonZeroU32::from(seq));
        let index = (s - 1) as usize;
        self.exists = self.exists.saturating_sub(1);
        if index < self.uids.len() {
            let uid = self.uids.remove(index);
            Uid::try_from(uid).ok()
        } else {
            None
        }
    }

    /// Removes the messages with these UIDs (VANISHED), where the map knows them.
    pub(crate) fn vanish(&mut self, gone: impl Fn(u32) -> bool, count: u32) {
        let before = self.uids.len();
        self.uids.retain(|&u| u == 0 || !gone(u));
        let removed = u32::try_from(before - self.uids.len()).unwrap_or(u32::MAX);
        // Messages the map did not know still leave the count.
        self.exists = self
            .exists
            .saturating_sub(removed.max(count.min(self.exists)));
        self.uids.truncate(self.exists as usize);
    }

    pub(crate) fn raise_modseq(&mut self, m: ModSeq) {
        if self.highest_modseq.is_none_or(|h| h < m) {
            self.highest_modseq = Some(m);
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = MailboxView::default();
    }
}
