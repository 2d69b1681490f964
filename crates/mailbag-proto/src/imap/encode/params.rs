//! Encoding of command parameters that have a grammar of their own: SELECT's QRESYNC,
//! STATUS items, mailbox attributes, and NOTIFY (RFC 5465 section 8).

use super::items::{fetch_attribute, set};
use super::{EncodeError, Writer};
use crate::imap::command::{Notify, NotifyEvent, NotifyFilter, SelectParam, StatusAttribute};
use crate::imap::types::MailboxAttribute;

pub(super) fn attribute(a: &MailboxAttribute) -> String {
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

pub(super) fn select_param(w: &mut Writer, p: &SelectParam) -> Result<(), EncodeError> {
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

pub(super) fn status_items(w: &mut Writer, items: &[StatusAttribute]) -> Result<(), EncodeError> {
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
pub(super) fn notify(w: &mut Writer, n: &Notify) -> Result<(), EncodeError> {
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
