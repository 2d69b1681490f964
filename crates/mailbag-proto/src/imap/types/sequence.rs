//! Sequence sets (RFC 9051 `sequence-set`): `1:5,7,9:*`.
//!
//! The same grammar names both message sequence numbers and UIDs; the kind parameter `K`
//! keeps the two apart at compile time ([`SeqNum`], [`Uid`], or [`NonZeroU32`] where a server
//! response does not say which, as in ESEARCH `ALL` or `MODIFIED`).

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::str::FromStr;

use super::numbers::{SeqNum, Uid};

/// A kind of number a [`SequenceSet`] can hold.
pub trait SetKind: Copy + Ord + fmt::Debug + From<NonZeroU32> + Into<NonZeroU32> {}
impl SetKind for Uid {}
impl SetKind for SeqNum {}
impl SetKind for NonZeroU32 {}

/// One end of a range: a number, or `*` (the largest number in use in the mailbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound<K> {
    /// A number.
    Value(K),
    /// `*`: the largest number in use (the number of messages, or the highest UID).
    Star,
}

impl<K: SetKind> Bound<K> {
    /// Orders `*` above every number, which is what it means whenever the mailbox holds at
    /// least as many messages as the set names.
    fn key(self) -> u64 {
        match self {
            Bound::Value(k) => u64::from(k.into().get()),
            Bound::Star => u64::from(u32::MAX) + 1,
        }
    }

    fn resolve(self, largest: u32) -> u32 {
        match self {
            Bound::Value(k) => k.into().get(),
            Bound::Star => largest,
        }
    }
}

/// An inclusive range `first:last` (a single number has `first == last`); kept with
/// `first <= last` since `5:2` and `2:5` mean the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange<K> {
    /// The lower end.
    pub first: Bound<K>,
    /// The upper end.
    pub last: Bound<K>,
}

impl<K: SetKind> SeqRange<K> {
    fn new(a: Bound<K>, b: Bound<K>) -> Self {
        if a.key() <= b.key() {
            SeqRange { first: a, last: b }
        } else {
            SeqRange { first: b, last: a }
        }
    }
}

/// A set of message numbers of kind `K`, in the order given (call [`SequenceSet::normalize`]
/// to sort and merge).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SequenceSet<K> {
    ranges: Vec<SeqRange<K>>,
    kind: PhantomData<K>,
}

impl<K: SetKind> Default for SequenceSet<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: SetKind> SequenceSet<K> {
    /// An empty set; IMAP has no way to write one, so the encoder refuses it until a number is
    /// added.
    pub fn new() -> Self {
        SequenceSet {
            ranges: Vec::new(),
            kind: PhantomData,
        }
    }

    /// The set `*`.
    pub fn star() -> Self {
        let mut s = Self::new();
        s.ranges.push(SeqRange {
            first: Bound::Star,
            last: Bound::Star,
        });
        s
    }

    /// The set `first:*`.
    pub fn from_to_end(first: K) -> Self {
        let mut s = Self::new();
        s.ranges.push(SeqRange {
            first: Bound::Value(first),
            last: Bound::Star,
        });
        s
    }

    /// A normalised set holding the given numbers, written with runs compressed.
    pub fn from_numbers<I: IntoIterator<Item = K>>(numbers: I) -> Self {
        let mut s = Self::new();
        for n in numbers {
            s.push(n);
        }
        s.normalize();
        s
    }

    /// Adds one number.
    pub fn push(&mut self, n: K) -> &mut Self {
        self.ranges.push(SeqRange {
            first: Bound::Value(n),
            last: Bound::Value(n),
        });
        self
    }

    /// Adds the inclusive range `a:b` (either end may be [`Bound::Star`]).
    pub fn push_range(&mut self, a: Bound<K>, b: Bound<K>) -> &mut Self {
        self.ranges.push(SeqRange::new(a, b));
        self
    }

    /// Whether the set names nothing.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges in order.
    pub fn ranges(&self) -> &[SeqRange<K>] {
        &self.ranges
    }

    /// Sorts the ranges and merges those that overlap or touch, so `3,1,2,7:9,8` becomes
    /// `1:3,7:9`. `*` is taken as larger than every number.
    pub fn normalize(&mut self) -> &mut Self {
        self.ranges.sort_by_key(|r| (r.first.key(), r.last.key()));
        let mut merged: Vec<SeqRange<K>> = Vec::with_capacity(self.ranges.len());
        for r in self.ranges.drain(..) {
            match merged.last_mut() {
                Some(prev) if r.first.key() <= prev.last.key().saturating_add(1) => {
                    if r.last.key() > prev.last.key() {
                        prev.last = r.last;
                    }
                }
                _ => merged.push(r),
            }
        }
        self.ranges = merged;
        self
    }

