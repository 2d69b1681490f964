//! Response-level rules: greeting, tagged and untagged status, continuation, response codes
//! (RFC 9051 section 9 `response`, `resp-text`, `resp-text-code`).

use bytes::Bytes;

use super::cursor::{is_token_byte, to_text, Cursor, PResult};
use super::{data, fetch};
use crate::imap::types::{
    Capability, Continuation, Flag, MetadataCode, Response, ResponseCode, Rfc5530Code, Status,
    StatusText, Tag, Uid,
};

/// `greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF`
pub(crate) fn greeting(c: &mut Cursor) -> PResult<Response> {
    c.expect(b'*', "*")?;
    c.sp();
    let status = status_word(c)?.ok_or(c.err("OK, PREAUTH or BYE"))?;
    let st = resp_text(c, status)?;
    c.eol()?;
    Ok(Response::Greeting(st))
}

/// `response = continue-req / response-data / response-tagged` (one at a time)
pub(crate) fn response(c: &mut Cursor) -> PResult<Response> {
    match c.peek() {
        Some(b'+') => continuation(c),
        // Exchange (MailKit issue 115) sends a bare "[COPYUID ...]" line before the untagged
        // data of a MOVE: read it as the untagged OK it stands for.
        Some(b'[') => {
            let st = resp_text(c, Status::Ok)?;
            c.eol()?;
            Ok(Response::Untagged(crate::imap::types::Data::Status(st)))
        }
        Some(b'*') => {
            c.bump();
            c.sp();
            let d = data::untagged(c)?;
            c.eol()?;
            Ok(Response::Untagged(d))
        }
        _ => tagged(c),
    }
}

/// `continue-req = "+" [SP (resp-text / base64)] CRLF`, tolerating a bare `+`.
fn continuation(c: &mut Cursor) -> PResult<Response> {
    c.expect(b'+', "+")?;
    c.sp();
    let code = if c.peek() == Some(b'[') {
        Some(code(c)?)
    } else {
        None
    };
    c.sp();
    let text = c.line_rest();
    let text = trim_end(text);
    c.eol()?;
    Ok(Response::Continuation(Continuation { code, text }))
}

/// `response-tagged = tag SP resp-cond-state CRLF`
fn tagged(c: &mut Cursor) -> PResult<Response> {
    let t = c.take_while(|b| is_token_byte(b) && b != b'+');
    if t.is_empty() {
        return Err(c.err("tag, * or +"));
    }
    let tag = Tag::from_wire(t);
    c.sp();
    let status = match status_word(c)? {
        Some(s @ (Status::Ok | Status::No | Status::Bad)) => s,
        _ => return Err(c.err("OK, NO or BAD")),
    };
    let st = resp_text(c, status)?;
    c.eol()?;
    Ok(Response::Tagged { tag, status: st })
}

/// `resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text` and its siblings' keywords.
pub(crate) fn status_word(c: &mut Cursor) -> PResult<Option<Status>> {
    Ok(if c.eat_word("OK") {
        Some(Status::Ok)
    } else if c.eat_word("NO") {
        Some(Status::No)
    } else if c.eat_word("BAD") {
        Some(Status::Bad)
    } else if c.eat_word("PREAUTH") {
        Some(Status::PreAuth)
    } else if c.eat_word("BYE") {
        Some(Status::Bye)
    } else {
        None
    })
}

/// `resp-text = ["[" resp-text-code "]" SP] [text]` (text optional: servers omit it).
pub(crate) fn resp_text(c: &mut Cursor, status: Status) -> PResult<StatusText> {
    c.sp();
    let start = c.pos();
    let code = if c.peek() == Some(b'[') {
        match code(c) {
            Ok(code) => Some(code),
            Err(e @ super::SyntaxError::TooDeep { .. }) => return Err(e),
            // A `[` with no `]` on the line is text, not a code.
            Err(_) => {
                c.set_pos(start);
                None
            }
        }
    } else {
        None
    };
    c.sp();
    let text = trim_end(c.line_rest());
    Ok(StatusText {
        status,
        code,
        text: to_text(&text),
    })
}

fn trim_end(mut b: Bytes) -> Bytes {
    while b.last() == Some(&b' ') {
        b.truncate(b.len().saturating_sub(1));
    }
    b
}

/// `"[" resp-text-code "]"`: a known code's arguments are parsed; when they do not parse, the
/// code is kept as `Other` with its raw text rather than failing the whole response.
fn code(c: &mut Cursor) -> PResult<ResponseCode> {
    c.expect(b'[', "[")?;
    let start = c.pos();
    let name = c.atom_string()?.to_ascii_uppercase();
    match known_code(c, &name) {
        Ok(code) => {
            c.sp();
            if c.eat(b']') {
                return Ok(code);
            }
        }
        Err(super::SyntaxError::TooDeep { limit }) => {
            return Err(super::SyntaxError::TooDeep { limit })
        }
        Err(_) => {}
    }
    // Fall back to the raw text up to the last `]` on the line (text may hold `]`).
    c.set_pos(start);
    c.atom()?;
    c.sp();
    let rest = c.rest();
    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let close = rest
        .get(..line_end)
        .and_then(|l| memchr::memrchr(b']', l))
        .ok_or(c.err("]"))?;
    let text = to_text(rest.get(..close).unwrap_or_default());
    c.set_pos(c.pos().saturating_add(close).saturating_add(1));
    Ok(ResponseCode::Other {
        name,
        text: (!text.is_empty()).then_some(text),
    })
}

