//! Limits: nothing a server sends makes the parser allocate without bound or panic.

mod imap_common;

use imap_common::{parse_all_ways, parse_all_ways_with, run};
use mailbag_proto::imap::parse::{Event, Limits, ParseErrorKind, SyntaxError};
use mailbag_proto::imap::types::{Data, Response};

fn exists(n: u32) -> Event {
    Event::Response(Response::Untagged(Data::Exists(n)))
}

#[test]
fn huge_literal_outside_a_body_is_refused_and_skipped() {
    // 2^63 bytes announced for a mailbox name: refused at once, nothing allocated, and the
    // skip consumes the announced bytes that do arrive plus the rest of the line.
    let input = b"* LIST () \"/\" {9223372036854775808}\r\n* 1 EXISTS\r\n";
    let evs = run(&[input], false, &Limits::default());
    assert!(
        matches!(&evs[0], Event::Error(e) if matches!(e.kind, ParseErrorKind::LiteralTooLarge { size: 9223372036854775808, .. }))
    );
    assert_eq!(evs.len(), 1, "the announced bytes are still being skipped");

    let limits = Limits {
        max_literal_size: 10,
        ..Limits::default()
    };
    let input = b"* LIST () \"/\" {20}\r\n01234567890123456789 extra\r\n* 2 EXISTS\r\n";
    let evs = parse_all_ways_with(input, false, &limits);
    assert!(
        matches!(&evs[0], Event::Error(e) if matches!(e.kind, ParseErrorKind::LiteralTooLarge { size: 20, limit: 10 }))
    );
    assert_eq!(evs[1], exists(2));
}

#[test]
fn huge_body_literal_is_streamed() {
    let input = b"* 1 FETCH (UID 3 BODY[] {9223372036854775807}\r\nsome bytes";
    let evs = run(&[input], false, &Limits::default());
    assert!(matches!(&evs[0], Event::FetchStart { body, .. } if body.len == 9223372036854775807));
    assert!(matches!(&evs[1], Event::BodyChunk(b) if &b[..] == b"some bytes"));
}

#[test]
fn long_line_is_refused_and_skipped() {
    let limits = Limits {
        max_line_len: 64,
        ..Limits::default()
    };
    let mut input = b"* SEARCH".to_vec();
    for i in 1..200 {
        input.extend_from_slice(format!(" {i}").as_bytes());
    }
    input.extend_from_slice(b"\r\n* 5 EXISTS\r\n");
    let evs = parse_all_ways_with(&input, false, &limits);
    assert!(
        matches!(&evs[0], Event::Error(e) if matches!(e.kind, ParseErrorKind::LineTooLong { limit: 64 }))
    );
    assert_eq!(evs[1], exists(5));
    assert_eq!(evs.len(), 2);
}

#[test]
fn deep_nesting_and_many_items_are_refused() {
    let mut input = b"* 1 FETCH (BODYSTRUCTURE ".to_vec();
    input.extend(std::iter::repeat_n(b'(', 10_000));
    input.extend_from_slice(b"\r\n* 6 EXISTS\r\n");
    let evs = parse_all_ways(&input, false);
    assert!(
        matches!(&evs[0], Event::Error(e) if matches!(e.kind, ParseErrorKind::Syntax(SyntaxError::TooDeep { .. })))
    );
    assert_eq!(evs[1], exists(6));

    let limits = Limits {
        max_items: 100,
        ..Limits::default()
    };
    let mut input = b"* SEARCH".to_vec();
    for i in 1..=150 {
        input.extend_from_slice(format!(" {i}").as_bytes());
    }
    input.extend_from_slice(b"\r\n");
    let evs = parse_all_ways_with(&input, false, &limits);
    assert!(
        matches!(&evs[0], Event::Error(e) if matches!(e.kind, ParseErrorKind::Syntax(SyntaxError::TooManyItems { limit: 100 })))
    );
}

#[test]
fn error_bytes_are_capped() {
    let limits = Limits {
        error_bytes: 16,
        ..Limits::default()
    };
    let input = b"* 1 FETCH (UID nonsense and a long tail of more text)\r\n";
    let evs = parse_all_ways_with(input, false, &limits);
    assert!(matches!(&evs[0], Event::Error(e) if e.bytes.len() == 16));
}

#[test]
fn response_too_large() {
    let limits = Limits {
        max_response_size: 100,
        ..Limits::default()
    };
    let input = b"* 1 FETCH (BODY[HEADER] {80}\r\n01234567890123456789012345678901234567890123456789012345678901234567890123456789 ENVELOPE {50}\r\n01234567890123456789012345678901234567890123456789)\r\n* 9 EXISTS\r\n";
    let evs = parse_all_ways_with(input, false, &limits);
    assert!(
        matches!(&evs[0], Event::Error(e) if matches!(e.kind, ParseErrorKind::ResponseTooLarge { limit: 100 }))
    );
    assert_eq!(evs[1], exists(9));
}
