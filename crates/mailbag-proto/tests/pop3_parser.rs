//! The POP3 reply parser: whole, byte by byte, random splits, dot-stuffing, RESP-CODES,
//! and arbitrary bytes never panic.

use bytes::BytesMut;
use mailbag_proto::pop3::{ParseError, ReplyEvent, ReplyParser, ReplyShape, RespCode};
use proptest::prelude::*;

/// Feeds `input` in pieces of the given sizes (cycling) and collects the events of one
/// reply, merging body chunks.
fn run(shape: ReplyShape, input: &[u8], splits: &[usize]) -> (Vec<ReplyEvent>, Vec<u8>) {
    let mut p = ReplyParser::new();
    p.expect(shape);
    let mut events = Vec::new();
    let mut body = BytesMut::new();
    let mut rest = input;
    let mut i = 0;
    loop {
        while let Some(e) = p.next_event().expect("valid input") {
            match e {
                ReplyEvent::BodyChunk(c) => body.extend_from_slice(&c),
                other => events.push(other),
            }
        }
        if rest.is_empty() {
            break;
        }
        let n = splits[i % splits.len()].clamp(1, rest.len());
        i += 1;
        p.feed(&rest[..n]);
        rest = &rest[n..];
    }
    (events, body.to_vec())
}

const RETR: &[u8] = b"+OK 120 octets\r\nSubject: dots\r\n\r\n..foo\r\n...\r\n..\r\nend\r\n.\r\n";
const RETR_BODY: &[u8] = b"Subject: dots\r\n\r\n.foo\r\n..\r\n.\r\nend\r\n";

#[test]
fn body_whole_byte_by_byte_and_in_pieces() {
    for splits in [&[usize::MAX][..], &[1], &[2], &[3, 1, 4, 1, 5], &[7, 2]] {
        let (events, body) = run(ReplyShape::MultiLineBody, RETR, splits);
        assert_eq!(body, RETR_BODY, "splits {splits:?}");
        assert!(matches!(&events[0], ReplyEvent::Status(s) if s.ok && s.text == "120 octets"));
        assert_eq!(events.last(), Some(&ReplyEvent::End));
        assert_eq!(events.len(), 2);
    }
}

#[test]
fn terminator_split_across_chunks_and_trailing_data_kept() {
    let mut p = ReplyParser::new();
    p.expect(ReplyShape::MultiLineBody);
    p.feed(b"+OK\r\nabc\r");
    assert!(matches!(p.next_event(), Ok(Some(ReplyEvent::Status(_)))));
    assert_eq!(
        p.next_event(),
        Ok(Some(ReplyEvent::BodyChunk("abc\r".into())))
    );
    p.feed(b"\n.");
    assert_eq!(p.next_event(), Ok(Some(ReplyEvent::BodyChunk("\n".into()))));
    assert_eq!(p.next_event(), Ok(None));
    p.feed(b"\r");
    assert_eq!(p.next_event(), Ok(None));
    p.feed(b"\n+OK next\r\n");
    assert_eq!(p.next_event(), Ok(Some(ReplyEvent::End)));
    assert!(p.is_idle());
    assert_eq!(p.buffered(), 10);
    p.expect(ReplyShape::SingleLine);
    assert!(matches!(p.next_event(), Ok(Some(ReplyEvent::Status(s))) if s.text == "next"));
}

#[test]
fn listing_lines_are_unstuffed() {
    let input = b"+OK\r\nTOP\r\n..odd\r\nUIDL\r\n.\r\n";
    for splits in [&[usize::MAX][..], &[1], &[5, 3]] {
        let (events, _) = run(ReplyShape::MultiLineLines, input, splits);
        let lines: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                ReplyEvent::Line(l) => Some(l.to_vec()),
                _ => None,
            })
            .collect();
        assert_eq!(
            lines,
            vec![b"TOP".to_vec(), b".odd".to_vec(), b"UIDL".to_vec()]
        );
    }
}

#[test]
fn err_ends_a_multiline_reply_at_once() {
    let (events, body) = run(ReplyShape::MultiLineBody, b"-ERR no such message\r\n", &[1]);
    assert!(body.is_empty());
    assert!(matches!(&events[..], [ReplyEvent::Status(s)] if !s.ok && s.text == "no such message"));
}

#[test]
fn resp_codes_are_typed() {
    let cases: &[(&[u8], Option<RespCode>, &str)] = &[
        (
            b"-ERR [IN-USE] Mailbox locked\r\n",
            Some(RespCode::InUse),
            "Mailbox locked",
        ),
        (
            b"-ERR [LOGIN-DELAY] wait\r\n",
            Some(RespCode::LoginDelay),
            "wait",
        ),
        (
            b"-ERR [SYS/TEMP] later\r\n",
            Some(RespCode::SysTemp),
            "later",
        ),
        (
            b"-ERR [SYS/PERM] never\r\n",
            Some(RespCode::SysPerm),
            "never",
        ),
        (
            b"-ERR [AUTH] Bad password\r\n",
            Some(RespCode::Auth),
            "Bad password",
        ),
        (
            b"-ERR [X-FOO/BAR] hm\r\n",
            Some(RespCode::Other("X-FOO/BAR".into())),
            "hm",
        ),
        (b"-ERR [not a code] text\r\n", None, "[not a code] text"),
        (b"-ERR\r\n", None, ""),
        (b"+OK\n", None, ""),
    ];
    for (input, code, text) in cases {
        let (events, _) = run(ReplyShape::SingleLine, input, &[1]);
        let [ReplyEvent::Status(s)] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(&s.code, code);
        assert_eq!(s.text, *text);
    }
}

