//! Encoding of each [`Command`] (RFC 9051 section 9 `command` and the extensions' rules).

use base64::Engine as _;

use super::items::{fetch_attribute, fetch_attributes, message_set, search_keys, set};
use super::{EncodeError, Writer};
use crate::imap::command::{
    Command, ListReturn, ListSelect, MessageSet, MetadataDepth, Notify, NotifyEvent, NotifyFilter,
    SearchReturn, SelectParam, SortKey, StatusAttribute, StoreKind,
};
use crate::imap::types::MailboxAttribute;

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
                if !m.flags.is_empty() {
                    w.list(&m.flags, |w, f| w.flag(f))?;
                    w.sp();
                }
                if let Some(date) = &m.date {
                    // date-time is a fixed quoted form; refuse anything that could escape it.
                    if date.bytes().any(|b| {
                        !(b == b' '
                            || b == b'+'
                            || b == b'-'
                            || b == b':'
                            || b.is_ascii_alphanumeric())
                    }) {
                        return Err(EncodeError::NotAnAtom {
                            what: "APPEND date",
                            value: date.clone(),
                        });
                    }
                    w.display(format_args!("\"{date}\" "));
                }
                w.data("APPEND message", &m.data)?;
            }
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

fn attribute(a: &MailboxAttribute) -> String {
    use MailboxAttribute::*;
    match a {
        NoInferiors => "\\Noinferiors",
        NoSelect => "\\Noselect",
        Marked => "\\Marked",
        Unmarked => "\\Unmarked",
        NonExistent => "\\NonExistent",
        Subscribed => "\\Subscribed",
        Remote => "\\Remote",
        HasChildren => "\\HasChildren",
        HasNoChildren => "\\HasNoChildren",
        All => "\\All",
        Archive => "\\Archive",
        Drafts => "\\Drafts",
        Flagged => "\\Flagged",
        Junk => "\\Junk",
        Sent => "\\Sent",
        Trash => "\\Trash",
        Important => "\\Important",
        Inbox => "\\Inbox",
        Other(s) => return s.clone(),
    }
    .to_string()
}

fn select_param(w: &mut Writer, p: &SelectParam) -> Result<(), EncodeError> {
    match p {
        SelectParam::CondStore => w.raw(b"CONDSTORE"),
        SelectParam::QResync {
            uid_validity,
            modseq,
            known_uids,
            seq_match,
        } => {
            w.display(format_args!("QRESYNC ({uid_validity} {modseq}"));
            if let Some(k) = known_uids {
                w.sp();
                set(w, k)?;
            }
            if let Some((seqs, uids)) = seq_match {
                if known_uids.is_none() {
                    return Err(EncodeError::Invalid(
                        "QRESYNC sequence match needs known UIDs",
                    ));
                }
                w.raw(b" (");
                set(w, seqs)?;
                w.sp();
                set(w, uids)?;
                w.raw(b")");
            }
            w.raw(b")");
        }
    }
    Ok(())
}

fn status_items(w: &mut Writer, items: &[StatusAttribute]) -> Result<(), EncodeError> {
    if items.is_empty() {
        return Err(EncodeError::Empty {
            what: "STATUS item list",
        });
    }
    w.list(items, |w, i| {
        w.raw(match i {
            StatusAttribute::Messages => b"MESSAGES".as_slice(),
            StatusAttribute::Recent => b"RECENT",
            StatusAttribute::UidNext => b"UIDNEXT",
            StatusAttribute::UidValidity => b"UIDVALIDITY",
            StatusAttribute::Unseen => b"UNSEEN",
            StatusAttribute::Deleted => b"DELETED",
            StatusAttribute::Size => b"SIZE",
            StatusAttribute::HighestModSeq => b"HIGHESTMODSEQ",
            StatusAttribute::MailboxId => b"MAILBOXID",
            StatusAttribute::AppendLimit => b"APPENDLIMIT",
        });
        Ok(())
    })
}

/// `notify = "NOTIFY" SP (notify-set / notify-none)` (RFC 5465)
fn notify(w: &mut Writer, n: &Notify) -> Result<(), EncodeError> {
    match n {
        Notify::None => w.raw(b"NOTIFY NONE"),
        Notify::Set { status, groups } => {
            w.raw(b"NOTIFY SET");
            if *status {
                w.raw(b" STATUS");
            }
            for (filter, events) in groups {
                w.raw(b" (");
                match filter {
                    NotifyFilter::Selected => w.raw(b"SELECTED"),
                    NotifyFilter::SelectedDelayed => w.raw(b"SELECTED-DELAYED"),
                    NotifyFilter::Inboxes => w.raw(b"INBOXES"),
                    NotifyFilter::Personal => w.raw(b"PERSONAL"),
                    NotifyFilter::Subscribed => w.raw(b"SUBSCRIBED"),
                    NotifyFilter::Subtree(m) | NotifyFilter::Mailboxes(m) => {
                        if m.is_empty() {
                            return Err(EncodeError::Empty {
                                what: "NOTIFY mailbox list",
                            });
                        }
                        w.raw(if matches!(filter, NotifyFilter::Subtree(_)) {
                            b"SUBTREE "
                        } else {
                            b"MAILBOXES "
                        });
                        w.list(m, |w, m| w.mailbox(m))?;
                    }
                }
                w.sp();
                if events.is_empty() {
                    w.raw(b"NONE");
                } else {
                    w.list(events, |w, e| {
                        match e {
                            NotifyEvent::MessageNew(items) => {
                                w.raw(b"MessageNew");
                                if !items.is_empty() {
                                    w.sp();
                                    w.list(items, fetch_attribute)?;
                                }
                            }
                            NotifyEvent::MessageExpunge => w.raw(b"MessageExpunge"),
                            NotifyEvent::FlagChange => w.raw(b"FlagChange"),
                            NotifyEvent::AnnotationChange => w.raw(b"AnnotationChange"),
                            NotifyEvent::MailboxName => w.raw(b"MailboxName"),
                            NotifyEvent::SubscriptionChange => w.raw(b"SubscriptionChange"),
                            NotifyEvent::MailboxMetadataChange => w.raw(b"MailboxMetadataChange"),
                            NotifyEvent::ServerMetadataChange => w.raw(b"ServerMetadataChange"),
                        }
                        Ok(())
                    })?;
                }
                w.raw(b")");
            }
        }
    }
    Ok(())
}
