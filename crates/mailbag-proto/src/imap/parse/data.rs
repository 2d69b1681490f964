//! Untagged data rules (RFC 9051 `response-data`, `mailbox-data`, `message-data` and the
//! extensions' responses).

use std::num::NonZeroU32;

use bytes::Bytes;

use super::cursor::{is_token_byte, to_text, Cursor, PResult};
use super::fetch;
use super::response::{capability_list, flag, resp_text, status_word};
use crate::imap::types::{
    Bound, Data, ESearch, ESearchItem, ListItem, ListKind, MailboxAttribute, MailboxName,
    MetadataEntries, Namespace, QuotaResource, SeqNum, SequenceSet, StatusItem, Thread, Value,
};

/// `response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data /
/// capability-data / enable-data) CRLF`, after the `*`.
pub(crate) fn untagged(c: &mut Cursor) -> PResult<Data> {
    if let Some(status) = status_word(c)? {
        return Ok(Data::Status(resp_text(c, status)?));
    }
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        return numbered(c);
    }
    let name = c.atom_string()?.to_ascii_uppercase();
    c.sp();
    Ok(match name.as_str() {
        "CAPABILITY" => Data::Capability(capability_list(c)?),
        "ENABLED" => Data::Enabled(capability_list(c)?),
        "LIST" => Data::List(list(c, ListKind::List)?),
        "LSUB" => Data::List(list(c, ListKind::Lsub)?),
        "XLIST" => Data::List(list(c, ListKind::XList)?),
        "FLAGS" => Data::Flags(c.paren_list(flag)?),
        "STATUS" => status(c)?,
        "SEARCH" => {
            let (numbers, modseq) = numbers_with_modseq(c)?;
            Data::Search { numbers, modseq }
        }
        "SORT" => {
            let (numbers, modseq) = numbers_with_modseq(c)?;
            Data::Sort { numbers, modseq }
        }
        "ESEARCH" => Data::ESearch(esearch(c)?),
        "THREAD" => {
            let mut threads = Vec::new();
            while c.peek() == Some(b'(') {
                c.check_items(threads.len())?;
                threads.push(thread(c)?);
                c.sp();
            }
            Data::Thread(threads)
        }
        "VANISHED" => {
            let earlier = if c.peek() == Some(b'(') {
                c.paren_list(|c| c.atom_string())?
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("EARLIER"))
            } else {
                false
            };
            c.sp();
            Data::Vanished {
                earlier,
                uids: sequence_set(c)?.into_kind(),
            }
        }
        "NAMESPACE" => {
            let personal = namespaces(c)?;
            c.sp();
            let other = namespaces(c)?;
            c.sp();
            Data::Namespace {
                personal,
                other,
                shared: namespaces(c)?,
            }
        }
        "ID" => Data::Id(if c.eat_word("NIL") {
            None
        } else {
            let flat = c.paren_list(|c| c.nstring())?;
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut it = flat.into_iter();
            while let Some(k) = it.next() {
                let text = |b: Bytes| to_text(&b);
                pairs.push((
                    k.map(text).unwrap_or_default(),
                    it.next().flatten().map(text),
                ));
            }
            Some(pairs)
        }),
        "QUOTA" => {
            let root = lossy(&c.astring()?);
            c.sp();
            let resources = c.paren_list(|c| {
                let name = c.atom_string()?.to_ascii_uppercase();
                c.sp();
                let usage = c.number64()?;
                c.sp();
                Ok(QuotaResource {
                    name,
                    usage,
                    limit: c.number64()?,
                })
            })?;
            Data::Quota { root, resources }
        }
        "QUOTAROOT" => {
            let mailbox = mailbox(c)?;
            let mut roots = Vec::new();
            loop {
                c.sp();
                if c.at_eol() {
                    break;
                }
                c.check_items(roots.len())?;
                roots.push(lossy(&c.astring()?));
            }
            Data::QuotaRoot { mailbox, roots }
        }
        "METADATA" => {
            let mailbox = mailbox(c)?;
            c.sp();
            let entries = if c.peek() == Some(b'(') {
                c.expect(b'(', "(")?;
                c.enter()?;
                let mut values = Vec::new();
                loop {
                    c.sp();
                    if c.eat(b')') {
                        break;
                    }
                    c.check_items(values.len())?;
                    let entry = lossy(&c.astring()?);
                    c.sp();
                    values.push((entry, c.nstring()?));
                }
                c.leave();
                MetadataEntries::Values(values)
            } else {
                let mut names = Vec::new();
                while !c.at_eol() {
                    c.check_items(names.len())?;
                    names.push(lossy(&c.astring()?));
                    c.sp();
                }
                MetadataEntries::Names(names)
            };
            Data::Metadata { mailbox, entries }
        }
        _ => Data::Other {
            number: None,
            name,
            values: values_to_eol(c)?,
        },
    })
}

