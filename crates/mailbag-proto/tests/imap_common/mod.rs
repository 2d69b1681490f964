//! Shared helpers for the IMAP tests: feed a byte string to the parser whole, one byte at a
//! time and in random splits, and check the three give the same events.
#![allow(dead_code)]

use mailbag_proto::imap::parse::{Event, Limits, ResponseParser};

/// Runs the parser over `chunks` and returns its events, with adjacent body chunks merged (a
/// streamed body is cut wherever the input was cut; only its content must be the same).
pub fn run(chunks: &[&[u8]], greeting: bool, limits: &Limits) -> Vec<Event> {
    let mut p = ResponseParser::with_limits(limits.clone());
    p.set_expect_greeting(greeting);
    let mut out: Vec<Event> = Vec::new();
    let mut body: Option<Vec<u8>> = None;
    for chunk in chunks {
        p.feed(chunk);
        while let Some(ev) = p.next_event() {
            match ev {
                Event::BodyChunk(b) => {
                    assert!(!b.is_empty(), "empty body chunk");
                    body.get_or_insert_with(Vec::new).extend_from_slice(&b);
                }
                ev => {
                    if let Some(b) = body.take() {
                        out.push(Event::BodyChunk(b.into()));
                    }
                    out.push(ev);
                }
            }
        }
    }
    if let Some(b) = body.take() {
        out.push(Event::BodyChunk(b.into()));
    }
    out
}

/// A small deterministic generator, so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Feeds `input` whole, byte by byte and in random splits, asserts the events are equal, and
/// returns them.
pub fn parse_all_ways_with(input: &[u8], greeting: bool, limits: &Limits) -> Vec<Event> {
    let whole = run(&[input], greeting, limits);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        run(&bytes, greeting, limits),
        whole,
        "byte-by-byte differs for {:?}",
        String::from_utf8_lossy(input)
    );
    for seed in 0..8 {
        let mut rng = Rng::new(seed);
        let mut parts = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(64));
            let (a, b) = rest.split_at(n);
            parts.push(a);
            rest = b;
        }
        assert_eq!(
            run(&parts, greeting, limits),
            whole,
            "random split (seed {seed}) differs"
        );
    }
    whole
}

/// [`parse_all_ways_with`] with the default limits.
pub fn parse_all_ways(input: &[u8], greeting: bool) -> Vec<Event> {
    parse_all_ways_with(input, greeting, &Limits::default())
}
