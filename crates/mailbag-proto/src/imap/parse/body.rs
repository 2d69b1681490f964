//! ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 `envelope`, `body`).
//!
//! These are the structures real servers get wrong most (NIL for strings, strings for
//! numbers, negative sizes, missing fields, empty parameter lists), so every optional or
//! often-broken field is read leniently and a missing tail is left at its default.

use bytes::Bytes;

use super::cursor::{Cursor, PResult};
use super::data::value;
use crate::imap::types::{
    Address, AddressEntry, BodyFields, BodyStructure, Disposition, Envelope, MultiExtension,
    SingleExtension, SingleKind, Text,
};

/// `envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to
/// SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"`
///
/// Boxed, and filled in its box: an envelope is large, and moving it costs.
pub(crate) fn envelope(c: &mut Cursor) -> PResult<Box<Envelope>> {
    c.expect(b'(', "( of envelope")?;
    c.enter()?;
    let mut e = Box::<Envelope>::default();
    // Each field in order; a server that stops early (or sends extra) is tolerated.
    for field in 0..10 {
        c.sp();
        if c.peek() == Some(b')') {
            break;
        }
        match field {
            0 => e.date = c.nstring()?,
            1 => e.subject = c.nstring()?,
            2 => e.from = addresses(c)?,
            3 => e.sender = addresses(c)?,
            4 => e.reply_to = addresses(c)?,
            5 => e.to = addresses(c)?,
            6 => e.cc = addresses(c)?,
            7 => e.bcc = addresses(c)?,
            8 => e.in_reply_to = c.nstring()?,
            _ => e.message_id = c.nstring()?,
        }
    }
    skip_to_close(c)?;
    c.leave();
    Ok(e)
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

/// `env-from = "(" 1*address ")" / nil` (and the other address lists), folding RFC 5322
/// groups: an address with NIL host starts a group (mailbox = its name) or ends it (NIL
/// mailbox).
fn addresses(c: &mut Cursor) -> PResult<Vec<AddressEntry>> {
    if c.peek() != Some(b'(') {
        // NIL, or a string where a list belongs (seen from broken servers): no addresses.
        c.skip_nstring()?;
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut group: Option<(Option<Bytes>, Vec<Address>)> = None;
    c.paren_each(|c| {
        let a = address(c)?;
        if a.host.is_none() && a.mailbox.is_some() && a.name.is_none() {
            if let Some((name, members)) = group.take() {
                out.push(AddressEntry::Group { name, members });
            }
            group = Some((a.mailbox, Vec::new()));
        } else if a.host.is_none() && a.mailbox.is_none() && group.is_some() {
            if let Some((name, members)) = group.take() {
                out.push(AddressEntry::Group { name, members });
            }
        } else if let Some((_, members)) = group.as_mut() {
            members.push(a);
        } else {
            out.push(AddressEntry::Mailbox(a));
        }
        Ok(())
    })?;
    if let Some((name, members)) = group {
        out.push(AddressEntry::Group { name, members });
    }
    Ok(out)
}

/// `address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`
fn address(c: &mut Cursor) -> PResult<Address> {
    c.expect(b'(', "( of address")?;
    let mut a = Address::default();
    for field in 0..4 {
        c.sp();
        if c.peek() == Some(b')') {
            break;
        }
        let v = c.nstring()?;
        match field {
            0 => a.name = v,
            1 => a.adl = v,
            2 => a.mailbox = v,
            _ => a.host = v,
        }
    }
    skip_to_close(c)?;
    Ok(a)
}

/// `body = "(" (body-type-1part / body-type-mpart) ")"`
pub(crate) fn body(c: &mut Cursor) -> PResult<BodyStructure> {
    c.expect(b'(', "( of body structure")?;
    c.enter()?;
    c.sp();
    // Each builds its value last, after the closing `)`, straight into the return slot: a
    // structure is large, and moving it costs.
    if c.peek() == Some(b'(') {
        multipart(c)
    } else {
        single(c)
    }
}

/// The end of a `body`: any extra values, its `)`, one level up.
fn close_body(c: &mut Cursor) -> PResult<()> {
    skip_to_close(c)?;
    c.leave();
    Ok(())
}

/// `body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]`, and the `)` of its `body`.
fn multipart(c: &mut Cursor) -> PResult<BodyStructure> {
    let mut parts = Vec::new();
    while c.peek() == Some(b'(') {
        c.check_items(parts.len())?;
        parts.push(body(c)?);
        c.sp();
    }
    let subtype = c.text_nstring()?;
    c.sp();
    let extension = if c.peek() == Some(b')') {
        None
    } else {
        let mut e = MultiExtension {
            params: params(c)?,
            ..Default::default()
        };
        ext_tail(
            c,
            &mut e.disposition,
            &mut e.language,
            &mut e.location,
            &mut e.more,
        )?;
        Some(e)
    };
    close_body(c)?;
    Ok(BodyStructure::Multi {
        parts,
        subtype,
        extension,
    })
}

/// `body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]`,
/// and the `)` of its `body`.
fn single(c: &mut Cursor) -> PResult<BodyStructure> {
    let media_type = c.text_nstring()?;
    c.sp();
    let subtype = c.text_nstring()?;
    c.sp();
    let mut fields = BodyFields {
        media_type,
        subtype,
        ..Default::default()
    };
    // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
    // body-fld-octets
    fields.params = params(c)?;
    c.sp();
    fields.id = c.nstring()?;
    c.sp();
    fields.description = c.nstring()?;
    c.sp();
    fields.encoding = c.text_nstring()?;
    c.sp();
    fields.size = if c.peek() == Some(b')') {
        0
    } else {
        c.lenient_number()?
    };
    c.sp();
    let is = |a: &[u8], b: &[u8]| {
        fields.media_type.as_bytes().eq_ignore_ascii_case(a)
            && fields.subtype.as_bytes().eq_ignore_ascii_case(b)
    };
    let kind = if (is(b"MESSAGE", b"RFC822") || is(b"MESSAGE", b"GLOBAL")) && c.peek() == Some(b'(')
    {
        // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
        let envelope = envelope(c)?;
        c.sp();
        let body = Box::new(body(c)?);
        c.sp();
        let lines = if c.peek() == Some(b')') {
            0
        } else {
            c.lenient_number()?
        };
        SingleKind::Message {
            envelope,
            body,
            lines,
        }
    } else if fields.media_type.as_bytes().eq_ignore_ascii_case(b"TEXT") {
        let lines = if c.peek() == Some(b')') {
            0
        } else {
            c.lenient_number()?
        };
        SingleKind::Text { lines }
    } else {
        SingleKind::Basic
    };
    c.sp();
    let extension = if c.peek() == Some(b')') {
        None
    } else {
        // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc
        // *(SP body-extension)]]]
        let mut e = SingleExtension {
            md5: c.nstring()?,
            ..Default::default()
        };
        ext_tail(
            c,
            &mut e.disposition,
            &mut e.language,
            &mut e.location,
            &mut e.more,
        )?;
        Some(e)
    };
    close_body(c)?;
    Ok(BodyStructure::Single {
        fields,
        kind,
        extension,
    })
}

/// `[SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]`
fn ext_tail(
    c: &mut Cursor,
    disposition: &mut Option<Disposition>,
    language: &mut Vec<Text>,
    location: &mut Option<Bytes>,
    more: &mut Vec<crate::imap::types::Value>,
) -> PResult<()> {
    c.sp();
    if c.peek() == Some(b')') {
        return Ok(());
    }
    *disposition = disposition_field(c)?;
    c.sp();
    if c.peek() == Some(b')') {
        return Ok(());
    }
    // body-fld-lang = nstring / "(" string *(SP string) ")"
    *language = if c.peek() == Some(b'(') {
        c.paren_list(|c| c.text_nstring())?
    } else {
        c.nstring_text()?.map(|t| vec![t]).unwrap_or_default()
    };
    c.sp();
    if c.peek() == Some(b')') {
        return Ok(());
    }
    *location = c.nstring()?;
    loop {
        c.sp();
        if c.peek() == Some(b')') {
            return Ok(());
        }
        c.check_items(more.len())?;
        more.push(value(c)?);
    }
}

/// `body-fld-dsp = "(" string SP body-fld-param ")" / nil`, tolerating a bare string
/// (some servers send `"inline"` alone) and a missing parameter list.
fn disposition_field(c: &mut Cursor) -> PResult<Option<Disposition>> {
    if c.peek() != Some(b'(') {
        return Ok(c.nstring_text()?.map(|kind| Disposition {
            kind,
            params: Vec::new(),
        }));
    }
    c.expect(b'(', "(")?;
    c.enter()?;
    c.sp();
    let kind = c.text_nstring()?;
    c.sp();
    let params = if c.peek() == Some(b')') {
        Vec::new()
    } else {
        params(c)?
    };
    skip_to_close(c)?;
    c.leave();
    Ok(Some(Disposition { kind, params }))
}

/// `body-fld-param = "(" string SP string *(SP string SP string) ")" / nil`, tolerating an
/// empty list, NIL values and an odd count.
fn params(c: &mut Cursor) -> PResult<Vec<(Text, Bytes)>> {
    if c.peek() != Some(b'(') {
        c.skip_nstring()?;
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut key: Option<Text> = None;
    c.paren_each(|c| {
        match key.take() {
            None => key = Some(c.text_nstring()?),
            Some(k) => out.push((k, c.nstring()?.unwrap_or_default())),
        }
        Ok(())
    })?;
    if let Some(k) = key {
        out.push((k, Bytes::new()));
    }
    Ok(out)
}