    /// Whether `n` is in the set, taking `*` as `largest` (the number of messages for
    /// sequence numbers, the highest UID for UIDs).
    pub fn contains(&self, n: K, largest: K) -> bool {
        let n = n.into().get();
        let largest = largest.into().get();
        self.ranges.iter().any(|r| {
            let (a, b) = (r.first.resolve(largest), r.last.resolve(largest));
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            a <= n && n <= b
        })
    }

    /// Every number of the set in order of the ranges, taking `*` as `largest`.
    pub fn iter(&self, largest: K) -> impl Iterator<Item = K> + '_ {
        let largest = largest.into().get();
        self.ranges.iter().flat_map(move |r| {
            let (a, b) = (r.first.resolve(largest), r.last.resolve(largest));
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            (a..=b).filter_map(|n| NonZeroU32::new(n).map(K::from))
        })
    }

    /// The same ranges seen as another kind of number, for sets whose kind the grammar leaves
    /// open (ESEARCH `ALL` after a `UID SEARCH`).
    pub fn into_kind<L: SetKind>(self) -> SequenceSet<L> {
        let conv = |b: Bound<K>| match b {
            Bound::Value(k) => Bound::Value(L::from(k.into())),
            Bound::Star => Bound::Star,
        };
        SequenceSet {
            ranges: self
                .ranges
                .into_iter()
                .map(|r| SeqRange {
                    first: conv(r.first),
                    last: conv(r.last),
                })
                .collect(),
            kind: PhantomData,
        }
    }
}

impl<K: SetKind> FromIterator<K> for SequenceSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        Self::from_numbers(iter)
    }
}

impl<K: SetKind> fmt::Display for SequenceSet<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = |f: &mut fmt::Formatter<'_>, b: Bound<K>| match b {
            Bound::Value(k) => write!(f, "{}", k.into()),
            Bound::Star => f.write_str("*"),
        };
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            bound(f, r.first)?;
            if r.first != r.last {
                f.write_str(":")?;
                bound(f, r.last)?;
            }
        }
        Ok(())
    }
}

impl<K: SetKind> fmt::Debug for SequenceSet<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SequenceSet({self})")
    }
}

/// The error for text that is not a `sequence-set`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a sequence set: {0:?}")]
pub struct InvalidSequenceSet(pub String);

impl<K: SetKind> FromStr for SequenceSet<K> {
    type Err = InvalidSequenceSet;

    /// `sequence-set = (seq-number / seq-range) ["," sequence-set]`
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || InvalidSequenceSet(s.chars().take(64).collect());
        let bound = |t: &str| -> Result<Bound<K>, InvalidSequenceSet> {
            if t == "*" {
                return Ok(Bound::Star);
            }
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            let n: u32 = t.parse().map_err(|_| err())?;
            NonZeroU32::new(n)
                .map(|n| Bound::Value(K::from(n)))
                .ok_or_else(err)
        };
        let mut set = Self::new();
        for part in s.split(',') {
            match part.split_once(':') {
                Some((a, b)) => {
                    set.push_range(bound(a)?, bound(b)?);
                }
                None => {
                    let b = bound(part)?;
                    set.ranges.push(SeqRange { first: b, last: b });
                }
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(n: u32) -> Uid {
        Uid::new(n).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn runs_are_compressed() {
        let s: SequenceSet<Uid> = [1, 2, 3, 4, 5, 7, 9, 10].into_iter().map(uid).collect();
        assert_eq!(s.to_string(), "1:5,7,9:10");
        let mut s = SequenceSet::from_numbers([uid(9)]);
        s.push_range(Bound::Value(uid(10)), Bound::Star);
        s.push(uid(1))
            .push_range(Bound::Value(uid(5)), Bound::Value(uid(2)))
            .push(uid(7));
        s.normalize();
        assert_eq!(s.to_string(), "1:5,7,9:*");
    }

    #[test]
    fn parse_iterate_contains() {
        let s: SequenceSet<SeqNum> = "4:2,7,10:*".parse().unwrap_or_default();
        assert_eq!(s.to_string(), "2:4,7,10:*");
        let all: Vec<u32> = s
            .iter(SeqNum::new(11).unwrap_or(SeqNum::from(NonZeroU32::MIN)))
            .map(SeqNum::get)
            .collect();
        assert_eq!(all, vec![2, 3, 4, 7, 10, 11]);
        let largest = SeqNum::new(20).unwrap_or(SeqNum::from(NonZeroU32::MIN));
        assert!(s.contains(SeqNum::new(15).unwrap_or(largest), largest));
        assert!(!s.contains(SeqNum::new(5).unwrap_or(largest), largest));
        assert!("0".parse::<SequenceSet<Uid>>().is_err());
        assert!("".parse::<SequenceSet<Uid>>().is_err());
        assert!("1,,2".parse::<SequenceSet<Uid>>().is_err());
    }
}
