//! The connection task: the one owner of the socket and of the [`ClientCore`]. Handles send
//! it requests over a channel; it routes every event to the command it belongs to and every
//! notification to the notification channel, awaiting each send, so a slow reader stops the
//! socket reads (backpressure) instead of losing or piling up data.
//!
//! What a hostile server can make it hold is bounded: each response by the parser's
//! [`Limits`](mailbag_proto::imap::parse::Limits), the responses a collecting command gathers
//! by `max_responses`. Passing a size limit ends the connection with
//! [`Error::LimitExceeded`], which every waiting command receives as such. A response that
//! merely breaks the grammar is skipped and reported (it may be an extension we do not know);
//! one past a size limit is not, since skipping it would let a command complete without the
//! data it asked for (a SEARCH answer over the line limit read as "no match").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use mailbag_proto::imap::client::{ClientCore, ClientEvent, CommandId, ConnectionState};
use mailbag_proto::imap::parse::{ParseErrorKind, StreamedBody};
use mailbag_proto::imap::types::{Capability, Data, FetchItem, SeqNum, StatusText};
use mailbag_proto::imap::Command;
use mailbag_proto::sasl::SaslClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tracing::trace;

use super::notify::ImapEvent;
use crate::error::Error;
use crate::tls::TlsConfig;
use crate::transport::{ReadBuffer, Stream, Timeouts};

/// What a command's handle receives, in order, ending with `Done` or `Failed`.
#[derive(Debug)]
pub(crate) enum Reply {
    Data(Data),
    FetchStarted {
        seq: SeqNum,
        items: Vec<FetchItem>,
        body: StreamedBody,
    },
    FetchBodyStarted {
        items: Vec<FetchItem>,
        body: StreamedBody,
    },
    Chunk(Bytes),
    FetchEnded {
        items: Vec<FetchItem>,
    },
    Done(StatusText),
    Failed(Error),
}

/// A request from a handle to the task.
pub(crate) enum Request {
    Submit {
        command: Command,
        reply: mpsc::Sender<Reply>,
        /// The handle collects the untagged data in memory: count it against the cap.
        collected: bool,
        /// The bytes of the command's deferred literal ([`Command::AppendStream`]), exactly
        /// as many as announced.
        literal: Option<mpsc::Receiver<Bytes>>,
    },
    Authenticate {
        sasl: Box<SaslClient>,
        reply: mpsc::Sender<Reply>,
    },
    SetIdle(bool),
    /// LOGOUT (the core sends it once the commands before it are done), then close as soon
    /// as it is written, without waiting for its answer; `done` fires once closed.
    Disconnect {
        done: oneshot::Sender<()>,
    },
}

/// What handles may read without asking the task.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) capabilities: Vec<Capability>,
    pub(crate) enabled: Vec<Capability>,
    pub(crate) state: Option<ConnectionState>,
    pub(crate) view: mailbag_proto::imap::client::MailboxView,
    pub(crate) compressed: bool,
    pub(crate) closed: Option<String>,
}

/// Raw DEFLATE both ways (RFC 4978).
struct Deflate {
    compress: Compress,
    decompress: Decompress,
}

/// Where one command's replies go, and how many untagged responses it collected.
pub(crate) struct Route {
    tx: mpsc::Sender<Reply>,
    collected: bool,
    responses: usize,
}

impl Route {
    fn new(tx: mpsc::Sender<Reply>, collected: bool) -> Route {
        Route {
            tx,
            collected,
            responses: 0,
        }
    }
}

