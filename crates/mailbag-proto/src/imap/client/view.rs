//! The selected mailbox as the client knows it, kept current by every response (RFC 9051
//! sections 7.4.1 EXPUNGE and 7.3.1 EXISTS, RFC 7162 for HIGHESTMODSEQ).
//!
//! EXPUNGE renumbers every later message, and a server expunging many messages sends one
//! EXPUNGE each (100,000 for a folder emptied at once). Removing each from a plain vector
//! would shift the rest every time, O(n) each and O(n^2) for the burst, so removals only mark
//! the message gone and a Fenwick tree over the marks finds the n-th remaining message in
//! O(log n); the vector is compacted once, when the next EXISTS, VANISHED or a selection
//! needs it.

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
    /// UIDs by sequence number.
    uids: SeqMap,
}

impl MailboxView {
    /// Copies every field but the UID map from `other` (a driver that hands the view to other
    /// threads copies the map, which grows with the mailbox, less often than the counters).
    pub fn copy_counters_from(&mut self, other: &MailboxView) {
        let MailboxView {
            exists,
            recent,
            uid_validity,
            uid_next,
            highest_modseq,
            uids: _,
        } = other;
        self.exists = *exists;
        self.recent = *recent;
        self.uid_validity = *uid_validity;
        self.uid_next = *uid_next;
        self.highest_modseq = *highest_modseq;
    }

    /// The UID of message `seq`, when known.
    pub fn uid(&self, seq: SeqNum) -> Option<Uid> {
        let slot = self.uids.slot(seq_number(seq))?;
        self.uids
            .uids
            .get(slot)
            .and_then(|&u| Uid::try_from(u).ok())
    }

    pub(crate) fn set_exists(&mut self, n: u32) {
        self.exists = n;
        self.uids.compact();
        if n <= MAX_MAPPED {
            self.uids.uids.resize(n as usize, 0);
        } else {
            self.uids.uids = Vec::new();
        }
    }

    pub(crate) fn learn_uid(&mut self, seq: SeqNum, uid: Uid) {
        let s = seq_number(seq);
        if s > self.exists {
            // A FETCH beyond the last EXISTS: the server announced it late; believe it.
            self.set_exists(s);
        }
        if let Some(slot) = self.uids.slot(s) {
            if let Some(u) = self.uids.uids.get_mut(slot) {
                *u = u32::from(std::num::NonZeroU32::from(uid));
            }
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
        self.exists = self.exists.saturating_sub(1);
        let uid = self.uids.remove(seq_number(seq))?;
        Uid::try_from(uid).ok()
    }

    /// Removes the messages with these UIDs (VANISHED), where the map knows them.
    pub(crate) fn vanish(&mut self, gone: impl Fn(u32) -> bool, count: u32) {
        self.uids.compact();
        let uids = &mut self.uids.uids;
        let before = uids.len();
        uids.retain(|&u| u == 0 || !gone(u));
        let removed = u32::try_from(before.saturating_sub(uids.len())).unwrap_or(u32::MAX);
        // Messages the map did not know still leave the count.
        self.exists = self
            .exists
            .saturating_sub(removed.max(count.min(self.exists)));
        uids.truncate(self.exists as usize);
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

fn seq_number(seq: SeqNum) -> u32 {
    u32::from(std::num::NonZeroU32::from(seq))
}

/// UIDs by position (0 where unknown), some positions possibly removed since the last
/// compaction.
#[derive(Debug, Clone, Default)]
struct SeqMap {
    uids: Vec<u32>,
    /// Which positions were removed; empty when none were.
    gone: Vec<bool>,
    /// A Fenwick tree (1-based) counting the positions still there; empty when none were
    /// removed.
    tree: Vec<u32>,
}

impl SeqMap {
    /// The position of the message with sequence number `seq` (1-based), if mapped.
    fn slot(&self, seq: u32) -> Option<usize> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        if self.tree.is_empty() {
            return (index < self.uids.len()).then_some(index);
        }
        self.nth_present(seq)
    }

    /// Marks message `seq` removed; returns its UID (0 when unknown), or `None` when the map
    /// does not reach it.
    fn remove(&mut self, seq: u32) -> Option<u32> {
        let slot = self.slot(seq)?;
        if self.tree.is_empty() {
            self.build();
        }
        let uid = self.uids.get(slot).copied()?;
        if let Some(g) = self.gone.get_mut(slot) {
            *g = true;
        }
        let mut i = slot.saturating_add(1);
        while let Some(node) = self.tree.get_mut(i) {
            *node = node.saturating_sub(1);
            i = i.saturating_add(i & i.wrapping_neg());
        }
        Some(uid)
    }

    /// Builds the tree with every position present, in O(n).
    fn build(&mut self) {
        let n = self.uids.len();
        self.gone = vec![false; n];
        self.tree = vec![1; n.saturating_add(1)];
        if let Some(t) = self.tree.get_mut(0) {
            *t = 0;
        }
        for i in 1..=n {
            let parent = i.saturating_add(i & i.wrapping_neg());
            let v = self.tree.get(i).copied().unwrap_or(0);
            if let Some(p) = self.tree.get_mut(parent) {
                *p = p.saturating_add(v);
            }
        }
    }

    /// The position of the `k`-th (1-based) present message, in O(log n).
    fn nth_present(&self, k: u32) -> Option<usize> {
        let n = self.tree.len().saturating_sub(1);
        let mut pos = 0usize;
        let mut left = k;
        // The largest power of two not above n.
        let mut step = n.checked_ilog2().map_or(0, |log| 1usize << log);
        while step > 0 {
            let next = pos.saturating_add(step);
            if let Some(&count) = self.tree.get(next) {
                if next <= n && count < left {
                    pos = next;
                    left = left.saturating_sub(count);
                }
            }
            step >>= 1;
        }
        // `pos` is the last position with fewer than `k` present up to it: the answer is
        // the next one (0-based `pos`), if it exists.
        (pos < n).then_some(pos)
    }

    /// Drops the removed positions for good, in O(n).
    fn compact(&mut self) {
        if self.tree.is_empty() {
            return;
        }
        let gone = std::mem::take(&mut self.gone);
        let mut flags = gone.iter();
        self.uids
            .retain(|_| !flags.next().copied().unwrap_or(false));
        self.tree = Vec::new();
    }

    /// The UIDs of the present messages, in order.
    fn present(&self) -> impl Iterator<Item = u32> + '_ {
        self.uids
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.gone.get(*i).copied().unwrap_or(false))
            .map(|(_, &u)| u)
    }
}

