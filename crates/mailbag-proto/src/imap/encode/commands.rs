//! Encoding of each [`Command`] (RFC 9051 section 9 `command` and the extensions' rules).

use base64::Engine as _;

use super::items::{fetch_attributes, message_set, search_keys, set};
use super::params::{attribute, notify, select_param, status_items};
use super::{EncodeError, Writer};
use crate::imap::command::{
    Command, ListReturn, ListSelect, MessageSet, MetadataDepth, SearchReturn, SortKey, StoreKind,
};

/// `command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF`,
/// after the tag.
pub(crate) fn command(w: &mut Writer, c: &Command) -> Result<(), EncodeError> {
    use Command::*;
    match c {
        Capability => w.raw(b"CAPABILITY"),
        Noop => w.raw(b"NOOP"),
        Logout => w.raw(b"LOGOUT"),
        StartTls => w.raw(b"STARTTLS"),
        Idle => w.raw(b"IDLE"),
        Check => w.raw(b"CHECK"),
        Close => w.raw(b"CLOSE"),
        Unselect => w.raw(b"UNSELECT"),
        Expunge => w.raw(b"EXPUNGE"),
        Namespace => w.raw(b"NAMESPACE"),
        CompressDeflate => w.raw(b"COMPRESS DEFLATE"),
        Authenticate {
            mechanism,
            initial_response,
        } => {
            w.raw(b"AUTHENTICATE ");
            w.atom("SASL mechanism", mechanism)?;
            if let Some(ir) = initial_response {
                w.sp();
                let ir = ir.expose();
                if ir.is_empty() {
                    // RFC 4959: "=" stands for an empty initial response.
                    w.raw(b"=");
                } else {
                    w.raw(
                        base64::engine::general_purpose::STANDARD
                            .encode(ir)
                            .as_bytes(),
                    );
                }
            }
        }
        Login { username, password } => {
            w.raw(b"LOGIN ");
            w.astring("user name", username.as_bytes())?;
            w.sp();
            w.astring("password", password.expose().as_bytes())?;
        }
        Enable(caps) => {
            if caps.is_empty() {
                return Err(EncodeError::Empty {
                    what: "ENABLE list",
                });
            }
            w.raw(b"ENABLE");
            for cap in caps {
                w.sp();
                w.atom("capability", &cap.to_string())?;
            }
        }
        Select { mailbox, params } | Examine { mailbox, params } => {
            w.raw(if matches!(c, Select { .. }) {
                b"SELECT "
            } else {
                b"EXAMINE "
            });
            w.mailbox(mailbox)?;
            if !params.is_empty() {
                w.sp();
                w.list(params, select_param)?;
            }
        }
        Create {
            mailbox,
            special_use,
        } => {
            w.raw(b"CREATE ");
            w.mailbox(mailbox)?;
            if !special_use.is_empty() {
                w.raw(b" (USE ");
                w.list(special_use, |w, a| {
                    w.backslash_atom("special-use attribute", &attribute(a))
                })?;
                w.raw(b")");
            }
        }
        Delete(m) => mailbox_cmd(w, b"DELETE ", m)?,
        Subscribe(m) => mailbox_cmd(w, b"SUBSCRIBE ", m)?,
        Unsubscribe(m) => mailbox_cmd(w, b"UNSUBSCRIBE ", m)?,
        GetQuotaRoot(m) => mailbox_cmd(w, b"GETQUOTAROOT ", m)?,
        Rename { from, to } => {
            w.raw(b"RENAME ");
            w.mailbox(from)?;
            w.sp();
            w.mailbox(to)?;
        }
        List {
            reference,
            patterns,
            selection,
            returns,
        } => {
            w.raw(b"LIST ");
            if !selection.is_empty() {
                w.list(selection, |w, s| {
                    w.raw(match s {
                        ListSelect::Subscribed => b"SUBSCRIBED",
                        ListSelect::Remote => b"REMOTE",
                        ListSelect::RecursiveMatch => b"RECURSIVEMATCH",
                        ListSelect::SpecialUse => b"SPECIAL-USE",
                    });
                    Ok(())
                })?;
                w.sp();
            }
            w.mailbox(reference)?;
            w.sp();
            match patterns.as_slice() {
                [] => {
                    return Err(EncodeError::Empty {
                        what: "LIST pattern list",
                    })
                }
                [one] => w.list_mailbox(one)?,
                many => w.list(many, |w, p| w.list_mailbox(p))?,
            }
            if !returns.is_empty() {
                w.raw(b" RETURN ");
                w.list(returns, |w, r| {
                    match r {
                        ListReturn::Subscribed => w.raw(b"SUBSCRIBED"),
                        ListReturn::Children => w.raw(b"CHILDREN"),
                        ListReturn::SpecialUse => w.raw(b"SPECIAL-USE"),
                        ListReturn::Status(items) => {
                            w.raw(b"STATUS ");
                            status_items(w, items)?;
                        }
                    }
                    Ok(())
                })?;
            }
        }
        Lsub { reference, pattern } => {
            w.raw(b"LSUB ");
            w.mailbox(reference)?;
            w.sp();
            w.list_mailbox(pattern)?;
        }
        Status { mailbox, items } => {
            w.raw(b"STATUS ");
            w.mailbox(mailbox)?;
            w.sp();
            status_items(w, items)?;
        }
        Append { mailbox, messages } => {
            if messages.is_empty() {
                return Err(EncodeError::Empty {
                    what: "APPEND message list",
                });
            }
            w.raw(b"APPEND ");
            w.mailbox(mailbox)?;
            for m in messages {
                w.sp();
                append_flags_date(w, &m.flags, m.date.as_deref())?;
                w.data("APPEND message", &m.data)?;
            }
        }
        AppendStream {
            mailbox,
            flags,
            date,
            len,
        } => {
            w.raw(b"APPEND ");
            w.mailbox(mailbox)?;
            w.sp();
            append_flags_date(w, flags, date.as_deref())?;
            w.deferred_literal(*len);
        }
        UidExpunge(s) => {
            w.raw(b"UID EXPUNGE ");
            set(w, s)?;
        }
        Search {
            uid,
            charset,
            criteria,
            returns,
        } => {
            w.raw(if *uid { b"UID SEARCH" } else { b"SEARCH" });
            if let Some(returns) = returns {
                w.raw(b" RETURN ");
                w.list(returns, |w, r| {
                    w.raw(match r {
                        SearchReturn::Min => b"MIN",
                        SearchReturn::Max => b"MAX",
                        SearchReturn::All => b"ALL",
                        SearchReturn::Count => b"COUNT",
                        SearchReturn::Save => b"SAVE",
                    });
                    Ok(())
                })?;
            }
            if let Some(cs) = charset {
                w.raw(b" CHARSET ");
                w.atom("charset", cs)?;
            }
            w.sp();
            search_keys(w, criteria)?;
        }
        Fetch {
            set: s,
            items,
            changed_since,
            vanished,
        } => {
            uid_prefix(w, s);
            w.raw(b"FETCH ");
            message_set(w, s)?;
            w.sp();
            fetch_attributes(w, items)?;
            if *vanished && (!s.is_uid() || changed_since.is_none()) {
                return Err(EncodeError::Invalid(
                    "VANISHED needs UID FETCH with CHANGEDSINCE",
                ));
            }
            if let Some(m) = changed_since {
                w.display(format_args!(
                    " (CHANGEDSINCE {m}{})",
                    if *vanished { " VANISHED" } else { "" }
                ));
            }
        }
        Store {
            set: s,
            kind,
            silent,
            flags,
            unchanged_since,
        } => {
            uid_prefix(w, s);
            w.raw(b"STORE ");
            message_set(w, s)?;
            if let Some(m) = unchanged_since {
                w.display(format_args!(" (UNCHANGEDSINCE {m})"));
            }
            w.sp();
            store_kind(w, *kind, b"FLAGS", *silent);
            w.list(flags, |w, f| w.flag(f))?;
        }
        StoreGmailLabels {
            set: s,
            kind,
            silent,
            labels,
        } => {
            uid_prefix(w, s);
            w.raw(b"STORE ");
            message_set(w, s)?;
            w.sp();
            store_kind(w, *kind, b"X-GM-LABELS", *silent);
            w.list(labels, |w, l| {
                // System labels (`\Important`) are flags; user labels are astrings.
                if l.starts_with('\\') {
                    w.backslash_atom("label", l)
                } else {
                    w.astring("label", l.as_bytes())
                }
            })?;
        }
        Copy { set: s, mailbox } | Move { set: s, mailbox } => {
            uid_prefix(w, s);
            w.raw(if matches!(c, Copy { .. }) {
                b"COPY "
            } else {
                b"MOVE "
            });
            message_set(w, s)?;
            w.sp();
            w.mailbox(mailbox)?;
        }
        Sort {
            uid,
            criteria,
            charset,
            search,
        } => {
            if criteria.is_empty() {
                return Err(EncodeError::Empty {
                    what: "SORT criteria",
                });
            }
            w.raw(if *uid { b"UID SORT " } else { b"SORT " });
            w.list(criteria, |w, c| {
                if c.reverse {
                    w.raw(b"REVERSE ");
                }
                w.raw(match c.key {
                    SortKey::Arrival => b"ARRIVAL".as_slice(),
                    SortKey::Cc => b"CC",
                    SortKey::Date => b"DATE",
                    SortKey::From => b"FROM",
                    SortKey::Size => b"SIZE",
                    SortKey::Subject => b"SUBJECT",
                    SortKey::To => b"TO",
                    SortKey::DisplayFrom => b"DISPLAYFROM",
                    SortKey::DisplayTo => b"DISPLAYTO",
                });
                Ok(())
            })?;
            w.sp();
            w.atom("charset", charset)?;
            w.sp();
            search_keys(w, search)?;
        }
        Thread {
            uid,
            algorithm,
            charset,
            search,
        } => {
            w.raw(if *uid { b"UID THREAD " } else { b"THREAD " });
            w.atom("thread algorithm", algorithm)?;
            w.sp();
            w.atom("charset", charset)?;
            w.sp();
            search_keys(w, search)?;
        }
        Id(None) => w.raw(b"ID NIL"),
        Id(Some(fields)) if fields.is_empty() => w.raw(b"ID NIL"),
        Id(Some(fields)) => {
            w.raw(b"ID ");
            w.list(fields, |w, (k, v)| {
                w.string("ID field", k.as_bytes())?;
                w.sp();
                w.nstring("ID value", v.as_deref().map(str::as_bytes))
            })?;
        }
        GetQuota(root) => {
            w.raw(b"GETQUOTA ");
            w.astring("quota root", root.as_bytes())?;
        }
        SetQuota { root, limits } => {
            w.raw(b"SETQUOTA ");
            w.astring("quota root", root.as_bytes())?;
            w.sp();
            w.list(limits, |w, (name, limit)| {
                w.atom("quota resource", name)?;
                w.display(format_args!(" {limit}"));
                Ok(())
            })?;
        }
        GetMetadata {
            mailbox,
            entries,
            max_size,
            depth,
        } => {
            if entries.is_empty() {
                return Err(EncodeError::Empty {
                    what: "metadata entry list",
                });
            }
            w.raw(b"GETMETADATA ");
            let mut opts: Vec<String> = Vec::new();
            if let Some(n) = max_size {
                opts.push(format!("MAXSIZE {n}"));
            }
            if let Some(d) = depth {
                opts.push(format!(
                    "DEPTH {}",
                    match d {
                        MetadataDepth::Zero => "0",
                        MetadataDepth::One => "1",
                        MetadataDepth::Infinity => "infinity",
                    }
                ));
            }
            if !opts.is_empty() {
                w.display(format_args!("({}) ", opts.join(" ")));
            }
            w.mailbox(mailbox)?;
            w.sp();
            w.list(entries, |w, e| w.astring("metadata entry", e.as_bytes()))?;
        }
        SetMetadata { mailbox, entries } => {
            if entries.is_empty() {
                return Err(EncodeError::Empty {
                    what: "metadata entry list",
                });
            }
            w.raw(b"SETMETADATA ");
            w.mailbox(mailbox)?;
            w.sp();
            w.list(entries, |w, (e, v)| {
                w.astring("metadata entry", e.as_bytes())?;
                w.sp();
                match v {
                    None => w.raw(b"NIL"),
                    Some(v) if v.contains(&0) => w.data("metadata value", v)?,
                    Some(v) => w.string("metadata value", v)?,
                }
                Ok(())
            })?;
        }
        Notify(n) => notify(w, n)?,
    }
    Ok(())
}

