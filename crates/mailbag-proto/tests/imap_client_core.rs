//! Transcript tests of the sans-IO IMAP client core: `C:` lines are what the core must write,
//! `S:` lines what the server sends.

use std::time::{Duration, Instant};

use mailbag_proto::imap::client::{
    ClientCore, ClientError, ClientEvent, CommandId, Config, ConnectionState, Notification,
};
use mailbag_proto::imap::command::{FetchAttribute, MessageSet};
use mailbag_proto::imap::types::{Data, SeqNum, Status, Uid};
use mailbag_proto::imap::{Command, SequenceSet};
use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
use mailbag_proto::Secret;

struct T {
    core: ClientCore,
    now: Instant,
}

impl T {
    fn new(greeting: &str) -> T {
        let mut t = T {
            core: ClientCore::new(Config::default()),
            now: Instant::now(),
        };
        t.s(greeting);
        t
    }
    fn s(&mut self, text: &str) {
        self.core.handle_input(self.now, text.as_bytes());
    }
    fn c(&mut self, expected: &str) {
        let out = self.core.poll_transmit().unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&out), expected);
    }
    fn events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.core.poll_event()).collect()
    }
    fn submit(&mut self, c: Command) -> CommandId {
        self.core.submit(self.now, c).unwrap()
    }
}

fn seq(n: u32) -> SeqNum {
    SeqNum::try_from(n).unwrap()
}

fn logged_in() -> T {
    let mut t = T::new("* PREAUTH [CAPABILITY IMAP4rev1 IDLE LITERAL+] hi\r\n");
    t.events();
    t
}

