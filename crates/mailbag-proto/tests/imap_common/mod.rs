//! Shared helpers for the IMAP tests: feed a byte string to the parser whole, one byte at a
//! time and in random splits, through each input API (`feed`, `feed_bytes`, the two mixed),
//! and check all give the same events.
#![allow(dead_code)]

use bytes::Bytes;
use mailbag_proto::imap::parse::{Event, Limits, ResponseParser};

/// How the chunks reach the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// `feed(&[u8])`, a copy.
    Copy,
    /// `feed_bytes(Bytes)`, slices of one shared buffer as a driver reading into a
    /// `BytesMut` would hand over.
    Shared,
    /// The two alternating, starting with `feed_bytes`.
    Mixed,
}

/// Runs the parser over `chunks` (fed by `feed(&[u8])`) and returns its events, with
/// adjacent body chunks merged (a streamed body is cut wherever the input was cut; only its
/// content must be the same).
pub fn run(chunks: &[&[u8]], greeting: bool, limits: &Limits) -> Vec<Event> {
    run_fed(chunks, greeting, limits, Feed::Copy)
}

/// [`run`] with the chunks given through `how`.
pub fn run_fed(chunks: &[&[u8]], greeting: bool, limits: &Limits, how: Feed) -> Vec<Event> {
    let mut p = ResponseParser::with_limits(limits.clone());
    p.set_expect_greeting(greeting);
    let mut out: Vec<Event> = Vec::new();
    let mut body: Option<Vec<u8>> = None;
    // The chunks as slices of one `Bytes`, like successive reads into one buffer.
    let all = Bytes::from(chunks.concat());
    let mut at = 0usize;
    for (i, chunk) in chunks.iter().enumerate() {
        let shared = all.slice(at..at + chunk.len());
        at += chunk.len();
        match how {
            Feed::Copy => p.feed(chunk),
            Feed::Shared => p.feed_bytes(shared),
            Feed::Mixed if i % 2 == 0 => p.feed_bytes(shared),
            Feed::Mixed => p.feed(chunk),
        }
        // Now and then feed twice before reading, so bytes queue up inside the parser.
        if how != Feed::Copy && i % 3 == 1 {
            continue;
        }
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
    for how in [Feed::Copy, Feed::Shared, Feed::Mixed] {
        assert_eq!(
            run_fed(&[input], greeting, limits, how),
            whole,
            "whole, {how:?}, differs for {:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(
            run_fed(&bytes, greeting, limits, how),
            whole,
            "byte-by-byte, {how:?}, differs for {:?}",
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
                run_fed(&parts, greeting, limits, how),
                whole,
                "random split (seed {seed}), {how:?}, differs"
            );
        }
    }
    whole
}

/// [`parse_all_ways_with`] with the default limits.
pub fn parse_all_ways(input: &[u8], greeting: bool) -> Vec<Event> {
    parse_all_ways_with(input, greeting, &Limits::default())
}
