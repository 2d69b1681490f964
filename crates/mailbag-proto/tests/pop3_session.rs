//! The POP3 session state machine driven by scripted server bytes.

use mailbag_proto::pop3::{
    Command, Event, Greeting, ListEntry, Misuse, Reply, RespCode, Session, SessionState, Stat,
    UidlEntry,
};
use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
use mailbag_proto::Secret;

fn events(s: &mut Session, server: &[u8]) -> Vec<Event> {
    s.feed(server);
    let mut out = Vec::new();
    while let Some(e) = s.poll_event().expect("valid") {
        out.push(e);
    }
    out
}

fn sent(s: &mut Session) -> String {
    s.poll_transmit()
        .map(|t| String::from_utf8(t.data).unwrap())
        .unwrap_or_default()
}

fn greeted(greeting: &[u8]) -> Session {
    let mut s = Session::new();
    let ev = events(&mut s, greeting);
    assert!(matches!(&ev[..], [Event::GreetingReceived(_)]));
    s
}

fn logged_in() -> Session {
    let mut s = greeted(b"+OK ready\r\n");
    s.send(Command::User("u".into())).unwrap();
    s.send(Command::Pass(Secret::new("p w".into()))).unwrap();
    assert_eq!(sent(&mut s), "USER u\r\n");
    events(&mut s, b"+OK\r\n");
    assert_eq!(sent(&mut s), "PASS p w\r\n");
    events(&mut s, b"+OK logged in\r\n");
    assert_eq!(s.state(), SessionState::Transaction);
    s
}

