//! Sending: which queued commands may go out now (RFC 9051 section 5.5 pipelining rules,
//! RFC 7888 literals, RFC 2177 IDLE and its DONE), and the redacted trace of what went.

use std::time::Instant;

use crate::imap::command::Command;
use crate::imap::encode::{done, Fragment, LiteralMode};
use crate::imap::types::Capability;

use super::event::{ClientEvent, ConnectionState};
use super::kind::Kind;
use super::{ClientCore, LiteralOut, Pending};

impl ClientCore {
    /// Sends what the pipelining rules allow.
    pub(super) fn pump(&mut self, now: Instant) {
        if self.switching || self.awaiting_continuation || self.literal_out.is_some() {
            return;
        }
        loop {
            let idle_in_flight = self.in_flight.iter().any(|p| p.kind == Kind::Idle);
            if idle_in_flight {
                if (!self.queue.is_empty() || !self.idle_mode) && !self.idle_done_sent {
                    self.send_done();
                }
                if self.queue.is_empty() {
                    return;
                }
            }
            let Some(next) = self.queue.front() else {
                self.maybe_idle(now);
                return;
            };
            let blocked_by_barrier = self
                .in_flight
                .iter()
                .any(|p| p.kind.is_barrier() && !(p.kind == Kind::Idle && self.idle_done_sent));
            if blocked_by_barrier {
                return;
            }
            if next.kind.is_barrier() && next.kind != Kind::Idle && !self.in_flight.is_empty() {
                return;
            }
            if next.kind.uses_sequence_numbers()
                && self
                    .in_flight
                    .iter()
                    .any(|p| !p.kind.keeps_sequence_numbers() && p.kind != Kind::Idle)
            {
                return;
            }
            let Some(mut cmd) = self.queue.pop_front() else {
                return;
            };
            let sensitive = matches!(cmd.kind, Kind::Login | Kind::Authenticate);
            let waits = self.write_fragments(&mut cmd, sensitive);
            self.in_flight.push(cmd);
            if waits {
                self.awaiting_continuation = true;
                return;
            }
            if self.literal_out.is_some() {
                return;
            }
        }
    }

    /// Writes fragments up to the first synchronising literal; true if one waits for `+`.
    pub(super) fn write_fragments(&mut self, cmd: &mut Pending, sensitive: bool) -> bool {
        while let Some(frag) = cmd.rest.pop_front() {
            match frag {
                Fragment::Line(line) => {
                    self.trace_out(&line, sensitive, cmd.name);
                    self.out.extend_from_slice(&line);
                }
                // A synchronising literal, given or deferred, waits for the server's `+`.
                frag @ (Fragment::Literal {
                    mode: LiteralMode::Sync,
                    ..
                }
                | Fragment::Deferred {
                    mode: LiteralMode::Sync,
                    ..
                }) => {
                    cmd.rest.push_front(frag);
                    return true;
                }
                Fragment::Literal { data, .. } => {
                    self.trace_with(|| format!("C: <literal of {} bytes>", data.len()));
                    self.out.extend_from_slice(&data);
                }
                Fragment::Deferred { len: 0, .. } => {}
                Fragment::Deferred { len, .. } => {
                    self.start_deferred(cmd, len);
                    return false;
                }
            }
        }
        false
    }

    /// Asks the driver for a deferred literal's bytes; the command's later fragments wait.
    pub(super) fn start_deferred(&mut self, cmd: &mut Pending, len: u64) {
        self.trace_with(|| format!("C: <literal of {len} bytes, streamed>"));
        self.events
            .push_back(ClientEvent::LiteralWanted { id: cmd.id, len });
        self.literal_out = Some(LiteralOut {
            id: cmd.id,
            tag: cmd.tag.clone(),
            remaining: len,
            tail: std::mem::take(&mut cmd.rest),
        });
    }

    /// The deferred literal's last byte was given: write what follows it in its command (its
    /// line end). A command the server already completed gets its lines only, so the stream
    /// stays in step.
    pub(super) fn finish_literal(&mut self, lit: LiteralOut) {
        match self.in_flight.iter().position(|p| p.tag == lit.tag) {
            Some(index) => {
                let mut cmd = self.in_flight.remove(index);
                cmd.rest = lit.tail;
                let waits = self.write_fragments(&mut cmd, false);
                self.in_flight.insert(index, cmd);
                self.awaiting_continuation = waits;
            }
            None => {
                for frag in lit.tail {
                    if let Fragment::Line(line) = frag {
                        self.out.extend_from_slice(&line);
                    }
                }
            }
        }
    }

    pub(super) fn trace_out(&mut self, line: &[u8], sensitive: bool, name: &str) {
        self.trace_with(|| {
            if sensitive {
                let tag_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
                format!(
                    "C: {} {name} <redacted>",
                    String::from_utf8_lossy(line.get(..tag_end).unwrap_or_default())
                )
            } else {
                format!("C: {}", String::from_utf8_lossy(line).trim_end())
            }
        });
    }

    pub(super) fn send_done(&mut self) {
        self.trace_with(|| "C: DONE".to_owned());
        if let Fragment::Line(line) = done() {
            self.out.extend_from_slice(&line);
        }
        self.idle_done_sent = true;
        self.idle_since = None;
    }

    /// In IDLE mode with nothing to do, starts IDLE (RFC 2177).
    pub(super) fn maybe_idle(&mut self, now: Instant) {
        if !self.idle_mode
            || !self.in_flight.is_empty()
            || !self.has(&Capability::Idle)
            || !matches!(
                self.state,
                ConnectionState::Authenticated | ConnectionState::Selected
            )
        {
            return;
        }
        self.idle_done_sent = false;
        let _ = self.enqueue(now, Command::Idle, Kind::Idle, "IDLE", None, true);
    }
}
