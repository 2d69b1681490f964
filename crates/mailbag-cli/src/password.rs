//! Where the password comes from, in this order: `--password-env VAR`,
//! `--password-command CMD` (or the account's `password_command`), the `MAILBAG_PASSWORD`
//! environment variable, a prompt on the terminal. Never from an argument: arguments show
//! in the process list.

use std::io::IsTerminal;
use std::process::{Command, Stdio};

use mailbag_proto::Secret;

use crate::error::CliError;

/// How to find the password.
#[derive(Debug, Default, Clone)]
pub struct PasswordSource {
    /// `--password-env VAR`.
    pub env: Option<String>,
    /// `--password-command CMD` or the account's `password_command`.
    pub command: Option<String>,
}

impl PasswordSource {
    /// The password for `user` at `host`.
    pub fn get(&self, user: &str, host: &str) -> Result<Secret<String>, CliError> {
        if let Some(var) = &self.env {
            return std::env::var(var).map(Secret::new).map_err(|_| {
                CliError::usage(format!("--password-env {var}: that variable is not set"))
            });
        }
        if let Some(cmd) = &self.command {
            return run_command(cmd);
        }
        if let Ok(p) = std::env::var("MAILBAG_PASSWORD") {
            return Ok(Secret::new(p));
        }
        if std::io::stdin().is_terminal() {
            let prompt = format!("password for {user}@{host}: ");
            return rpassword::prompt_password(prompt)
                .map(Secret::new)
                .map_err(|e| CliError::usage(format!("cannot read the password: {e}")));
        }
        Err(CliError::usage(format!(
            "no password for {user}@{host}: set MAILBAG_PASSWORD, or use --password-env VAR \
             or --password-command CMD"
        )))
    }
}

fn run_command(cmd: &str) -> Result<Secret<String>, CliError> {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| CliError::usage(format!("--password-command: cannot run /bin/sh: {e}")))?;
    if !out.status.success() {
        return Err(CliError::usage(format!(
            "--password-command failed ({})",
            out.status
        )));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| CliError::usage("--password-command printed something that is not UTF-8"))?;
    let line = text.lines().next().unwrap_or("").to_owned();
    if line.is_empty() {
        return Err(CliError::usage("--password-command printed no password"));
    }
    Ok(Secret::new(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_gives_its_first_line() {
        let s = PasswordSource {
            env: None,
            command: Some("printf 'pw1\\nrest\\n'".into()),
        };
        assert_eq!(s.get("u", "h").unwrap().expose(), "pw1");
        let s = PasswordSource {
            env: None,
            command: Some("exit 3".into()),
        };
        assert!(s.get("u", "h").is_err());
    }

    #[test]
    fn missing_env_variable_is_named() {
        let s = PasswordSource {
            env: Some("MAILBAG_TEST_SURELY_UNSET".into()),
            command: None,
        };
        let e = s.get("u", "h").unwrap_err();
        assert!(e.message.contains("MAILBAG_TEST_SURELY_UNSET"));
    }
}
