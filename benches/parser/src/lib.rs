//! The B7 stream and how each parser counts its responses, shared by `benches/parse.rs`
//! (criterion) and `examples/interleaved.rs` (all parsers in turn every iteration).

use bytes::Bytes;
use mailbag_proto::imap::parse::{Event, ResponseParser};

/// The stream: bodies cycle through sizes from 300 bytes to 300 KiB, so both the buffered
/// and the streamed literal paths run.
pub fn stream() -> Vec<u8> {
    const SIZES: [usize; 8] = [300, 1_200, 4_000, 9_000, 20_000, 2_500, 70_000, 300_000];
    let mut out = Vec::new();
    for i in 1..=1000usize {
        let size = SIZES[i % SIZES.len()];
        let body: Vec<u8> = (0..size)
            .map(|j| {
                if j % 78 == 77 {
                    b'\n'
                } else {
                    b'a' + (j % 26) as u8
                }
            })
            .collect();
        out.extend_from_slice(format!(
            "* {i} FETCH (UID {uid} FLAGS (\\Seen $Label{l}) ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"Re: message number {i}\" \
((\"Fred Foobar\" NIL \"foobar\" \"blurdybloop.example\")) ((\"Fred Foobar\" NIL \"foobar\" \"blurdybloop.example\")) \
((\"Fred Foobar\" NIL \"foobar\" \"blurdybloop.example\")) ((NIL NIL \"mooch\" \"owatagu.siam.edu.example\")(\"Joe\" NIL \"joe\" \"example.org\")) \
NIL NIL \"<prev{i}@example.org>\" \"<B27397-{i}@example.org>\") BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" {size} 40 NIL NIL NIL NIL)\
(\"APPLICATION\" \"PDF\" (\"NAME\" \"doc{i}.pdf\") NIL NIL \"BASE64\" 52000 NIL (\"attachment\" (\"FILENAME\" \"doc{i}.pdf\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"b{i}\") NIL NIL NIL) \
BODY[] {{{size}}}\r\n",
            uid = 1000 + i,
            l = i % 7,
        ).as_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(b")\r\n");
    }
    out.extend_from_slice(b"A1 OK FETCH completed\r\n");
    out
}

pub fn count_mailbag(input: &[u8], chunk: usize) -> usize {
    let mut p = ResponseParser::new();
    p.set_expect_greeting(false);
    let mut n = 0;
    for c in input.chunks(chunk) {
        p.feed(c);
        while let Some(ev) = p.next_event() {
            if matches!(ev, Event::Response(_) | Event::FetchEnd { .. }) {
                n += 1;
            }
            assert!(!matches!(ev, Event::Error(_)), "{ev:?}");
        }
    }
    n
}

/// The same, handing the parser `Bytes` it takes over (`feed_bytes`): the chunks are
/// slices of one buffer, as a driver reading into a `BytesMut` hands them over.
pub fn count_mailbag_shared(input: &Bytes, chunk: usize) -> usize {
    let mut p = ResponseParser::new();
    p.set_expect_greeting(false);
    let mut n = 0;
    let mut at = 0;
    while at < input.len() {
        let end = (at + chunk).min(input.len());
        p.feed_bytes(input.slice(at..end));
        at = end;
        while let Some(ev) = p.next_event() {
            if matches!(ev, Event::Response(_) | Event::FetchEnd { .. }) {
                n += 1;
            }
            assert!(!matches!(ev, Event::Error(_)), "{ev:?}");
        }
    }
    n
}

/// imap-proto over the whole buffer (it borrows from it).
pub fn count_imap_proto(mut input: &[u8]) -> usize {
    let mut n = 0;
    while !input.is_empty() {
        match imap_proto::parser::parse_response(input) {
            Ok((rest, _)) => {
                input = rest;
                n += 1;
            }
            Err(e) => panic!("imap-proto: {e:?}"),
        }
    }
    n
}

/// imap-codec over the whole buffer (it borrows from it).
pub fn count_imap_codec(mut input: &[u8]) -> usize {
    use imap_codec::decode::Decoder;
    let codec = imap_codec::ResponseCodec::default();
    let mut n = 0;
    while !input.is_empty() {
        match codec.decode(input) {
            Ok((rest, _)) => {
                input = rest;
                n += 1;
            }
            Err(e) => panic!("imap-codec: {e:?}"),
        }
    }
    n
}
