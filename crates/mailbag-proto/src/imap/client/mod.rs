//! The IMAP client state machine, with no I/O and no clock (RFC 9051 sections 3, 5.5, 6;
//! RFC 2177 IDLE; RFC 4959 SASL-IR; RFC 7888 LITERAL+/-; RFC 4978 COMPRESS).
//!
//! A driver owns the socket and calls, in a loop:
//! - inputs: [`ClientCore::submit`] / [`ClientCore::authenticate`] (the program's commands),
//!   [`ClientCore::handle_input`] (bytes received), [`ClientCore::handle_timeout`] (when
//!   [`ClientCore::poll_timeout`] said so), [`ClientCore::set_idle`] (IDLE mode);
//! - outputs: [`ClientCore::poll_transmit`] (bytes to write), [`ClientCore::poll_event`]
//!   (what happened, in order), [`ClientCore::poll_trace`] (redacted protocol lines to log;
//!   [`ClientCore::set_trace`] stops making them for a driver that logs nothing).
//!
//! Commands go out pipelined unless RFC 9051 section 5.5 forbids it: a command naming
//! messages by sequence number waits while a command that may expunge is in progress, and
//! nothing passes STARTTLS, COMPRESS, AUTHENTICATE, IDLE or LOGOUT. A synchronising literal
//! waits for the server's `+`. Untagged data goes to the first command in flight that asked
//! for that kind of data; everything else is a [`Notification`], emitted at once.
//!
//! The core emits each untagged response as an event as soon as it is parsed and buffers
//! none per command, so its memory does not grow with a command's answer; a driver that
//! collects a command's data (the async client does) bounds it there.
//!
//! Files: this one holds the core's state and its public calls; `send.rs` what may go out
//! when, `receive.rs` greeting, continuations and tagged completions, `route.rs` untagged
//! data, `view.rs` the selected mailbox, `kind.rs` what each command may receive and
//! `event.rs` the events and errors.

mod event;
mod kind;
mod receive;
mod route;
mod send;
mod view;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::imap::command::Command;
use crate::imap::encode::{encode, EncodeOptions, Fragment};
use crate::imap::parse::{Limits, ResponseParser};
use crate::imap::types::{Capability, Tag};
use crate::sasl::SaslClient;

pub use event::{ClientError, ClientEvent, CommandId, ConnectionState, Notification};
pub use view::MailboxView;

use kind::Kind;

/// Settings of the core.
#[derive(Debug, Clone)]
pub struct Config {
    /// Parser limits.
    pub limits: Limits,
    /// A command with no byte received for this long times out (`None`: never).
    pub command_timeout: Option<Duration>,
    /// IDLE is ended and re-issued after this long (RFC 2177 asks for under 29 minutes).
    pub idle_refresh: Duration,
    /// Without IDLE, the IDLE mode polls with NOOP at this interval.
    pub poll_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            command_timeout: Some(Duration::from_secs(120)),
            idle_refresh: Duration::from_secs(28 * 60),
            poll_interval: Duration::from_secs(60),
        }
    }
}

/// A command sent or waiting to be sent.
struct Pending {
    id: CommandId,
    tag: Tag,
    kind: Kind,
    name: &'static str,
    /// Fragments not yet written (after a synchronising literal's header).
    rest: VecDeque<Fragment>,
    sasl: Option<SaslClient>,
    /// The core issued it itself (IDLE, NOOP polling): no events of its own.
    internal: bool,
}

/// A deferred literal being sent ([`Fragment::Deferred`]).
#[derive(Debug)]
struct LiteralOut {
    id: CommandId,
    tag: Tag,
    remaining: u64,
    /// The command's fragments after the literal.
    tail: VecDeque<Fragment>,
}