#[test]
fn apop_rfc1939_example() {
    let s = greeted(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n");
    let stamp = s.greeting().unwrap().timestamp.clone().unwrap();
    assert_eq!(stamp, "<1896.697170952@dbc.mtview.ca.us>");
    assert_eq!(
        Greeting::apop_digest(&stamp, "tanstaaf"),
        "c4c9334bac560ecc979e58001b3e22fb"
    );
}

#[test]
fn commands_refused_in_the_wrong_state() {
    let mut s = greeted(b"+OK\r\n");
    assert!(matches!(
        s.send(Command::Retr(1)),
        Err(Misuse::InvalidInState {
            command: "RETR",
            state: SessionState::Authorization
        })
    ));
    s.send(Command::User("u".into())).unwrap();
    s.send(Command::Pass(Secret::new("p".into()))).unwrap();
    assert!(matches!(
        s.send(Command::Capa),
        Err(Misuse::AwaitingReply { .. })
    ));
    assert!(s.send(Command::User("a\r\nDELE 1".into())).is_err());
    let mut s = logged_in();
    assert!(s.send(Command::User("x".into())).is_err());
    assert!(s.send(Command::Dele(0)).is_err());
    s.send(Command::Quit).unwrap();
    sent(&mut s);
    events(&mut s, b"+OK bye\r\n");
    assert_eq!(s.state(), SessionState::Closed);
    assert!(s.send(Command::Noop).is_err());
}

#[test]
fn failed_login_stays_in_authorization_with_code() {
    let mut s = greeted(b"+OK\r\n");
    s.send(Command::User("u".into())).unwrap();
    sent(&mut s);
    events(&mut s, b"+OK\r\n");
    s.send(Command::Pass(Secret::new("bad".into()))).unwrap();
    sent(&mut s);
    let ev = events(&mut s, b"-ERR [AUTH] Authentication failed.\r\n");
    let [Event::Err { status, .. }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(status.code, Some(RespCode::Auth));
    assert_eq!(s.state(), SessionState::Authorization);
}

#[test]
fn one_at_a_time_without_pipelining_then_batches_with_it() {
    let mut s = logged_in();
    s.send(Command::Capa).unwrap();
    assert_eq!(sent(&mut s), "CAPA\r\n");
    // A server without CAPA.
    let ev = events(&mut s, b"-ERR unknown command\r\n");
    assert!(matches!(&ev[..], [Event::Err { .. }]));
    for n in 1..=3 {
        s.send(Command::Dele(n)).unwrap();
    }
    assert_eq!(sent(&mut s), "DELE 1\r\n");
    assert_eq!(sent(&mut s), "");
    events(&mut s, b"+OK\r\n");
    assert_eq!(sent(&mut s), "DELE 2\r\n");

    let mut s = logged_in();
    s.set_window(2);
    s.send(Command::Capa).unwrap();
    sent(&mut s);
    let ev = events(&mut s, b"+OK\r\nPIPELINING\r\nUIDL\r\n.\r\n");
    assert!(matches!(&ev[..], [Event::Ok { reply: Reply::Capa(c), .. }] if c.pipelining()));
    for n in 1..=3 {
        s.send(Command::Retr(n)).unwrap();
    }
    assert_eq!(sent(&mut s), "RETR 1\r\nRETR 2\r\n");
    let ev = events(&mut s, b"+OK\r\n..a\r\n.\r\n-ERR [SYS/TEMP] gone\r\n");
    assert!(matches!(
        &ev[0],
        Event::Ok {
            reply: Reply::BodyFollows(_),
            ..
        }
    ));
    assert!(matches!(&ev[1], Event::BodyChunk { chunk, .. } if &chunk[..] == b".a\r\n"));
    assert!(matches!(&ev[2], Event::BodyEnd { .. }));
    assert!(matches!(&ev[3], Event::Err { status, .. } if status.code == Some(RespCode::SysTemp)));
    assert_eq!(sent(&mut s), "RETR 3\r\n");
}

#[test]
fn stat_list_uidl_typed_and_malformed_keeps_sync() {
    let mut s = logged_in();
    let stat = s.send(Command::Stat).unwrap();
    let list = s.send(Command::List(None)).unwrap();
    let uidl1 = s.send(Command::Uidl(Some(1))).unwrap();
    let bad = s.send(Command::Uidl(None)).unwrap();
    let noop = s.send(Command::Noop).unwrap();
    let mut got = Vec::new();
    for reply in [
        &b"+OK 2 300\r\n"[..],
        b"+OK\r\n1 100\r\n2 200\r\n.\r\n",
        b"+OK 1 abc\r\n",
        b"+OK\r\n1 abc\r\n2\r\n.\r\n",
        b"+OK\r\n",
    ] {
        sent(&mut s);
        got.extend(events(&mut s, reply));
    }
    assert_eq!(
        got[0],
        Event::Ok {
            id: stat,
            reply: Reply::Stat(Stat {
                count: 2,
                size: 300
            })
        }
    );
    assert_eq!(
        got[1],
        Event::Ok {
            id: list,
            reply: Reply::List(vec![
                ListEntry {
                    number: 1,
                    size: 100
                },
                ListEntry {
                    number: 2,
                    size: 200
                }
            ])
        }
    );
    assert_eq!(
        got[2],
        Event::Ok {
            id: uidl1,
            reply: Reply::UidlOne(UidlEntry {
                number: 1,
                uid: "abc".into()
            })
        }
    );
    assert!(matches!(&got[3], Event::Malformed { id, .. } if *id == bad));
    assert!(matches!(&got[4], Event::Ok { id, .. } if *id == noop));
}

#[test]
fn auth_scram_through_the_session() {
    let mut s = greeted(b"+OK\r\n");
    let sasl = SaslClient::with_client_nonce(
        Mechanism::ScramSha256,
        Credentials::new("user", "pencil"),
        "rOprNGfwEbeRWgbNEkqO".into(),
    );
    s.authenticate(sasl, true).unwrap();
    assert_eq!(
        sent(&mut s),
        "AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"
    );
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let first = format!(
        "+ {}\r\n",
        b64.encode("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    );
    assert!(events(&mut s, first.as_bytes()).is_empty());
    assert!(sent(&mut s).starts_with("Yz1iaXdz"));
    let fin = format!(
        "+ {}\r\n",
        b64.encode("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    );
    events(&mut s, fin.as_bytes());
    assert_eq!(sent(&mut s), "\r\n");
    let ev = events(&mut s, b"+OK Logged in.\r\n");
    assert!(matches!(&ev[..], [Event::Ok { .. }]));
    assert_eq!(s.state(), SessionState::Transaction);
}

#[test]
fn auth_with_wrong_server_proof_is_cancelled() {
    let mut s = greeted(b"+OK\r\n");
    let sasl = SaslClient::with_client_nonce(
        Mechanism::ScramSha256,
        Credentials::new("user", "pencil"),
        "rOprNGfwEbeRWgbNEkqO".into(),
    );
    s.authenticate(sasl, false).unwrap();
    assert_eq!(sent(&mut s), "AUTH SCRAM-SHA-256\r\n");
    events(&mut s, b"+ \r\n");
    assert_eq!(
        sent(&mut s),
        "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"
    );
    events(&mut s, b"+ not base64!\r\n");
    assert_eq!(sent(&mut s), "*\r\n");
    let ev = events(&mut s, b"-ERR cancelled\r\n");
    assert!(matches!(&ev[..], [Event::SaslFailed { .. }]));
    assert_eq!(s.state(), SessionState::Authorization);
}

#[test]
fn stls_discards_bytes_sent_before_the_handshake() {
    let mut s = greeted(b"+OK\r\n");
    s.send(Command::Stls).unwrap();
    sent(&mut s);
    // An attacker injects a reply after the +OK, before TLS starts.
    let ev = events(&mut s, b"+OK begin TLS\r\n+OK injected\r\n");
    assert_eq!(ev.len(), 1);
    assert_eq!(s.tls_established(), 14);
    s.send(Command::Capa).unwrap();
    assert_eq!(sent(&mut s), "CAPA\r\n");
}

#[test]
fn redacted_commands_hide_credentials() {
    let pass = Command::Pass(Secret::new("hunter2".into()));
    assert!(!format!("{pass:?}").contains("hunter2"));
    assert_eq!(pass.redacted(), "PASS <redacted>");
    let mut s = greeted(b"+OK\r\n");
    s.authenticate(
        SaslClient::new(Mechanism::Plain, Credentials::new("u", "hunter2")),
        true,
    )
    .unwrap();
    let t = s.poll_transmit().unwrap();
    assert_eq!(t.redacted, vec!["AUTH PLAIN <redacted>".to_string()]);
}

#[test]
fn err_greeting_closes() {
    let mut s = Session::new();
    let ev = events(&mut s, b"-ERR [SYS/TEMP] overloaded\r\n");
    assert!(matches!(&ev[..], [Event::GreetingReceived(g)] if !g.status.ok));
    assert_eq!(s.state(), SessionState::Closed);
}

#[test]
fn long_initial_response_waits_for_the_first_challenge() {
    let mut s = greeted(b"+OK\r\n");
    let token = "t".repeat(400);
    let sasl = SaslClient::new(
        Mechanism::OAuthBearer,
        Credentials::new("me@example.org", token),
    );
    s.authenticate(sasl, true).unwrap();
    assert_eq!(sent(&mut s), "AUTH OAUTHBEARER\r\n");
    events(&mut s, b"+ \r\n");
    let answer = sent(&mut s);
    assert!(answer.len() > 500 && answer.ends_with("\r\n"));
    // RFC 7628 section 3.2.3: an error challenge is answered with 0x01 ("AQ==").
    events(&mut s, b"+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n");
    assert_eq!(sent(&mut s), "AQ==\r\n");
    let ev = events(&mut s, b"-ERR [AUTH] invalid token\r\n");
    assert!(matches!(&ev[..], [Event::Err { .. }]));
}

#[test]
fn an_endless_listing_is_cut_at_the_bound() {
    let mut s = logged_in();
    s.send(Command::Uidl(None)).unwrap();
    sent(&mut s);
    s.feed(b"+OK\r\n");
    let line = format!("1 {}\r\n", "u".repeat(1000));
    let block = line.repeat(1024);
    let mut result = Ok(None);
    for _ in 0..=(mailbag_proto::pop3::MAX_LISTING / block.len()) {
        s.feed(block.as_bytes());
        result = s.poll_event();
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(
        result,
        Err(mailbag_proto::pop3::ParseError::TooLarge { .. })
    ));
    assert!(s.poll_event().is_err(), "sticky");
}

#[test]
fn listing_limits_count_lines_and_empty_lines() {
    use mailbag_proto::pop3::ParseError;
    let mut s = logged_in();
    s.set_listing_limits(1000, 3);
    s.send(Command::List(None)).unwrap();
    sent(&mut s);
    // Three lines fit; the fourth is one too many.
    s.feed(b"+OK\r\n1 10\r\n2 20\r\n3 30\r\n4 40\r\n");
    assert_eq!(s.poll_event(), Err(ParseError::TooManyLines { limit: 3 }));
    assert!(s.poll_event().is_err(), "sticky");

    // Empty lines weigh their line end.
    let mut s = logged_in();
    s.set_listing_limits(10, 1000);
    s.send(Command::Uidl(None)).unwrap();
    sent(&mut s);
    s.feed(b"+OK\r\n");
    s.feed(&b"\r\n".repeat(11));
    assert_eq!(s.poll_event(), Err(ParseError::TooLarge { limit: 10 }));

    // Within the limits, the lines come back as they were.
    let mut s = logged_in();
    s.set_listing_limits(15, 3);
    s.send(Command::List(None)).unwrap();
    sent(&mut s);
    let ev = events(&mut s, b"+OK\r\n1 10\r\n2 20\r\n3 30\r\n.\r\n");
    let [Event::Ok {
        reply: Reply::List(list),
        ..
    }] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        list.iter().map(|e| e.size).collect::<Vec<_>>(),
        [10, 20, 30]
    );
}

#[test]
fn bytes_after_the_last_reply_fail_the_session_before_the_next_command() {
    use mailbag_proto::pop3::ParseError;
    let mut s = logged_in();
    s.send(Command::Noop).unwrap();
    sent(&mut s);
    // A driver that takes the one event it waits for and then sends the next command (the
    // async client does) never polls the session while it is idle.
    s.feed(b"+OK\r\n+OK extra\r\n");
    assert!(matches!(s.poll_event(), Ok(Some(Event::Ok { .. }))));
    s.send(Command::Dele(1)).unwrap();
    // The extra `+OK` answers nothing that was sent: DELE does not go out, and the session
    // fails rather than read it as DELE's answer.
    assert_eq!(sent(&mut s), "");
    assert!(
        matches!(s.poll_event(), Err(ParseError::Unsolicited(b)) if b.starts_with(b"+OK extra"))
    );
}

/// With PIPELINING the window is refilled in halves: one write for many commands, while the
/// server always holds at least half a window; and queueing many commands stays cheap (a
/// barrier is looked for in the last command waiting, not in all of them).
#[test]
fn the_window_refills_by_halves() {
    let mut s = logged_in();
    s.set_window(8);
    s.send(Command::Capa).unwrap();
    sent(&mut s);
    events(&mut s, b"+OK\r\nPIPELINING\r\n.\r\n");
    for n in 1..=20_000 {
        s.send(Command::Dele(n)).unwrap();
    }
    let first = sent(&mut s);
    assert_eq!(first.lines().count(), 8, "{first}");
    // Three answers: 5 still in flight, more than half the window: nothing goes.
    events(&mut s, b"+OK\r\n+OK\r\n+OK\r\n");
    assert_eq!(sent(&mut s), "");
    // The fourth leaves 4 (half): the window fills again in one write.
    events(&mut s, b"+OK\r\n");
    let next = sent(&mut s);
    assert_eq!(next, "DELE 9\r\nDELE 10\r\nDELE 11\r\nDELE 12\r\n");
    // QUIT may still be queued behind them, and nothing after QUIT.
    s.send(Command::Quit).unwrap();
    assert!(matches!(
        s.send(Command::Noop),
        Err(Misuse::AwaitingReply { .. })
    ));
}

#[test]
fn trace_lines_only_when_kept_and_reading_into_the_session_buffer() {
    let mut s = logged_in();
    s.send(Command::Noop).unwrap();
    let t = s.poll_transmit().unwrap();
    assert_eq!(t.redacted, vec!["NOOP".to_string()]);
    events(&mut s, b"+OK\r\n");

    // Off: the same bytes go out, no lines are made.
    s.set_trace(false);
    s.send(Command::Retr(1)).unwrap();
    let t = s.poll_transmit().unwrap();
    assert_eq!(t.data, b"RETR 1\r\n");
    assert!(t.redacted.is_empty());

    // Bytes read into the session's own buffer parse as fed ones do, split anywhere.
    let reply = b"+OK 9 octets\r\nSubject: x\r\n..dot\r\n.\r\n";
    for cut in 0..reply.len() {
        let mut s = logged_in();
        s.send(Command::Retr(1)).unwrap();
        sent(&mut s);
        let mut body = Vec::new();
        let mut ended = false;
        for part in [&reply[..cut], &reply[cut..]] {
            s.receive_buffer(4).extend_from_slice(part);
            while let Some(e) = s.poll_event().expect("valid") {
                match e {
                    Event::BodyChunk { chunk, .. } => body.extend_from_slice(&chunk),
                    Event::BodyEnd { .. } => ended = true,
                    _ => {}
                }
            }
        }
        assert!(ended, "cut at {cut}");
        assert_eq!(body, b"Subject: x\r\n.dot\r\n", "cut at {cut}");
    }
}
