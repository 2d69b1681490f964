//! The POP3 reply parser fed arbitrary bytes.
//!
//! The first two input bytes choose the shapes of the replies expected (two bits each, eight
//! replies, then again); the rest is the server's stream. Invariants: no panic; whole, byte
//! by byte and random splits give the same events and the same error (body chunks merged);
//! errors are sticky; after the parser ran dry it holds less than a line (`MAX_LINE`), and at
//! most `.\r` inside a body. Then, with the same bytes as a message and as listing lines:
//! byte-stuffed by the rules of RFC 1939 section 3 and framed in `+OK` ... `.`, they come back
//! exactly, however the stream is cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailbag_fuzz::{random_split, splits};
use mailbag_proto::pop3::{ParseError, ReplyEvent, ReplyParser, ReplyShape, MAX_LINE};

const SHAPES: [ReplyShape; 4] = [
    ReplyShape::SingleLine,
    ReplyShape::MultiLineLines,
    ReplyShape::MultiLineBody,
    ReplyShape::Auth,
];

fn run(chunks: &[&[u8]], shapes: &[ReplyShape]) -> (Vec<ReplyEvent>, Option<ParseError>) {
    let mut p = ReplyParser::new();
    let mut next_shape = 0;
    let mut out = Vec::new();
    let mut body: Option<Vec<u8>> = None;
    let mut in_body = false;
    for chunk in chunks {
        p.feed(chunk);
        loop {
            if p.is_idle() {
                p.expect(shapes[next_shape % shapes.len()]);
                next_shape += 1;
            }
            match p.next_event() {
                Ok(Some(ReplyEvent::BodyChunk(b))) => {
                    assert!(!b.is_empty(), "empty body chunk");
                    body.get_or_insert_with(Vec::new).extend_from_slice(&b);
                }
                Ok(Some(ev)) => {
                    if let Some(b) = body.take() {
                        out.push(ReplyEvent::BodyChunk(b.into()));
                    }
                    in_body = false;
                    if let ReplyEvent::Status(s) = &ev {
                        in_body = s.ok
                            && shapes[(next_shape - 1) % shapes.len()] == ReplyShape::MultiLineBody;
                    }
                    out.push(ev);
                }
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(p.next_event(), Err(e.clone()), "error not sticky");
                    if let Some(b) = body.take() {
                        out.push(ReplyEvent::BodyChunk(b.into()));
                    }
                    return (out, Some(e));
                }
            }
        }
        assert!(
            p.buffered() < MAX_LINE,
            "parser holds {} bytes",
            p.buffered()
        );
        if in_body || body.is_some() {
            assert!(p.buffered() <= 2, "body bytes held back: {}", p.buffered());
        }
    }
    if let Some(b) = body.take() {
        out.push(ReplyEvent::BodyChunk(b.into()));
    }
    (out, None)
}

/// RFC 1939 section 3 byte-stuffing: a `.` at the start of a line gets another `.`.
fn stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 16);
    let mut at_start = true;
    for &b in content {
        if at_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_start = b == b'\n';
    }
    out
}

fn body_roundtrip(message: &[u8]) {
    let mut message = message.to_vec();
    if !message.is_empty() && !message.ends_with(b"\n") {
        message.extend_from_slice(b"\r\n");
    }
    let mut stream = b"+OK message follows\r\n".to_vec();
    stream.extend(stuff(&message));
    stream.extend_from_slice(b".\r\n+OK next\r\n");
    let shapes = [ReplyShape::MultiLineBody, ReplyShape::SingleLine];
    for split in [random_split(&stream, 11), stream.chunks(1).collect()] {
        let (events, error) = run(&split, &shapes);
        assert_eq!(error, None);
        let got: Vec<u8> = events
            .iter()
            .filter_map(|e| match e {
                ReplyEvent::BodyChunk(b) => Some(b.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(got, message, "body changed");
        assert!(matches!(events.first(), Some(ReplyEvent::Status(s)) if s.ok));
        let n = events.len();
        assert!(n >= 3 && events[n - 2] == ReplyEvent::End, "{events:?}");
        assert!(matches!(&events[n - 1], ReplyEvent::Status(s) if s.ok && s.text == "next"));
    }
}

fn lines_roundtrip(data: &[u8]) {
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.ends_with(b"\r"))
        .collect();
    let mut stream = b"+OK\r\n".to_vec();
    for l in &lines {
        stream.extend(stuff(l));
        stream.extend_from_slice(b"\r\n");
    }
    stream.extend_from_slice(b".\r\n");
    let (events, error) = run(&random_split(&stream, 13), &[ReplyShape::MultiLineLines]);
    assert_eq!(error, None);
    let got: Vec<&[u8]> = events
        .iter()
        .filter_map(|e| match e {
            ReplyEvent::Line(l) => Some(&l[..]),
            _ => None,
        })
        .collect();
    assert_eq!(got, lines);
    assert_eq!(events.last(), Some(&ReplyEvent::End));
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (head, stream) = data.split_at(2);
    let bits = u16::from_le_bytes([head[0], head[1]]);
    let shapes: Vec<ReplyShape> = (0..8)
        .map(|i| SHAPES[usize::from((bits >> (2 * i)) & 3)])
        .collect();
    let whole = run(&[stream], &shapes);
    for split in splits(stream) {
        assert_eq!(run(&split, &shapes), whole, "split feeding differs");
    }
    body_roundtrip(stream);
    lines_roundtrip(stream);
});
