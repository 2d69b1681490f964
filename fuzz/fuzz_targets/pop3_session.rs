//! The POP3 session state machine fed arbitrary server bytes after a valid greeting, while a
//! fixed script of client commands is issued as the session allows.
//!
//! Three scripts run on every input: USER/PASS then every transaction command; AUTH (a SASL
//! mechanism picked from the input's hash, with or without initial response) then the same;
//! STLS in the middle (the driver "finishes the handshake" at once). Invariants: no panic;
//! every answer belongs to the oldest unanswered command and has the typed reply its command
//! calls for; body chunks only inside a RETR/TOP body; states change only on the replies that
//! may change them; errors are sticky; the bytes sent are whole CRLF lines and the password
//! never appears in the redacted lines; whole and split feeding give the same events (not for
//! the STLS script, where what the driver discards depends on what has arrived). Split feeding
//! alternates between `feed` and reading into `receive_buffer`, with trace lines on or off:
//! neither may change an event.
#![no_main]

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use mailbag_fuzz::{splits, Rng};
use mailbag_proto::pop3::{
    Command, CommandId, Event, Misuse, ParseError, Reply, Session, SessionState,
};
use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
use mailbag_proto::Secret;

const GREETING: &[u8] = b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n";
const PASSWORD: &str = "s3cr3t-pw";

#[derive(Clone, Copy)]
enum Step {
    Cmd(fn() -> Command),
    Auth(Mechanism, bool),
}

fn transaction() -> Vec<Step> {
    vec![
        Step::Cmd(|| Command::Stat),
        Step::Cmd(|| Command::List(None)),
        Step::Cmd(|| Command::Uidl(None)),
        Step::Cmd(|| Command::List(Some(1))),
        Step::Cmd(|| Command::Uidl(Some(2))),
        Step::Cmd(|| Command::Retr(1)),
        Step::Cmd(|| Command::Top(2, 3)),
        Step::Cmd(|| Command::Dele(1)),
        Step::Cmd(|| Command::Noop),
        Step::Cmd(|| Command::Capa),
        Step::Cmd(|| Command::Rset),
        Step::Cmd(|| Command::Quit),
    ]
}

fn user_pass() -> Vec<Step> {
    let mut s = vec![
        Step::Cmd(|| Command::Capa),
        Step::Cmd(|| Command::User("joe".into())),
        Step::Cmd(|| Command::Pass(Secret::new(PASSWORD.into()))),
    ];
    s.extend(transaction());
    s
}

fn auth(mechanism: Mechanism, initial: bool) -> Vec<Step> {
    let mut s = vec![Step::Cmd(|| Command::Capa), Step::Auth(mechanism, initial)];
    s.extend(transaction());
    s
}

fn stls() -> Vec<Step> {
    let mut s = vec![Step::Cmd(|| Command::Capa), Step::Cmd(|| Command::Stls)];
    s.extend(user_pass());
    s
}

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    error: Option<ParseError>,
    state: SessionState,
}

struct Driver {
    session: Session,
    script: Vec<Step>,
    next: usize,
    /// Commands sent and not yet answered, oldest first, with their keyword.
    waiting: VecDeque<(CommandId, &'static str)>,
    /// The RETR/TOP whose body is being received.
    in_body: Option<CommandId>,
    tls: bool,
    /// Whether the session keeps redacted lines (`Session::set_trace`).
    trace: bool,
}

impl Driver {
    /// Issues script steps while the session accepts them.
    fn issue(&mut self) {
        while let Some(step) = self.script.get(self.next).copied() {
            let (result, keyword) = match step {
                Step::Cmd(make) => {
                    let cmd = make();
                    let keyword = cmd.keyword();
                    (self.session.send(cmd), keyword)
                }
                Step::Auth(mechanism, initial) => {
                    let creds = Credentials::new("joe", PASSWORD);
                    let sasl = SaslClient::with_client_nonce(
                        mechanism,
                        creds,
                        "rOprNGfwEbeRWgbNEkqO".into(),
                    );
                    (self.session.authenticate(sasl, initial), "AUTH")
                }
            };
            match result {
                Ok(id) => {
                    if let Some(&(last, _)) = self.waiting.back() {
                        assert!(id > last, "ids not increasing");
                    }
                    self.waiting.push_back((id, keyword));
                    self.next += 1;
                }
                Err(Misuse::AwaitingReply { .. }) => return,
                // Maybe valid once an unanswered login is answered; else skip it.
                Err(Misuse::InvalidInState { .. }) if self.session.is_busy() => return,
                Err(Misuse::InvalidInState { .. }) => self.next += 1,
                Err(e) => panic!("script command refused: {e}"),
            }
        }
    }

    fn transmit(&mut self) {
        if let Some(t) = self.session.poll_transmit() {
            // After +OK to STLS nothing may go out in clear before the handshake.
            assert!(
                !self.session.awaiting_tls(),
                "sent before TLS: {:?}",
                t.redacted
            );
            assert!(t.data.ends_with(b"\r\n"), "{:?}", t.data);
            let lines = t.data.windows(2).filter(|w| w == b"\r\n").count();
            // One redacted line per command while trace lines are kept, none otherwise.
            assert_eq!(if self.trace { lines } else { 0 }, t.redacted.len());
            assert_eq!(
                t.data.iter().filter(|&&b| b == b'\n').count(),
                lines,
                "bare LF sent"
            );
            for l in &t.redacted {
                assert!(!l.contains(PASSWORD), "password in a redacted line: {l}");
            }
        }
    }

