//! The IMAP client core fed arbitrary server bytes after a valid greeting, while commands are
//! issued.
//!
//! Two runs per input. First, a fixed list of commands (LOGIN with a password that needs a
//! literal, SELECT, FETCH with a streamed body, STORE, SEARCH, EXPUNGE, NOOP, LOGOUT) is
//! submitted before any server byte: the events must then be the same whether the bytes come
//! whole, one at a time or in random splits (body chunks merged). Second, the same commands
//! are submitted one per received piece, with the IDLE mode switched on and off, a STARTTLS
//! honoured, and a virtual clock that moves a minute per piece with the deadlines handled:
//! only the invariants are checked there. Invariants: no panic; every event names a command
//! that was submitted and not yet completed (each completes once); streamed bodies deliver
//! their announced length, to the command that started them; nothing is sent while the
//! stream is being switched to TLS; LOGOUT is final; the password never appears in the trace.
#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mailbag_fuzz::{random_split, splits};
use mailbag_proto::imap::client::{ClientCore, ClientEvent, CommandId, Config, ConnectionState};
use mailbag_proto::imap::command::{FetchAttribute, MessageSet, StoreKind};
use mailbag_proto::imap::parse::Limits;
use mailbag_proto::imap::types::{Flag, Section, SeqNum, Uid};
use mailbag_proto::imap::{Command, SequenceSet};
use mailbag_proto::Secret;

const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 IDLE STARTTLS UIDPLUS] ready\r\n";
const PASSWORD: &str = "pa\"ss\r\nw0rd";

fn commands(starttls: bool) -> Vec<Command> {
    let mut out = Vec::new();
    if starttls {
        out.push(Command::StartTls);
    }
    out.extend([
        Command::Login {
            username: "joe".into(),
            password: Secret::new(PASSWORD.into()),
        },
        Command::Select {
            mailbox: "INBOX".into(),
            params: vec![],
        },
        Command::Fetch {
            set: MessageSet::Seq(SequenceSet::from_to_end(SeqNum::new(1).unwrap())),
            items: vec![FetchAttribute::Uid, FetchAttribute::Flags],
            changed_since: None,
            vanished: false,
        },
        Command::Fetch {
            set: MessageSet::Uid(SequenceSet::from_numbers([Uid::new(1).unwrap()])),
            items: vec![
                FetchAttribute::Uid,
                FetchAttribute::BodySection {
                    section: Section::full(),
                    partial: None,
                    peek: true,
                },
            ],
            changed_since: None,
            vanished: false,
        },
        Command::Store {
            set: MessageSet::Uid(SequenceSet::from_numbers([Uid::new(1).unwrap()])),
            kind: StoreKind::Add,
            silent: false,
            flags: vec![Flag::Seen],
            unchanged_since: None,
        },
        Command::Search {
            uid: true,
            charset: None,
            criteria: vec![],
            returns: None,
        },
        Command::Expunge,
        Command::Noop,
        Command::Logout,
    ]);
    out
}

fn config() -> Config {
    Config {
        limits: Limits {
            stream_threshold: 32,
            max_line_len: 4096,
            max_literal_size: 4096,
            max_response_size: 16384,
            ..Limits::default()
        },
        ..Config::default()
    }
}

#[derive(Default)]
struct Checker {
    submitted: HashSet<CommandId>,
    completed: HashSet<CommandId>,
    /// The command whose body is streaming, its announced length and what came so far.
    streaming: Option<(CommandId, u64, u64)>,
    logged_out: bool,
}

impl Checker {
    fn live(&self, id: CommandId, what: &str) {
        assert!(
            self.submitted.contains(&id),
            "{what} for unknown command {id:?}"
        );
        assert!(
            !self.completed.contains(&id),
            "{what} for completed command {id:?}"
        );
    }

