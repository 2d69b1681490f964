//! The CLI's error: one line for the user, a hint on what to do, and an exit code.
//!
//! Exit codes (documented in `--help` and the README): 0 done; 1 the server refused (NO) or
//! the operation failed; 2 usage or config error; 3 authentication failed; 4 connection or
//! TLS failed.

use std::fmt;
use std::process::ExitCode;

const BROKEN_PIPE: &str = "broken pipe";

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The server refused or the operation failed.
    Failed = 1,
    /// A usage or config error.
    Usage = 2,
    /// Authentication failed.
    Auth = 3,
    /// Connecting or TLS failed.
    Connect = 4,
}

/// An error to print once and exit with.
#[derive(Debug)]
pub struct CliError {
    /// Which exit code.
    pub exit: Exit,
    /// What went wrong, in one line.
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
}

impl CliError {
    /// A usage or config error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Usage,
            message: message.into(),
            hint: None,
        }
    }

    /// A failed operation.
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Failed,
            message: message.into(),
            hint: None,
        }
    }

    /// Standard output was closed by its reader: the program ends quietly with success.
    pub fn broken_pipe() -> Self {
        CliError {
            exit: Exit::Failed,
            message: String::new(),
            hint: Some(BROKEN_PIPE.to_owned()),
        }
    }

    /// Whether this is the quiet end of a closed pipe.
    pub fn is_broken_pipe(&self) -> bool {
        self.message.is_empty() && self.hint.as_deref() == Some(BROKEN_PIPE)
    }

    /// Adds what the user can do.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::failed(e.to_string())
    }
}
