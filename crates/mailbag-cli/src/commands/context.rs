//! From parsed arguments to a connected, logged-in client: the source resolved against the
//! config, the TLS mode and CA file chosen, the password found. Also the one place where
//! library errors become one-line messages with a hint and an exit code.

use std::path::PathBuf;
use std::time::Duration;

use mailbag::error::TlsFailure;
use mailbag::{Error, Security, Timeouts};
use mailbag_proto::Secret;

use crate::cli::{GlobalOptions, TlsMode};
use crate::config::Config;
use crate::error::{CliError, Exit};
use crate::password::PasswordSource;
use crate::source::{self, Protocol, Source};

/// Everything needed to reach and log in to one server.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resolved source.
    pub source: Source,
    /// The TLS mode after `--tls` and the config.
    pub tls: TlsMode,
    /// Extra CA file.
    pub ca_file: Option<PathBuf>,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Where the password comes from.
    pub password: PasswordSource,
    /// Ask an IMAP server for COMPRESS=DEFLATE (`--compress`).
    pub compress: bool,
}

impl Target {
    /// Resolves SOURCE with the global options and the config file.
    pub fn resolve(text: &str, global: &GlobalOptions) -> Result<Target, CliError> {
        let config = Config::load(global.config.as_deref())?;
        let mut source = source::resolve(text, &config)?;
        if let Some(folder) = &global.folder {
            source.folder = Some(folder.clone());
        }
        let account = source
            .account
            .as_deref()
            .and_then(|name| config.accounts.get(name));
        let tls = global.tls.unwrap_or(source.tls);
        let ca_file = global
            .ca_file
            .clone()
            .or_else(|| account.and_then(|a| a.ca_file.clone()));
        let password = PasswordSource {
            env: global.password_env.clone(),
            command: global
                .password_command
                .clone()
                .or_else(|| account.and_then(|a| a.password_command.clone())),
        };
        let mut timeouts = Timeouts::default();
        if let Some(secs) = global.timeout {
            let d = Some(Duration::from_secs(secs.max(1)));
            timeouts = Timeouts {
                connect: d,
                tls: d,
                command: d,
            };
        }
        if tls == TlsMode::None && !global.allow_plaintext {
            return Err(CliError::usage(format!(
                "--tls none would send the password to {} in clear",
                source.host
            ))
            .hint("add --allow-plaintext if that is really what you want (a local test server)"));
        }
        Ok(Target {
            source,
            tls,
            ca_file,
            timeouts,
            password,
            compress: global.compress,
        })
    }

    /// The connection security for the library.
    pub fn security(&self) -> Security {
        match self.tls {
            TlsMode::Implicit => Security::Implicit,
            TlsMode::Starttls => Security::StartTls,
            TlsMode::None => Security::Plaintext,
        }
    }

    /// The login name, required.
    pub fn user(&self) -> Result<String, CliError> {
        self.source.user.clone().ok_or_else(|| {
            CliError::usage(format!(
                "no user name for {}: put it in the URL ({}://USER@{}/...) or in the config file",
                self.source.host,
                self.scheme(),
                self.source.host
            ))
        })
    }

    /// The password, from wherever the options say.
    pub fn password(&self) -> Result<Secret<String>, CliError> {
        let user = self.source.user.as_deref().unwrap_or("");
        self.password.get(user, &self.source.host)
    }

    /// The folder, required.
    #[allow(dead_code)] // for the IMAP commands, next
    pub fn folder(&self) -> Result<String, CliError> {
        self.source.folder.clone().ok_or_else(|| {
            CliError::usage("no folder given: add /FOLDER to the URL or use --folder FOLDER")
                .hint("\"mailbag folders SOURCE\" lists them")
        })
    }

    /// The folder, or INBOX.
    #[allow(dead_code)] // for the IMAP commands, next
    pub fn folder_or_inbox(&self) -> String {
        self.source
            .folder
            .clone()
            .unwrap_or_else(|| "INBOX".to_owned())
    }

    /// Refuses an IMAP-only command on a POP3 source and the reverse.
    pub fn expect(&self, protocol: Protocol, command: &str) -> Result<(), CliError> {
        if self.source.protocol != protocol {
            return Err(CliError::usage(format!(
                "`{command}` needs an {protocol} source, and {} is {}",
                self.source.host, self.source.protocol
            )));
        }
        Ok(())
    }

    fn scheme(&self) -> &'static str {
        match (self.source.protocol, self.tls) {
            (Protocol::Imap, TlsMode::Implicit) => "imaps",
            (Protocol::Imap, _) => "imap",
            (Protocol::Pop3, TlsMode::Implicit) => "pop3s",
            (Protocol::Pop3, _) => "pop3",
        }
    }

    /// `host:port` for messages.
    pub fn server(&self) -> String {
        if self.source.host.contains(':') {
            format!("[{}]:{}", self.source.host, self.source.port)
        } else {
            format!("{}:{}", self.source.host, self.source.port)
        }
    }

    /// Turns a library error into a one-line message with a hint and an exit code.
    pub fn error(&self, e: Error) -> CliError {
        let server = self.server();
        match e {
            Error::Connect { source, .. } => CliError {
                exit: Exit::Connect,
                message: format!("cannot connect to {server}: {source}"),
                hint: Some("check the host name and port, and that the server runs".into()),
            },
            Error::Tls {
                failure, message, ..
            } => {
                let hint = match failure {
                    TlsFailure::UnknownIssuer => {
                        "if you trust this server, pass its CA certificate with --ca-file FILE"
                    }
                    TlsFailure::NameMismatch => {
                        "connect with the host name that the server's certificate names \
                         (--ca-file cannot make it valid for another name)"
                    }
                    TlsFailure::Expired => {
                        "the server's certificate must be renewed (--ca-file cannot make an \
                         expired certificate valid)"
                    }
                    TlsFailure::Config => "check the --ca-file",
                    _ => "check --tls (implicit for imaps/pop3s ports, starttls otherwise)",
                };
                CliError {
                    exit: Exit::Connect,
                    message: format!("TLS with {server} failed: {failure} ({message})"),
                    hint: Some(hint.into()),
                }
            }
            Error::Auth { code, text } => CliError {
                exit: Exit::Auth,
                message: format!(
                    "login to {server} as {} failed (server: {}{text})",
                    self.source.user.as_deref().unwrap_or("?"),
                    code.map(|c| format!("[{c}] ")).unwrap_or_default()
                ),
                hint: Some("check the user name and the password".into()),
            },
            Error::Timeout { what } => CliError {
                exit: if what == "command" {
                    Exit::Failed
                } else {
                    Exit::Connect
                },
                message: format!("{server}: {what} timed out"),
                hint: Some("raise --timeout SECONDS, or check the network".into()),
            },
            Error::ConnectionLost { detail } => CliError {
                exit: Exit::Connect,
                message: format!("connection to {server} lost: {detail}"),
                hint: Some("run the command again; downloads resume where they stopped".into()),
            },
            Error::Misuse { detail } if detail.contains("without TLS") => CliError {
                exit: Exit::Usage,
                message: format!("{detail} to {server}"),
                hint: Some(
                    "use TLS, or --tls none --allow-plaintext for a local test server".into(),
                ),
            },
            other => CliError::failed(format!("{server}: {other}")),
        }
    }
}
