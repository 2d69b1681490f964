//! Encoding of the structured arguments: sets, FETCH items, sections, SEARCH keys.

use super::{EncodeError, Writer};
use crate::imap::command::{FetchAttribute, MessageSet};
use crate::imap::search::SearchKey;
use crate::imap::types::{Section, SectionText, SequenceSet, SetKind};

/// `sequence-set`, refusing an empty set (the grammar has no way to write one).
pub(crate) fn set<K: SetKind>(w: &mut Writer, s: &SequenceSet<K>) -> Result<(), EncodeError> {
    if s.is_empty() {
        return Err(EncodeError::Empty {
            what: "sequence set",
        });
    }
    w.display(s);
    Ok(())
}

/// A [`MessageSet`]: its numbers, or `$`.
pub(crate) fn message_set(w: &mut Writer, s: &MessageSet) -> Result<(), EncodeError> {
    match s {
        MessageSet::Seq(s) => set(w, s),
        MessageSet::Uid(s) => set(w, s),
        MessageSet::Saved { .. } => {
            w.raw(b"$");
            Ok(())
        }
    }
}

/// `section = "[" [section-spec] "]"`
pub(crate) fn section(w: &mut Writer, s: &Section) -> Result<(), EncodeError> {
    w.raw(b"[");
    part(w, &s.part);
    if let Some(text) = &s.text {
        if !s.part.is_empty() {
            w.raw(b".");
        }
        match text {
            SectionText::Header => w.raw(b"HEADER"),
            SectionText::Text => w.raw(b"TEXT"),
            SectionText::Mime => {
                if s.part.is_empty() {
                    return Err(EncodeError::Invalid("MIME needs a part number"));
                }
                w.raw(b"MIME")
            }
            SectionText::HeaderFields { not, fields } => {
                if fields.is_empty() {
                    return Err(EncodeError::Empty {
                        what: "header field list",
                    });
                }
                w.raw(if *not {
                    b"HEADER.FIELDS.NOT "
                } else {
                    b"HEADER.FIELDS "
                });
                w.list(fields, |w, f| w.astring("header field name", f.as_bytes()))?;
            }
        }
    }
    w.raw(b"]");
    Ok(())
}

fn part(w: &mut Writer, part: &[u32]) {
    for (i, p) in part.iter().enumerate() {
        if i > 0 {
            w.raw(b".");
        }
        w.display(p);
    }
}

fn partial(w: &mut Writer, p: Option<(u32, u32)>) {
    if let Some((offset, count)) = p {
        w.display(format_args!("<{offset}.{count}>"));
    }
}

/// `fetch-att`
pub(crate) fn fetch_attribute(w: &mut Writer, a: &FetchAttribute) -> Result<(), EncodeError> {
    use FetchAttribute::*;
    match a {
        All => w.raw(b"ALL"),
        Fast => w.raw(b"FAST"),
        Full => w.raw(b"FULL"),
        Uid => w.raw(b"UID"),
        Flags => w.raw(b"FLAGS"),
        InternalDate => w.raw(b"INTERNALDATE"),
        Rfc822Size => w.raw(b"RFC822.SIZE"),
        Envelope => w.raw(b"ENVELOPE"),
        BodyStructure => w.raw(b"BODYSTRUCTURE"),
        Body => w.raw(b"BODY"),
        BodySection {
            section: s,
            partial: p,
            peek,
        } => {
            w.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
            section(w, s)?;
            partial(w, *p);
        }
        Binary {
            part: pt,
            partial: p,
            peek,
        } => {
            w.raw(if *peek { b"BINARY.PEEK[" } else { b"BINARY[" });
            part(w, pt);
            w.raw(b"]");
            partial(w, *p);
        }
        BinarySize(pt) => {
            w.raw(b"BINARY.SIZE[");
            part(w, pt);
            w.raw(b"]");
        }
        Rfc822 => w.raw(b"RFC822"),
        Rfc822Header => w.raw(b"RFC822.HEADER"),
        Rfc822Text => w.raw(b"RFC822.TEXT"),
        ModSeq => w.raw(b"MODSEQ"),
        EmailId => w.raw(b"EMAILID"),
        ThreadId => w.raw(b"THREADID"),
        Preview { lazy } => w.raw(if *lazy { b"PREVIEW (LAZY)" } else { b"PREVIEW" }),
        SaveDate => w.raw(b"SAVEDATE"),
        GmMsgId => w.raw(b"X-GM-MSGID"),
        GmThrId => w.raw(b"X-GM-THRID"),
        GmLabels => w.raw(b"X-GM-LABELS"),
    }
    Ok(())
}

