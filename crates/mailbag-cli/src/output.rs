//! Output: text lines for people, or one JSON object per line with `--json`.
//!
//! A closed pipe (`mailbag subjects ... | head`) ends the program quietly: it is not an
//! error, it is the reader having seen enough.

use std::io::{self, Write};

use serde_json::Value;

use crate::error::CliError;

/// Where results go.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// One JSON object per line instead of text.
    pub json: bool,
    /// No progress and no chatter.
    pub quiet: bool,
}

impl Output {
    /// Prints one result: `text` for people, `json` with `--json`.
    pub fn emit(
        &self,
        text: impl FnOnce() -> String,
        json: impl FnOnce() -> Value,
    ) -> Result<(), CliError> {
        let line = if self.json {
            json().to_string()
        } else {
            text()
        };
        write_line(&line)
    }

    /// Prints a note for people (not in JSON mode, not with `--quiet`) on standard error.
    pub fn note(&self, text: &str) {
        if !self.quiet && !self.json {
            eprintln!("{text}");
        }
    }

    /// Writes raw bytes to standard output (for `--raw` and `pop retr`).
    pub fn raw(&self, bytes: &[u8]) -> Result<(), CliError> {
        let mut out = io::stdout().lock();
        out.write_all(bytes).map_err(pipe_error)?;
        out.flush().map_err(pipe_error)
    }
}

fn write_line(line: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}").map_err(pipe_error)?;
    out.flush().map_err(pipe_error)
}

fn pipe_error(e: io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError::broken_pipe()
    } else {
        CliError::failed(format!("cannot write the output: {e}"))
    }
}
