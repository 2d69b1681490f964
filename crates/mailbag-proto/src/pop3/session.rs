//! The POP3 client session: states, command validity, pipelining and reply routing
//! (RFC 1939 sections 3-6, RFC 2449 section 6.6 PIPELINING, RFC 2595 section 4 STLS,
//! RFC 5034 section 4 AUTH).
//!
//! Driver order: [`Session::send`] (or [`Session::authenticate`]) queues a command and
//! returns its [`CommandId`]; [`Session::poll_transmit`] gives the bytes to write (a batch of
//! up to [`Session::window`] commands when the server offers PIPELINING, else one);
//! [`Session::feed`] takes received bytes; [`Session::poll_event`] yields [`Event`]s, each
//! carrying the id of the command it answers, in order. After an `Ok` to STLS the driver
//! runs the TLS handshake and calls [`Session::tls_established`].
//!
//! State table (RFC 1939 section 3), commands valid in each state:
//!
//! | state          | commands                                                      |
//! |----------------|---------------------------------------------------------------|
//! | Authorization  | USER PASS APOP AUTH STLS CAPA UTF8 QUIT                        |
//! | Transaction    | STAT LIST UIDL RETR TOP DELE RSET NOOP CAPA QUIT              |
//! | Closed         | none (QUIT answered: the server entered UPDATE and hung up)   |
//!
//! PASS, APOP, AUTH, STLS and QUIT decide the next state, so nothing may be queued behind
//! them until they are answered ([`Misuse::AwaitingReply`]).

use std::collections::VecDeque;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::command::{Capabilities, Command};
use super::events::{CommandId, Event, Misuse, Reply, SessionState, Transmit};
use super::reply::{ReplyEvent, ReplyParser, ReplyShape};
use super::types::{Greeting, ListEntry, ParseError, Stat, StatusLine, UidlEntry};
use crate::sasl::{SaslClient, SaslError};
use crate::secret::Secret;

/// Default number of commands in flight when pipelining (RFC 2449 section 6.6). 512 RETR
/// commands are about 6 KB, well inside any TCP send buffer, so writing them never blocks
/// while the server blocks writing its answers; and they keep the server busy while the
/// client stores what it received (issue 8: 10,000 x 2 KB took about 10 % less wall time
/// than with 64).
pub const DEFAULT_WINDOW: usize = 512;

/// Largest LIST / UIDL / CAPA reply kept in memory, in bytes (each line counted with one
/// byte for its end, so empty lines count too): 64 MiB is UIDL for about a million messages;
/// more is a hostile or broken server. The default of [`Session::set_listing_limits`].
pub const MAX_LISTING: usize = 64 * 1024 * 1024;

/// Most lines in one LIST / UIDL / CAPA reply: UIDL of a 10-million-message maildrop. The
/// default of [`Session::set_listing_limits`].
pub const MAX_LISTING_LINES: usize = 10_000_000;

/// Longest AUTH line with an initial response (RFC 5034 section 4: 255 octets).
const MAX_AUTH_LINE: usize = 255;

#[derive(Debug)]
struct Pending {
    id: CommandId,
    keyword: &'static str,
    shape: ReplyShape,
    /// The argument of `LIST n` / `UIDL n`, which the reply must echo.
    one: Option<u32>,
}

struct AuthExchange {
    id: CommandId,
    sasl: SaslClient,
    pending_initial: Option<Vec<u8>>,
    error: Option<SaslError>,
}

/// The lines of a listing so far, each followed by `\n` (a line never holds one): one
/// allocation, not one per line, so a flood of short lines costs what it weighs.
#[derive(Debug, Default)]
struct Collect {
    text: Vec<u8>,
    lines: usize,
}

/// A POP3 client session without I/O. See the module documentation.
///
/// Its `Debug` output shows the redacted form of commands waiting to go out, never their
/// bytes (PASS, APOP and AUTH responses carry credentials).
pub struct Session {
    state: SessionState,
    parser: ReplyParser,
    greeted: bool,
    next_id: u64,
    queued: VecDeque<(Pending, Vec<u8>, String)>,
    in_flight: VecDeque<Pending>,
    urgent: Vec<(Vec<u8>, String)>,
    auth: Option<AuthExchange>,
    collect: Collect,
    capabilities: Option<Capabilities>,
    greeting: Option<Greeting>,
    window: usize,
    max_listing: usize,
    max_listing_lines: usize,
    awaiting_tls: bool,
    error: Option<ParseError>,
    /// Whether redacted command lines are made for [`Transmit::redacted`].
    trace: bool,
    /// Whether `capabilities` lists PIPELINING (kept by `set_capabilities`).
    pipelining: bool,
}

