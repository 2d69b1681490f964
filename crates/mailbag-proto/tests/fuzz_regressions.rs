//! Inputs the fuzz targets under `fuzz/` found to break an invariant, kept as tests after the
//! fix (one test per finding, named after what broke).

use mailbag_proto::pop3::{Command, Event, Reply, Session};
use mailbag_proto::Secret;

fn drain(s: &mut Session) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = s.poll_event().expect("valid") {
        out.push(e);
    }
    out
}

/// pop3_session: commands queued after STLS was accepted went out in clear (USER and PASS
/// before the TLS handshake) because `poll_transmit` did not wait for `tls_established`.
#[test]
fn pop3_nothing_sent_between_stls_ok_and_handshake() {
    let mut s = Session::new();
    s.feed(b"+OK ready\r\n");
    drain(&mut s);
    s.send(Command::Stls).unwrap();
    assert_eq!(s.poll_transmit().unwrap().data, b"STLS\r\n");
    s.feed(b"+OK begin TLS\r\n");
    let ev = drain(&mut s);
    assert!(matches!(
        &ev[..],
        [Event::Ok {
            reply: Reply::Status(_),
            ..
        }]
    ));
    assert!(s.awaiting_tls());
    s.send(Command::User("joe".into())).unwrap();
    s.send(Command::Pass(Secret::new("secret".into()))).unwrap();
    assert_eq!(
        s.poll_transmit(),
        None,
        "sent in clear before the handshake"
    );
    s.tls_established();
    assert_eq!(s.poll_transmit().unwrap().data, b"USER joe\r\n");
}

/// imap framer: a response skipped for a line over the limit, whose line ends in a literal
/// header written with more digits than the skipper kept (`{` + 30 zeros + `5}`), was framed
/// differently when it arrived in pieces: the skipper kept only the last 32 bytes of the line,
/// lost the `{`, and took the literal's bytes for new responses.
#[test]
fn imap_skipped_line_literal_header_split_anywhere() {
    use mailbag_proto::imap::parse::{Event, Limits, ResponseParser};

    let limits = Limits {
        max_line_len: 40,
        ..Limits::default()
    };
    let run = |chunks: &[&[u8]]| {
        let mut p = ResponseParser::with_limits(limits.clone());
        p.set_expect_greeting(false);
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c);
            while let Some(e) = p.next_event() {
                out.push(e);
            }
        }
        out
    };
    // A 5-byte literal with a zero-padded length, then one more response; and a length too
    // large for u64, whose literal swallows the rest.
    let zeros = "0".repeat(30) + "5";
    let nines = "9".repeat(40);
    for (digits, responses) in [(zeros, 2), (nines, 1)] {
        let input = format!(
            "* OK {} {{{digits}}}\r\n1\r\n3\r\n* 2 EXISTS\r\n",
            "x".repeat(60)
        );
        let input = input.as_bytes();
        let whole = run(&[input]);
        assert_eq!(whole.len(), responses, "{whole:?}");
        assert!(matches!(whole[0], Event::Error(_)));
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&bytewise), whole, "byte by byte");
        for cut in 0..input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(run(&[a, b]), whole, "cut at {cut}");
            let (b, c) = b.split_at(b.len() / 2);
            assert_eq!(run(&[a, b, c]), whole, "cut at {cut} and half of the rest");
        }
    }
}

/// imap parser: a `~` at the start of an astring, nstring or generic value was taken for the
/// start of a literal8 (`~{n}`), so the RFC 3501 5.1.3 example name `~peter/mail/...` in a
/// LIST (or STATUS, or an X-GM-LABELS label) broke the response. `~` is an ATOM-CHAR; only
/// `~{` starts a literal8. Found by imap_roundtrip (a program's name encoded to an atom
/// starting with `~` did not parse back).
#[test]
fn imap_tilde_starts_an_atom_not_a_literal8() {
    use mailbag_proto::imap::parse::{Event, ResponseParser};
    use mailbag_proto::imap::types::{Data, FetchItem, MailboxName};
    use mailbag_proto::imap::Response;

    let parse = |input: &[u8]| {
        let mut p = ResponseParser::new();
        p.set_expect_greeting(false);
        p.feed(input);
        let ev = p.next_event();
        assert_eq!(p.next_event(), None);
        match ev {
            Some(Event::Response(Response::Untagged(d))) => d,
            other => panic!("{other:?}"),
        }
    };
    match parse(b"* LIST () \"/\" ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n") {
        Data::List(item) => {
            assert_eq!(item.mailbox, MailboxName::new("~peter/mail/台北/日本語"));
        }
        other => panic!("{other:?}"),
    }
    match parse(b"* STATUS ~x (MESSAGES 1)\r\n") {
        Data::MailboxStatus { mailbox, .. } => assert_eq!(mailbox.name(), "~x"),
        other => panic!("{other:?}"),
    }
    match parse(b"* 1 FETCH (X-GM-LABELS (~todo \\Inbox))\r\n") {
        Data::Fetch { items, .. } => assert!(matches!(
            &items[0], FetchItem::GmLabels(l) if l[0] == "~todo"
        )),
        other => panic!("{other:?}"),
    }
    // A real literal8 still reads as one.
    match parse(b"* LIST () \"/\" ~{3}\r\nabc\r\n") {
        Data::List(item) => assert_eq!(item.mailbox.name(), "abc"),
        other => panic!("{other:?}"),
    }
}

