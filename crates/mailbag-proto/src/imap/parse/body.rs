//! ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 `envelope`, `body`).
//!
//! These are the structures real servers get wrong most (NIL for strings, strings for
//! numbers, negative sizes, missing fields, empty parameter lists), so every optional or
//! often-broken field is read leniently and a missing tail is left at its default.
//!
//! Strings are not copied out: each is recorded as a [`Loc`] of the response's bytes, which
//! the value keeps (one reference count), and read through its accessors.

use smallvec::SmallVec;

use super::cursor::{Cursor, PResult};
use super::data::value;
use crate::imap::types::body::{Loc, Node, NodeKind, Store};
use crate::imap::types::{BodyStructure, Envelope};

/// A vector length as a stored index.
fn index(c: &Cursor, n: usize) -> PResult<u32> {
    u32::try_from(n).map_err(|_| c.err("structure of fewer than 2^32 items"))
}

/// `envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to
/// SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"`
pub(crate) fn envelope(c: &mut Cursor) -> PResult<Box<Envelope>> {
    let base = c.pos();
    let mut side = Vec::new();
    let mut e = Box::<Envelope>::default();
    envelope_fields(c, base, &mut side, &mut e)?;
    e.store = Store {
        frame: c.frame().slice(base..c.pos()),
        side,
    };
    Ok(e)
}

fn envelope_fields(
    c: &mut Cursor,
    base: usize,
    side: &mut Vec<u8>,
    e: &mut Envelope,
) -> PResult<()> {
    c.expect(b'(', "( of envelope")?;
    c.enter()?;
    // Each field in order; a server that stops early (or sends extra) is tolerated.
    let more = |c: &mut Cursor| {
        c.sp();
        c.peek() != Some(b')')
    };
    let [date, subject, in_reply_to, message_id] = &mut e.fields;
    'fields: {
        for slot in [date, subject] {
            if !more(c) {
                break 'fields;
            }
            *slot = c.nstring_loc(base, side)?;
        }
        for list in &mut e.lists {
            if !more(c) {
                break 'fields;
            }
            let start = index(c, e.addrs.len())?;
            addresses(c, base, side, &mut e.addrs)?;
            *list = (start, index(c, e.addrs.len())?);
        }
        for slot in [in_reply_to, message_id] {
            if !more(c) {
                break 'fields;
            }
            *slot = c.nstring_loc(base, side)?;
        }
    }
    skip_to_close(c)?;
    c.leave();
    Ok(())
}

/// Skips any extra values and the closing `)`.
fn skip_to_close(c: &mut Cursor) -> PResult<()> {
    loop {
        c.sp();
        if c.eat(b')') {
            return Ok(());
        }
        value(c)?;
    }
}

/// `env-from = "(" 1*address ")" / nil` (and the other address lists), as sent: the
/// envelope folds groups when read.
fn addresses(
    c: &mut Cursor,
    base: usize,
    side: &mut Vec<u8>,
    out: &mut SmallVec<[[Loc; 4]; 6]>,
) -> PResult<()> {
    if c.peek() != Some(b'(') {
        // NIL, or a string where a list belongs (seen from broken servers): no addresses.
        return c.skip_nstring();
    }
    c.paren_each(|c| {
        out.push(address(c, base, side)?);
        Ok(())
    })
}

/// `address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`
fn address(c: &mut Cursor, base: usize, side: &mut Vec<u8>) -> PResult<[Loc; 4]> {
    c.expect(b'(', "( of address")?;
    let mut a = [Loc::NIL; 4];
    for field in &mut a {
        c.sp();
        if c.peek() == Some(b')') {
            break;
        }
        *field = c.nstring_loc(base, side)?;
    }
    skip_to_close(c)?;
    Ok(a)
}

/// A body structure under construction, in its box.
struct Build {
    base: usize,
    side: Vec<u8>,
    bs: Box<BodyStructure>,
}

/// `body = "(" (body-type-1part / body-type-mpart) ")"`, the whole structure.
pub(crate) fn body_structure(c: &mut Cursor) -> PResult<Box<BodyStructure>> {
    let base = c.pos();
    let mut b = Build {
        base,
        side: Vec::new(),
        bs: Box::new(BodyStructure {
            store: Store::default(),
            nodes: SmallVec::new(),
            params: SmallVec::new(),
            languages: Vec::new(),
            more: Vec::new(),
            envelopes: Vec::new(),
        }),
    };
    body(c, &mut b)?;
    b.bs.store = Store {
        frame: c.frame().slice(base..c.pos()),
        side: b.side,
    };
    Ok(b.bs)
}

/// One `body`, its parts after it.
fn body(c: &mut Cursor, b: &mut Build) -> PResult<()> {
    c.expect(b'(', "( of body structure")?;
    c.enter()?;
    c.sp();
    let at = b.bs.nodes.len();
    b.bs.nodes.push(Node::new(NodeKind::Basic));
    let node = if c.peek() == Some(b'(') {
        multipart(c, b)?
    } else {
        single(c, b)?
    };
    skip_to_close(c)?;
    c.leave();
    let end = index(c, b.bs.nodes.len())?;
    if let Some(slot) = b.bs.nodes.get_mut(at) {
        *slot = Node { end, ..node };
    }
    Ok(())
}

/// `body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]`
fn multipart(c: &mut Cursor, b: &mut Build) -> PResult<Node> {
    let mut n = Node::new(NodeKind::Multi);
    let mut parts = 0usize;
    while c.peek() == Some(b'(') {
        c.check_items(parts)?;
        parts = parts.saturating_add(1);
        body(c, b)?;
        c.sp();
    }
    n.subtype = c.text_loc(b.base, &mut b.side)?;
    c.sp();
    if c.peek() != Some(b')') {
        n.extension = true;
        n.params = params(c, b)?;
        ext_tail(c, b, &mut n)?;
    }
    Ok(n)
}