    fn event(&mut self, ev: &ClientEvent) {
        if !matches!(ev, ClientEvent::BodyChunk { .. }) {
            if let Some((id, len, got)) = self.streaming.take() {
                // A stream ends early only when the response broke (a parse error follows).
                assert!(
                    got == len || matches!(ev, ClientEvent::ParseError(_)),
                    "body of {id:?} cut at {got}/{len} by {ev:?}"
                );
            }
        }
        match ev {
            ClientEvent::GreetingReceived(_) => panic!("second greeting"),
            ClientEvent::Data { id, .. } => self.live(*id, "data"),
            ClientEvent::FetchStarted { id, body, .. }
            | ClientEvent::FetchBodyStarted { id, body, .. } => {
                self.live(*id, "fetch");
                self.streaming = Some((*id, body.len, 0));
            }
            ClientEvent::BodyChunk { id, chunk } => {
                let (sid, len, got) = self.streaming.as_mut().expect("body chunk outside a body");
                assert_eq!(id, sid, "body chunk for another command");
                assert!(!chunk.is_empty());
                *got += chunk.len() as u64;
                assert!(*got <= *len, "body longer than announced");
            }
            ClientEvent::FetchEnded { id, .. } => self.live(*id, "fetch end"),
            ClientEvent::IdleAccepted(_) => {}
            ClientEvent::CommandCompleted { id, .. } => {
                self.live(*id, "completion");
                self.completed.insert(*id);
            }
            // The command that timed out may be one the core issued itself (a NOOP poll in
            // IDLE mode without IDLE): input that completes only unsolicited or unparsable
            // responses is not progress, so with the clock moving a minute a piece, it can.
            ClientEvent::TimedOut(id) => assert!(
                self.submitted.contains(id) || !self.completed.contains(id),
                "timeout of a completed command"
            ),
            _ => {}
        }
    }
}

fn drain(core: &mut ClientCore, checker: &mut Checker, out: &mut Vec<ClientEvent>) {
    while let Some(line) = core.poll_trace() {
        // What the server sent may hold anything; what the client wrote must not show it.
        if line.starts_with("C:") {
            assert!(!line.contains("w0rd"), "password in the trace: {line}");
        }
    }
    while let Some(ev) = core.poll_event() {
        checker.event(&ev);
        if checker.logged_out {
            assert_eq!(
                core.state(),
                ConnectionState::Logout,
                "left the Logout state"
            );
        }
        if core.state() == ConnectionState::Logout {
            checker.logged_out = true;
        }
        match (out.last_mut(), ev) {
            (
                Some(ClientEvent::BodyChunk { id: a, chunk: have }),
                ClientEvent::BodyChunk { id: b, chunk },
            ) if *a == b => {
                let mut merged = have.to_vec();
                merged.extend_from_slice(&chunk);
                *have = merged.into();
            }
            (_, ev) => out.push(ev),
        }
    }
}

fn start(now: Instant) -> (ClientCore, Checker) {
    let mut core = ClientCore::new(config());
    core.handle_input(now, GREETING);
    match core.poll_event() {
        Some(ClientEvent::GreetingReceived(_)) => {}
        other => panic!("greeting not read: {other:?}"),
    }
    assert_eq!(core.state(), ConnectionState::NotAuthenticated);
    (core, Checker::default())
}

/// All commands first, then the bytes: the events must not depend on how the bytes are cut.
fn upfront(chunks: &[&[u8]]) -> Vec<ClientEvent> {
    let now = Instant::now();
    let (mut core, mut checker) = start(now);
    for c in commands(false) {
        let id = core.submit(now, c).expect("valid in the projected state");
        checker.submitted.insert(id);
    }
    let mut out = Vec::new();
    for chunk in chunks {
        core.handle_input(now, chunk);
        let _ = core.poll_transmit();
        drain(&mut core, &mut checker, &mut out);
    }
    out
}

/// Commands one per piece, IDLE on and off, STARTTLS, a clock that moves: invariants only.
fn interleaved(chunks: &[&[u8]], starttls: bool) {
    let mut now = Instant::now();
    let (mut core, mut checker) = start(now);
    let mut script = commands(starttls).into_iter();
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        if let Some(c) = script.next() {
            if let Ok(id) = core.submit(now, c) {
                checker.submitted.insert(id);
            }
        }
        if i % 3 == 1 {
            core.set_idle(now, i % 2 == 0);
        }
        core.handle_input(now, chunk);
        let _ = core.poll_transmit();
        let before = out.len();
        drain(&mut core, &mut checker, &mut out);
        if out[before..]
            .iter()
            .any(|e| matches!(e, ClientEvent::StartTls))
        {
            // Between the go-ahead and the handshake nothing may go out in clear.
            assert!(core.poll_transmit().is_none(), "sent during the TLS switch");
            core.set_idle(now, true);
            assert!(core.poll_transmit().is_none(), "sent during the TLS switch");
            core.tls_established(now);
            assert!(core.capabilities().is_empty());
        }
        now += Duration::from_secs(60);
        if let Some(t) = core.poll_timeout() {
            if t <= now {
                core.handle_timeout(now);
            }
        }
        drain(&mut core, &mut checker, &mut out);
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = upfront(&[data]);
    for split in splits(data) {
        assert_eq!(upfront(&split), whole, "split feeding differs");
    }
    interleaved(&random_split(data, 21), false);
    interleaved(&random_split(data, 22), true);
});
