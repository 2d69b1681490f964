//! The IMAP response parser fed arbitrary server bytes after a valid greeting.
//!
//! Invariants: no panic; the bytes fed whole, one at a time and in random splits give the
//! same events (streamed body chunks merged, since they are cut where the input was); what
//! the parser holds after it ran dry stays within its limits; error events carry at most
//! `error_bytes`; a streamed body delivers exactly its announced length before the next
//! event; Debug of every event (which walks ENVELOPE and BODYSTRUCTURE through their
//! accessors) ends, and every BODYSTRUCTURE's section numbers are distinct and no deeper than
//! the nesting limit. Each input runs with the default limits and with tiny ones, so the
//! limit paths (line, literal, response size, depth, items, streaming) are reached by short
//! inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailbag_fuzz::splits;
use mailbag_proto::imap::parse::{parse_response, Event, Limits, ResponseParser};
use mailbag_proto::imap::types::{Data, FetchItem};
use mailbag_proto::imap::Response;

const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+] ready\r\n";

fn tiny() -> Limits {
    Limits {
        max_line_len: 200,
        max_literal_size: 300,
        max_response_size: 1000,
        max_depth: 6,
        max_items: 24,
        stream_threshold: 16,
        max_streamed_literal: 5000,
        error_bytes: 40,
    }
}

/// Runs the parser over `chunks`, checking the per-event invariants, and returns the events
/// with adjacent body chunks merged.
fn run(chunks: &[&[u8]], limits: &Limits) -> Vec<Event> {
    let mut p = ResponseParser::with_limits(limits.clone());
    p.feed(GREETING);
    match p.next_event() {
        Some(Event::Response(Response::Greeting(_))) => {}
        other => panic!("greeting not read: {other:?}"),
    }
    assert_eq!(p.next_event(), None);
    let mut out: Vec<Event> = Vec::new();
    let mut body: Option<Vec<u8>> = None;
    // The announced length of the body being streamed and how much of it came so far.
    let mut streaming: Option<(u64, u64)> = None;
    for chunk in chunks {
        p.feed(chunk);
        while let Some(ev) = p.next_event() {
            match ev {
                Event::BodyChunk(b) => {
                    assert!(!b.is_empty(), "empty body chunk");
                    let (len, got) = streaming.as_mut().expect("body chunk outside a stream");
                    *got += b.len() as u64;
                    assert!(*got <= *len, "streamed {got} bytes of a {len}-byte body");
                    body.get_or_insert_with(Vec::new).extend_from_slice(&b);
                }
                ev => {
                    if let Some((len, got)) = streaming.take() {
                        assert_eq!(got, len, "streamed body cut short by {ev:?}");
                    }
                    if let Some(b) = body.take() {
                        out.push(Event::BodyChunk(b.into()));
                    }
                    match &ev {
                        Event::FetchStart { body, .. } | Event::FetchBody { body, .. } => {
                            assert!(body.len > limits.stream_threshold);
                            assert!(body.len <= limits.max_streamed_literal);
                            streaming = Some((body.len, 0));
                        }
                        Event::Error(e) => assert!(e.bytes.len() <= limits.error_bytes),
                        _ => {}
                    }
                    out.push(ev);
                }
            }
        }
        // Ran dry: what is held is at most one unfinished response within the limits.
        let bound = limits.max_response_size + limits.max_line_len + 2;
        assert!(
            p.buffered() <= bound,
            "parser holds {} bytes, bound {bound}",
            p.buffered()
        );
    }
    if let Some(b) = body.take() {
        out.push(Event::BodyChunk(b.into()));
    }
    out
}

/// Every BODYSTRUCTURE's section numbers: the root first, no number deeper than the nesting
/// the limits allow, and none listed twice.
fn check_sections(ev: &Event, limits: &Limits) {
    let items = match ev {
        Event::Response(Response::Untagged(Data::Fetch { items, .. })) => items,
        Event::FetchStart { items, .. }
        | Event::FetchBody { items, .. }
        | Event::FetchEnd { items } => items,
        _ => return,
    };
    for item in items {
        let (FetchItem::BodyStructure(bs) | FetchItem::Body(bs)) = item else {
            continue;
        };
        let sections = bs.sections();
        let (first, _) = sections.first().expect("the root is listed");
        assert!(
            first.is_empty() || first == &[1],
            "root listed as {first:?}"
        );
        let mut seen = std::collections::BTreeSet::new();
        for (section, _) in &sections {
            assert!(section.len() <= limits.max_depth + 1, "{section:?}");
            assert!(seen.insert(section.clone()), "{section:?} listed twice");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    for limits in [Limits::default(), tiny()] {
        let whole = run(&[data], &limits);
        // Debug reads every accessor of ENVELOPE and BODYSTRUCTURE (address groups, the
        // part tree): none may panic or loop.
        for ev in &whole {
            std::hint::black_box(format!("{ev:?}"));
            check_sections(ev, &limits);
        }
        for split in splits(data) {
            let events = run(&split, &limits);
            assert_eq!(
                events,
                whole,
                "split feeding differs (chunks {:?})",
                split.iter().map(|c| c.len()).collect::<Vec<_>>()
            );
        }
    }
    // The whole-response entry point must not panic either.
    let _ = parse_response(data, false);
    let _ = parse_response(data, true);
});