/// FETCH's item list: one item bare, several in parentheses; the macros only alone.
pub(crate) fn fetch_attributes(
    w: &mut Writer,
    items: &[FetchAttribute],
) -> Result<(), EncodeError> {
    match items {
        [] => Err(EncodeError::Empty {
            what: "FETCH item list",
        }),
        [one] => fetch_attribute(w, one),
        many => {
            if many.iter().any(|a| {
                matches!(
                    a,
                    FetchAttribute::All | FetchAttribute::Fast | FetchAttribute::Full
                )
            }) {
                return Err(EncodeError::Invalid(
                    "ALL, FAST and FULL cannot be combined with other items",
                ));
            }
            w.list(many, fetch_attribute)
        }
    }
}

/// `search-key *(SP search-key)`; an empty list means `ALL`.
pub(crate) fn search_keys(w: &mut Writer, keys: &[SearchKey]) -> Result<(), EncodeError> {
    if keys.is_empty() {
        w.raw(b"ALL");
        return Ok(());
    }
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        search_key(w, k)?;
    }
    Ok(())
}

/// `search-key`
fn search_key(w: &mut Writer, k: &SearchKey) -> Result<(), EncodeError> {
    use SearchKey::*;
    let text = |w: &mut Writer, kw: &[u8], s: &str| -> Result<(), EncodeError> {
        w.raw(kw);
        w.sp();
        w.astring("search string", s.as_bytes())
    };
    match k {
        All => w.raw(b"ALL"),
        Answered => w.raw(b"ANSWERED"),
        Deleted => w.raw(b"DELETED"),
        Draft => w.raw(b"DRAFT"),
        Flagged => w.raw(b"FLAGGED"),
        Seen => w.raw(b"SEEN"),
        Unanswered => w.raw(b"UNANSWERED"),
        Undeleted => w.raw(b"UNDELETED"),
        Undraft => w.raw(b"UNDRAFT"),
        Unflagged => w.raw(b"UNFLAGGED"),
        Unseen => w.raw(b"UNSEEN"),
        New => w.raw(b"NEW"),
        Old => w.raw(b"OLD"),
        Recent => w.raw(b"RECENT"),
        Keyword(f) | Unkeyword(f) => {
            w.raw(if matches!(k, Keyword(_)) {
                b"KEYWORD "
            } else {
                b"UNKEYWORD "
            });
            w.flag(f)?;
        }
        Bcc(s) => text(w, b"BCC", s)?,
        Cc(s) => text(w, b"CC", s)?,
        From(s) => text(w, b"FROM", s)?,
        To(s) => text(w, b"TO", s)?,
        Subject(s) => text(w, b"SUBJECT", s)?,
        Body(s) => text(w, b"BODY", s)?,
        Text(s) => text(w, b"TEXT", s)?,
        EmailId(s) => text(w, b"EMAILID", s)?,
        ThreadId(s) => text(w, b"THREADID", s)?,
        GmRaw(s) => {
            w.raw(b"X-GM-RAW ");
            w.string("search string", s.as_bytes())?;
        }
        Header(name, value) => {
            text(w, b"HEADER", name)?;
            w.sp();
            w.astring("search string", value.as_bytes())?;
        }
        Before(d) => w.display(format_args!("BEFORE {d}")),
        On(d) => w.display(format_args!("ON {d}")),
        Since(d) => w.display(format_args!("SINCE {d}")),
        SentBefore(d) => w.display(format_args!("SENTBEFORE {d}")),
        SentOn(d) => w.display(format_args!("SENTON {d}")),
        SentSince(d) => w.display(format_args!("SENTSINCE {d}")),
        Larger(n) => w.display(format_args!("LARGER {n}")),
        Smaller(n) => w.display(format_args!("SMALLER {n}")),
        Older(n) => w.display(format_args!("OLDER {n}")),
        Younger(n) => w.display(format_args!("YOUNGER {n}")),
        GmMsgId(n) => w.display(format_args!("X-GM-MSGID {n}")),
        GmThrId(n) => w.display(format_args!("X-GM-THRID {n}")),
        ModSeq(m) => w.display(format_args!("MODSEQ {m}")),
        Uid(s) => {
            w.raw(b"UID ");
            set(w, s)?;
        }
        Seq(s) => set(w, s)?,
        SavedResult => w.raw(b"$"),
        Not(inner) => {
            w.raw(b"NOT ");
            search_key(w, inner)?;
        }
        Or(a, b) => {
            w.raw(b"OR ");
            search_key(w, a)?;
            w.sp();
            search_key(w, b)?;
        }
        And(keys) => {
            if keys.is_empty() {
                return Err(EncodeError::Empty {
                    what: "search key group",
                });
            }
            w.list(keys, search_key)?;
        }
        Raw(s) => {
            // No literal can hold raw criteria apart: line breaks would start a new command.
            if s.is_empty() || s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                return Err(EncodeError::NotAnAtom {
                    what: "raw search criteria",
                    value: s.clone(),
                });
            }
            w.raw(s.as_bytes());
        }
    }
    Ok(())
}