/// The IMAP client core: see the module documentation for the calling order.
///
/// Its `Debug` output shows the sizes of the bytes waiting to go out, never the bytes: they
/// may hold a LOGIN password or a literal waiting for the server's `+`.
pub struct ClientCore {
    config: Config,
    parser: ResponseParser,
    state: ConnectionState,
    /// The state once every command submitted so far succeeds; commands are checked against it.
    projected: ConnectionState,
    capabilities: Vec<Capability>,
    enabled: Vec<Capability>,
    view: MailboxView,
    /// Bumped at every change of `view` ([`ClientCore::view_generation`]).
    view_generation: u64,
    /// Bumped at every change of `capabilities` or `enabled`
    /// ([`ClientCore::capabilities_generation`]).
    capabilities_generation: u64,
    next_tag: u64,
    queue: VecDeque<Pending>,
    in_flight: Vec<Pending>,
    /// A command whose synchronising literal waits for `+` (always the last in flight).
    awaiting_continuation: bool,
    out: Vec<u8>,
    events: VecDeque<ClientEvent>,
    trace: VecDeque<String>,
    /// Whether `trace` is filled ([`ClientCore::set_trace`]).
    trace_on: bool,
    /// The command a streamed FETCH body belongs to.
    streaming: Option<CommandId>,
    /// A literal going out whose bytes the driver supplies ([`ClientCore::send_literal`]).
    literal_out: Option<LiteralOut>,
    idle_mode: bool,
    idle_done_sent: bool,
    idle_since: Option<Instant>,
    last_activity: Option<Instant>,
    last_poll: Option<Instant>,
    /// Switching the stream (STARTTLS, COMPRESS): input is not parsed until the driver is done.
    switching: bool,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("id", &self.id)
            .field("tag", &self.tag)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("fragments_unsent", &self.rest.len())
            .field("sasl", &self.sasl)
            .field("internal", &self.internal)
            .finish()
    }
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCore")
            .field("state", &self.state)
            .field("projected", &self.projected)
            .field("capabilities", &self.capabilities)
            .field("enabled", &self.enabled)
            .field("view", &self.view)
            .field("next_tag", &self.next_tag)
            .field("queue", &self.queue)
            .field("in_flight", &self.in_flight)
            .field("awaiting_continuation", &self.awaiting_continuation)
            .field("out_bytes", &self.out.len())
            .field("events", &self.events.len())
            .field("streaming", &self.streaming)
            .field("idle_mode", &self.idle_mode)
            .field("switching", &self.switching)
            .finish_non_exhaustive()
    }
}

impl ClientCore {
    /// A core waiting for the server's greeting.
    pub fn new(config: Config) -> Self {
        let parser = ResponseParser::with_limits(config.limits.clone());
        ClientCore {
            config,
            parser,
            state: ConnectionState::Greeting,
            projected: ConnectionState::Greeting,
            capabilities: Vec::new(),
            enabled: Vec::new(),
            view: MailboxView::default(),
            view_generation: 0,
            capabilities_generation: 0,
            next_tag: 1,
            queue: VecDeque::new(),
            in_flight: Vec::new(),
            awaiting_continuation: false,
            out: Vec::new(),
            events: VecDeque::new(),
            trace: VecDeque::new(),
            trace_on: true,
            streaming: None,
            literal_out: None,
            idle_mode: false,
            idle_done_sent: false,
            idle_since: None,
            last_activity: None,
            last_poll: None,
            switching: false,
        }
    }

