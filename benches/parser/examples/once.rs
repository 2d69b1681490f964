//! mailbag's side of the B7 stream (whole buffer, `feed_bytes`) N times, for counting
//! instructions, which do not move with the machine's noise:
//!
//! ```text
//! cargo build --release --manifest-path benches/parser/Cargo.toml --example once
//! valgrind --tool=callgrind --toggle-collect='once::run' \
//!     benches/parser/target/release/examples/once 5
//! ```
use bytes::Bytes;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let input = mailbag_parser_bench::stream();
    let shared = Bytes::from(input);
    for _ in 0..n {
        assert_eq!(run(&shared), 1001);
    }
}
#[inline(never)]
fn run(shared: &Bytes) -> usize {
    mailbag_parser_bench::count_mailbag_shared(shared, shared.len())
}