fn lossy(b: &[u8]) -> String {
    to_text(b)
}

/// `message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))` and `mailbox-data`'s
/// `number SP ("EXISTS" / "RECENT")`.
fn numbered(c: &mut Cursor) -> PResult<Data> {
    let n = c.number()?;
    c.sp();
    let name = c.atom_string()?.to_ascii_uppercase();
    c.sp();
    let nz = |c: &Cursor| {
        NonZeroU32::new(n)
            .map(SeqNum::from)
            .ok_or(c.err("non-zero message number"))
    };
    Ok(match name.as_str() {
        "EXISTS" => Data::Exists(n),
        "RECENT" => Data::Recent(n),
        "EXPUNGE" => Data::Expunge(nz(c)?),
        "FETCH" => {
            let seq = nz(c)?;
            match fetch::msg_att(c, true)? {
                fetch::FetchList::Closed(items) => Data::Fetch { seq, items },
                fetch::FetchList::Streamed { .. } => return Err(c.err("complete FETCH")),
            }
        }
        _ => Data::Other {
            number: Some(n),
            name,
            values: values_to_eol(c)?,
        },
    })
}

/// `mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
/// [SP mbox-list-extended]`
fn list(c: &mut Cursor, kind: ListKind) -> PResult<ListItem> {
    let attributes = c.paren_list(|c| {
        Ok(MailboxAttribute::from_wire(&lossy(
            c.take_while(is_token_byte),
        )))
    })?;
    c.sp();
    let delimiter = delimiter(c)?;
    c.sp();
    let mailbox = mailbox(c)?;
    let mut item = ListItem {
        kind,
        attributes,
        delimiter,
        mailbox,
        child_info: Vec::new(),
        old_name: None,
        extended: Vec::new(),
    };
    c.sp();
    if c.peek() == Some(b'(') {
        // mbox-list-extended = "(" [mbox-list-extended-item *(SP mbox-list-extended-item)] ")"
        c.expect(b'(', "(")?;
        c.enter()?;
        loop {
            c.sp();
            if c.eat(b')') {
                break;
            }
            let tag = lossy(&c.astring()?).to_ascii_uppercase();
            c.sp();
            match tag.as_str() {
                "CHILDINFO" => item.child_info = c.paren_list(|c| Ok(lossy(&c.astring()?)))?,
                "OLDNAME" => {
                    let mut names = c.paren_list(self::mailbox)?;
                    item.old_name = names.pop();
                }
                _ => item.extended.push((tag, value(c)?)),
            }
        }
        c.leave();
    }
    Ok(item)
}

/// The hierarchy delimiter: `DQUOTE QUOTED-CHAR DQUOTE / nil`.
fn delimiter(c: &mut Cursor) -> PResult<Option<char>> {
    Ok(c.nstring()?
        .and_then(|d| std::str::from_utf8(&d).ok().and_then(|s| s.chars().next())))
}

/// `mailbox = "INBOX" / astring`, tolerating NIL as the empty name.
pub(crate) fn mailbox(c: &mut Cursor) -> PResult<MailboxName> {
    if c.eat_word("NIL") {
        return Ok(MailboxName::from_wire(Bytes::new()));
    }
    Ok(MailboxName::from_wire(c.astring()?))
}