#[test]
fn auth_continuations() {
    let mut p = ReplyParser::new();
    p.expect(ReplyShape::Auth);
    p.feed(b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n+\r\n+OK\r\n");
    assert!(
        matches!(p.next_event(), Ok(Some(ReplyEvent::Continuation(c))) if c.starts_with(b"PDE4"))
    );
    assert_eq!(
        p.next_event(),
        Ok(Some(ReplyEvent::Continuation("".into())))
    );
    assert!(matches!(p.next_event(), Ok(Some(ReplyEvent::Status(s))) if s.ok));
}

#[test]
fn errors_are_typed_and_sticky() {
    let mut p = ReplyParser::new();
    p.expect(ReplyShape::SingleLine);
    p.feed(b"HELLO\r\n");
    let e = p.next_event().unwrap_err();
    assert_eq!(e, ParseError::BadStatus(b"HELLO".to_vec()));
    assert_eq!(p.next_event().unwrap_err(), e);

    let mut p = ReplyParser::new();
    p.expect(ReplyShape::SingleLine);
    p.feed(&vec![b'+'; mailbag_proto::pop3::MAX_LINE + 1]);
    assert!(matches!(
        p.next_event(),
        Err(ParseError::LineTooLong { .. })
    ));

    let mut p = ReplyParser::new();
    p.feed(b"+OK surprise\r\n");
    assert!(matches!(p.next_event(), Err(ParseError::Unsolicited(_))));
}

#[test]
fn long_body_lines_stream_without_limit() {
    let mut input = b"+OK\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 1_000_000));
    input.extend(b"\r\n.\r\n");
    let (events, body) = run(ReplyShape::MultiLineBody, &input, &[4096]);
    assert_eq!(body.len(), 1_000_002);
    assert_eq!(events.len(), 2);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048),
                                   split in 1usize..64, shape in 0u8..4) {
        let shape = match shape {
            0 => ReplyShape::SingleLine,
            1 => ReplyShape::MultiLineLines,
            2 => ReplyShape::MultiLineBody,
            _ => ReplyShape::Auth,
        };
        let mut p = ReplyParser::new();
        p.expect(shape);
        for piece in data.chunks(split) {
            p.feed(piece);
            for _ in 0..10_000 {
                match p.next_event() {
                    Ok(Some(_)) => { if p.is_idle() { p.expect(shape); } }
                    _ => break,
                }
            }
        }
    }

    #[test]
    fn any_split_gives_the_same_body(body in proptest::collection::vec(
            prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n'), Just(b'a')], 0..300),
            splits in proptest::collection::vec(1usize..20, 1..8)) {
        // Build a well-formed stuffed reply from normalised CRLF lines.
        let text = String::from_utf8(body).unwrap().replace('\r', "");
        let lines: Vec<&str> = text.split('\n').collect();
        let mut wire = b"+OK\r\n".to_vec();
        let mut expected = Vec::new();
        for l in &lines {
            if l.starts_with('.') { wire.push(b'.'); }
            wire.extend(l.as_bytes()); wire.extend(b"\r\n");
            expected.extend(l.as_bytes()); expected.extend(b"\r\n");
        }
        wire.extend(b".\r\n");
        let (events, got) = run(ReplyShape::MultiLineBody, &wire, &splits);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(events.last(), Some(&ReplyEvent::End));
    }
}

#[test]
fn a_200_mb_body_streams_in_bounded_memory() {
    let mut p = ReplyParser::new();
    p.expect(ReplyShape::MultiLineBody);
    p.feed(b"+OK 200 MB follow\r\n");
    assert!(matches!(p.next_event(), Ok(Some(ReplyEvent::Status(_)))));
    let mut line = vec![b'x'; 998];
    line.extend(b"\r\n");
    let mut piece = Vec::new();
    while piece.len() < 64 * 1024 {
        piece.extend_from_slice(&line);
        piece.extend_from_slice(b"..stuffed\r\n");
    }
    let pieces = 200 * 1024 * 1024 / piece.len();
    let (mut total, mut max_buffered) = (0usize, 0usize);
    for _ in 0..pieces {
        p.feed(&piece);
        max_buffered = max_buffered.max(p.buffered());
        while let Some(ReplyEvent::BodyChunk(c)) = p.next_event().unwrap() {
            total += c.len();
        }
    }
    p.feed(b".\r\n");
    assert_eq!(p.next_event(), Ok(Some(ReplyEvent::End)));
    assert_eq!(
        total,
        pieces * (piece.len() - piece.len() / (line.len() + 11))
    );
    assert!(
        max_buffered <= piece.len(),
        "buffered at most one fed piece: {max_buffered}"
    );
}
