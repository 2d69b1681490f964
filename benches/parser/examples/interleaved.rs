//! The B7 stream parsed by mailbag and imap-proto in turn, every iteration, so that a noisy
//! machine slows all of them alike (criterion runs one case after another).
//!
//! Run: `cargo run --release --manifest-path benches/parser/Cargo.toml --example interleaved [N]`
//! (N iterations, default 300). Prints the median and the 25th percentile of each case and
//! mailbag's ratios to imap-proto.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mailbag_parser_bench::{count_imap_proto, count_mailbag_shared, stream};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let input = stream();
    let shared = Bytes::from(input.clone());
    let cases: [(&str, &dyn Fn() -> usize); 3] = [
        ("mailbag feed_bytes, whole stream", &|| {
            count_mailbag_shared(&shared, shared.len())
        }),
        ("mailbag feed_bytes, 16 KiB reads", &|| {
            count_mailbag_shared(&shared, 16 * 1024)
        }),
        ("imap-proto", &|| count_imap_proto(&input)),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(n); cases.len()];
    for _ in 0..n {
        for (i, (_, run)) in cases.iter().enumerate() {
            let start = Instant::now();
            assert_eq!(std::hint::black_box(run()), 1001);
            times[i].push(start.elapsed());
        }
    }
    let stats: Vec<(Duration, Duration)> = times
        .iter_mut()
        .map(|t| {
            t.sort();
            (t[t.len() / 2], t[t.len() / 4])
        })
        .collect();
    let (proto_median, proto_p25) = stats[2];
    println!("{n} iterations, {} bytes per stream", input.len());
    for ((name, _), (median, p25)) in cases.iter().zip(&stats) {
        println!(
            "{name:34} median {median:>10.3?} ({:.2}x imap-proto)   p25 {p25:>10.3?} ({:.2}x)",
            proto_median.as_secs_f64() / median.as_secs_f64(),
            proto_p25.as_secs_f64() / p25.as_secs_f64(),
        );
    }
}