/// `body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]`
fn single(c: &mut Cursor, b: &mut Build) -> PResult<Node> {
    let mut n = Node::new(NodeKind::Basic);
    n.media_type = c.text_loc(b.base, &mut b.side)?;
    c.sp();
    n.subtype = c.text_loc(b.base, &mut b.side)?;
    c.sp();
    // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
    // body-fld-octets
    n.params = params(c, b)?;
    c.sp();
    n.id = c.nstring_loc(b.base, &mut b.side)?;
    c.sp();
    n.description = c.nstring_loc(b.base, &mut b.side)?;
    c.sp();
    n.encoding = c.text_loc(b.base, &mut b.side)?;
    c.sp();
    n.size = if c.peek() == Some(b')') {
        0
    } else {
        c.lenient_number()?
    };
    c.sp();
    let frame = c.frame().get(b.base..).unwrap_or_default();
    let media = n.media_type.read(frame, &b.side).unwrap_or_default();
    let subtype = n.subtype.read(frame, &b.side).unwrap_or_default();
    let is_text = media.eq_ignore_ascii_case(b"TEXT");
    let is_message = media.eq_ignore_ascii_case(b"MESSAGE")
        && (subtype.eq_ignore_ascii_case(b"RFC822") || subtype.eq_ignore_ascii_case(b"GLOBAL"));
    if is_message && c.peek() == Some(b'(') {
        // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
        n.kind = NodeKind::Message;
        let e = envelope(c)?;
        n.envelope = index(c, b.bs.envelopes.len())?;
        b.bs.envelopes.push(*e);
        c.sp();
        body(c, b)?;
        c.sp();
        n.lines = if c.peek() == Some(b')') {
            0
        } else {
            c.lenient_number()?
        };
    } else if is_text {
        n.kind = NodeKind::Text;
        n.lines = if c.peek() == Some(b')') {
            0
        } else {
            c.lenient_number()?
        };
    }
    c.sp();
    if c.peek() != Some(b')') {
        // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc
        // *(SP body-extension)]]]
        n.extension = true;
        n.md5 = c.nstring_loc(b.base, &mut b.side)?;
        ext_tail(c, b, &mut n)?;
    }
    Ok(n)
}

/// `[SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]`
fn ext_tail(c: &mut Cursor, b: &mut Build, n: &mut Node) -> PResult<()> {
    c.sp();
    if c.peek() == Some(b')') {
        return Ok(());
    }
    disposition_field(c, b, n)?;
    c.sp();
    if c.peek() == Some(b')') {
        return Ok(());
    }
    // body-fld-lang = nstring / "(" string *(SP string) ")"
    let start = index(c, b.bs.languages.len())?;
    if c.peek() == Some(b'(') {
        c.paren_each(|c| {
            let l = c.text_loc(b.base, &mut b.side)?;
            b.bs.languages.push(l);
            Ok(())
        })?;
    } else {
        // One language as a string.
        if !c.eat_word("NIL") {
            let l = c.text_loc(b.base, &mut b.side)?;
            b.bs.languages.push(l);
        }
    }
    n.language = (start, index(c, b.bs.languages.len())?);
    c.sp();
    if c.peek() == Some(b')') {
        return Ok(());
    }
    n.location = c.nstring_loc(b.base, &mut b.side)?;
    let start = index(c, b.bs.more.len())?;
    let mut count = 0usize;
    loop {
        c.sp();
        if c.peek() == Some(b')') {
            break;
        }
        c.check_items(count)?;
        count = count.saturating_add(1);
        b.bs.more.push(value(c)?);
    }
    n.more = (start, index(c, b.bs.more.len())?);
    Ok(())
}

/// `body-fld-dsp = "(" string SP body-fld-param ")" / nil`, tolerating a bare string
/// (some servers send `"inline"` alone) and a missing parameter list.
fn disposition_field(c: &mut Cursor, b: &mut Build, n: &mut Node) -> PResult<()> {
    if c.peek() != Some(b'(') {
        if !c.eat_word("NIL") {
            n.disposition = c.text_loc(b.base, &mut b.side)?;
        }
        return Ok(());
    }
    c.expect(b'(', "(")?;
    c.enter()?;
    c.sp();
    n.disposition = c.text_loc(b.base, &mut b.side)?;
    c.sp();
    if c.peek() != Some(b')') {
        n.disposition_params = params(c, b)?;
    }
    skip_to_close(c)?;
    c.leave();
    Ok(())
}

/// `body-fld-param = "(" string SP string *(SP string SP string) ")" / nil`, tolerating an
/// empty list, NIL values and an odd count. Returns the range of the structure's parameters.
fn params(c: &mut Cursor, b: &mut Build) -> PResult<(u32, u32)> {
    let start = index(c, b.bs.params.len())?;
    if c.peek() != Some(b'(') {
        c.skip_nstring()?;
        return Ok((start, start));
    }
    let mut key: Option<Loc> = None;
    c.paren_each(|c| {
        match key.take() {
            None => key = Some(c.text_loc(b.base, &mut b.side)?),
            Some(k) => {
                let v = c.nstring_loc(b.base, &mut b.side)?;
                b.bs.params.push((k, v));
            }
        }
        Ok(())
    })?;
    if let Some(k) = key {
        b.bs.params.push((k, Loc::NIL));
    }
    Ok((start, index(c, b.bs.params.len())?))
}
