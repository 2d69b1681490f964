//! mailbag's side of the B7 stream (`feed_bytes`, whole or in 16 KiB reads) N times, for counting
//! instructions, which do not move with the machine's noise:
//!
//! ```text
//! cargo build --release --manifest-path benches/parser/Cargo.toml --example once
//! valgrind --tool=callgrind --toggle-collect='once::run' \
//!     benches/parser/target/release/examples/once 5 [reads]
//! ```

use bytes::Bytes;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    // `reads` as the second argument: in 16 KiB reads instead of the whole stream at once.
    let reads = std::env::args().nth(2).as_deref() == Some("reads");
    let input = mailbag_parser_bench::stream();
    let shared = Bytes::from(input);
    for _ in 0..n {
        assert_eq!(run(&shared, reads), 1001);
    }
}

#[inline(never)]
fn run(shared: &Bytes, reads: bool) -> usize {
    let chunk = if reads { 16 * 1024 } else { shared.len() };
    mailbag_parser_bench::count_mailbag_shared(shared, chunk)
}
