//! FETCH response items (RFC 9051 `msg-att`, RFC 3516, RFC 7162, RFC 8474, RFC 8970,
//! RFC 8514, X-GM-EXT-1).

use bytes::Bytes;

use super::body::{body_structure, envelope};
use super::cursor::{is_token_byte, to_text, Cursor, PResult};
use super::response::flag;
use super::StreamedItem;
use crate::imap::types::{FetchItem, InternalDate, ModSeq, Section, SectionText, Uid};

/// The items of a FETCH, and how the list ended in this frame.
pub(crate) enum FetchList {
    /// The list closed: these are all (remaining) items.
    Closed(Vec<FetchItem>),
    /// The frame ends at the header of a literal the framer streams: the items so far, the
    /// item whose content follows, and the content's length.
    Streamed {
        items: Vec<FetchItem>,
        item: StreamedItem,
        len: u64,
    },
}

/// `msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP (msg-att-dynamic / msg-att-static)) ")"`
///
/// With `open` false, the cursor is inside the list already (the rest of a FETCH after a
/// streamed literal). Extra parentheses around items (Domino) are flattened.
pub(crate) fn msg_att(c: &mut Cursor, open: bool) -> PResult<FetchList> {
    if open {
        c.expect(b'(', "( after FETCH")?;
    }
    let mut extra = 0usize;
    // Room for a typical FETCH (UID, FLAGS, ENVELOPE, BODYSTRUCTURE, a body, ...) at once.
    let mut items = Vec::with_capacity(8);
    loop {
        c.sp();
        match c.peek() {
            Some(b')') => {
                c.bump();
                if extra == 0 {
                    return Ok(FetchList::Closed(items));
                }
                extra = extra.saturating_sub(1);
                continue;
            }
            Some(b'(') => {
                c.bump();
                c.enter()?;
                extra = extra.saturating_add(1);
                continue;
            }
            // A list cut off by the end of the line: some servers forget the ")".
            Some(b'\r' | b'\n') | None if extra == 0 && (!items.is_empty() || !open) => {
                return Ok(FetchList::Closed(items));
            }
            _ => {}
        }
        c.check_items(items.len())?;
        match item(c)? {
            Att::Item(i) => items.push(i),
            Att::Streamed(item, len) => return Ok(FetchList::Streamed { items, item, len }),
        }
    }
}

enum Att {
    Item(FetchItem),
    Streamed(StreamedItem, u64),
}

/// One `msg-att-dynamic / msg-att-static` item.
fn item(c: &mut Cursor) -> PResult<Att> {
    let name = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if name.is_empty() {
        return Err(c.err("FETCH item name"));
    }
    // Upper-cased on the stack: every FETCH has several items, and names are short.
    let mut upper = [0u8; 24];
    let long;
    let name: &[u8] = match upper.get_mut(..name.len()) {
        Some(u) => {
            // A byte loop, not `copy_from_slice`: a call to memcpy costs more than these
            // few bytes.
            for (d, s) in u.iter_mut().zip(name) {
                *d = s.to_ascii_uppercase();
            }
            u
        }
        None => {
            long = name.to_ascii_uppercase();
            &long
        }
    };
    c.sp();
    let item = match name {
        b"UID" => FetchItem::Uid(Uid::from(c.nz_number()?)),
        b"FLAGS" => FetchItem::Flags(c.paren_list(flag)?),
        b"INTERNALDATE" => FetchItem::InternalDate(InternalDate::parse(&c.text_nstring()?)),
        b"RFC822.SIZE" => FetchItem::Rfc822Size(c.lenient_number()?),
        b"ENVELOPE" => FetchItem::Envelope(envelope(c)?),
        b"BODYSTRUCTURE" => FetchItem::BodyStructure(body_structure(c)?),
        b"BODY" if c.peek() != Some(b'[') => FetchItem::Body(body_structure(c)?),
        b"BODY" => {
            let section = section(c)?;
            let origin = origin(c)?;
            c.sp();
            match content(c)? {
                Content::Data(data) => FetchItem::BodySection {
                    section,
                    origin,
                    data,
                },
                Content::Streamed(len) => {
                    return Ok(Att::Streamed(
                        StreamedItem::BodySection { section, origin },
                        len,
                    ))
                }
            }
        }
        b"BINARY" => {
            let part = binary_part(c)?;
            let origin = origin(c)?;
            c.sp();
            match content(c)? {
                Content::Data(data) => FetchItem::Binary { part, origin, data },
                Content::Streamed(len) => {
                    return Ok(Att::Streamed(StreamedItem::Binary { part, origin }, len))
                }
            }
        }
        b"BINARY.SIZE" => {
            let part = binary_part(c)?;
            c.sp();
            FetchItem::BinarySize {
                part,
                size: c.number64()?,
            }
        }
        b"RFC822" | b"RFC822.HEADER" | b"RFC822.TEXT" => match content(c)? {
            Content::Data(d) if name == b"RFC822" => FetchItem::Rfc822(d),
            Content::Data(d) if name == b"RFC822.HEADER" => FetchItem::Rfc822Header(d),
            Content::Data(d) => FetchItem::Rfc822Text(d),
            Content::Streamed(len) => {
                let item = match name {
                    b"RFC822" => StreamedItem::Rfc822,
                    b"RFC822.HEADER" => StreamedItem::Rfc822Header,
                    _ => StreamedItem::Rfc822Text,
                };
                return Ok(Att::Streamed(item, len));
            }
        },
        b"MODSEQ" => {
            c.expect(b'(', "(")?;
            c.sp();
            let m = modseq(c)?;
            c.sp();
            c.expect(b')', ")")?;
            FetchItem::ModSeq(m)
        }
        b"EMAILID" => FetchItem::EmailId(object_id(c)?.unwrap_or_default()),
        b"THREADID" => FetchItem::ThreadId(object_id(c)?),
        b"X-GM-MSGID" => FetchItem::GmMsgId(c.number64()?),
        b"X-GM-THRID" => FetchItem::GmThrId(c.number64()?),
        b"X-GM-LABELS" => FetchItem::GmLabels(c.paren_list(|c| {
            let b: Bytes = if c.at_string() {
                c.string()?
            } else {
                c.take_bytes_while(is_token_byte)
            };
            if b.is_empty() {
                return Err(c.err("label"));
            }
            Ok(to_text(&b))
        })?),
        b"PREVIEW" => {
            // An early draft of RFC 8970 put "(FUZZY)" or similar before the text.
            if c.peek() == Some(b'(') {
                c.paren_list(|c| c.atom_string())?;
                c.sp();
            }
            FetchItem::Preview(c.nstring()?)
        }
        b"SAVEDATE" => FetchItem::SaveDate(c.nstring()?.map(|b| to_text(&b))),
        _ => FetchItem::Other(
            String::from_utf8_lossy(name).into_owned(),
            super::data::value(c)?,
        ),
    };
    Ok(Att::Item(item))
}