#[test]
fn greeting_and_state_enforced() {
    let mut t = T::new("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
    assert!(matches!(t.events()[0], ClientEvent::GreetingReceived(_)));
    assert_eq!(t.core.state(), ConnectionState::NotAuthenticated);
    let err = t
        .core
        .submit(
            t.now,
            Command::Select {
                mailbox: "INBOX".into(),
                params: vec![],
            },
        )
        .unwrap_err();
    assert!(matches!(err, ClientError::WrongState { .. }));
    t.c("");
}

#[test]
fn login_with_synchronising_literal_waits_for_continuation() {
    let mut t = T::new("* OK ready\r\n");
    let id = t.submit(Command::Login {
        username: "joe".into(),
        password: Secret::new("a\"b\nc".into()),
    });
    t.c("A1 LOGIN joe {5}\r\n");
    t.s("+ go\r\n");
    t.c("a\"b\nc\r\n");
    t.s("A1 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n");
    let ev = t.events();
    assert!(matches!(&ev[1], ClientEvent::CommandCompleted { id: i, .. } if *i == id));
    assert_eq!(t.core.state(), ConnectionState::Authenticated);
    assert!(t.core.has(&mailbag_proto::imap::types::Capability::Idle));
}

#[test]
fn pipelined_commands_and_routing() {
    let mut t = logged_in();
    let a = t.submit(Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    let b = t.submit(Command::Fetch {
        set: MessageSet::Uid("1:*".parse().unwrap()),
        items: vec![FetchAttribute::Flags],
        changed_since: None,
        vanished: false,
    });
    t.c("A1 SELECT INBOX\r\nA2 UID FETCH 1:* FLAGS\r\n");
    t.s("* 2 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\nA1 OK [READ-WRITE] sel\r\n");
    t.s("* 1 FETCH (UID 10 FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (UID 11 FLAGS ())\r\nA2 OK f\r\n");
    let ev = t.events();
    assert!(matches!(&ev[0], ClientEvent::Data { id, data: Data::Exists(2) } if *id == a));
    assert!(matches!(&ev[1], ClientEvent::Data { id, .. } if *id == a));
    assert!(matches!(&ev[2], ClientEvent::CommandCompleted { id, .. } if *id == a));
    assert!(matches!(&ev[3], ClientEvent::Data { id, .. } if *id == b));
    // A FETCH without UID during UID FETCH is someone else's flag change.
    assert!(matches!(
        &ev[4],
        ClientEvent::Notification(Notification::FlagsChanged { uid: None, .. })
    ));
    assert!(matches!(&ev[5], ClientEvent::Data { id, .. } if *id == b));
    assert_eq!(t.core.view().uid(seq(2)), Uid::try_from(11).ok());
    // EXPUNGE shifts the map and reports the UID.
    t.s("* 1 EXPUNGE\r\n");
    let ev = t.events();
    assert_eq!(
        ev,
        vec![ClientEvent::Notification(Notification::Expunge {
            seq: seq(1),
            uid: Uid::try_from(10).ok()
        })]
    );
    assert_eq!(t.core.view().uid(seq(1)), Uid::try_from(11).ok());
    assert_eq!(t.core.view().exists, 1);
}

#[test]
fn sequence_number_command_held_behind_expunge() {
    let mut t = logged_in();
    t.submit(Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    t.submit(Command::Expunge);
    t.submit(Command::Fetch {
        set: MessageSet::Seq("1".parse().unwrap()),
        items: vec![FetchAttribute::Flags],
        changed_since: None,
        vanished: false,
    });
    t.c("A1 SELECT INBOX\r\nA2 EXPUNGE\r\n");
    t.s("A1 OK s\r\n* 1 EXPUNGE\r\nA2 OK e\r\n");
    t.c("A3 FETCH 1 FLAGS\r\n");
}

#[test]
fn idle_done_before_command_and_resume() {
    let mut t = logged_in();
    t.core.set_idle(t.now, true);
    t.c("A1 IDLE\r\n");
    t.s("+ idling\r\n* 3 EXISTS\r\n");
    let ev = t.events();
    assert!(matches!(ev[0], ClientEvent::IdleAccepted(_)));
    assert_eq!(ev[1], ClientEvent::Notification(Notification::Exists(3)));
    let noop = t.submit(Command::Noop);
    t.c("DONE\r\nA2 NOOP\r\n");
    t.s("A1 OK idle done\r\nA2 OK noop\r\n");
    t.c("A3 IDLE\r\n");
    let ev = t.events();
    assert!(matches!(&ev[0], ClientEvent::CommandCompleted { id, .. } if *id == noop));
    // The IDLE is refreshed before 29 minutes.
    let when = t.core.poll_timeout();
    assert!(when.is_none(), "no deadline before the server accepts IDLE");
    t.s("+ idling\r\n");
    let when = t.core.poll_timeout().unwrap();
    assert!(when <= t.now + Duration::from_secs(29 * 60));
    t.core.handle_timeout(when);
    t.c("DONE\r\n");
    t.s("A3 OK done\r\n");
    t.c("A4 IDLE\r\n");
    t.core.set_idle(t.now, false);
    t.c("DONE\r\n");
}

#[test]
fn no_idle_server_polls_with_noop() {
    let mut t = T::new("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    t.events();
    t.core.set_idle(t.now, true);
    t.c("");
    let when = t.core.poll_timeout().unwrap();
    t.core.handle_timeout(when);
    t.c("A1 NOOP\r\n");
    t.s("* 4 EXISTS\r\nA1 OK\r\n");
    let ev = t.events();
    assert_eq!(ev, vec![ClientEvent::Notification(Notification::Exists(4))]);
}

#[test]
fn authenticate_plain_with_and_without_sasl_ir() {
    let mut t = T::new("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n");
    let sasl = SaslClient::new(Mechanism::Plain, Credentials::new("u", "p"));
    t.core.authenticate(t.now, sasl).unwrap();
    t.c("A1 AUTHENTICATE PLAIN AHUAcA==\r\n");
    let mut t = T::new("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
    let sasl = SaslClient::new(Mechanism::Plain, Credentials::new("u", "p"));
    t.core.authenticate(t.now, sasl).unwrap();
    t.c("A1 AUTHENTICATE PLAIN\r\n");
    t.s("+ \r\n");
    t.c("AHUAcA==\r\n");
    t.s("A1 OK welcome\r\n");
    assert_eq!(t.core.state(), ConnectionState::Authenticated);
    let trace: Vec<String> = std::iter::from_fn(|| t.core.poll_trace()).collect();
    assert!(!trace.iter().any(|l| l.contains("AHUAcA")), "{trace:?}");
    assert!(
        trace.iter().any(|l| l.starts_with("C: A1 AUTHENTICATE"))
            && trace.iter().any(|l| l.contains("redacted")),
        "{trace:?}"
    );
}

#[test]
fn trace_lines_are_kept_only_when_asked_for() {
    let mut t = T::new("* OK [CAPABILITY IMAP4rev1] hi\r\n");
    t.submit(Command::Noop);
    t.c("A1 NOOP\r\n");
    t.s("* 3 EXISTS\r\nA1 OK done\r\n");
    let trace: Vec<String> = std::iter::from_fn(|| t.core.poll_trace()).collect();
    assert!(trace.contains(&"C: A1 NOOP".to_owned()), "{trace:?}");
    assert!(trace.contains(&"S: * 3 EXISTS".to_owned()), "{trace:?}");

    // Off: nothing is built or kept, and the protocol goes on the same.
    t.core.set_trace(false);
    t.submit(Command::Noop);
    t.c("A2 NOOP\r\n");
    t.s("* 4 EXISTS\r\nA2 OK done\r\n");
    assert_eq!(t.core.poll_trace(), None);
    assert!(t
        .events()
        .contains(&ClientEvent::Notification(Notification::Exists(4))));

    t.core.set_trace(true);
    t.submit(Command::Noop);
    t.c("A3 NOOP\r\n");
    assert_eq!(t.core.poll_trace().as_deref(), Some("C: A3 NOOP"));
}

#[test]
fn starttls_forgets_capabilities_and_discards_injected_bytes() {
    let mut t = T::new("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n");
    t.submit(Command::StartTls);
    // Nothing may be pipelined behind STARTTLS.
    t.submit(Command::Capability);
    t.c("A1 STARTTLS\r\n");
    t.s("A1 OK go\r\n* OK injected\r\n");
    let ev = t.events();
    assert!(ev.contains(&ClientEvent::StartTls));
    t.c("");
    assert_eq!(t.core.tls_established(t.now), 15);
    assert!(t.core.capabilities().is_empty());
    t.c("A2 CAPABILITY\r\n");
}

#[test]
fn streamed_body_routed_to_its_command() {
    let mut t = logged_in();
    t.submit(Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    let f = t.submit(Command::Fetch {
        set: MessageSet::Uid(SequenceSet::from_to_end(Uid::try_from(1).unwrap())),
        items: vec![FetchAttribute::BodySection {
            section: Default::default(),
            partial: None,
            peek: true,
        }],
        changed_since: None,
        vanished: false,
    });
    t.s("A1 OK s\r\n");
    let big = vec![b'x'; 100_000];
    t.s(&format!("* 1 FETCH (UID 5 BODY[] {{{}}}\r\n", big.len()));
    t.core.handle_input(t.now, &big);
    t.s(" FLAGS (\\Seen))\r\nA2 OK\r\n");
    let ev = t.events();
    let mut total = 0;
    let mut ended = false;
    for e in &ev {
        match e {
            ClientEvent::BodyChunk { id, chunk } => {
                assert_eq!(*id, f);
                total += chunk.len();
            }
            ClientEvent::FetchEnded { id, .. } => {
                assert_eq!(*id, f);
                ended = true;
            }
            _ => {}
        }
    }
    assert_eq!(total, big.len());
    assert!(ended);
}

#[test]
fn bye_during_command_is_notified() {
    let mut t = logged_in();
    t.submit(Command::Noop);
    t.s("* BYE shutting down\r\n");
    let ev = t.events();
    assert!(
        matches!(&ev[0], ClientEvent::Notification(Notification::Bye(s)) if s.status == Status::Bye)
    );
    assert_eq!(t.core.state(), ConnectionState::Logout);
}

#[test]
fn unsolicited_fetch_during_search() {
    let mut t = logged_in();
    t.submit(Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    let s = t.submit(Command::Search {
        uid: true,
        charset: None,
        criteria: vec![mailbag_proto::imap::search::SearchKey::All],
        returns: None,
    });
    t.s("A1 OK s\r\n* 1 FETCH (FLAGS (\\Seen))\r\n* SEARCH 1 2\r\nA2 OK\r\n");
    let ev = t.events();
    assert!(matches!(
        &ev[1],
        ClientEvent::Notification(Notification::FlagsChanged { .. })
    ));
    assert!(matches!(&ev[2], ClientEvent::Data { id, data: Data::Search { .. } } if *id == s));
}

#[test]
fn fed_byte_by_byte() {
    let mut t = logged_in();
    t.submit(Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    for b in b"* 5 EXISTS\r\nA1 OK [READ-WRITE] done\r\n* 6 EXISTS\r\n" {
        t.core.handle_input(t.now, &[*b]);
    }
    let ev = t.events();
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[2], ClientEvent::Notification(Notification::Exists(6)));
}

#[test]
fn streamed_body_fed_in_odd_pieces() {
    let mut t = logged_in();
    t.submit(Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    t.submit(Command::Fetch {
        set: MessageSet::Uid(SequenceSet::from_to_end(Uid::try_from(1).unwrap())),
        items: vec![FetchAttribute::BodySection {
            section: Default::default(),
            partial: None,
            peek: true,
        }],
        changed_since: None,
        vanished: false,
    });
    t.s("A1 OK s\r\n");
    let n = 3_000_000usize;
    let mut wire = format!("* 1 FETCH (UID 5 BODY[] {{{n}}}\r\n").into_bytes();
    wire.extend((0..n).map(|i| (i % 251) as u8));
    wire.extend_from_slice(b" FLAGS (\\Seen))\r\nA2 OK\r\n");
    let mut total = 0usize;
    let mut i = 0usize;
    let mut step = 1usize;
    while i < wire.len() {
        let end = (i + step).min(wire.len());
        t.core.handle_input(t.now, &wire[i..end]);
        i = end;
        step = (step * 7 + 13) % 70_000 + 1;
        for e in t.events() {
            if let ClientEvent::BodyChunk { chunk, .. } = e {
                total += chunk.len();
            }
        }
    }
    assert_eq!(total, n);
}

#[test]
fn literal_plus_goes_without_waiting_and_compress_is_a_barrier() {
    let mut t = logged_in();
    t.submit(Command::Append {
        mailbox: "INBOX".into(),
        messages: vec![mailbag_proto::imap::command::AppendMessage {
            flags: vec![],
            date: None,
            data: b"Hi\r\n".to_vec(),
        }],
    });
    t.c("A1 APPEND INBOX {4+}\r\nHi\r\n\r\n");
    t.s("A1 OK [APPENDUID 1 1] done\r\n");
    t.submit(Command::CompressDeflate);
    t.submit(Command::Noop);
    t.c("A2 COMPRESS DEFLATE\r\n");
    t.s("A2 OK on\r\n");
    assert!(t.events().contains(&ClientEvent::CompressionStarted));
    t.c("");
    t.core.compression_established(t.now);
    t.c("A3 NOOP\r\n");
}

fn append_stream(len: u64) -> Command {
    Command::AppendStream {
        mailbox: "INBOX".into(),
        flags: vec![mailbag_proto::imap::types::Flag::Seen],
        date: None,
        len,
    }
}

/// A streamed APPEND with a synchronising literal: the header, then (after `+`) the bytes
/// the driver gives in pieces, then the line end; nothing else passes it meanwhile.
#[test]
fn append_stream_sends_the_given_bytes_after_the_continuation() {
    let mut t = T::new("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    t.events();
    let id = t.submit(append_stream(10));
    t.submit(Command::Noop);
    t.c("A1 APPEND INBOX (\\Seen) {10}\r\n");
    assert_eq!(t.core.literal_wanted(), None);
    // No bytes may go before the go-ahead.
    assert!(matches!(
        t.core.send_literal(t.now, b"x"),
        Err(ClientError::LiteralOverrun {
            given: 1,
            wanted: 0
        })
    ));
    t.s("+ go ahead\r\n");
    assert_eq!(t.events(), vec![ClientEvent::LiteralWanted { id, len: 10 }]);
    t.c("");
    t.core.send_literal(t.now, b"Hi\r\n").unwrap();
    assert_eq!(t.core.literal_wanted(), Some((id, 6)));
    // More than the literal still wants is refused and sends nothing.
    assert!(matches!(
        t.core.send_literal(t.now, b"1234567"),
        Err(ClientError::LiteralOverrun {
            given: 7,
            wanted: 6
        })
    ));
    t.c("Hi\r\n");
    t.core.send_literal(t.now, b"there!").unwrap();
    assert_eq!(t.core.literal_wanted(), None);
    // The literal, its line end, and then the NOOP that waited.
    t.c("there!\r\nA2 NOOP\r\n");
    t.s("A1 OK [APPENDUID 7 3] done\r\nA2 OK done\r\n");
    let ev = t.events();
    assert!(
        matches!(&ev[0], ClientEvent::CommandCompleted { id: i, status } if *i == id && status.status == Status::Ok)
    );
}

/// With LITERAL+ the bytes are asked for at once; a refusal of a synchronising literal
/// (NO instead of `+`) never asks for them.
#[test]
fn append_stream_with_literal_plus_and_refused() {
    let mut t = logged_in();
    let id = t.submit(append_stream(3));
    t.c("A1 APPEND INBOX (\\Seen) {3+}\r\n");
    assert_eq!(t.events(), vec![ClientEvent::LiteralWanted { id, len: 3 }]);
    t.core.send_literal(t.now, b"abc").unwrap();
    t.c("abc\r\n");
    t.s("A1 OK done\r\n");
    t.events();

    let mut t = T::new("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    t.events();
    let id = t.submit(append_stream(5));
    t.submit(Command::Noop);
    t.c("A1 APPEND INBOX (\\Seen) {5}\r\n");
    t.s("A1 NO [TRYCREATE] no such mailbox\r\n");
    let ev = t.events();
    assert!(!ev
        .iter()
        .any(|e| matches!(e, ClientEvent::LiteralWanted { .. })));
    assert!(
        matches!(&ev[0], ClientEvent::CommandCompleted { id: i, status } if *i == id && status.status == Status::No)
    );
    assert_eq!(t.core.literal_wanted(), None);
    t.c("A2 NOOP\r\n");
}

#[test]
fn logout_ends_the_session() {
    let mut t = logged_in();
    t.submit(Command::Logout);
    assert!(matches!(
        t.core.submit(t.now, Command::Noop),
        Err(ClientError::WrongState {
            state: ConnectionState::Logout,
            ..
        })
    ));
    t.c("A1 LOGOUT\r\n");
}

/// Deadlines past what `Instant` holds (a program asking for `Duration::MAX`) are "never",
/// not a panic from `Instant + Duration` overflowing.
#[test]
fn unbounded_timeouts_never_fire_and_never_panic() {
    let config = Config {
        command_timeout: Some(Duration::MAX),
        idle_refresh: Duration::MAX,
        poll_interval: Duration::MAX,
        ..Config::default()
    };
    let mut t = T {
        core: ClientCore::new(config),
        now: Instant::now(),
    };
    t.s("* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n");
    t.events();
    t.submit(Command::Noop);
    t.c("A1 NOOP\r\n");
    assert_eq!(t.core.poll_timeout(), None);
    t.core.handle_timeout(t.now + Duration::from_secs(3600));
    assert!(t.events().is_empty());
    t.s("A1 OK done\r\n");
    t.core.set_idle(t.now, true);
    t.c("A2 IDLE\r\n");
    t.s("+ idling\r\n");
    assert_eq!(t.core.poll_timeout(), None);
    t.core.handle_timeout(t.now + Duration::from_secs(3600));
    t.c("");
}

/// The view's generation moves when the view may have changed, and only then, so a driver
/// copies the view (a UID per message) only when it must.
#[test]
fn view_generation_moves_with_the_view() {
    let mut t = logged_in();
    t.submit(Command::Examine {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    t.c("A1 EXAMINE INBOX\r\n");
    let g0 = t.core.view_generation();
    t.s("* 3 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\nA1 OK [READ-ONLY] done\r\n");
    let g1 = t.core.view_generation();
    assert_ne!(g0, g1);
    assert_eq!(t.core.view().exists, 3);
    t.submit(Command::Noop);
    t.s("A2 OK nothing\r\n");
    assert_eq!(t.core.view_generation(), g1, "a bare NOOP changed nothing");
    t.submit(Command::Noop);
    t.s("* 4 EXISTS\r\nA3 OK\r\n");
    assert_ne!(t.core.view_generation(), g1);
    assert_eq!(t.core.view().exists, 4);
}

/// The capabilities' generation moves when the capabilities or the enabled extensions may
/// have changed, and only then, so a driver copies them only when it must.
#[test]
fn capabilities_generation_moves_with_the_capabilities() {
    use mailbag_proto::imap::types::Capability;
    let mut t = logged_in();
    let g0 = t.core.capabilities_generation();
    t.submit(Command::Noop);
    t.c("A1 NOOP\r\n");
    t.s("* 3 EXISTS\r\nA1 OK done\r\n");
    assert_eq!(
        t.core.capabilities_generation(),
        g0,
        "nothing about capabilities"
    );
    t.submit(Command::Capability);
    t.c("A2 CAPABILITY\r\n");
    t.s("* CAPABILITY IMAP4rev1 IDLE ENABLE CONDSTORE\r\nA2 OK\r\n");
    let g1 = t.core.capabilities_generation();
    assert_ne!(g1, g0);
    assert!(t.core.has(&Capability::CondStore));
    t.submit(Command::Enable(vec![Capability::CondStore]));
    t.c("A3 ENABLE CONDSTORE\r\n");
    t.s("* ENABLED CONDSTORE\r\nA3 OK\r\n");
    let g2 = t.core.capabilities_generation();
    assert_ne!(g2, g1);
    assert_eq!(t.core.enabled(), [Capability::CondStore]);
    t.submit(Command::Noop);
    t.s("A4 OK [CAPABILITY IMAP4rev1 IDLE] fewer now\r\n");
    assert_ne!(t.core.capabilities_generation(), g2);
    assert!(!t.core.has(&Capability::CondStore));
}

/// The command timeout: an endless stream of unsolicited responses is not the command's
/// progress (it times out), while a long response arriving slowly is (it does not).
#[test]
fn only_the_commands_own_progress_holds_off_its_timeout() {
    let config = Config {
        command_timeout: Some(Duration::from_secs(10)),
        ..Config::default()
    };
    let mut t = T {
        core: ClientCore::new(config.clone()),
        now: Instant::now(),
    };
    t.s("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    t.events();
    let id = t.submit(Command::Noop);
    t.c("A1 NOOP\r\n");
    // A notification every second for 30 s: the NOOP times out after 10.
    let start = t.now;
    let mut timed_out = None;
    for i in 1..=30u64 {
        let now = start + Duration::from_secs(i);
        t.core
            .handle_input(now, format!("* {i} EXISTS\r\n").as_bytes());
        t.core.handle_timeout(now);
        if t.events().contains(&ClientEvent::TimedOut(id)) {
            timed_out = Some(i);
            break;
        }
    }
    assert_eq!(timed_out, Some(10), "the flood kept the command alive");

    // A SEARCH answer of one long line, a piece every second for 30 s: never timed out.
    let mut t = T {
        core: ClientCore::new(config),
        now: Instant::now(),
    };
    t.s("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    t.events();
    t.submit(Command::Examine {
        mailbox: "INBOX".into(),
        params: vec![],
    });
    t.s("* 1 EXISTS\r\nA1 OK done\r\n");
    t.events();
    let id = t.submit(Command::Search {
        uid: true,
        charset: None,
        criteria: vec![mailbag_proto::imap::search::SearchKey::All],
        returns: None,
    });
    t.core.poll_transmit();
    let start = t.now;
    t.core.handle_input(start, b"* SEARCH");
    for i in 1..=30u64 {
        let now = start + Duration::from_secs(i);
        t.core.handle_input(now, format!(" {i}").as_bytes());
        t.core.handle_timeout(now);
        assert!(!t.events().contains(&ClientEvent::TimedOut(id)), "at {i} s");
    }
    let end = start + Duration::from_secs(31);
    t.core.handle_input(end, b"\r\nA2 OK done\r\n");
    let ev = t.events();
    assert!(ev
        .iter()
        .any(|e| matches!(e, ClientEvent::CommandCompleted { id: i, .. } if *i == id)));
}

/// An empty streamed APPEND with a synchronising literal still waits for `+` before its
/// line end (the server reads `{0}` as any literal), and asks the driver for nothing.
#[test]
fn an_empty_streamed_append_waits_for_the_continuation() {
    let mut t = T::new("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    t.events();
    t.submit(append_stream(0));
    t.c("A1 APPEND INBOX (\\Seen) {0}\r\n");
    t.c("");
    t.s("+ go\r\n");
    t.c("\r\n");
    assert!(!t
        .events()
        .iter()
        .any(|e| matches!(e, ClientEvent::LiteralWanted { .. })));
    assert_eq!(t.core.literal_wanted(), None);
}