/// `resp-text-code` arguments for the codes mailbag knows.
fn known_code(c: &mut Cursor, name: &str) -> PResult<ResponseCode> {
    use ResponseCode::*;
    let uidv = |c: &mut Cursor| -> PResult<crate::imap::types::UidValidity> {
        Ok(crate::imap::types::UidValidity::from(c.nz_number()?))
    };
    Ok(match name {
        "ALERT" => Alert,
        "PARSE" => Parse,
        "READ-ONLY" => ReadOnly,
        "READ-WRITE" => ReadWrite,
        "TRYCREATE" => TryCreate,
        "UIDNOTSTICKY" => UidNotSticky,
        "NOMODSEQ" => NoModSeq,
        "CLOSED" => Closed,
        "COMPRESSIONACTIVE" => CompressionActive,
        "NOTSAVED" => NotSaved,
        "BADCHARSET" => {
            c.sp();
            if c.peek() == Some(b'(') {
                BadCharset(c.paren_list(|c| Ok(to_text(&c.astring()?)))?)
            } else {
                BadCharset(Vec::new())
            }
        }
        "CAPABILITY" => Capability(capability_list(c)?),
        "PERMANENTFLAGS" => {
            c.sp();
            PermanentFlags(c.paren_list(flag)?)
        }
        "UIDNEXT" => {
            c.sp();
            UidNext(Uid::from(c.nz_number()?))
        }
        "UIDVALIDITY" => {
            c.sp();
            UidValidity(uidv(c)?)
        }
        "UNSEEN" => {
            c.sp();
            Unseen(c.number()?)
        }
        "APPENDUID" => {
            c.sp();
            let uid_validity = uidv(c)?;
            c.sp();
            AppendUid {
                uid_validity,
                uids: data::sequence_set(c)?.into_kind(),
            }
        }
        "COPYUID" => {
            c.sp();
            let uid_validity = uidv(c)?;
            c.sp();
            let source = data::sequence_set(c)?.into_kind();
            c.sp();
            CopyUid {
                uid_validity,
                source,
                target: data::sequence_set(c)?.into_kind(),
            }
        }
        "HIGHESTMODSEQ" => {
            c.sp();
            HighestModSeq(fetch::modseq(c)?)
        }
        "MODIFIED" => {
            c.sp();
            Modified(data::sequence_set(c)?)
        }
        "MAILBOXID" => {
            c.sp();
            let id = c.paren_list(|c| c.atom_string())?;
            MailboxId(id.into_iter().next().ok_or(c.err("mailbox id"))?)
        }
        "METADATA" => {
            c.sp();
            let sub = c.atom_string()?.to_ascii_uppercase();
            c.sp();
            Metadata(match sub.as_str() {
                "LONGENTRIES" => MetadataCode::LongEntries(c.number64()?),
                "MAXSIZE" => MetadataCode::MaxSize(c.number64()?),
                "TOOMANY" => MetadataCode::TooMany,
                "NOPRIVATE" => MetadataCode::NoPrivate,
                _ => return Err(c.err("METADATA response code")),
            })
        }
        "NOUPDATE" => {
            c.sp();
            NoUpdate(to_text(&c.string()?))
        }
        _ => match Rfc5530Code::from_wire(name) {
            Some(code) => Rfc5530(code),
            None => return Err(c.err("known response code")),
        },
    })
}

/// `capability-data = "CAPABILITY" *(SP capability)` after the keyword; also used by ENABLED.
pub(crate) fn capability_list(c: &mut Cursor) -> PResult<Vec<Capability>> {
    let mut caps = Vec::new();
    loop {
        c.sp();
        if c.at_eol() || c.peek() == Some(b']') {
            return Ok(caps);
        }
        c.check_items(caps.len())?;
        let a = c.atom()?;
        caps.push(Capability::from_wire(&String::from_utf8_lossy(a)));
    }
}

/// `flag = "\Answered" / ... / flag-keyword / flag-extension`, plus `\*`, accepting `[`
/// and `]` in keywords (seen from several servers) since a list's `)` ends it anyway.
pub(crate) fn flag(c: &mut Cursor) -> PResult<Flag> {
    let f = c.take_while(is_token_byte);
    if f.is_empty() {
        return Err(c.err("flag"));
    }
    Ok(Flag::from_wire_bytes(f))
}
