//! [`Watcher`]: a folder watched across connection drops.

use std::collections::VecDeque;
use std::time::Duration;

use mailbag_proto::imap::command::{FetchAttribute, MessageSet, SelectParam};
use mailbag_proto::imap::types::{
    Capability, Data, Flag, ModSeq, SeqNum, SequenceSet, Uid, UidValidity,
};
use mailbag_proto::imap::Command;
use mailbag_proto::sasl::{Credentials, Mechanism};

use super::fetch::Message;
use super::notify::{ImapEvent, Notification, Notifications};
use super::types::MailboxSummary;
use super::{ConnectOptions, ImapClient};
use crate::error::Error;

/// How a [`Watcher`] logs in.
#[derive(Debug, Clone)]
pub enum WatchLogin {
    /// LOGIN with the credentials' user name and password.
    Login(Credentials),
    /// AUTHENTICATE with a mechanism (`None`: the strongest offered that mailbag knows).
    Authenticate(Option<Mechanism>, Credentials),
}

/// Where a watch starts: the last UID the program already knows under a UIDVALIDITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchPosition {
    /// The folder's UIDVALIDITY.
    pub uid_validity: UidValidity,
    /// The highest UID already handled (0: none).
    pub last_uid: u32,
    /// The highest mod-sequence seen (for QRESYNC).
    pub highest_modseq: Option<ModSeq>,
}

/// What a [`Watcher`] does and how patient it is.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Where and how to connect (its command timeout also bounds each reconnect step).
    pub connect: ConnectOptions,
    /// How to log in.
    pub login: WatchLogin,
    /// The folder watched.
    pub folder: String,
    /// The first wait before reconnecting after a failed attempt; doubled per failure.
    pub backoff_initial: Duration,
    /// The longest wait between reconnect attempts.
    pub backoff_max: Duration,
    /// No notification for this long: probe the link with NOOP.
    pub probe_after: Duration,
    /// The probe's NOOP not answered within this: the link is dead, reconnect.
    pub probe_timeout: Duration,
    /// Use QRESYNC when offered, to learn the UIDs expunged while disconnected.
    pub qresync: bool,
    /// Fetch these items of each new message (UID is always there); empty: report UIDs only.
    pub fetch: Vec<FetchAttribute>,
    /// Where to start; `None`: from the folder's UIDNEXT at the first connection.
    pub start: Option<WatchPosition>,
}

impl WatchOptions {
    /// Options with defaults: backoff 1 s doubling up to 5 min, a probe after 5 min of
    /// silence answered within 30 s, QRESYNC on, UIDs only, starting at UIDNEXT.
    pub fn new(connect: ConnectOptions, login: WatchLogin, folder: impl Into<String>) -> Self {
        WatchOptions {
            connect,
            login,
            folder: folder.into(),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            probe_after: Duration::from_secs(300),
            probe_timeout: Duration::from_secs(30),
            qresync: true,
            fetch: Vec::new(),
            start: None,
        }
    }
}

/// What a [`Watcher`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// Connected and watching (`reconnected`: after a drop). Messages that arrived meanwhile
    /// follow as [`WatchEvent::New`].
    Connected {
        /// Whether this follows a drop.
        reconnected: bool,
        /// The folder as EXAMINE described it.
        summary: MailboxSummary,
    },
    /// A new message, reported once; `message` holds the items of [`WatchOptions::fetch`].
    New {
        /// Its UID.
        uid: Uid,
        /// The fetched items, when asked for.
        message: Option<Message>,
    },
    /// A message was expunged (its UID when known).
    Expunged {
        /// The sequence number it had.
        seq: SeqNum,
        /// Its UID, when known.
        uid: Option<Uid>,
    },
    /// UIDs expunged (QRESYNC); `earlier`: while the watcher was disconnected.
    Vanished {
        /// Whether these were reported at reconnect, not as they happened.
        earlier: bool,
        /// The UIDs.
        uids: SequenceSet<Uid>,
    },
    /// A message's flags or mod-sequence changed.
    FlagsChanged {
        /// The sequence number.
        seq: SeqNum,
        /// Its UID, when known.
        uid: Option<Uid>,
        /// The new flags, when sent.
        flags: Option<Vec<Flag>>,
        /// The new mod-sequence, when sent.
        modseq: Option<ModSeq>,
    },
    /// The folder's UIDVALIDITY changed: earlier UIDs are void; the watch goes on from the
    /// new UIDNEXT (the program should resynchronise the whole folder).
    UidValidityChanged {
        /// The UIDVALIDITY before.
        old: UidValidity,
        /// The UIDVALIDITY now.
        new: UidValidity,
    },
    /// An `[ALERT]` the user must see.
    Alert(String),
    /// The connection dropped (or was found dead); the watcher reconnects.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// The live connection of a watcher.