pub(crate) struct Connection {
    pub(crate) core: ClientCore,
    pub(crate) stream: Stream,
    pub(crate) host: String,
    pub(crate) tls: TlsConfig,
    pub(crate) timeouts: Timeouts,
    pub(crate) requests: mpsc::Receiver<Request>,
    pub(crate) notifications: mpsc::Sender<ImapEvent>,
    pub(crate) subscribed: Arc<AtomicBool>,
    pub(crate) shared: Arc<Mutex<Shared>>,
    /// The commands in flight, by id: a few at a time, so an ordered map (no hashing per
    /// response routed).
    pub(crate) replies: BTreeMap<CommandId, Route>,
    /// Where the greeting goes, once (or why the connection ended before it).
    pub(crate) greeting: Option<mpsc::Sender<Result<StatusText, Error>>>,
    /// Most untagged responses one collecting command may receive.
    max_responses: usize,
    deflate: Option<Deflate>,
    /// The bytes of deferred literals, by command, until the core asks for them.
    literal_sources: BTreeMap<CommandId, mpsc::Receiver<Bytes>>,
    /// The deferred literal being sent now.
    literal_in: Option<mpsc::Receiver<Bytes>>,
    /// The core's view generation last copied into `shared`.
    published_view: Option<u64>,
    /// The core's capabilities generation last copied to `shared`.
    published_capabilities: Option<u64>,
    /// Events dispatched since the view was last copied to the handles.
    events_since_view: usize,
    /// A notification was dispatched since the last publication.
    notified: bool,
    /// Set by [`Request::Disconnect`]: fired once the connection is closed.
    disconnect: Option<oneshot::Sender<()>>,
}

