//! A typed SEARCH query (RFC 9051 6.4.4 `search-key`, RFC 3501's IMAP4rev1 keys, RFC 7162
//! MODSEQ, RFC 5032 WITHIN, RFC 8474 OBJECTID, Gmail's X-GM-RAW).
//!
//! Keys in a list are ANDed, as on the wire; [`SearchKey::or`] and `!key` (NOT) build the
//! rest. [`SearchKey::Raw`] passes criteria the program wrote itself; the encoder still
//! refuses line breaks in it.

use std::fmt;

use crate::imap::types::{Flag, ModSeq, SeqNum, SequenceSet, Uid};

/// A calendar date for SEARCH (`date = date-day "-" date-month "-" date-year`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date, or `None` when the day does not exist in that month.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let m = MONTHS
            .get(usize::from(self.month).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        write!(f, "{}-{}-{}", self.day, m, self.year)
    }
}

/// One search criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchKey {
    /// `ALL`
    All,
    /// `ANSWERED`
    Answered,
    /// `DELETED`
    Deleted,
    /// `DRAFT`
    Draft,
    /// `FLAGGED`
    Flagged,
    /// `SEEN`
    Seen,
    /// `UNANSWERED`
    Unanswered,
    /// `UNDELETED`
    Undeleted,
    /// `UNDRAFT`
    Undraft,
    /// `UNFLAGGED`
    Unflagged,
    /// `UNSEEN`
    Unseen,
    /// `NEW` (IMAP4rev1)
    New,
    /// `OLD` (IMAP4rev1)
    Old,
    /// `RECENT` (IMAP4rev1)
    Recent,
    /// `KEYWORD flag`
    Keyword(Flag),
    /// `UNKEYWORD flag`
    Unkeyword(Flag),
    /// `BCC string`
    Bcc(String),
    /// `CC string`
    Cc(String),
    /// `FROM string`
    From(String),
    /// `TO string`
    To(String),
    /// `SUBJECT string`
    Subject(String),
    /// `BODY string`
    Body(String),
    /// `TEXT string`
    Text(String),
    /// `HEADER field-name string`
    Header(String, String),
    /// `BEFORE date` (internal date)
    Before(Date),
    /// `ON date`
    On(Date),
    /// `SINCE date`
    Since(Date),
    /// `SENTBEFORE date` (Date: header)
    SentBefore(Date),
    /// `SENTON date`
    SentOn(Date),
    /// `SENTSINCE date`
    SentSince(Date),
    /// `LARGER n`
    Larger(u64),
    /// `SMALLER n`
    Smaller(u64),
    /// `OLDER seconds` (RFC 5032)
    Older(u32),
    /// `YOUNGER seconds` (RFC 5032)
    Younger(u32),
    /// `UID set`
    Uid(SequenceSet<Uid>),
    /// A sequence-number set.
    Seq(SequenceSet<SeqNum>),
    /// `$` (RFC 5182): the saved result.
    SavedResult,
    /// `MODSEQ m` (RFC 7162)
    ModSeq(ModSeq),
    /// `EMAILID id` (RFC 8474)
    EmailId(String),
    /// `THREADID id` (RFC 8474)
    ThreadId(String),
    /// `X-GM-RAW "gmail query"`
    GmRaw(String),
    /// `X-GM-MSGID n`
    GmMsgId(u64),
    /// `X-GM-THRID n`
    GmThrId(u64),
    /// `NOT key`
    Not(Box<SearchKey>),
    /// `OR key key`
    Or(Box<SearchKey>, Box<SearchKey>),
    /// `(key key ...)`: all of them.
    And(Vec<SearchKey>),
    /// Criteria written by the program, sent as they are (line breaks refused).
    Raw(String),
}

/// `!key` writes `NOT key`.
impl std::ops::Not for SearchKey {
    type Output = SearchKey;

    fn not(self) -> SearchKey {
        SearchKey::Not(Box::new(self))
    }
}

impl SearchKey {
    /// `OR self other`
    pub fn or(self, other: SearchKey) -> SearchKey {
        SearchKey::Or(Box::new(self), Box::new(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            Date::new(2024, 2, 29).map(|d| d.to_string()).as_deref(),
            Some("29-Feb-2024")
        );
        assert_eq!(Date::new(2023, 2, 29), None);
        assert_eq!(Date::new(2023, 13, 1), None);
        assert_eq!(
            Date::new(1994, 2, 1).map(|d| d.to_string()).as_deref(),
            Some("1-Feb-1994")
        );
    }
}