impl fmt::Debug for AuthExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthExchange")
            .field("id", &self.id)
            .field("sasl", &self.sasl)
            .field(
                "pending_initial_bytes",
                &self.pending_initial.as_ref().map(Vec::len),
            )
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queued: Vec<(&Pending, &str)> = self
            .queued
            .iter()
            .map(|(p, _, redacted)| {
                (
                    p,
                    if redacted.is_empty() {
                        p.keyword
                    } else {
                        redacted
                    },
                )
            })
            .collect();
        let urgent: Vec<&str> = self.urgent.iter().map(|(_, r)| r.as_str()).collect();
        f.debug_struct("Session")
            .field("state", &self.state)
            .field("greeted", &self.greeted)
            .field("next_id", &self.next_id)
            .field("queued", &queued)
            .field("in_flight", &self.in_flight)
            .field("urgent", &urgent)
            .field("auth", &self.auth)
            .field("capabilities", &self.capabilities)
            .field("greeting", &self.greeting)
            .field("window", &self.window)
            .field("awaiting_tls", &self.awaiting_tls)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session waiting for the server's greeting.
    pub fn new() -> Self {
        let mut parser = ReplyParser::new();
        parser.expect(ReplyShape::SingleLine);
        Session {
            state: SessionState::Authorization,
            parser,
            greeted: false,
            next_id: 1,
            queued: VecDeque::new(),
            in_flight: VecDeque::new(),
            urgent: Vec::new(),
            auth: None,
            collect: Collect::default(),
            capabilities: None,
            trace: true,
            pipelining: false,
            greeting: None,
            window: DEFAULT_WINDOW,
            max_listing: MAX_LISTING,
            max_listing_lines: MAX_LISTING_LINES,
            awaiting_tls: false,
            error: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The greeting, once received.
    pub fn greeting(&self) -> Option<&Greeting> {
        self.greeting.as_ref()
    }

    /// The capabilities from the last CAPA reply (cleared by STLS).
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    /// How many commands may be in flight: the window with PIPELINING, else 1.
    pub fn window(&self) -> usize {
        if self.pipelining {
            self.window
        } else {
            1
        }
    }

    /// Records the capabilities, and whether they allow pipelining (read once here, not on
    /// every transmit).
    fn set_capabilities(&mut self, capabilities: Option<Capabilities>) {
        self.pipelining = capabilities.as_ref().is_some_and(Capabilities::pipelining);
        self.capabilities = capabilities;
    }

    /// Whether [`Transmit::redacted`] is filled (the default). A driver that logs nothing
    /// turns it off: each line is the command encoded a second time (issue 8: 10,000 RETRs).
    pub fn set_trace(&mut self, keep: bool) {
        self.trace = keep;
    }

    /// The redacted line for `command`, if lines are kept.
    fn redacted(&self, command: &Command) -> String {
        if self.trace {
            command.redacted()
        } else {
            String::new()
        }
    }

    /// Sets the pipelining window (at least 1).
    pub fn set_window(&mut self, window: usize) {
        self.window = window.max(1);
    }

    /// Bounds a LIST / UIDL / CAPA reply: at most `max_bytes` bytes (each line plus one for
    /// its end) and `max_lines` lines; past either, [`Session::poll_event`] fails with
    /// [`ParseError::TooLarge`] or [`ParseError::TooManyLines`]. Defaults [`MAX_LISTING`]
    /// and [`MAX_LISTING_LINES`].
    pub fn set_listing_limits(&mut self, max_bytes: usize, max_lines: usize) {
        self.max_listing = max_bytes;
        self.max_listing_lines = max_lines;
    }

    /// Whether commands are queued or unanswered.
    pub fn is_busy(&self) -> bool {
        !self.queued.is_empty() || !self.in_flight.is_empty() || !self.greeted
    }

    /// Queues a command after checking it against the state table.
    ///
    /// # Errors
    /// [`Misuse`] when the command is invalid now or cannot be encoded.
    pub fn send(&mut self, command: Command) -> Result<CommandId, Misuse> {
        let keyword = command.keyword();
        let valid = match (self.state, &command) {
            (SessionState::Authorization, c) => matches!(
                c,
                Command::User(_)
                    | Command::Pass(_)
                    | Command::Apop { .. }
                    | Command::Auth { .. }
                    | Command::Stls
                    | Command::Capa
                    | Command::Utf8
                    | Command::Quit
            ),
            (SessionState::Transaction, c) => !matches!(
                c,
                Command::User(_)
                    | Command::Pass(_)
                    | Command::Apop { .. }
                    | Command::Auth { .. }
                    | Command::AuthResponse(_)
                    | Command::Stls
                    | Command::Utf8
            ),
            (SessionState::Closed, _) => false,
        };
        if !valid {
            return Err(Misuse::InvalidInState {
                command: keyword,
                state: self.state,
            });
        }
        if self.barrier_waiting() {
            return Err(Misuse::AwaitingReply { command: keyword });
        }
        // Room for a numbered command in one allocation (`RETR 4294967295\r\n` is 17 bytes).
        let mut bytes = Vec::with_capacity(24);
        command.encode(&mut bytes)?;
        let id = self.new_id();
        let one = match command {
            Command::List(n) | Command::Uidl(n) => n,
            _ => None,
        };
        let pending = Pending {
            id,
            keyword,
            shape: command.reply_shape(),
            one,
        };
        let line = self.redacted(&command);
        self.queued.push_back((pending, bytes, line));
        Ok(id)
    }

    /// Whether a command that nothing may follow until it is answered (PASS, APOP, AUTH,
    /// STLS, QUIT) is waiting. Nothing is ever queued behind one, so it can only be the last
    /// command waiting: checking that one keeps `send` O(1) (a batch of 10,000 RETRs queued
    /// at once would otherwise scan the queue 10,000 times).
    fn barrier_waiting(&self) -> bool {
        let last = match self.queued.back() {
            Some(q) => Some(&q.0),
            None => self.in_flight.back(),
        };
        last.is_some_and(|p| matches!(p.keyword, "PASS" | "APOP" | "AUTH" | "STLS" | "QUIT"))
    }

    /// Queues `AUTH` for a SASL exchange; the session answers the challenges itself.
    /// `initial_response` sends the first message with the command (RFC 5034 section 4)
    /// when it fits in 255 octets.
    ///
    /// # Errors
    /// As [`Session::send`].
    pub fn authenticate(
        &mut self,
        mut sasl: SaslClient,
        initial_response: bool,
    ) -> Result<CommandId, Misuse> {
        let mechanism = sasl.mechanism().name().to_owned();
        let mut pending_initial = None;
        let mut ir = None;
        if initial_response {
            if let Some(Ok(first)) = sasl.initial_response() {
                let encoded = if first.is_empty() {
                    "=".to_owned()
                } else {
                    BASE64.encode(&first)
                };
                if encoded
                    .len()
                    .saturating_add(mechanism.len())
                    .saturating_add(7)
                    <= MAX_AUTH_LINE
                {
                    ir = Some(Secret::new(encoded));
                } else {
                    pending_initial = Some(first);
                }
            }
        }
        let id = self.send(Command::Auth {
            mechanism,
            initial_response: ir,
        })?;
        self.auth = Some(AuthExchange {
            id,
            sasl,
            pending_initial,
            error: None,
        });
        Ok(id)
    }

    /// The next bytes to write, if any command may go out now. Nothing goes out between the
    /// `+OK` to STLS and [`Session::tls_established`]: those bytes would travel in clear.
    /// Nothing goes out once the session failed, nor when bytes wait that came while no
    /// command was in flight (the session fails with [`ParseError::Unsolicited`]).
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.awaiting_tls || self.error.is_some() {
            return None;
        }
        if self.greeted && self.in_flight.is_empty() && self.parser.buffered() > 0 {
            // Bytes that came while no command was in flight answer nothing we sent (an extra
            // `+OK`): read as the reply to the next command they would shift every reply
            // after it by one. The session fails instead, before anything more goes out.
            if let Err(e) = self.parser.next_event() {
                self.error = Some(e);
                return None;
            }
        }
        let mut t = Transmit {
            data: Vec::new(),
            redacted: Vec::new(),
        };
        for (bytes, line) in self.urgent.drain(..) {
            t.data.extend(bytes);
            if self.trace {
                t.redacted.push(line);
            }
        }
        // Refill the window only once half of it is free (and at once when it is empty): the
        // server always has at least half a window queued, and the commands go out in
        // batches, one write for many RETRs instead of one per reply.
        if self.greeted && self.in_flight.len() <= self.window() / 2 {
            let window = self.window();
            while self.in_flight.len() < window {
                let Some((pending, bytes, line)) = self.queued.pop_front() else {
                    break;
                };
                self.in_flight.push_back(pending);
                t.data.extend(bytes);
                if self.trace {
                    t.redacted.push(line);
                }
            }
        }
        (!t.data.is_empty()).then_some(t)
    }

    /// Takes received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.parser.feed(data);
    }

    /// The buffer to read received bytes into, with room for at least `room` more: the same
    /// as [`Session::feed`] without its copy (see [`ReplyParser::buffer_mut`]).
    pub fn receive_buffer(&mut self, room: usize) -> &mut bytes::BytesMut {
        self.parser.buffer_mut(room)
    }

    /// Whether STLS was accepted and the driver must now run the TLS handshake.
    pub fn awaiting_tls(&self) -> bool {
        self.awaiting_tls
    }

    /// After STLS succeeded and the TLS handshake is done: drops any bytes received before
    /// it (RFC 2595 section 4; CVE-2011-0411) and forgets the capabilities, which must be
    /// asked again (RFC 2595 section 4). Returns how many bytes were dropped.
    pub fn tls_established(&mut self) -> usize {
        self.set_capabilities(None);
        self.awaiting_tls = false;
        self.parser.discard_buffered()
    }

    /// The next event, or `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    /// A [`ParseError`] when the server broke the protocol; the session is then unusable and
    /// every later call returns the same error.
    pub fn poll_event(&mut self) -> Result<Option<Event>, ParseError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.poll_event_inner();
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn poll_event_inner(&mut self) -> Result<Option<Event>, ParseError> {
        loop {
            if self.awaiting_tls {
                return Ok(None);
            }
            if self.parser.is_idle() {
                match self.in_flight.front() {
                    Some(p) => self.parser.expect(p.shape),
                    None => {
                        // Unsolicited bytes are an error; nothing expected is just idle.
                        self.parser.next_event()?;
                        return Ok(None);
                    }
                }
            }
            let Some(event) = self.parser.next_event()? else {
                return Ok(None);
            };
            if let Some(out) = self.route(event)? {
                return Ok(Some(out));
            }
        }
    }

    fn route(&mut self, event: ReplyEvent) -> Result<Option<Event>, ParseError> {
        if !self.greeted {
            let ReplyEvent::Status(status) = event else {
                return Ok(None);
            };
            self.greeted = true;
            if !status.ok {
                self.state = SessionState::Closed;
            }
            let greeting = Greeting::from_status(status);
            self.greeting = Some(greeting.clone());
            return Ok(Some(Event::GreetingReceived(greeting)));
        }
        let Some(front) = self.in_flight.front() else {
            return Ok(None);
        };
        let id = front.id;
        let keyword = front.keyword;
        let shape = front.shape;
        let ended = self.parser.is_idle();
        match event {
            ReplyEvent::Continuation(text) => Ok(self.challenge(id, &text)),
            ReplyEvent::Status(status) if !status.ok => {
                self.finish();
                if keyword == "QUIT" {
                    self.state = SessionState::Closed;
                }
                if let Some(auth) = self.auth.take() {
                    if let Some(error) = auth.error {
                        return Ok(Some(Event::SaslFailed { id, error }));
                    }
                }
                Ok(Some(Event::Err { id, status }))
            }
            ReplyEvent::Status(status) if !ended => {
                if shape == ReplyShape::MultiLineBody {
                    return Ok(Some(Event::Ok {
                        id,
                        reply: Reply::BodyFollows(status),
                    }));
                }
                Ok(None)
            }
            ReplyEvent::Status(status) => Ok(Some(self.single_line_ok(id, keyword, status))),
            ReplyEvent::Line(line) => {
                let bytes = self
                    .collect
                    .text
                    .len()
                    .saturating_add(line.len())
                    .saturating_add(1);
                if bytes > self.max_listing {
                    return Err(ParseError::TooLarge {
                        limit: self.max_listing,
                    });
                }
                if self.collect.lines >= self.max_listing_lines {
                    return Err(ParseError::TooManyLines {
                        limit: self.max_listing_lines,
                    });
                }
                let text = &mut self.collect.text;
                if text.capacity() < bytes {
                    // Grow by doubling, as a Vec does, but never past the limit: what is
                    // held is then bounded by the limit itself, not twice it.
                    let target = text
                        .capacity()
                        .saturating_mul(2)
                        .clamp(bytes, self.max_listing.max(bytes));
                    text.reserve_exact(target.saturating_sub(text.len()));
                }
                text.extend_from_slice(&line);
                text.push(b'\n');
                self.collect.lines = self.collect.lines.saturating_add(1);
                Ok(None)
            }
            ReplyEvent::BodyChunk(chunk) => Ok(Some(Event::BodyChunk { id, chunk })),
            ReplyEvent::End => {
                self.finish();
                if matches!(keyword, "RETR" | "TOP") {
                    return Ok(Some(Event::BodyEnd { id }));
                }
                Ok(Some(self.listing(id, keyword)))
            }
        }
    }

    fn finish(&mut self) {
        self.in_flight.pop_front();
    }

    fn single_line_ok(&mut self, id: CommandId, keyword: &str, status: StatusLine) -> Event {
        let one = self.in_flight.front().and_then(|p| p.one);
        self.finish();
        let wrong = |number: u32| ParseError::Malformed {
            what: "reply for another message number",
            line: status
                .text
                .bytes()
                .take(64)
                .chain(format!(" ({number})").bytes())
                .collect(),
        };
        let parsed = match (keyword, one) {
            ("STAT", _) => Stat::parse(&status.text).map(Reply::Stat),
            ("LIST", Some(n)) => ListEntry::parse(&status.text).and_then(|e| {
                if e.number == n {
                    Ok(Reply::ListOne(e))
                } else {
                    Err(wrong(e.number))
                }
            }),
            ("UIDL", Some(n)) => UidlEntry::parse(&status.text).and_then(|e| {
                if e.number == n {
                    Ok(Reply::UidlOne(e))
                } else {
                    Err(wrong(e.number))
                }
            }),
            ("PASS" | "APOP", _) => {
                self.state = SessionState::Transaction;
                Ok(Reply::Status(status))
            }
            ("AUTH", _) => {
                if let Some(mut auth) = self.auth.take() {
                    if let Err(error) = auth.sasl.verify_final(None) {
                        return Event::SaslFailed { id, error };
                    }
                }
                self.state = SessionState::Transaction;
                Ok(Reply::Status(status))
            }
            ("QUIT", _) => {
                self.state = SessionState::Closed;
                Ok(Reply::Status(status))
            }
            ("STLS", _) => {
                self.awaiting_tls = true;
                Ok(Reply::Status(status))
            }
            _ => Ok(Reply::Status(status)),
        };
        match parsed {
            Ok(reply) => Event::Ok { id, reply },
            Err(error) => Event::Malformed { id, error },
        }
    }

    fn listing(&mut self, id: CommandId, keyword: &str) -> Event {
        let collected = std::mem::take(&mut self.collect);
        let texts = collected
            .text
            .split(|b| *b == b'\n')
            .take(collected.lines)
            .map(String::from_utf8_lossy);
        let result = match keyword {
            "LIST" => texts
                .map(|t| ListEntry::parse(&t))
                .collect::<Result<Vec<_>, _>>()
                .map(Reply::List),
            "UIDL" => texts
                .map(|t| UidlEntry::parse(&t))
                .collect::<Result<Vec<_>, _>>()
                .map(Reply::Uidl),
            _ => {
                let mut capa = Capabilities::default();
                texts.for_each(|t| capa.push_line(&t));
                self.set_capabilities(Some(capa.clone()));
                Ok(Reply::Capa(capa))
            }
        };
        match result {
            Ok(reply) => Event::Ok { id, reply },
            Err(error) => Event::Malformed { id, error },
        }
    }

    fn challenge(&mut self, id: CommandId, text: &[u8]) -> Option<Event> {
        let answer = match self.auth.as_mut() {
            Some(auth) if auth.id == id && auth.error.is_none() => {
                let step = match (auth.pending_initial.take(), BASE64.decode(text)) {
                    (Some(first), Ok(c)) if c.is_empty() => Ok(first),
                    (_, Ok(c)) => auth.sasl.step(&c),
                    (_, Err(_)) => Err(SaslError::MalformedChallenge("challenge is not base64")),
                };
                match step {
                    Ok(r) => BASE64.encode(r),
                    Err(e) => {
                        auth.error = Some(e);
                        "*".to_owned()
                    }
                }
            }
            _ => "*".to_owned(),
        };
        let mut bytes = Vec::new();
        let cmd = Command::AuthResponse(Secret::new(answer));
        if cmd.encode(&mut bytes).is_ok() {
            let line = self.redacted(&cmd);
            self.urgent.push((bytes, line));
        }
        None
    }

    fn new_id(&mut self) -> CommandId {
        let id = CommandId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }
}