/// Two maps are equal when they hold the same UIDs in the same order, whatever their
/// removals awaiting compaction.
impl PartialEq for SeqMap {
    fn eq(&self, other: &Self) -> bool {
        self.present().eq(other.present())
    }
}

impl Eq for SeqMap {}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: u32) -> SeqNum {
        SeqNum::new(n).unwrap_or_else(|| unreachable!("test numbers are not 0"))
    }

    fn uid(n: u32) -> Uid {
        Uid::new(n).unwrap_or_else(|| unreachable!("test numbers are not 0"))
    }

    /// Random EXISTS, FETCH UID, EXPUNGE and VANISHED against a plain vector.
    #[test]
    fn matches_a_plain_vector() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rand = |n: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(n.max(1))) as u32
        };
        let mut view = MailboxView::default();
        let mut model: Vec<u32> = Vec::new();
        let mut next_uid = 1u32;
        for _ in 0..20_000 {
            match rand(10) {
                0 => {
                    let add = rand(20);
                    view.set_exists(view.exists + add);
                    model.resize(model.len() + add as usize, 0);
                }
                1..=3 if !model.is_empty() => {
                    let s = 1 + rand(model.len() as u32);
                    view.learn_uid(seq(s), uid(next_uid));
                    model[s as usize - 1] = next_uid;
                    next_uid += 1;
                }
                4..=7 if !model.is_empty() => {
                    let s = 1 + rand(model.len() as u32);
                    let want = model.remove(s as usize - 1);
                    assert_eq!(view.expunge(seq(s)), Uid::new(want));
                }
                8 if !model.is_empty() => {
                    let cut = rand(next_uid);
                    let gone = |u: u32| u != 0 && u % 7 == cut % 7;
                    let count = model.iter().filter(|&&u| gone(u)).count() as u32;
                    model.retain(|&u| !gone(u));
                    view.vanish(gone, count);
                }
                _ => {}
            }
            assert_eq!(view.exists as usize, model.len());
            if !model.is_empty() {
                let s = 1 + rand(model.len() as u32);
                assert_eq!(view.uid(seq(s)), Uid::new(model[s as usize - 1]));
            }
        }
        let mut plain = MailboxView::default();
        plain.set_exists(model.len() as u32);
        for (i, &u) in model.iter().enumerate() {
            if u != 0 {
                plain.learn_uid(seq(i as u32 + 1), uid(u));
            }
        }
        plain.uid_next = view.uid_next;
        assert_eq!(plain, view);
    }

    /// 100,000 EXPUNGEs of the first message of a 1,000,000-message mailbox: with a plain
    /// vector each shifted up to 4 MB (about 200 GB of moves in all, minutes); here they
    /// take milliseconds. The bound is generous for a loaded machine and a debug build.
    #[test]
    fn a_burst_of_expunges_is_not_quadratic() {
        let mut view = MailboxView::default();
        view.set_exists(1_000_000);
        for s in 1..=1_000_000 {
            view.learn_uid(seq(s), uid(s));
        }
        let start = std::time::Instant::now();
        for i in 0..100_000u32 {
            assert_eq!(view.expunge(seq(1)), Uid::new(i + 1));
        }
        let took = start.elapsed();
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
        assert_eq!(view.exists, 900_000);
        assert_eq!(view.uid(seq(1)), Uid::new(100_001));
        assert_eq!(view.uid(seq(900_000)), Uid::new(1_000_000));
        view.set_exists(900_001);
        assert_eq!(view.uid(seq(2)), Uid::new(100_002));
        assert_eq!(view.uid(seq(900_001)), None);
    }
}
