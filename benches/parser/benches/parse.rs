//! Parser throughput on a realistic stream: a FETCH of 1,000 messages with ENVELOPE,
//! BODYSTRUCTURE, FLAGS and BODY[] of mixed sizes, parsed by mailbag, imap-proto and
//! imap-codec from the same bytes in the same run.
//!
//! Run: `cargo bench --manifest-path benches/parser/Cargo.toml`
//!
//! Figures and what limits them: the B7 section of BENCHMARKS.md. The `feed_bytes` rows are
//! the async client's path (each read handed over as `Bytes`, no copy); the `feed` rows copy
//! every byte into the parser's buffer.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mailbag_proto::imap::parse::{Event, ResponseParser};

/// The stream: bodies cycle through sizes from 300 bytes to 300 KiB, so both the buffered
/// and the streamed literal paths run.
fn stream() -> Vec<u8> {
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

fn mailbag(input: &[u8], chunk: usize) -> usize {
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
fn mailbag_shared(input: &Bytes, chunk: usize) -> usize {
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

fn imap_proto(mut input: &[u8]) -> usize {
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

fn imap_codec(mut input: &[u8]) -> usize {
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

fn bench(c: &mut Criterion) {
    let input = stream();
    // The three must agree on what they parsed, or the comparison means nothing.
    let shared = Bytes::from(input.clone());
    assert_eq!(mailbag(&input, input.len()), 1001);
    assert_eq!(mailbag_shared(&shared, 16 * 1024), 1001);
    assert_eq!(imap_proto(&input), 1001);
    assert_eq!(imap_codec(&input), 1001);
    let mut g = c.benchmark_group("fetch-1000");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(20);
    g.bench_function("mailbag (whole buffer)", |b| {
        b.iter(|| mailbag(&input, input.len()))
    });
    g.bench_function("mailbag (16 KiB reads)", |b| {
        b.iter(|| mailbag(&input, 16 * 1024))
    });
    g.bench_function("mailbag (Bytes, whole buffer)", |b| {
        b.iter(|| mailbag_shared(&shared, shared.len()))
    });
    g.bench_function("mailbag (Bytes, 16 KiB reads)", |b| {
        b.iter(|| mailbag_shared(&shared, 16 * 1024))
    });
    g.bench_function("imap-proto", |b| b.iter(|| imap_proto(&input)));
    g.bench_function("imap-codec", |b| b.iter(|| imap_codec(&input)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