    // ---- getters ----

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The server's capabilities as last announced (empty after STARTTLS until re-read).
    pub fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }

    /// Whether the server announced `cap`.
    pub fn has(&self, cap: &Capability) -> bool {
        self.capabilities.contains(cap)
    }

    /// The extensions ENABLEd so far.
    pub fn enabled(&self) -> &[Capability] {
        &self.enabled
    }

    /// The selected mailbox as far as known.
    pub fn view(&self) -> &MailboxView {
        &self.view
    }

    /// A number that changes whenever [`ClientCore::view`] may have changed: a driver that
    /// shares a copy of the view need copy it again only then (the view holds a UID per
    /// message, so copying it on every turn of a loop costs in proportion to the mailbox).
    pub fn view_generation(&self) -> u64 {
        self.view_generation
    }

    /// A number that changes whenever [`ClientCore::capabilities`] or
    /// [`ClientCore::enabled`] may have changed, so a driver that mirrors them copies them
    /// only then.
    pub fn capabilities_generation(&self) -> u64 {
        self.capabilities_generation
    }

    fn set_capabilities(&mut self, caps: Vec<Capability>) {
        self.capabilities = caps;
        self.capabilities_generation = self.capabilities_generation.wrapping_add(1);
    }

    pub(super) fn view_mut(&mut self) -> &mut MailboxView {
        self.view_generation = self.view_generation.wrapping_add(1);
        &mut self.view
    }

    /// Whether commands are in flight or waiting to go out.
    pub fn is_busy(&self) -> bool {
        self.in_flight.iter().any(|p| !p.internal) || !self.queue.is_empty()
    }

    // ---- inputs ----

    /// Submits a command; it goes out as soon as the pipelining rules allow.
    ///
    /// # Errors
    /// [`ClientError::WrongState`] when the command is not valid in the state the connection
    /// will be in once the commands before it succeed; [`ClientError::Encode`];
    /// use [`ClientCore::authenticate`] for AUTHENTICATE.
    pub fn submit(&mut self, now: Instant, command: Command) -> Result<CommandId, ClientError> {
        let (kind, name) = Kind::of(&command);
        if kind == Kind::Authenticate {
            return Err(ClientError::WrongState {
                command: "AUTHENTICATE (use ClientCore::authenticate)",
                state: self.projected,
            });
        }
        self.enqueue(now, command, kind, name, None, false)
    }

    /// Submits AUTHENTICATE with `sasl`, sending the initial response with the command when
    /// the server offers SASL-IR (RFC 4959).
    ///
    /// # Errors
    /// As [`ClientCore::submit`], and [`ClientError::Sasl`].
    pub fn authenticate(
        &mut self,
        now: Instant,
        mut sasl: SaslClient,
    ) -> Result<CommandId, ClientError> {
        let mechanism = sasl.mechanism().name().to_owned();
        let initial_response = if self.has(&Capability::SaslIr) {
            match sasl.initial_response() {
                Some(Ok(r)) => Some(crate::Secret::new(r)),
                Some(Err(e)) => return Err(ClientError::Sasl(e.to_string())),
                None => None,
            }
        } else {
            None
        };
        let command = Command::Authenticate {
            mechanism,
            initial_response,
        };
        self.enqueue(
            now,
            command,
            Kind::Authenticate,
            "AUTHENTICATE",
            Some(sasl),
            false,
        )
    }

    fn enqueue(
        &mut self,
        now: Instant,
        command: Command,
        kind: Kind,
        name: &'static str,
        sasl: Option<SaslClient>,
        internal: bool,
    ) -> Result<CommandId, ClientError> {
        if !kind.valid_in(&command, self.projected) {
            return Err(ClientError::WrongState {
                command: name,
                state: self.projected,
            });
        }
        let tag_text = format!("A{}", self.next_tag);
        let tag = Tag::new(tag_text).map_err(|_| ClientError::NotOffered("tag"))?;
        let options = self.encode_options();
        let rest: VecDeque<Fragment> = encode(&tag, &command, &options)?.into();
        let id = CommandId(self.next_tag);
        self.next_tag = self.next_tag.saturating_add(1);
        self.projected = kind.next_state(self.projected);
        self.queue.push_back(Pending {
            id,
            tag,
            kind,
            name,
            rest,
            sasl,
            internal,
        });
        if self.last_activity.is_none() || !self.in_flight.iter().any(|p| !p.internal) {
            self.last_activity = Some(now);
        }
        self.pump(now);
        Ok(id)
    }

    fn encode_options(&self) -> EncodeOptions {
        EncodeOptions {
            literal_plus: self.has(&Capability::LiteralPlus),
            literal_minus: self.has(&Capability::LiteralMinus),
            utf8: self.enabled.contains(&Capability::Utf8Accept),
            binary: self.has(&Capability::Binary),
        }
    }

    /// Turns the IDLE mode on or off. On: whenever nothing else is in flight the core sends
    /// IDLE (or, without the IDLE capability, polls with NOOP); a command submitted meanwhile
    /// sends DONE first and IDLE resumes after it. Off: DONE is sent at once.
    pub fn set_idle(&mut self, now: Instant, on: bool) {
        self.idle_mode = on;
        self.last_poll = Some(now);
        self.pump(now);
    }

    /// Whether the IDLE mode is on.
    pub fn idle_mode(&self) -> bool {
        self.idle_mode
    }

    /// Feeds bytes received from the server (copied; see
    /// [`handle_input_bytes`](Self::handle_input_bytes) to hand them over instead).
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        let before = self.events.len();
        self.parser.feed(bytes);
        self.process(now);
        self.note_progress(now, before);
    }

    /// Feeds bytes received from the server without copying them: responses and streamed
    /// body chunks are slices of `bytes` ([`ResponseParser::feed_bytes`]). For a driver that
    /// reads into a `BytesMut` and passes `split().freeze()`.
    pub fn handle_input_bytes(&mut self, now: Instant, bytes: bytes::Bytes) {
        let before = self.events.len();
        self.parser.feed_bytes(bytes);
        self.process(now);
        self.note_progress(now, before);
    }

    /// Input is progress for the command timeout unless all it completed was unsolicited
    /// (notifications, or responses that could not be parsed): a server that answers a
    /// command with an endless stream of those, and never with the command's data or
    /// completion, runs into the timeout. Bytes of a response not yet complete (a long line
    /// arriving slowly) and anything routed to a command are progress.
    fn note_progress(&mut self, now: Instant, events_before: usize) {
        let mut completed = self.events.iter().skip(events_before).peekable();
        let only_unsolicited = completed.peek().is_some()
            && completed
                .all(|e| matches!(e, ClientEvent::Notification(_) | ClientEvent::ParseError(_)));
        if !only_unsolicited {
            self.last_activity = Some(now);
        }
    }

    /// Call after the TLS handshake that followed [`ClientEvent::StartTls`]. Returns how many
    /// bytes had arrived in clear after the server's go-ahead (they are discarded: anything
    /// there was injected, CVE-2011-0411). Capabilities are forgotten and must be read again.
    pub fn tls_established(&mut self, now: Instant) -> usize {
        let injected = self.parser.discard_buffered();
        self.set_capabilities(Vec::new());
        self.switching = false;
        self.pump(now);
        injected
    }

    /// Call once the driver compresses both directions after [`ClientEvent::CompressionStarted`].
    pub fn compression_established(&mut self, now: Instant) {
        self.switching = false;
        self.process(now);
        self.pump(now);
    }

    /// Handles the deadline [`ClientCore::poll_timeout`] announced.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let (Some(limit), Some(last)) = (self.config.command_timeout, self.last_activity) {
            let waiting = self.in_flight.iter().find(|p| p.kind != Kind::Idle);
            if let Some(p) = waiting {
                if last.checked_add(limit).is_some_and(|t| now >= t) {
                    self.events.push_back(ClientEvent::TimedOut(p.id));
                    self.last_activity = Some(now);
                }
            }
        }
        if let Some(since) = self.idle_since {
            if since
                .checked_add(self.config.idle_refresh)
                .is_some_and(|t| now >= t)
                && !self.idle_done_sent
            {
                self.send_done();
            }
        }
        if self.idle_mode && !self.has(&Capability::Idle) && !self.is_busy() {
            if let Some(last) = self.last_poll {
                if last
                    .checked_add(self.config.poll_interval)
                    .is_some_and(|t| now >= t)
                {
                    self.last_poll = Some(now);
                    let _ = self.enqueue(now, Command::Noop, Kind::Noop, "NOOP", None, true);
                }
            }
        }
        self.pump(now);
    }

    // ---- outputs ----

    /// The next time [`ClientCore::handle_timeout`] must be called, if any. A deadline past
    /// what `Instant` can hold (a timeout of `Duration::MAX`) is never.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        if let (Some(limit), Some(last)) = (self.config.command_timeout, self.last_activity) {
            if self.in_flight.iter().any(|p| p.kind != Kind::Idle) {
                last.checked_add(limit).map(&mut consider);
            }
        }
        if let Some(since) = self.idle_since {
            if !self.idle_done_sent {
                since
                    .checked_add(self.config.idle_refresh)
                    .map(&mut consider);
            }
        }
        if self.idle_mode && !self.has(&Capability::Idle) && !self.is_busy() {
            if let Some(last) = self.last_poll {
                last.checked_add(self.config.poll_interval)
                    .map(&mut consider);
            }
        }
        next
    }

    /// The literal waiting for its bytes ([`ClientEvent::LiteralWanted`]): the command and
    /// how many bytes it still wants.
    pub fn literal_wanted(&self) -> Option<(CommandId, u64)> {
        self.literal_out.as_ref().map(|l| (l.id, l.remaining))
    }

    /// The next `data.len()` bytes of the literal asked for by
    /// [`ClientEvent::LiteralWanted`]; they go out with [`poll_transmit`](Self::poll_transmit)
    /// in order. After the last byte the command's line is ended and the queue moves on.
    ///
    /// # Errors
    /// [`ClientError::LiteralOverrun`] when no literal is wanted or `data` is longer than
    /// what it still wants (nothing is sent then).
    pub fn send_literal(&mut self, now: Instant, data: &[u8]) -> Result<(), ClientError> {
        let given = data.len() as u64;
        let Some(lit) = self.literal_out.as_mut().filter(|l| given <= l.remaining) else {
            return Err(ClientError::LiteralOverrun {
                given,
                wanted: self.literal_out.as_ref().map_or(0, |l| l.remaining),
            });
        };
        self.out.extend_from_slice(data);
        lit.remaining = lit.remaining.saturating_sub(given);
        self.last_activity = Some(now);
        if lit.remaining == 0 {
            if let Some(lit) = self.literal_out.take() {
                self.finish_literal(lit);
            }
            self.pump(now);
        }
        Ok(())
    }

    /// Bytes to write to the server, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.out))
        }
    }

    /// The next event, in the order things happened.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The next protocol trace line (`C: ...` / `S: ...`), literals summarised by length and
    /// credentials redacted.
    pub fn poll_trace(&mut self) -> Option<String> {
        self.trace.pop_front()
    }

    /// Whether trace lines are kept for [`ClientCore::poll_trace`] (the default). A driver
    /// that logs nothing turns them off: building them costs a formatted string per response
    /// (issue 8: 5 % of the client's instructions in a 10,000-message download). Turning
    /// them off drops the lines not yet taken.
    pub fn set_trace(&mut self, keep: bool) {
        self.trace_on = keep;
        if !keep {
            self.trace.clear();
        }
    }

    /// Queues the trace line `line` makes, if trace lines are kept.
    pub(super) fn trace_with(&mut self, line: impl FnOnce() -> String) {
        if self.trace_on {
            self.trace.push_back(line());
        }
    }
}