fn mailbox_cmd(
    w: &mut Writer,
    kw: &[u8],
    m: &crate::imap::types::MailboxName,
) -> Result<(), EncodeError> {
    w.raw(kw);
    w.mailbox(m)
}

fn uid_prefix(w: &mut Writer, s: &MessageSet) {
    if s.is_uid() {
        w.raw(b"UID ");
    }
}

fn store_kind(w: &mut Writer, kind: StoreKind, item: &[u8], silent: bool) {
    w.raw(match kind {
        StoreKind::Add => b"+",
        StoreKind::Remove => b"-",
        StoreKind::Replace => b"",
    });
    w.raw(item);
    w.raw(if silent { b".SILENT " } else { b" " });
}

/// `[flag-list SP] [date-time SP]` of an APPEND message.
fn append_flags_date(
    w: &mut Writer<'_>,
    flags: &[crate::imap::types::Flag],
    date: Option<&str>,
) -> Result<(), EncodeError> {
    if !flags.is_empty() {
        w.list(flags, |w, f| w.flag(f))?;
        w.sp();
    }
    if let Some(date) = date {
        // date-time is a fixed quoted form; refuse anything that could escape it.
        if date.bytes().any(|b| {
            !(b == b' ' || b == b'+' || b == b'-' || b == b':' || b.is_ascii_alphanumeric())
        }) {
            return Err(EncodeError::NotAnAtom {
                what: "APPEND date",
                value: date.to_owned(),
            });
        }
        w.display(format_args!("\"{date}\" "));
    }
    Ok(())
}