/// imap client core: queued commands were sent only after every response of one
/// `handle_input` call was handled, so where a response went depended on how the input was
/// cut. Here LOGIN waits for `+` with SELECT queued behind it: with the bytes in one read,
/// `* 3 EXISTS` became a notification and `A2 OK` (SELECT's completion) was dropped; in two
/// reads SELECT went out after the `+` and both were SELECT's. Now the core sends what each
/// response allows before handling the next one.
#[test]
fn imap_client_routing_does_not_depend_on_reads() {
    use std::time::Instant;

    use mailbag_proto::imap::client::{ClientCore, ClientEvent, Config};
    use mailbag_proto::imap::Command;

    let server: &[u8] = b"+ go on\r\n* 3 EXISTS\r\nA1 OK logged in\r\nA2 OK selected\r\n";
    let run = |chunks: &[&[u8]]| {
        let now = Instant::now();
        let mut core = ClientCore::new(Config::default());
        core.handle_input(now, b"* OK ready\r\n");
        let login = Command::Login {
            username: "joe".into(),
            password: Secret::new("a\r\nb".into()),
        };
        core.submit(now, login).unwrap();
        let select = Command::Select {
            mailbox: "INBOX".into(),
            params: vec![],
        };
        core.submit(now, select).unwrap();
        for c in chunks {
            core.handle_input(now, c);
        }
        std::iter::from_fn(|| core.poll_event())
            .filter(|e| !matches!(e, ClientEvent::GreetingReceived(_)))
            .collect::<Vec<_>>()
    };
    let whole = run(&[server]);
    assert_eq!(whole.len(), 3, "{whole:?}");
    assert!(matches!(&whole[0], ClientEvent::Data { .. }), "{whole:?}");
    let bytewise: Vec<&[u8]> = server.chunks(1).collect();
    assert_eq!(run(&bytewise), whole);
    assert_eq!(run(&[&server[..9], &server[9..]]), whole);
}

/// modified UTF-7: two encoded runs side by side (`&4AA-&4AA-`) decoded, although the codec
/// refuses every second spelling of a name (the module's rules: no adjacent encoded runs);
/// encoding the result gives `&4ADgAA-`. Found by the utf7 fuzz target (decode then encode
/// must give back the input).
#[test]
fn utf7_adjacent_encoded_runs_are_refused() {
    use mailbag_proto::imap::utf7;

    assert!(utf7::decode(b"&4AA-&4AA-").is_err());
    let name = utf7::decode(b"&4ADgAA-").unwrap();
    assert_eq!(utf7::encode(&name), "&4ADgAA-");
    // An encoded run next to `&-` or to plain text is fine.
    assert_eq!(utf7::decode(b"&4AA-&-&4AA-").unwrap(), "\u{e000}&\u{e000}");
    assert_eq!(utf7::decode(b"&4AA-x&4AA-").unwrap(), "\u{e000}x\u{e000}");
}

/// imap client core: the trace line of an unknown untagged response was cut at byte 200 with
/// `String::truncate`, which panics inside a multi-byte character: any server sending such a
/// response with 8-bit bytes (here read as U+FFFD) crashed the client. Found by imap_client.
#[test]
fn imap_client_trace_of_8bit_response_does_not_panic() {
    use std::time::Instant;

    use mailbag_proto::imap::client::{ClientCore, ClientEvent, Config};

    let now = Instant::now();
    let mut core = ClientCore::new(Config::default());
    core.handle_input(now, b"* OK ready\r\n");
    let mut line = b"* ".to_vec();
    line.extend(std::iter::repeat_n(0xff, 126));
    line.extend_from_slice(b"LIS+\r\n* 1 EXISTS\r\n");
    core.handle_input(now, &line);
    let events: Vec<ClientEvent> = std::iter::from_fn(|| core.poll_event()).collect();
    assert_eq!(events.len(), 3, "{events:?}");
    while let Some(t) = core.poll_trace() {
        assert!(t.len() <= 200, "{t}");
    }
}

/// imap client core: after `* BYE` the state is Logout, but a tagged OK that the server sent
/// afterwards (here SELECT's) moved it on to Selected, so the client went on issuing
/// commands on a connection the server had closed. Found by imap_client ("LOGOUT is final").
#[test]
fn imap_client_stays_logged_out_after_bye() {
    use std::time::Instant;

    use mailbag_proto::imap::client::{ClientCore, Config, ConnectionState};
    use mailbag_proto::imap::Command;

    let now = Instant::now();
    let mut core = ClientCore::new(Config::default());
    core.handle_input(now, b"* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n");
    assert_eq!(core.state(), ConnectionState::Authenticated);
    let select = Command::Select {
        mailbox: "INBOX".into(),
        params: vec![],
    };
    core.submit(now, select).unwrap();
    let sent = String::from_utf8(core.poll_transmit().unwrap()).unwrap();
    let tag = sent.split(' ').next().unwrap().to_string();
    core.handle_input(now, b"* BYE shutting down\r\n");
    assert_eq!(core.state(), ConnectionState::Logout);
    core.handle_input(
        now,
        format!("{tag} OK [READ-WRITE] selected\r\n").as_bytes(),
    );
    assert_eq!(core.state(), ConnectionState::Logout);
    assert!(core.submit(now, Command::Noop).is_err());
}
