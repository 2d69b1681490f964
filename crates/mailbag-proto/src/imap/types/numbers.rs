//! Message numbers and mailbox counters (RFC 3501 2.3.1, RFC 7162 3.1.1).
//!
//! A message sequence number and a UID are both non-zero 32-bit numbers, but mixing them up
//! is the classic IMAP client bug (it deletes the wrong message), so each has its own type and
//! neither converts into the other.

use std::fmt;
use std::num::NonZeroU32;

macro_rules! nz_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(NonZeroU32);

        impl $name {
            /// The number, or `None` when it is zero (which IMAP never allows here).
            pub const fn new(n: u32) -> Option<Self> {
                match NonZeroU32::new(n) {
                    Some(n) => Some(Self(n)),
                    None => None,
                }
            }

            /// The number as a plain integer.
            pub const fn get(self) -> u32 {
                self.0.get()
            }
        }

        impl From<NonZeroU32> for $name {
            fn from(n: NonZeroU32) -> Self {
                Self(n)
            }
        }

        impl From<$name> for NonZeroU32 {
            fn from(n: $name) -> Self {
                n.0
            }
        }

        impl TryFrom<u32> for $name {
            type Error = ZeroNumber;
            fn try_from(n: u32) -> Result<Self, ZeroNumber> {
                Self::new(n).ok_or(ZeroNumber)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

nz_newtype!(
    /// A message's unique identifier in its mailbox (RFC 3501 2.3.1.1): stable across sessions
    /// as long as the mailbox's [`UidValidity`] stays the same.
    Uid
);
nz_newtype!(
    /// A message sequence number (RFC 3501 2.3.1.2): the message's position in the mailbox,
    /// which shifts down whenever a message before it is expunged.
    SeqNum
);
nz_newtype!(
    /// The UIDVALIDITY of a mailbox (RFC 3501 2.3.1.1): when it changes, every UID a client
    /// remembered for that mailbox is void.
    UidValidity
);

/// The error for a zero where IMAP requires a non-zero number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("zero is not a valid message number here")]
pub struct ZeroNumber;

/// A CONDSTORE modification sequence (RFC 7162 3.1.1): a 63-bit counter that grows with every
/// change to a message's metadata. Zero appears only in `NOMODSEQ`-like contexts and in
/// `UNCHANGEDSINCE 0`, so it is allowed here.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ModSeq(u64);

impl ModSeq {
    /// The largest value RFC 7162 allows (2^63 - 1).
    pub const MAX: ModSeq = ModSeq(i64::MAX as u64);

    /// The mod-sequence, or `None` above 2^63 - 1.
    pub const fn new(n: u64) -> Option<Self> {
        if n > i64::MAX as u64 {
            None
        } else {
            Some(ModSeq(n))
        }
    }

    /// The value as a plain integer.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ModSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_refused() {
        assert_eq!(Uid::new(0), None);
        assert_eq!(SeqNum::try_from(0), Err(ZeroNumber));
        assert_eq!(Uid::new(7).map(Uid::get), Some(7));
        assert_eq!(ModSeq::new(u64::MAX), None);
        assert_eq!(ModSeq::new(0).map(ModSeq::get), Some(0));
    }
}
