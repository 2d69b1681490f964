//! `mailbag`: the command-line mail retrieval client.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    println!("mailbag {}", env!("CARGO_PKG_VERSION"));
    ExitCode::SUCCESS
}
