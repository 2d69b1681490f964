//! The message methods of [`ImapClient`]: FETCH as a stream, SEARCH (ESEARCH when offered),
//! SORT, THREAD, STORE, COPY, MOVE (with its fallback), EXPUNGE, APPEND, and
//! "new since UID X" (RFC 9051 6.4, RFC 4315 UIDPLUS, RFC 6851 MOVE, RFC 5256, RFC 4731).
//! The errors and cancel safety all methods share are documented on [`ImapClient`].

use mailbag_proto::imap::command::{AppendMessage, FetchAttribute, MessageSet, StoreKind};
use mailbag_proto::imap::search::SearchKey;
use mailbag_proto::imap::types::{
    Capability, Data, ESearchItem, Flag, ModSeq, ResponseCode, Uid, UidValidity,
};
use mailbag_proto::imap::{Command, SequenceSet};

use super::client::ImapClient;
use super::fetch::FetchStream;
use super::types::{AppendResult, CopyResult};
use crate::error::Error;

impl ImapClient {
    /// FETCH or UID FETCH (by the kind of `set`) as a stream.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety) (a NO comes from the stream).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn search_raw(&self, criteria: &str) -> Result<Vec<Uid>, Error> {
        self.search(vec![SearchKey::Raw(criteria.to_owned())]).await
    }

    /// UID SORT (RFC 5256): the UIDs matching `search`, in the order of `criteria`.
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety); [`Error::Misuse`] when the server
    /// has neither MOVE nor UIDPLUS (a plain EXPUNGE would remove other deleted messages too).
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn expunge(&self) -> Result<(), Error> {
        self.run(Command::Expunge).await.map(drop)
    }

    /// UID EXPUNGE (UIDPLUS): removes only these messages (if flagged \Deleted).
    ///
    /// # Errors
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
    /// See [errors](ImapClient#errors-and-cancel-safety) ([`Error::No`] with `TRYCREATE` for a
    /// missing mailbox).
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
        Ok(append_uid(out.status))
    }

    /// Appends several messages to `mailbox`: one `APPEND` carrying all of them when the
    /// server offers MULTIAPPEND (RFC 3502: all stored or none), otherwise one APPEND each.
    /// Returns the APPENDUIDs (RFC 4315): one result holding every new UID with MULTIAPPEND,
    /// one per message otherwise; empty without UIDPLUS.
    ///
    /// # Errors
    /// As [`ImapClient::append`]. Without MULTIAPPEND, the messages before a failing one stay
    /// stored.
    ///
    /// # Cancel safety
    /// Not cancel safe.
    pub async fn append_many(
        &self,
        mailbox: &str,
        messages: Vec<AppendMessage>,
    ) -> Result<Vec<AppendResult>, Error> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        if messages.len() == 1 || self.has_capability(&Capability::MultiAppend) {
            let out = self
                .run(Command::Append {
                    mailbox: mailbox.into(),
                    messages,
                })
                .await?;
            return Ok(append_uid(out.status).into_iter().collect());
        }
        let mut results = Vec::new();
        for m in messages {
            if let Some(r) = self.append(mailbox, m.flags, m.date, m.data).await? {
                results.push(r);
            }
        }
        Ok(results)
    }

    /// APPEND of a message of exactly `len` bytes read from `reader` while it goes out, so
    /// that a message of any size is never held whole: at most a few 64 KiB pieces are in
    /// memory at once. Returns APPENDUID when the server sends it (UIDPLUS).
    ///
    /// # Errors
    /// As [`ImapClient::append`]; the reader's I/O error, or [`Error::Misuse`] when it ends
    /// before `len` bytes. The length was announced to the server, so a reader that fails
    /// midway also ends the connection (there is no way to stop a literal).
    ///
    /// # Cancel safety
    /// Not cancel safe: dropping the future midway ends the connection, as above.
    pub async fn append_stream<R: tokio::io::AsyncRead + Unpin>(
        &self,
        mailbox: &str,
        flags: Vec<Flag>,
        date: Option<String>,
        len: u64,
        reader: R,
    ) -> Result<Option<AppendResult>, Error> {
        use tokio::io::AsyncReadExt as _;
        const PIECE: usize = 64 * 1024;
        let (tx, body) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
        let command = Command::AppendStream {
            mailbox: mailbox.into(),
            flags,
            date,
            len,
        };
        let replies = self.submit_with(command, true, Some(body)).await?;
        let feed = async move {
            let mut reader = reader.take(len);
            let mut sent = 0u64;
            loop {
                let mut piece = bytes::BytesMut::with_capacity(PIECE);
                let n = reader.read_buf(&mut piece).await?;
                if n == 0 {
                    return Ok::<u64, std::io::Error>(sent);
                }
                sent += n as u64;
                // A closed channel: the server refused the literal, or the connection ended;
                // the command's reply says which.
                if tx.send(piece.freeze()).await.is_err() {
                    return Ok(sent);
                }
            }
        };
        let (fed, outcome) = tokio::join!(feed, self.run_named("APPEND", replies));
        let fed = fed?;
        if fed < len && outcome.is_err() {
            return Err(Error::misuse(format!(
                "the message to APPEND ended after {fed} of the {len} bytes announced"
            )));
        }
        Ok(append_uid(outcome?.status))
    }

    /// APPEND with the message read from `reader` to its end, held in memory while it is
    /// sent (IMAP needs the length up front); [`ImapClient::append_stream`] when the length
    /// is known.
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
    /// See [errors](ImapClient#errors-and-cancel-safety).
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
}

/// The APPENDUID of an APPEND's completion (UIDPLUS), if the server sent one.
fn append_uid(status: mailbag_proto::imap::types::StatusText) -> Option<AppendResult> {
    match status.code {
        Some(ResponseCode::AppendUid { uid_validity, uids }) => {
            Some(AppendResult { uid_validity, uids })
        }
        _ => None,
    }
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
