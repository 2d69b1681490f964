//! The config file: named accounts, so a SOURCE can be a short name.
//!
//! `$XDG_CONFIG_HOME/mailbag/config.toml` (else `~/.config/mailbag/config.toml`), or the
//! file given with `--config`:
//!
//! ```toml
//! [accounts.work]
//! url = "imaps://me@mail.example.org/INBOX"   # required
//! user = "me@example.org"                     # overrides the URL's user
//! password_command = "pass show mail/work"    # first line of its output
//! ca_file = "/etc/ssl/work-ca.pem"
//! tls = "implicit"                            # implicit | starttls | none
//! folder = "INBOX"                            # default folder
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::TlsMode;
use crate::error::CliError;

/// The parsed config file (empty when there is none).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Accounts by name.
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

/// One named account.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The server URL.
    pub url: String,
    /// The login name, overriding the URL's.
    pub user: Option<String>,
    /// A shell command that prints the password.
    pub password_command: Option<String>,
    /// A PEM file of extra CA certificates.
    pub ca_file: Option<PathBuf>,
    /// The TLS mode, overriding the URL scheme's.
    pub tls: Option<TlsMode>,
    /// The default folder.
    pub folder: Option<String>,
}

impl Config {
    /// Loads the config: `explicit` must exist; the default path may be missing.
    pub fn load(explicit: Option<&Path>) -> Result<Config, CliError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_owned(), true),
            None => match default_path() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(e) => {
                return Err(CliError::usage(format!(
                    "cannot read the config file {}: {e}",
                    path.display()
                )))
            }
        };
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "config file {}: {}",
                path.display(),
                e.to_string().trim()
            ))
        })?;
        config.path = Some(path);
        Ok(config)
    }

    /// The file's path for messages, or a note that there is none.
    pub fn path_display(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => match default_path() {
                Some(p) => format!("({} does not exist)", p.display()),
                None => "(none)".to_owned(),
            },
        }
    }
}

fn default_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("mailbag").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_parse_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[accounts.work]\nurl = \"imaps://me@h\"\ntls = \"starttls\"\nfolder = \"Sent\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        let a = &c.accounts["work"];
        assert_eq!(a.tls, Some(TlsMode::Starttls));
        assert_eq!(a.folder.as_deref(), Some("Sent"));

        std::fs::write(
            &path,
            "[accounts.work]\nurl = \"imaps://h\"\npasword = \"x\"\n",
        )
        .unwrap();
        let e = Config::load(Some(&path)).unwrap_err();
        assert!(e.message.contains("pasword"), "{}", e.message);
        assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_err());
    }
}
