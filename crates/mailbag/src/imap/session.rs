//! The session methods of [`ImapClient`], one per IMAP operation (RFC 9051 section 6 and the
//! extensions), with typed results. Every NO or BAD becomes an [`Error`] carrying the server's
//! response code and text.
//!
//! Each method documents `# Errors` once here: [`Error::No`] / [`Error::Bad`] with the
//! server's words, [`Error::Misuse`] for a command not valid in the connection state,
//! [`Error::ConnectionLost`], [`Error::Timeout`]. Cancel safety: a method cancelled after it
//! sent its command leaves the command running on the server; its results are discarded.

use mailbag_proto::imap::command::{
    AppendMessage, FetchAttribute, MessageSet, StatusAttribute, StoreKind,
};
use mailbag_proto::imap::search::SearchKey;
use mailbag_proto::imap::types::{
    Capability, Data, ESearchItem, Flag, ListItem, MailboxName, ModSeq, ResponseCode, Uid,
    UidValidity,
};
use mailbag_proto::imap::{Command, SequenceSet};

use super::client::ImapClient;
use super::fetch::FetchStream;
use super::types::{AppendResult, CopyResult, MailboxStatus, MailboxSummary};
use crate::error::Error;

impl ImapClient {
    /// CAPABILITY: asks the server again and returns the list.
    ///
    /// # Errors
    /// See the [module docs](self).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn refresh_capabilities(&self) -> Result<Vec<Capability>, Error> {
        self.run(Command::Capability).await?;
        Ok(self.capabilities())
    }

    /// NOOP: also lets the server announce changes.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn noop(&self) -> Result<(), Error> {
        self.run(Command::Noop).await.map(drop)
    }

    /// LOGOUT; the connection closes after it.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn logout(&self) -> Result<(), Error> {
        match self.run(Command::Logout).await {
            Ok(_) | Err(Error::ConnectionLost { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// ENABLE (RFC 5161) of those of `wanted` the server offers (CONDSTORE, QRESYNC,
    /// UTF8=ACCEPT, IMAP4rev2); returns what the server enabled.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn enable(&self, wanted: &[Capability]) -> Result<Vec<Capability>, Error> {
        let offered: Vec<Capability> = wanted
            .iter()
            .filter(|c| {
                self.has_capability(c)
                    || (**c == Capability::Utf8Accept
                        && self.capabilities().iter().any(|x| matches!(x, Capability::Other(o) if o.eq_ignore_ascii_case("UTF8=ACCEPT"))))
            })
            .cloned()
            .collect();
        if offered.is_empty() || !self.has_capability(&Capability::Enable) {
            return Ok(Vec::new());
        }
        let out = self.run(Command::Enable(offered)).await?;
        Ok(out
            .data
            .into_iter()
            .flat_map(|d| match d {
                Data::Enabled(c) => c,
                _ => Vec::new(),
            })
            .collect())
    }

    /// ID (RFC 2971): sends ours, returns the server's fields.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn id(
        &self,
        ours: Option<Vec<(String, Option<String>)>>,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let out = self.run(Command::Id(ours)).await?;
        Ok(out
            .data
            .into_iter()
            .find_map(|d| match d {
                Data::Id(f) => Some(f.unwrap_or_default()),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// NAMESPACE (RFC 2342): the raw response data.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn namespace(&self) -> Result<Option<Data>, Error> {
        let out = self.run(Command::Namespace).await?;
        Ok(out
            .data
            .into_iter()
            .find(|d| matches!(d, Data::Namespace { .. })))
    }

    /// LIST `reference` `pattern`: mailboxes with attributes, delimiter and decoded name.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn list(&self, reference: &str, pattern: &str) -> Result<Vec<ListItem>, Error> {
        self.list_extended(reference, &[pattern], Vec::new(), Vec::new())
            .await
    }

    /// LIST with selection and return options (RFC 5258, RFC 6154 SPECIAL-USE).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn list_extended(
        &self,
        reference: &str,
        patterns: &[&str],
        selection: Vec<super::ListSelect>,
        returns: Vec<super::ListReturn>,
    ) -> Result<Vec<ListItem>, Error> {
        let out = self
            .run(Command::List {
                reference: MailboxName::new(reference),
                patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
                selection,
                returns,
            })
            .await?;
        Ok(lists(out.data))
    }

    /// LSUB: the subscribed mailboxes.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn lsub(&self, reference: &str, pattern: &str) -> Result<Vec<ListItem>, Error> {
        let out = self
            .run(Command::Lsub {
                reference: MailboxName::new(reference),
                pattern: pattern.to_owned(),
            })
            .await?;
        Ok(lists(out.data))
    }

    /// SUBSCRIBE
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn subscribe(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Subscribe(mailbox.into())).await.map(drop)
    }

    /// UNSUBSCRIBE
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn unsubscribe(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Unsubscribe(mailbox.into()))
            .await
            .map(drop)
    }

    /// CREATE
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn create(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Create {
            mailbox: mailbox.into(),
            special_use: Vec::new(),
        })
        .await
        .map(drop)
    }

    /// DELETE
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn delete(&self, mailbox: &str) -> Result<(), Error> {
        self.run(Command::Delete(mailbox.into())).await.map(drop)
    }

    /// RENAME
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), Error> {
        self.run(Command::Rename {
            from: from.into(),
            to: to.into(),
        })
        .await
        .map(drop)
    }

    /// STATUS with MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, and SIZE / HIGHESTMODSEQ when
    /// offered.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn status(&self, mailbox: &str) -> Result<MailboxStatus, Error> {
        let mut items = vec![
            StatusAttribute::Messages,
            StatusAttribute::UidNext,
            StatusAttribute::UidValidity,
            StatusAttribute::Unseen,
        ];
        let caps = self.capabilities();
        if caps
            .iter()
            .any(|c| matches!(c, Capability::Other(o) if o.eq_ignore_ascii_case("STATUS=SIZE")))
            || caps.contains(&Capability::Imap4rev2)
        {
            items.push(StatusAttribute::Size);
        }
        if caps.contains(&Capability::CondStore) {
            items.push(StatusAttribute::HighestModSeq);
        }
        let out = self
            .run(Command::Status {
                mailbox: mailbox.into(),
                items,
            })
            .await?;
        Ok(out
            .data
            .iter()
            .find_map(|d| match d {
                Data::MailboxStatus { items, .. } => Some(MailboxStatus::from_items(items)),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// SELECT (read-write).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn select(&self, mailbox: &str) -> Result<MailboxSummary, Error> {
        let out = self
            .run(Command::Select {
                mailbox: mailbox.into(),
                params: Vec::new(),
            })
            .await?;
        Ok(MailboxSummary::from_responses(
            &out.data,
            out.status.code.as_ref(),
        ))
    }

    /// EXAMINE (read-only: nothing, not even \Seen, changes).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn examine(&self, mailbox: &str) -> Result<MailboxSummary, Error> {
        let out = self
            .run(Command::Examine {
                mailbox: mailbox.into(),
                params: Vec::new(),
            })
            .await?;
        let mut s = MailboxSummary::from_responses(&out.data, out.status.code.as_ref());
        s.read_write = false;
        Ok(s)
    }

    /// UNSELECT (RFC 3691): leaves the mailbox without expunging (CLOSE would expunge).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn unselect(&self) -> Result<(), Error> {
        self.run(Command::Unselect).await.map(drop)
    }

    /// CLOSE: expunges deleted messages and unselects.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn close(&self) -> Result<(), Error> {
        self.run(Command::Close).await.map(drop)
    }

    /// FETCH or UID FETCH (by the kind of `set`) as a stream.
    ///
    /// # Errors
    /// See the module docs (a NO comes from the stream).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn fetch(
        &self,
        set: MessageSet,
        items: Vec<FetchAttribute>,
    ) -> Result<FetchStream, Error> {
        let rx = self
            .submit(Command::Fetch {
                set,
                items,
                changed_since: None,
                vanished: false,
            })
            .await?;
        Ok(FetchStream::new(rx))
    }

    /// FETCH, every message collected in memory: for small messages and headers.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn fetch_collect(
        &self,
        set: MessageSet,
        items: Vec<FetchAttribute>,
    ) -> Result<Vec<super::Message>, Error> {
        self.fetch(set, items).await?.collect().await
    }

    /// UID SEARCH with typed criteria; ESEARCH (RFC 4731) when offered. Returns UIDs.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn search(&self, criteria: Vec<SearchKey>) -> Result<Vec<Uid>, Error> {
        let esearch = self.has_capability(&Capability::ESearch)
            || self.has_capability(&Capability::Imap4rev2);
        let out = self
            .run(Command::Search {
                uid: true,
                charset: None,
                criteria,
                returns: esearch.then(|| vec![mailbag_proto::imap::command::SearchReturn::All]),
            })
            .await?;
        let mut uids = Vec::new();
        for d in out.data {
            match d {
                Data::Search { numbers, .. } => {
                    uids.extend(numbers.into_iter().filter_map(|n| Uid::try_from(n).ok()))
                }
                Data::ESearch(e) => {
                    for item in e.items {
                        if let ESearchItem::All(set) = item {
                            let set: SequenceSet<Uid> = set.into_kind();
                            if let Ok(max) = Uid::try_from(u32::MAX) {
                                uids.extend(set.iter(max));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(uids)
    }

    /// UID SEARCH with criteria written by the caller (`SINCE 13-Jul-2013 TEXT Apress`).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn search_raw(&self, criteria: &str) -> Result<Vec<Uid>, Error> {
        self.search(vec![SearchKey::Raw(criteria.to_owned())]).await
    }

    /// UID SORT (RFC 5256): the UIDs matching `search`, in the order of `criteria`.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn sort(
        &self,
        criteria: Vec<mailbag_proto::imap::command::SortCriterion>,
        search: Vec<SearchKey>,
    ) -> Result<Vec<Uid>, Error> {
        let out = self
            .run(Command::Sort {
                uid: true,
                criteria,
                charset: "UTF-8".into(),
                search,
            })
            .await?;
        Ok(out
            .data
            .into_iter()
            .flat_map(|d| match d {
                Data::Sort { numbers, .. } => numbers,
                _ => Vec::new(),
            })
            .filter_map(|n| Uid::try_from(n).ok())
            .collect())
    }

    /// UID THREAD (RFC 5256) with `algorithm` (`REFERENCES`, `ORDEREDSUBJECT`): the threads,
    /// numbers being UIDs.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn thread(
        &self,
        algorithm: &str,
        search: Vec<SearchKey>,
    ) -> Result<Vec<mailbag_proto::imap::types::Thread>, Error> {
        let out = self
            .run(Command::Thread {
                uid: true,
                algorithm: algorithm.to_owned(),
                charset: "UTF-8".into(),
                search,
            })
            .await?;
        Ok(out
            .data
            .into_iter()
            .flat_map(|d| match d {
                Data::Thread(t) => t,
                _ => Vec::new(),
            })
            .collect())
    }

    /// UID STORE of flags (add, remove or replace), silently; with `unchanged_since`
    /// (CONDSTORE) only where the message's modseq is not higher.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn store(
        &self,
        uids: SequenceSet<Uid>,
        kind: StoreKind,
        flags: Vec<Flag>,
        unchanged_since: Option<ModSeq>,
    ) -> Result<(), Error> {
        self.run(Command::Store {
            set: MessageSet::Uid(uids),
            kind,
            silent: true,
            flags,
            unchanged_since,
        })
        .await
        .map(drop)
    }

    /// UID COPY; returns COPYUID when the server sends it (UIDPLUS).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn copy(
        &self,
        uids: SequenceSet<Uid>,
        mailbox: &str,
    ) -> Result<Option<CopyResult>, Error> {
        let out = self
            .run(Command::Copy {
                set: MessageSet::Uid(uids),
                mailbox: mailbox.into(),
            })
            .await?;
        Ok(copy_uid(out.status.code.as_ref(), &out.data))
    }

    /// UID MOVE (RFC 6851), or without MOVE: UID COPY, UID STORE +FLAGS \Deleted, then
    /// UID EXPUNGE (UIDPLUS) of just those messages.
    ///
    /// # Errors
    /// See the module docs; [`Error::Misuse`] when the server has neither MOVE nor UIDPLUS
    /// (a plain EXPUNGE would remove other deleted messages too).
    ///
    /// # Cancel safety
    /// Not cancel safe: the fallback may stop between its steps.
    pub async fn r#move(
        &self,
        uids: SequenceSet<Uid>,
        mailbox: &str,
    ) -> Result<Option<CopyResult>, Error> {
        if self.has_capability(&Capability::Move) {
            let out = self
                .run(Command::Move {
                    set: MessageSet::Uid(uids),
                    mailbox: mailbox.into(),
                })
                .await?;
            return Ok(copy_uid(out.status.code.as_ref(), &out.data));
        }
        if !self.has_capability(&Capability::UidPlus) {
            return Err(Error::misuse("the server offers neither MOVE nor UIDPLUS"));
        }
        let copied = self.copy(uids.clone(), mailbox).await?;
        self.store(uids.clone(), StoreKind::Add, vec![Flag::Deleted], None)
            .await?;
        self.uid_expunge(uids).await?;
        Ok(copied)
    }

    /// EXPUNGE: removes every message flagged \Deleted.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn expunge(&self) -> Result<(), Error> {
        self.run(Command::Expunge).await.map(drop)
    }

    /// UID EXPUNGE (UIDPLUS): removes only these messages (if flagged \Deleted).
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn uid_expunge(&self, uids: SequenceSet<Uid>) -> Result<(), Error> {
        self.run(Command::UidExpunge(uids)).await.map(drop)
    }

    /// APPEND one message; returns APPENDUID when the server sends it (UIDPLUS).
    /// `date` is `dd-Mon-yyyy hh:mm:ss +zzzz`.
    ///
    /// # Errors
    /// See the module docs ([`Error::No`] with `TRYCREATE` for a missing mailbox).
    ///
    /// # Cancel safety
    /// Not cancel safe: the message may be stored after the future is dropped.
    pub async fn append(
        &self,
        mailbox: &str,
        flags: Vec<Flag>,
        date: Option<String>,
        message: Vec<u8>,
    ) -> Result<Option<AppendResult>, Error> {
        let out = self
            .run(Command::Append {
                mailbox: mailbox.into(),
                messages: vec![AppendMessage {
                    flags,
                    date,
                    data: message,
                }],
            })
            .await?;
        Ok(match out.status.code {
            Some(ResponseCode::AppendUid { uid_validity, uids }) => {
                Some(AppendResult { uid_validity, uids })
            }
            _ => None,
        })
    }

    /// APPEND with the message read from `reader` (held in memory while it is sent: IMAP
    /// needs its length up front).
    ///
    /// # Errors
    /// As [`ImapClient::append`], and the reader's I/O errors.
    ///
    /// # Cancel safety
    /// Not cancel safe.
    pub async fn append_from<R: tokio::io::AsyncRead + Unpin>(
        &self,
        mailbox: &str,
        flags: Vec<Flag>,
        date: Option<String>,
        reader: &mut R,
    ) -> Result<Option<AppendResult>, Error> {
        let mut data = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(reader, &mut data).await?;
        self.append(mailbox, flags, date, data).await
    }

    /// The UIDs of the messages new since `last_uid` under `uid_validity` in the selected
    /// mailbox, found by UID (`UID SEARCH UID n+1:*`, dropping the last message the server
    /// returns for `*` when its UID is lower than `n+1`). `None` when the mailbox's
    /// UIDVALIDITY is not `uid_validity`: every UID is new, start over.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn new_since(
        &self,
        uid_validity: UidValidity,
        last_uid: u32,
    ) -> Result<Option<Vec<Uid>>, Error> {
        if self.mailbox_view().uid_validity != Some(uid_validity) {
            return Ok(None);
        }
        let Some(first) = last_uid.checked_add(1).and_then(|n| Uid::try_from(n).ok()) else {
            return Ok(Some(Vec::new()));
        };
        let set = SequenceSet::from_to_end(first);
        let uids = self.search(vec![SearchKey::Uid(set)]).await?;
        Ok(Some(uids.into_iter().filter(|u| *u >= first).collect()))
    }

    /// GETQUOTAROOT (RFC 9208): the raw QUOTAROOT and QUOTA data.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn quota_root(&self, mailbox: &str) -> Result<Vec<Data>, Error> {
        Ok(self.run(Command::GetQuotaRoot(mailbox.into())).await?.data)
    }

    /// GETMETADATA (RFC 5464): the raw METADATA data.
    ///
    /// # Errors
    /// See the module docs.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn metadata(&self, mailbox: &str, entries: Vec<String>) -> Result<Vec<Data>, Error> {
        Ok(self
            .run(Command::GetMetadata {
                mailbox: mailbox.into(),
                entries,
                max_size: None,
                depth: None,
            })
            .await?
            .data)
    }
}

fn lists(data: Vec<Data>) -> Vec<ListItem> {
    data.into_iter()
        .filter_map(|d| match d {
            Data::List(l) => Some(l),
            _ => None,
        })
        .collect()
}

fn copy_uid(code: Option<&ResponseCode>, data: &[Data]) -> Option<CopyResult> {
    let from_data = data.iter().find_map(|d| match d {
        Data::Status(s) => s.code.as_ref(),
        _ => None,
    });
    match code.or(from_data) {
        Some(ResponseCode::CopyUid {
            uid_validity,
            source,
            target,
        }) => Some(CopyResult {
            uid_validity: *uid_validity,
            source: source.clone(),
            target: target.clone(),
        }),
        _ => None,
    }
}
