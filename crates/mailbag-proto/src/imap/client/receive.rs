//! Receiving: parser events turned into state changes and [`ClientEvent`]s; the greeting,
//! continuation requests (synchronising literals, SASL steps, IDLE) and tagged completions
//! (RFC 9051 sections 7.1 and 7.5). Untagged data is routed in `route.rs`.

use std::time::Instant;

use base64::Engine as _;

use crate::imap::encode::{authenticate_response, Fragment};
use crate::imap::parse::Event;
use crate::imap::types::{Continuation, Response, Status, StatusText, Tag};

use super::event::{ClientEvent, ConnectionState};
use super::kind::Kind;
use super::{ClientCore, Pending};

impl ClientCore {
    pub(super) fn process(&mut self, now: Instant) {
        while !self.switching {
            let Some(event) = self.parser.next_event() else {
                break;
            };
            self.handle_event(now, event);
            // Send what this response allows before reading the next one, so the commands in
            // flight, and thus where later responses go, do not depend on how the input was
            // cut into reads.
            self.pump(now);
        }
        self.pump(now);
    }

    pub(super) fn handle_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Response(Response::Greeting(status)) => self.on_greeting(status),
            Event::Response(Response::Tagged { tag, status }) => self.on_tagged(now, &tag, status),
            Event::Response(Response::Continuation(c)) => self.on_continuation(now, c),
            Event::Response(Response::Untagged(data)) => self.on_untagged(data),
            Event::FetchStart { seq, items, body } => self.on_fetch_start(seq, items, body),
            Event::BodyChunk(chunk) => {
                if let Some(id) = self.streaming {
                    self.events.push_back(ClientEvent::BodyChunk { id, chunk });
                }
            }
            Event::FetchBody { items, body } => {
                if let Some(id) = self.streaming {
                    self.events
                        .push_back(ClientEvent::FetchBodyStarted { id, items, body });
                }
            }
            Event::FetchEnd { items } => self.on_fetch_end(items),
            Event::Error(e) => {
                self.trace_with(|| format!("S: unparsable: {e}"));
                self.events.push_back(ClientEvent::ParseError(e));
            }
        }
    }

    pub(super) fn on_greeting(&mut self, status: StatusText) {
        self.trace_with(|| format!("S: * {:?} {}", status.status, status.text));
        self.state = match status.status {
            Status::PreAuth => ConnectionState::Authenticated,
            Status::Bye => ConnectionState::Logout,
            _ => ConnectionState::NotAuthenticated,
        };
        self.projected = self.state;
        if let Some(crate::imap::types::ResponseCode::Capability(caps)) = &status.code {
            self.set_capabilities(caps.clone());
        }
        self.events.push_back(ClientEvent::GreetingReceived(status));
    }

    pub(super) fn on_continuation(&mut self, now: Instant, c: Continuation) {
        self.trace_with(|| "S: +".to_owned());
        if self.awaiting_continuation {
            self.awaiting_continuation = false;
            if let Some(mut cmd) = self.in_flight.pop() {
                let sensitive = matches!(cmd.kind, Kind::Login | Kind::Authenticate);
                let waits = self.write_fragments_after_continuation(&mut cmd, sensitive);
                self.in_flight.push(cmd);
                self.awaiting_continuation = waits;
            }
            return;
        }
        let Some(cmd) = self
            .in_flight
            .iter_mut()
            .find(|p| matches!(p.kind, Kind::Authenticate | Kind::Idle))
        else {
            return;
        };
        match cmd.kind {
            Kind::Idle => {
                let id = cmd.id;
                self.idle_since = Some(now);
                self.events.push_back(ClientEvent::IdleAccepted(id));
            }
            _ => {
                let challenge = base64::engine::general_purpose::STANDARD
                    .decode(c.text.as_ref())
                    .unwrap_or_default();
                let answer = match cmd.sasl.as_mut() {
                    Some(sasl) => sasl.step(&challenge).ok(),
                    None => None,
                };
                self.trace_with(|| "C: <SASL response redacted>".to_owned());
                if let Fragment::Line(line) = authenticate_response(answer.as_deref()) {
                    self.out.extend_from_slice(&line);
                }
            }
        }
    }

    pub(super) fn write_fragments_after_continuation(
        &mut self,
        cmd: &mut Pending,
        sensitive: bool,
    ) -> bool {
        match cmd.rest.pop_front() {
            Some(Fragment::Literal { data, .. }) => {
                self.trace_with(|| format!("C: <literal of {} bytes>", data.len()));
                self.out.extend_from_slice(&data);
            }
            Some(Fragment::Deferred { len, .. }) if len > 0 => {
                self.start_deferred(cmd, len);
                return false;
            }
            Some(Fragment::Deferred { .. }) | None => {}
            Some(line @ Fragment::Line(_)) => cmd.rest.push_front(line),
        }
        self.write_fragments(cmd, sensitive)
    }

    pub(super) fn on_tagged(&mut self, now: Instant, tag: &Tag, status: StatusText) {
        self.trace_with(|| {
            format!(
                "S: {tag} {:?} {:?} {}",
                status.status, status.code, status.text
            )
        });
        let Some(index) = self.in_flight.iter().position(|p| &p.tag == tag) else {
            self.trace_with(|| format!("S: unknown tag {tag}"));
            return;
        };
        let cmd = self.in_flight.remove(index);
        if self.awaiting_continuation && index == self.in_flight.len() {
            // The server answered the literal's header with a completion (NO, BAD) instead of
            // `+`: the literal is not sent, and the commands behind it may go.
            self.awaiting_continuation = false;
        }
        if let Some(crate::imap::types::ResponseCode::Capability(caps)) = &status.code {
            self.set_capabilities(caps.clone());
        }
        let ok = status.status == Status::Ok;
        // After BYE (or a completed LOGOUT) the connection is over: a tagged OK that the
        // server sends afterwards must not bring the state back.
        let over = self.state == ConnectionState::Logout;
        match (cmd.kind, ok) {
            _ if over => {}
            (Kind::Idle, _) => {
                self.idle_since = None;
                self.idle_done_sent = false;
            }
            (Kind::StartTls, true) => {
                self.switching = true;
                self.events.push_back(ClientEvent::StartTls);
            }
            (Kind::Compress, true) => {
                self.switching = true;
                self.events.push_back(ClientEvent::CompressionStarted);
            }
            (Kind::Select, false) => {
                // RFC 9051 6.3.2: a failed SELECT leaves no mailbox selected.
                self.state = ConnectionState::Authenticated;
                self.view_mut().reset();
            }
            (Kind::Logout, _) => self.state = ConnectionState::Logout,
            (Kind::Close, true) => {
                self.state = ConnectionState::Authenticated;
                self.view_mut().reset();
            }
            (kind, true) => self.state = kind.next_state(self.state),
            _ => {}
        }
        if !ok && matches!(cmd.kind, Kind::Login | Kind::Authenticate | Kind::Select) {
            // The commands queued behind it were checked against a state that did not come.
            self.projected = self.state;
            for p in self.queue.iter().chain(self.in_flight.iter()) {
                self.projected = p.kind.next_state(self.projected);
            }
        }
        if !cmd.internal {
            self.events
                .push_back(ClientEvent::CommandCompleted { id: cmd.id, status });
        }
        if self.in_flight.is_empty() {
            self.last_activity = Some(now);
        }
    }
}