struct Live {
    client: ImapClient,
    events: Notifications,
}

/// A folder watched with IDLE across connection drops, so no new message is ever missed
/// (RFC 2177 IDLE, RFC 9051 2.3.1.1 UIDs and UIDVALIDITY, RFC 7162 QRESYNC).
///
/// A watcher connects, logs in, EXAMINEs the folder (nothing changes on the server) and turns
/// the IDLE mode on (NOOP polling where IDLE is not offered). It yields [`WatchEvent`]s. When
/// the connection drops (reset, end-of-file, BYE, a command timeout) or the link goes dead, it
/// reconnects with capped exponential backoff, examines the folder again, and reports what
/// changed meanwhile.
///
/// New messages are found by UID, never by counting EXISTS: the watcher keeps the highest UID
/// it reported under the folder's UIDVALIDITY, and after every EXISTS and every reconnect
/// asks `UID SEARCH UID last+1:*`, so each new message is reported exactly once, in UID
/// order, however many drops happen. With QRESYNC (when offered and not turned off) the
/// reconnect also reports the UIDs expunged meanwhile (`VANISHED (EARLIER)`). When the
/// UIDVALIDITY changed, old UIDs mean nothing: that is its own event, and the watcher goes on
/// from the new UIDNEXT.
///
/// A dead link (a NAT that forgot the connection, a blackholed route) sends no error: the
/// watcher notices that no notification came for [`WatchOptions::probe_after`], sends NOOP
/// (ending IDLE first), and treats no answer within [`WatchOptions::probe_timeout`] as a drop.
///
/// Errors end the watch only when reconnecting cannot help: the first connection failing
/// (so a wrong address or password is reported at once), an authentication refusal, or the
/// folder refused by the server on the first examine. Everything else is retried.
///
/// ```no_run
/// # async fn demo() -> Result<(), mailbag::Error> {
/// use mailbag::imap::{ConnectOptions, WatchEvent, WatchLogin, WatchOptions, Watcher};
/// use mailbag::proto::sasl::Credentials;
/// use mailbag::Security;
///
/// let connect = ConnectOptions::new("imap.example.org", Security::Implicit);
/// let login = WatchLogin::Login(Credentials::new("joe", "secret"));
/// let mut watcher = Watcher::new(WatchOptions::new(connect, login, "INBOX"));
/// loop {
///     if let WatchEvent::New { uid, .. } = watcher.next().await? {
///         println!("new message {uid}");
///     }
/// }
/// # }
/// ```
pub struct Watcher {
    options: WatchOptions,
    live: Option<Live>,
    queue: VecDeque<WatchEvent>,
    position: Option<WatchPosition>,
    connected_once: bool,
    reconnects: u64,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("folder", &self.options.folder)
            .field("connected", &self.live.is_some())
            .field("position", &self.position)
            .field("reconnects", &self.reconnects)
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// A watcher; it connects on the first [`Watcher::next`].
    pub fn new(options: WatchOptions) -> Self {
        Watcher {
            position: options.start,
            options,
            live: None,
            queue: VecDeque::new(),
            connected_once: false,
            reconnects: 0,
        }
    }

    /// Where the watch stands: the highest UID reported under the folder's UIDVALIDITY.
    /// Save it to resume a later watch with [`WatchOptions::start`].
    pub fn position(&self) -> Option<WatchPosition> {
        self.position
    }

    /// How many times the watcher reconnected after a drop.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The current connection, for other commands on the watched folder (they end IDLE and
    /// IDLE resumes after them); `None` while disconnected.
    pub fn client(&self) -> Option<&ImapClient> {
        self.live.as_ref().map(|l| &l.client)
    }