    fn check(&mut self, ev: &Event, before: SessionState) {
        let after = self.session.state();
        let front = |w: &VecDeque<(CommandId, &'static str)>, id: CommandId| {
            let &(want, keyword) = w.front().expect("answer with nothing in flight");
            assert_eq!(id, want, "answer routed to the wrong command");
            keyword
        };
        let mut finished = true;
        match ev {
            Event::GreetingReceived(_) => panic!("second greeting"),
            Event::Ok { id, reply } => {
                let keyword = front(&self.waiting, *id);
                let fits = match (keyword, reply) {
                    ("STAT", Reply::Stat(_)) => true,
                    ("LIST", Reply::List(_)) => true,
                    ("LIST", Reply::ListOne(e)) => e.number == 1,
                    ("UIDL", Reply::Uidl(_)) => true,
                    ("UIDL", Reply::UidlOne(e)) => e.number == 2,
                    ("CAPA", Reply::Capa(_)) => true,
                    ("RETR" | "TOP", Reply::BodyFollows(_)) => {
                        finished = false;
                        self.in_body = Some(*id);
                        true
                    }
                    ("STAT" | "LIST" | "UIDL" | "CAPA" | "RETR" | "TOP", _) => false,
                    (_, Reply::Status(s)) => s.ok,
                    _ => false,
                };
                assert!(fits, "{keyword} answered with {reply:?}");
                match keyword {
                    "PASS" | "AUTH" => assert_eq!(after, SessionState::Transaction),
                    "QUIT" => assert_eq!(after, SessionState::Closed),
                    _ => assert_eq!(after, before),
                }
            }
            Event::Err { id, status } => {
                let keyword = front(&self.waiting, *id);
                assert!(!status.ok);
                let want = if keyword == "QUIT" {
                    SessionState::Closed
                } else {
                    before
                };
                assert_eq!(after, want, "{keyword} -ERR changed the state");
            }
            Event::Malformed { id, .. } => {
                let keyword = front(&self.waiting, *id);
                assert!(
                    matches!(keyword, "STAT" | "LIST" | "UIDL"),
                    "{keyword} malformed"
                );
                assert_eq!(after, before);
            }
            Event::SaslFailed { id, .. } => {
                assert_eq!(front(&self.waiting, *id), "AUTH");
                assert_ne!(after, SessionState::Closed);
            }
            Event::BodyChunk { id, chunk } => {
                assert_eq!(self.in_body, Some(*id), "body chunk outside a body");
                assert!(!chunk.is_empty());
                finished = false;
            }
            Event::BodyEnd { id } => {
                assert_eq!(self.in_body.take(), Some(*id), "body end outside a body");
            }
            _ => panic!("unknown event {ev:?}"),
        }
        if finished {
            self.waiting.pop_front();
        }
    }
}

fn run(chunks: &[&[u8]], script: Vec<Step>, tls: bool, via_buffer: bool) -> Outcome {
    let mut session = Session::new();
    session.set_trace(!via_buffer);
    session.feed(GREETING);
    match session.poll_event() {
        Ok(Some(Event::GreetingReceived(g))) => assert!(g.timestamp.is_some()),
        other => panic!("greeting not read: {other:?}"),
    }
    let mut d = Driver {
        session,
        script,
        next: 0,
        waiting: VecDeque::new(),
        in_body: None,
        tls,
        trace: !via_buffer,
    };
    let mut events = Vec::new();
    for chunk in chunks {
        if via_buffer {
            d.session
                .receive_buffer(chunk.len())
                .extend_from_slice(chunk);
        } else {
            d.session.feed(chunk);
        }
        loop {
            d.issue();
            d.transmit();
            if d.tls && d.session.awaiting_tls() {
                d.session.tls_established();
                assert!(d.session.capabilities().is_none());
                d.transmit();
            }
            let before = d.session.state();
            match d.session.poll_event() {
                Ok(Some(ev)) => {
                    d.check(&ev, before);
                    match (events.last_mut(), ev) {
                        (
                            Some(Event::BodyChunk { id: a, chunk: have }),
                            Event::BodyChunk { id: b, chunk },
                        ) if *a == b => {
                            let mut merged = have.to_vec();
                            merged.extend_from_slice(&chunk);
                            *have = merged.into();
                        }
                        (_, ev) => events.push(ev),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(d.session.poll_event(), Err(e.clone()), "error not sticky");
                    // Unsolicited data carries whatever had arrived, which depends on the cut.
                    let e = match e {
                        ParseError::Unsolicited(_) => ParseError::Unsolicited(Vec::new()),
                        e => e,
                    };
                    return Outcome {
                        events,
                        error: Some(e),
                        state: d.session.state(),
                    };
                }
            }
        }
    }
    Outcome {
        events,
        error: None,
        state: d.session.state(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut rng = Rng::from_input(data, 5);
    let mechanism = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ][rng.below(5)];
    let initial = rng.below(2) == 0;
    for script in [user_pass(), auth(mechanism, initial)] {
        let whole = run(&[data], script.clone(), false, false);
        for (i, split) in splits(data).into_iter().enumerate() {
            assert_eq!(
                run(&split, script.clone(), false, i % 2 == 1),
                whole,
                "split feeding differs"
            );
        }
    }
    run(&[data], stls(), true, false);
    run(&mailbag_fuzz::random_split(data, 9), stls(), true, true);
});