impl Connection {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        core: ClientCore,
        stream: Stream,
        host: String,
        tls: TlsConfig,
        timeouts: Timeouts,
        requests: mpsc::Receiver<Request>,
        notifications: mpsc::Sender<ImapEvent>,
        subscribed: Arc<AtomicBool>,
        shared: Arc<Mutex<Shared>>,
        max_responses: usize,
    ) -> Self {
        Connection {
            core,
            stream,
            host,
            tls,
            timeouts,
            requests,
            notifications,
            subscribed,
            shared,
            replies: BTreeMap::new(),
            greeting: None,
            max_responses,
            deflate: None,
            literal_sources: BTreeMap::new(),
            literal_in: None,
            published_view: None,
            published_capabilities: None,
            events_since_view: 0,
            notified: false,
            disconnect: None,
        }
    }

    /// Runs until the connection ends; then fails every command still waiting.
    pub(crate) async fn run(mut self) {
        let reason = match self.run_inner().await {
            Ok(()) => Error::ConnectionLost {
                detail: "the connection was closed".into(),
            },
            Err(e) => e,
        };
        let detail = reason.to_string();
        trace!(target: "mailbag::imap", "connection ends: {detail}");
        if let Ok(mut s) = self.shared.lock() {
            s.closed = Some(detail.clone());
            s.state = Some(ConnectionState::Logout);
        }
        if let Some(tx) = self.greeting.take() {
            let _ = tx.send(Err(reason.for_each_waiter())).await;
        }
        for (_, route) in std::mem::take(&mut self.replies) {
            let _ = route.tx.send(Reply::Failed(reason.for_each_waiter())).await;
        }
        let done = self.disconnect.take();
        // The program ended the session itself: nothing was lost.
        if done.is_none() {
            let _ = self
                .notifications
                .try_send(ImapEvent::ConnectionLost { detail });
        }
        let _ = self.stream.shutdown().await;
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    async fn run_inner(&mut self) -> Result<(), Error> {
        let mut reads = ReadBuffer::new();
        let mut requests_open = true;
        loop {
            self.flush().await?;
            self.dispatch().await?;
            self.flush().await?;
            self.publish(false);
            if self.core.state() == ConnectionState::Logout && self.replies.is_empty() {
                return Ok(());
            }
            // No handle is left and nobody listens for the commands still running (a FETCH
            // stream dropped mid-body): nothing more to do, however long the server goes on.
            // After a disconnect request only LOGOUT's unheard answer may be left: close.
            if (!requests_open || self.disconnect.is_some())
                && self.replies.values().all(|r| r.tx.is_closed())
            {
                return Ok(());
            }
            let deadline = self.core.poll_timeout();
            tokio::select! {
                request = self.requests.recv(), if requests_open => match request {
                    Some(r) => self.handle_request(r).await,
                    None => requests_open = false,
                },
                read = self.stream.read_buf(reads.room()) => {
                    let n = read.map_err(|e| Error::ConnectionLost { detail: e.to_string() })?;
                    if n == 0 {
                        return Err(Error::ConnectionLost {
                            detail: "the server closed the connection".into(),
                        });
                    }
                    reads.hand_on(|data| self.feed(data))?;
                }
                chunk = next_chunk(self.literal_in.as_mut()) => match chunk {
                    Some(bytes) => {
                        self.core
                            .send_literal(Instant::now(), &bytes)
                            .map_err(Error::misuse)?;
                        if self.core.literal_wanted().is_none() {
                            self.literal_in = None;
                        }
                    }
                    // The literal's length was announced: the connection cannot go on.
                    None => {
                        return Err(Error::misuse(format!(
                            "the message to APPEND ended {} bytes short of the length announced",
                            self.core.literal_wanted().map_or(0, |(_, n)| n)
                        )))
                    }
                },
                () = sleep_until(deadline) => self.core.handle_timeout(Instant::now()),
            }
        }
    }

    fn feed(&mut self, data: Bytes) -> Result<(), Error> {
        let now = Instant::now();
        match self.deflate.as_mut() {
            None => self.core.handle_input_bytes(now, data),
            Some(d) => {
                let plain = inflate(&mut d.decompress, &data)?;
                self.core.handle_input_bytes(now, Bytes::from(plain));
            }
        }
        Ok(())
    }

    async fn handle_request(&mut self, request: Request) {
        let now = Instant::now();
        match request {
            Request::Submit {
                command,
                reply,
                collected,
                literal,
            } => match self.core.submit(now, command) {
                Ok(id) => {
                    self.replies.insert(id, Route::new(reply, collected));
                    if let Some(body) = literal {
                        self.literal_sources.insert(id, body);
                    }
                }
                Err(e) => {
                    let _ = reply.send(Reply::Failed(Error::misuse(e))).await;
                }
            },
            Request::Authenticate { sasl, reply } => match self.core.authenticate(now, *sasl) {
                Ok(id) => {
                    self.replies.insert(id, Route::new(reply, true));
                }
                Err(e) => {
                    let _ = reply.send(Reply::Failed(Error::misuse(e))).await;
                }
            },
            Request::SetIdle(on) => self.core.set_idle(now, on),
            Request::Disconnect { done } => {
                // LOGOUT's answer goes nowhere: its route is closed from the start, so the
                // loop closes the connection once the earlier commands are done.
                let (tx, _) = mpsc::channel(1);
                if let Ok(id) = self.core.submit(now, Command::Logout) {
                    self.replies.insert(id, Route::new(tx, false));
                }
                self.disconnect = Some(done);
            }
        }
    }

    async fn flush(&mut self) -> Result<(), Error> {
        let mut wrote = false;
        while let Some(bytes) = self.core.poll_transmit() {
            let bytes = match self.deflate.as_mut() {
                None => bytes,
                Some(d) => deflate(&mut d.compress, &bytes)?,
            };
            self.stream
                .write_all(&bytes)
                .await
                .map_err(|e| Error::ConnectionLost {
                    detail: e.to_string(),
                })?;
            wrote = true;
        }
        if wrote {
            self.stream
                .flush()
                .await
                .map_err(|e| Error::ConnectionLost {
                    detail: e.to_string(),
                })?;
        }
        while let Some(line) = self.core.poll_trace() {
            trace!(target: "mailbag::imap", "{line}");
        }
        // Lines are built only while someone logs them (checked again on every turn).
        self.core
            .set_trace(tracing::enabled!(target: "mailbag::imap", tracing::Level::TRACE));
        Ok(())
    }

    /// Copies what the handles read ([`ImapClient::mailbox_view`] and the like) to them.
    ///
    /// The view holds a UID per message, so it is copied only when it changed, and while a
    /// command is running (`at_boundary` false) only its counters are, unless notifications
    /// came in this turn or responses numbering a sixteenth of the mailbox's messages passed
    /// since the last copy (so the copying stays in proportion to what is read). The UID map
    /// is always copied at a command's completion, before the handle hears of it.
    /// Copied on every turn, a 100,000-message FETCH copied the growing map some 20,000
    /// times (issue 8: 12 % of the client's instructions for 4,000 x 50 KB).
    ///
    /// [`ImapClient::mailbox_view`]: super::ImapClient::mailbox_view
    fn publish(&mut self, at_boundary: bool) {
        if let Ok(mut s) = self.shared.lock() {
            // Copied only when changed: this runs after every read, and a capability list is
            // a few dozen values, some of them strings (issue 8: copying them was 1.1 % of the
            // user time of a 500 MB download over TLS, where a read is one 16 KiB record,
            // and comparing them still 0.6 %).
            let generation = self.core.capabilities_generation();
            if self.published_capabilities != Some(generation) {
                s.capabilities = self.core.capabilities().to_vec();
                s.enabled = self.core.enabled().to_vec();
                self.published_capabilities = Some(generation);
            }
            s.state = Some(self.core.state());
            let generation = self.core.view_generation();
            if self.published_view != Some(generation) {
                let view = self.core.view();
                let due = self.events_since_view.saturating_mul(16) >= view.exists as usize;
                if at_boundary || self.replies.is_empty() || self.notified || due {
                    s.view = view.clone();
                    self.published_view = Some(generation);
                    self.events_since_view = 0;
                } else {
                    s.view.copy_counters_from(view);
                }
            }
            s.compressed = self.deflate.is_some();
        }
        self.notified = false;
    }

    async fn route_to(&mut self, id: CommandId, reply: Reply) {
        if let Some(route) = self.replies.get(&id) {
            // A dropped handle (a cancelled future) just stops listening.
            let _ = route.tx.send(reply).await;
        }
    }

    /// Routes untagged data, counting it against the cap of a collecting command.
    async fn route_data(&mut self, id: CommandId, data: Data) -> Result<(), Error> {
        let limit = self.max_responses;
        if let Some(route) = self.replies.get_mut(&id) {
            if route.collected {
                route.responses = route.responses.saturating_add(1);
                if route.responses > limit {
                    return Err(Error::LimitExceeded {
                        what: "untagged responses to one command",
                        limit: u64::try_from(limit).unwrap_or(u64::MAX),
                    });
                }
            }
        }
        self.route_to(id, Reply::Data(data)).await;
        Ok(())
    }

    async fn dispatch(&mut self) -> Result<(), Error> {
        while let Some(event) = self.core.poll_event() {
            self.events_since_view = self.events_since_view.saturating_add(1);
            match event {
                ClientEvent::GreetingReceived(status) => {
                    self.publish(true);
                    if let Some(tx) = self.greeting.take() {
                        let _ = tx.send(Ok(status)).await;
                    }
                }
                ClientEvent::IdleAccepted(_) => {}
                ClientEvent::LiteralWanted { id, .. } => {
                    self.literal_in = self.literal_sources.remove(&id);
                    if self.literal_in.is_none() {
                        return Err(Error::misuse("a literal was wanted that has no source"));
                    }
                }
                ClientEvent::Data { id, data } => self.route_data(id, data).await?,
                ClientEvent::FetchStarted {
                    id,
                    seq,
                    items,
                    body,
                } => {
                    self.route_to(id, Reply::FetchStarted { seq, items, body })
                        .await
                }
                ClientEvent::FetchBodyStarted { id, items, body } => {
                    self.route_to(id, Reply::FetchBodyStarted { items, body })
                        .await
                }
                ClientEvent::BodyChunk { id, chunk } => {
                    self.route_to(id, Reply::Chunk(chunk)).await
                }
                ClientEvent::FetchEnded { id, items } => {
                    self.route_to(id, Reply::FetchEnded { items }).await
                }
                ClientEvent::CommandCompleted { id, status } => {
                    self.publish(true);
                    // A synchronising literal refused (NO instead of `+`) is never asked for.
                    self.literal_sources.remove(&id);
                    if let Some(route) = self.replies.remove(&id) {
                        let _ = route.tx.send(Reply::Done(status)).await;
                    }
                }
                ClientEvent::Notification(n) => {
                    self.notified = true;
                    self.notify(ImapEvent::Server(n)).await
                }
                ClientEvent::StartTls => {
                    self.stream
                        .upgrade(&self.host, &self.tls, &self.timeouts)
                        .await?;
                    let injected = self.core.tls_established(Instant::now());
                    if injected > 0 {
                        return Err(Error::protocol(
                            format!(
                                "{injected} bytes arrived in clear after the STARTTLS go-ahead"
                            ),
                            &[],
                        ));
                    }
                }
                ClientEvent::CompressionStarted => {
                    self.deflate = Some(Deflate {
                        compress: Compress::new(Compression::default(), false),
                        decompress: Decompress::new(false),
                    });
                    self.core.compression_established(Instant::now());
                }
                ClientEvent::ParseError(e) => {
                    if let Some(exceeded) = limit_exceeded(&e.kind) {
                        return Err(exceeded);
                    }
                    self.notify(ImapEvent::Unparsable {
                        detail: e.kind.to_string(),
                        bytes: e.bytes.to_vec(),
                    })
                    .await
                }
                ClientEvent::TimedOut(_) => {
                    return Err(Error::Timeout {
                        what: "IMAP command",
                    })
                }
            }
        }
        Ok(())
    }

    /// Sends a notification: awaited once the program subscribed (backpressure); before
    /// that, kept while the channel has room.
    async fn notify(&mut self, event: ImapEvent) {
        if self.subscribed.load(Ordering::Acquire) {
            let _ = self.notifications.send(event).await;
        } else if self.notifications.try_send(event).is_err() {
            trace!(target: "mailbag::imap", "notification not kept: nobody subscribed");
        }
    }
}