    /// The next event, connecting and reconnecting as needed.
    ///
    /// # Errors
    /// Only what reconnecting cannot cure (see [`Watcher`]): the first connection
    /// failing, [`Error::Auth`], the folder refused at the first examine.
    ///
    /// # Cancel safety
    /// Cancel safe while waiting for the server; cancelled during a reconnect or a catch-up
    /// it loses nothing either, since the position advances only when an event is queued,
    /// and the next call reconnects and searches again.
    pub async fn next(&mut self) -> Result<WatchEvent, Error> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(event);
            }
            if self.live.is_none() {
                self.reconnect().await?;
                continue;
            }
            if let Err(reason) = self.wait().await {
                self.drop_connection(reason);
            }
        }
    }

    /// Waits for one notification (probing a silent link) and queues what it means; an
    /// `Err` is the reason the connection is to be dropped.
    async fn wait(&mut self) -> Result<(), String> {
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        let event = match tokio::time::timeout(self.options.probe_after, live.events.next()).await {
            Ok(Some(event)) => event,
            Ok(None) => return Err("the connection ended".into()),
            Err(_) => {
                let probe =
                    tokio::time::timeout(self.options.probe_timeout, live.client.noop()).await;
                return match probe {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("the NOOP probe failed: {e}")),
                    Err(_) => Err(format!(
                        "dead link: no data for {:?} and no answer to NOOP within {:?}",
                        self.options.probe_after, self.options.probe_timeout
                    )),
                };
            }
        };
        match event {
            ImapEvent::Server(n) => self.on_notification(n).await,
            ImapEvent::Unparsable { .. } => Ok(()),
            ImapEvent::ConnectionLost { detail } => Err(detail),
        }
    }

    async fn on_notification(&mut self, n: Notification) -> Result<(), String> {
        match n {
            Notification::Exists(_) => return self.catch_up().await.map_err(|e| e.to_string()),
            Notification::Expunge { seq, uid } => {
                self.queue.push_back(WatchEvent::Expunged { seq, uid })
            }
            Notification::Vanished { earlier, uids } => {
                self.queue.push_back(WatchEvent::Vanished { earlier, uids })
            }
            Notification::FlagsChanged {
                seq,
                uid,
                flags,
                modseq,
            } => {
                if let (Some(m), Some(p)) = (modseq, self.position.as_mut()) {
                    p.highest_modseq = Some(p.highest_modseq.map_or(m, |h| h.max(m)));
                }
                self.queue.push_back(WatchEvent::FlagsChanged {
                    seq,
                    uid,
                    flags,
                    modseq,
                })
            }
            Notification::UidValidityChanged(new) => {
                let summary = self
                    .client_ref()
                    .map(|c| c.mailbox_view())
                    .unwrap_or_default();
                self.restart_position(new, summary.uid_next, summary.highest_modseq);
            }
            Notification::Alert(text) => self.queue.push_back(WatchEvent::Alert(text)),
            Notification::Bye(status) => return Err(format!("BYE {}", status.text)),
            _ => {}
        }
        Ok(())
    }

    fn client_ref(&self) -> Option<&ImapClient> {
        self.live.as_ref().map(|l| &l.client)
    }

    /// A new UIDVALIDITY: queue the event and go on from `uid_next`.
    fn restart_position(
        &mut self,
        new: UidValidity,
        uid_next: Option<Uid>,
        highest_modseq: Option<ModSeq>,
    ) {
        let last_uid = uid_next.map_or(0, |u| u.get().saturating_sub(1));
        if let Some(old) = self.position.map(|p| p.uid_validity) {
            if old != new {
                self.queue
                    .push_back(WatchEvent::UidValidityChanged { old, new });
            }
        }
        self.position = Some(WatchPosition {
            uid_validity: new,
            last_uid,
            highest_modseq,
        });
    }

    /// Finds every message with a UID above the position, fetches what was asked for, and
    /// queues one event each, advancing the position as it goes.
    async fn catch_up(&mut self) -> Result<(), Error> {
        let (Some(live), Some(position)) = (self.live.as_ref(), self.position) else {
            return Ok(());
        };
        let client = live.client.clone();
        let Some(uids) = client
            .new_since(position.uid_validity, position.last_uid)
            .await?
        else {
            // The connection's UIDVALIDITY differs: the examine already handled it.
            return Ok(());
        };
        if uids.is_empty() {
            return Ok(());
        }
        let mut messages: Vec<Option<Message>> = vec![None; uids.len()];
        if !self.options.fetch.is_empty() {
            let mut set = SequenceSet::<Uid>::default();
            for uid in &uids {
                set.push(*uid);
            }
            let mut items = vec![FetchAttribute::Uid];
            items.extend(self.options.fetch.iter().cloned());
            for m in client.fetch_collect(MessageSet::Uid(set), items).await? {
                if let Some(slot) = m
                    .uid()
                    .and_then(|u| uids.iter().position(|x| *x == u))
                    .and_then(|i| messages.get_mut(i))
                {
                    *slot = Some(m);
                }
            }
        }
        let mut sorted: Vec<(Uid, Option<Message>)> = uids.into_iter().zip(messages).collect();
        sorted.sort_by_key(|(u, _)| *u);
        for (uid, message) in sorted {
            if let Some(p) = self.position.as_mut() {
                p.last_uid = p.last_uid.max(uid.get());
            }
            self.queue.push_back(WatchEvent::New { uid, message });
        }
        Ok(())
    }

    fn drop_connection(&mut self, reason: String) {
        if let Some(live) = self.live.take() {
            live.client.abort();
        }
        self.queue.push_back(WatchEvent::Disconnected { reason });
    }

    /// Connects until it works, waiting with capped exponential backoff between attempts.
    async fn reconnect(&mut self) -> Result<(), Error> {
        let mut wait = self.options.backoff_initial;
        loop {
            match self.open().await {
                Ok(()) => return Ok(()),
                Err(e) if !self.connected_once || matches!(e, Error::Auth { .. }) => return Err(e),
                Err(e) => {
                    tracing::debug!(target: "mailbag::imap", "reconnect failed: {e}; next in {wait:?}");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2).min(self.options.backoff_max);
                }
            }
        }
    }

    /// One connection attempt: connect, log in, examine, catch up, IDLE.
    async fn open(&mut self) -> Result<(), Error> {
        let client = ImapClient::connect(self.options.connect.clone()).await?;
        let result = self.open_on(&client).await;
        if result.is_err() {
            client.abort();
        }
        result
    }

    async fn open_on(&mut self, client: &ImapClient) -> Result<(), Error> {
        let events = client
            .notifications()
            .ok_or_else(|| Error::misuse("notifications of a new connection already taken"))?;
        match &self.options.login {
            WatchLogin::Login(c) => client.login(&c.username, c.secret.expose()).await?,
            WatchLogin::Authenticate(m, c) => client.authenticate(*m, c.clone()).await?,
        }
        let mut params = Vec::new();
        if self.options.qresync && client.has_capability(&Capability::QResync) {
            let enabled = client.enable(&[Capability::QResync]).await?;
            if let (true, Some(p)) = (enabled.contains(&Capability::QResync), self.position) {
                if let Some(modseq) = p.highest_modseq {
                    params.push(SelectParam::QResync {
                        uid_validity: p.uid_validity,
                        modseq,
                        known_uids: None,
                        seq_match: None,
                    });
                }
            }
        }
        let out = client
            .run(Command::Examine {
                mailbox: self.options.folder.as_str().into(),
                params,
            })
            .await?;
        let mut summary = MailboxSummary::from_responses(&out.data, out.status.code.as_ref());
        summary.read_write = false;
        let vanished: Vec<SequenceSet<Uid>> = out
            .data
            .into_iter()
            .filter_map(|d| match d {
                Data::Vanished { uids, .. } => Some(uids),
                _ => None,
            })
            .collect();
        let reconnected = self.connected_once;
        self.connected_once = true;
        if reconnected {
            self.reconnects = self.reconnects.saturating_add(1);
        }
        self.queue.push_back(WatchEvent::Connected {
            reconnected,
            summary: summary.clone(),
        });
        for uids in vanished {
            self.queue.push_back(WatchEvent::Vanished {
                earlier: true,
                uids,
            });
        }
        match (self.position, summary.uid_validity) {
            (Some(p), Some(v)) if p.uid_validity == v => {
                if let (Some(p), Some(m)) = (self.position.as_mut(), summary.highest_modseq) {
                    p.highest_modseq = Some(p.highest_modseq.map_or(m, |h| h.max(m)));
                }
            }
            (_, Some(v)) => self.restart_position(v, summary.uid_next, summary.highest_modseq),
            (_, None) => {
                return Err(Error::protocol(
                    "the server sent no UIDVALIDITY for the watched folder",
                    &[],
                ))
            }
        }
        self.live = Some(Live {
            client: client.clone(),
            events,
        });
        // IDLE first (the catch-up's commands end it and it resumes after them), so a
        // watcher cancelled during the catch-up is left idling.
        let caught_up = match client.idle(true).await {
            Ok(()) => self.catch_up().await,
            Err(e) => Err(e),
        };
        if let Err(e) = caught_up {
            self.live = None;
            return Err(e);
        }
        Ok(())
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            live.client.abort();
        }
    }
}
