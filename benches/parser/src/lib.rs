//! Empty: the benchmark is in benches/parse.rs.