/// `mailbox-data =/ "STATUS" SP mailbox SP "(" [status-att-list] ")"`
fn status(c: &mut Cursor) -> PResult<Data> {
    let mailbox = mailbox(c)?;
    c.sp();
    let mut items = Vec::new();
    if c.at_eol() {
        // Some servers send no list at all for a mailbox they cannot count.
        return Ok(Data::MailboxStatus { mailbox, items });
    }
    c.expect(b'(', "(")?;
    loop {
        c.sp();
        if c.eat(b')') {
            break;
        }
        c.check_items(items.len())?;
        let name = c.atom_string()?.to_ascii_uppercase();
        c.sp();
        let n32 = |c: &mut Cursor| c.number();
        items.push(match name.as_str() {
            "MESSAGES" => StatusItem::Messages(n32(c)?),
            "RECENT" => StatusItem::Recent(n32(c)?),
            "UIDNEXT" => StatusItem::UidNext(n32(c)?),
            "UIDVALIDITY" => StatusItem::UidValidity(n32(c)?),
            "UNSEEN" => StatusItem::Unseen(n32(c)?),
            "DELETED" => StatusItem::Deleted(n32(c)?),
            "SIZE" => StatusItem::Size(c.number64()?),
            "HIGHESTMODSEQ" => StatusItem::HighestModSeq(c.number64()?),
            "APPENDLIMIT" => StatusItem::AppendLimit(if c.eat_word("NIL") {
                None
            } else {
                Some(c.number64()?)
            }),
            "MAILBOXID" => StatusItem::MailboxId(c.paren_list(|c| c.atom_string())?.join(" ")),
            _ => StatusItem::Other(name, c.number64()?),
        });
    }
    Ok(Data::MailboxStatus { mailbox, items })
}

/// `*(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]` (RFC 7162 for SEARCH/SORT)
fn numbers_with_modseq(c: &mut Cursor) -> PResult<(Vec<u32>, Option<crate::imap::types::ModSeq>)> {
    let mut numbers = Vec::new();
    let mut modseq = None;
    loop {
        c.sp();
        match c.peek() {
            Some(b'0'..=b'9') => {
                c.check_items(numbers.len())?;
                numbers.push(c.number()?);
            }
            Some(b'(') => {
                c.bump();
                c.sp();
                if !c.eat_word("MODSEQ") {
                    return Err(c.err("MODSEQ"));
                }
                c.sp();
                modseq = Some(fetch::modseq(c)?);
                c.sp();
                c.expect(b')', ")")?;
            }
            _ => return Ok((numbers, modseq)),
        }
    }
}

/// `esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)`
fn esearch(c: &mut Cursor) -> PResult<ESearch> {
    let mut out = ESearch {
        tag: None,
        uid: false,
        items: Vec::new(),
    };
    if c.peek() == Some(b'(') {
        // search-correlator = SP "(" "TAG" SP tag-string [SP "MAILBOX" ... ] ")"
        let vals = c.paren_list(value)?;
        let mut it = vals.iter();
        while let Some(v) = it.next() {
            if matches!(v, Value::Atom(a) if a.eq_ignore_ascii_case("TAG")) {
                out.tag = it.next().and_then(Value::as_text);
            }
        }
    }
    loop {
        c.sp();
        if c.at_eol() {
            return Ok(out);
        }
        c.check_items(out.items.len())?;
        let name = c.atom_string()?.to_ascii_uppercase();
        c.sp();
        out.items.push(match name.as_str() {
            "UID" => {
                out.uid = true;
                continue;
            }
            "MIN" => ESearchItem::Min(c.number()?),
            "MAX" => ESearchItem::Max(c.number()?),
            "COUNT" => ESearchItem::Count(c.number()?),
            "ALL" => ESearchItem::All(sequence_set(c)?),
            "MODSEQ" => ESearchItem::ModSeq(fetch::modseq(c)?),
            _ => ESearchItem::Other(name, value(c)?),
        });
    }
}