enum Content {
    Data(Option<Bytes>),
    Streamed(u64),
}

/// `nstring / literal8` for body contents, noting a literal the framer streams.
fn content(c: &mut Cursor) -> PResult<Content> {
    if let Some(len) = c.literal_is_streamed() {
        return Ok(Content::Streamed(len));
    }
    // Yandex sends `BODY[2] )` for a part it cannot find: no value at all, read as NIL.
    if c.peek() == Some(b')') || c.at_eol() {
        return Ok(Content::Data(None));
    }
    Ok(Content::Data(c.nstring()?))
}

/// `mod-sequence-value = 1*DIGIT` (at most 2^63 - 1), reading a negative value (Zoho sends
/// `MODSEQ (-1)`) as 0, which no real change ever has.
pub(crate) fn modseq(c: &mut Cursor) -> PResult<ModSeq> {
    if c.eat(b'-') {
        c.number64()?;
        return Ok(ModSeq::new(0).unwrap_or(ModSeq::MAX));
    }
    let n = c.number64()?;
    ModSeq::new(n).ok_or(c.err("mod-sequence below 2^63"))
}

/// `"(" objectid ")" / nil` (RFC 8474), tolerating a bare id.
fn object_id(c: &mut Cursor) -> PResult<Option<String>> {
    if c.eat_word("NIL") {
        return Ok(None);
    }
    if c.peek() == Some(b'(') {
        let ids = c.paren_list(|c| c.atom_string())?;
        return Ok(ids.into_iter().next());
    }
    c.atom_string().map(Some)
}

/// `"<" number ">"` after a section: the origin of a partial fetch.
fn origin(c: &mut Cursor) -> PResult<Option<u32>> {
    if !c.eat(b'<') {
        return Ok(None);
    }
    let n = c.number()?;
    c.expect(b'>', ">")?;
    Ok(Some(n))
}

/// `section-binary = "[" [section-part] "]"`
fn binary_part(c: &mut Cursor) -> PResult<Vec<u32>> {
    c.expect(b'[', "[")?;
    let mut part = Vec::new();
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.check_items(part.len())?;
        part.push(c.number()?);
        c.eat(b'.');
    }
    c.expect(b']', "]")?;
    Ok(part)
}

/// `section = "[" [section-spec] "]"` with
/// `section-spec = section-msgtext / (section-part ["." section-text])`
pub(crate) fn section(c: &mut Cursor) -> PResult<Section> {
    c.expect(b'[', "[")?;
    let mut s = Section::default();
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.check_items(s.part.len())?;
        s.part.push(c.number()?);
        if !c.eat(b'.') {
            break;
        }
    }
    if c.peek() != Some(b']') {
        let word = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'.');
        let word = String::from_utf8_lossy(word).to_ascii_uppercase();
        s.text = Some(match word.as_str() {
            "HEADER" => SectionText::Header,
            "TEXT" => SectionText::Text,
            "MIME" => SectionText::Mime,
            "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                c.sp();
                let fields = c.paren_list(|c| Ok(to_text(&c.astring()?)))?;
                SectionText::HeaderFields {
                    not: word.ends_with(".NOT"),
                    fields,
                }
            }
            _ => return Err(c.err("section text")),
        });
    }
    c.sp();
    c.expect(b']', "]")?;
    Ok(s)
}