/// The next piece of the deferred literal being sent; never, when none is.
async fn next_chunk(source: Option<&mut mpsc::Receiver<Bytes>>) -> Option<Bytes> {
    match source {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The error for a response past a size limit; `None` for one that broke the grammar.
fn limit_exceeded(kind: &ParseErrorKind) -> Option<Error> {
    let (what, limit) = match *kind {
        ParseErrorKind::LineTooLong { limit } => (
            "bytes in one line",
            u64::try_from(limit).unwrap_or(u64::MAX),
        ),
        ParseErrorKind::LiteralTooLarge { limit, .. } => ("bytes in one literal", limit),
        ParseErrorKind::ResponseTooLarge { limit } => (
            "bytes in one response",
            u64::try_from(limit).unwrap_or(u64::MAX),
        ),
        _ => return None,
    };
    Some(Error::LimitExceeded { what, limit })
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

fn inflate(d: &mut Decompress, mut input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).max(1024));
    loop {
        if out.capacity() == out.len() {
            out.reserve(out.len().max(4096));
        }
        let before = d.total_in();
        d.decompress_vec(input, &mut out, FlushDecompress::Sync)
            .map_err(|e| Error::protocol(format!("bad DEFLATE data: {e}"), &[]))?;
        let used = usize::try_from(d.total_in() - before).unwrap_or(input.len());
        input = input.get(used..).unwrap_or_default();
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(out);
        }
    }
}

fn deflate(c: &mut Compress, mut input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(input.len() + 64);
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(4096);
        }
        let before = c.total_in();
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .map_err(|e| Error::protocol(format!("DEFLATE failed: {e}"), &[]))?;
        let used = usize::try_from(c.total_in() - before).unwrap_or(input.len());
        input = input.get(used..).unwrap_or_default();
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(out);
        }
    }
}