/// `thread-list = "(" (thread-members / thread-nested) ")"` (RFC 5256)
fn thread(c: &mut Cursor) -> PResult<Thread> {
    c.expect(b'(', "(")?;
    c.enter()?;
    let mut t = Thread::default();
    loop {
        c.sp();
        match c.peek() {
            Some(b')') => {
                c.bump();
                break;
            }
            Some(b'(') => {
                c.check_items(t.children.len())?;
                t.children.push(thread(c)?);
            }
            _ => {
                c.check_items(t.chain.len())?;
                t.chain.push(c.number()?);
            }
        }
    }
    c.leave();
    Ok(t)
}

/// `Namespace = nil / "(" 1*Namespace-Descr ")"` (RFC 2342)
fn namespaces(c: &mut Cursor) -> PResult<Vec<Namespace>> {
    if c.eat_word("NIL") {
        return Ok(Vec::new());
    }
    c.paren_list(|c| {
        c.expect(b'(', "(")?;
        c.sp();
        let prefix = MailboxName::from_wire(c.nstring()?.unwrap_or_default());
        c.sp();
        let delimiter = delimiter(c)?;
        let mut extensions = Vec::new();
        loop {
            c.sp();
            if c.eat(b')') {
                break;
            }
            let name = lossy(&c.string()?);
            c.sp();
            let vals = c.paren_list(|c| Ok(lossy(&c.astring()?)))?;
            extensions.push((name, vals));
        }
        Ok(Namespace {
            prefix,
            delimiter,
            extensions,
        })
    })
}

/// `sequence-set = (seq-number / seq-range) ["," sequence-set]`
pub(crate) fn sequence_set(c: &mut Cursor) -> PResult<SequenceSet<NonZeroU32>> {
    let mut set = SequenceSet::new();
    let bound = |c: &mut Cursor| -> PResult<Bound<NonZeroU32>> {
        if c.eat(b'*') {
            Ok(Bound::Star)
        } else {
            Ok(Bound::Value(c.nz_number()?))
        }
    };
    let mut count = 0usize;
    loop {
        c.check_items(count)?;
        count = count.saturating_add(1);
        let a = bound(c)?;
        let b = if c.eat(b':') { bound(c)? } else { a };
        set.push_range(a, b);
        if !c.eat(b',') {
            return Ok(set);
        }
    }
}

/// A generic value: `nil / number / atom / string / "(" [value *(SP value)] ")"`, for
/// extension data whose grammar mailbag does not know.
pub(crate) fn value(c: &mut Cursor) -> PResult<Value> {
    match c.peek() {
        Some(b'(') => Ok(Value::List(c.paren_list(value)?)),
        _ if c.at_string() => Ok(Value::String(c.string()?)),
        Some(b'0'..=b'9') => {
            let start = c.pos();
            let tok = c.take_while(is_token_byte);
            if tok.iter().all(u8::is_ascii_digit) {
                c.set_pos(start);
                if let Ok(n) = c.number64() {
                    return Ok(Value::Number(n));
                }
                c.set_pos(start);
                let tok = c.take_while(is_token_byte);
                return Ok(Value::Atom(lossy(tok)));
            }
            Ok(Value::Atom(lossy(tok)))
        }
        _ if c.eat_word("NIL") => Ok(Value::Nil),
        _ => {
            let tok = c.take_while(is_token_byte);
            if tok.is_empty() {
                Err(c.err("value"))
            } else {
                Ok(Value::Atom(lossy(tok)))
            }
        }
    }
}

/// The values up to the end of the line, for unknown responses.
fn values_to_eol(c: &mut Cursor) -> PResult<Vec<Value>> {
    let mut out = Vec::new();
    loop {
        c.sp();
        if c.at_eol() {
            return Ok(out);
        }
        c.check_items(out.len())?;
        out.push(value(c)?);
    }
}
