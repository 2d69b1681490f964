//! `mailbag`: read mail from IMAP and POP3 servers.
//!
//! The binary is thin glue: it parses the command line into plain values, resolves the
//! source (URL or account), finds the password, and calls the libraries. Errors print once,
//! as one line with what to do, and map to the documented exit codes.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod config;
mod error;
mod output;
mod password;
mod source;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailbag: {e}");
            e.exit_code()
        }
    }
}

/// Shorthand for the commands' results.
pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
