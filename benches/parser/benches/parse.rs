//! Parser throughput on a realistic stream: a FETCH of 1,000 messages with ENVELOPE,
//! BODYSTRUCTURE, FLAGS and BODY[] of mixed sizes, parsed by mailbag, imap-proto and
//! imap-codec from the same bytes in the same run.
//!
//! Run: `cargo bench --manifest-path benches/parser/Cargo.toml`; a steadier comparison on a
//! noisy machine: `examples/interleaved.rs`.
//!
//! Figures and what limits them: the B7 section of BENCHMARKS.md. The `feed_bytes` rows are
//! the async client's path (each read handed over as `Bytes`, no copy); the `feed` rows copy
//! every byte into the parser's buffer.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mailbag_parser_bench::{
    count_imap_codec, count_imap_proto, count_mailbag as mailbag,
    count_mailbag_shared as mailbag_shared, stream,
};

fn bench(c: &mut Criterion) {
    let input = stream();
    // The three must agree on what they parsed, or the comparison means nothing.
    let shared = Bytes::from(input.clone());
    assert_eq!(mailbag(&input, input.len()), 1001);
    assert_eq!(mailbag_shared(&shared, 16 * 1024), 1001);
    assert_eq!(count_imap_proto(&input), 1001);
    assert_eq!(count_imap_codec(&input), 1001);
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
    g.bench_function("imap-proto", |b| b.iter(|| count_imap_proto(&input)));
    g.bench_function("imap-codec", |b| b.iter(|| count_imap_codec(&input)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
