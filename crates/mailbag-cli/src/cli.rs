//! The command line, as clap definitions. Help, the man page and the shell completions all
//! come from these definitions.
//!
//! The command and option names are a contract: scripts outside the project drive them.
//! Options that apply to every command are `global`, so they are accepted before or after
//! the command word.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Read mail from IMAP and POP3 servers.
#[derive(Debug, Parser)]
#[command(name = "mailbag", version, about, long_about = None, max_term_width = 100)]
#[command(
    after_help = "SOURCE is a URL (imap://user@host[:port][/FOLDER], imaps://..., \
pop3://user@host[:port], pop3s://...) or the name of an account in the config file.\n\
Exit codes: 0 done; 1 the server refused or the operation failed; 2 usage or config error; \
3 authentication failed; 4 connection or TLS failed."
)]
pub struct Cli {
    /// Options that every command takes.
    #[command(flatten)]
    pub global: GlobalOptions,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every command, before or after the command word.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalOptions {
    /// Print one JSON object per line instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Trace the protocol on standard error (-vv: more); credentials are redacted.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print nothing but errors and the results asked for; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", global = true)]
    pub password_env: Option<String>,

    /// Run this shell command and use the first line it prints as the password.
    #[arg(long, value_name = "CMD", global = true)]
    pub password_command: Option<String>,

    /// How to secure the connection (default: from the URL scheme).
    #[arg(long, value_enum, global = true)]
    pub tls: Option<TlsMode>,

    /// Allow sending a password over a connection without TLS (with --tls none).
    #[arg(long, global = true)]
    pub allow_plaintext: bool,

    /// Trust the CA certificates in this PEM file, besides the system's.
    #[arg(long, value_name = "FILE", global = true)]
    pub ca_file: Option<PathBuf>,

    /// Give up on a connection, TLS handshake or command after this many seconds.
    #[arg(long, value_name = "SECONDS", global = true)]
    pub timeout: Option<u64>,

    /// The config file (default: $XDG_CONFIG_HOME/mailbag/config.toml).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// IMAP: ask for COMPRESS=DEFLATE (RFC 4978) when the server offers it. Off by default:
    /// it pays only on links slower than the server's deflate (a few tens of MB/s).
    #[arg(long, global = true)]
    pub compress: bool,

    /// The folder, instead of the URL's path.
    #[arg(long, value_name = "FOLDER", global = true)]
    pub folder: Option<String>,
}

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (imaps, pop3s).
    Implicit,
    /// Plain connection upgraded with STARTTLS (IMAP) or STLS (POP3); required to succeed.
    Starttls,
    /// No TLS at all; a password goes only with --allow-plaintext.
    None,
}

/// The output format of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// One mboxrd file per folder.
    #[default]
    Mbox,
    /// One Maildir directory per folder.
    Maildir,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the server's capabilities (IMAP: before and after login where they differ).
    Capabilities {
        /// The server (URL or account name).
        source: String,
    },
    /// Check the credentials: prints "ok", or why not.
    Login {
        /// The server (URL or account name).
        source: String,
    },
    /// List the folders: attributes, delimiter, name, special use.
    Folders {
        /// The server (URL or account name).
        source: String,
    },
    /// Summarise a folder without marking anything seen.
    Examine {
        /// SOURCE/FOLDER.
        source: String,
    },
    /// Print UID, date, from, subject and size of the messages of a folder.
    Subjects {
        /// SOURCE/FOLDER.
        source: String,
        /// Only the last N messages.
        #[arg(long, value_name = "N")]
        last: Option<u32>,
    },
    /// Print a message's From, To, Date, Subject and MIME part tree.
    Show {
        /// SOURCE/FOLDER.
        source: String,
        /// The message's UID.
        uid: u32,
        /// Write the message's exact bytes instead.
        #[arg(long)]
        raw: bool,
    },
    /// Print the UIDs of the messages matching IMAP search criteria.
    Search {
        /// SOURCE/FOLDER.
        source: String,
        /// IMAP search criteria, e.g. SINCE 13-Jul-2013 TEXT Apress.
        #[arg(required = true, num_args = 1..)]
        criteria: Vec<String>,
    },
    /// Print, add or remove flags; prints the flags after the change.
    Flags {
        /// SOURCE/FOLDER.
        source: String,
        /// UIDs, like 1:5,9.
        uids: String,
        /// Add this flag (repeatable), e.g. \\Seen or a keyword.
        #[arg(long, value_name = "FLAG")]
        add: Vec<String>,
        /// Remove this flag (repeatable).
        #[arg(long, value_name = "FLAG")]
        remove: Vec<String>,
    },
    /// Mark messages \\Deleted, and expunge them with --expunge.
    Delete {
        /// SOURCE/FOLDER.
        source: String,
        /// UIDs, like 1:5,9.
        uids: String,
        /// Expunge the deleted messages (only these UIDs where the server has UIDPLUS).
        #[arg(long)]
        expunge: bool,
    },
    /// Expunge the messages marked \\Deleted in a folder.
    Expunge {
        /// SOURCE/FOLDER.
        source: String,
    },
    /// Create a folder.
    Mkdir {
        /// SOURCE/FOLDER.
        source: String,
    },
    /// Delete a folder.
    Rmdir {
        /// SOURCE/FOLDER.
        source: String,
    },
    /// Rename a folder.
    Rename {
        /// SOURCE/FOLDER.
        source: String,
        /// The new name.
        new_name: String,
    },
    /// Append message files to a folder; prints the new UIDs.
    Append {
        /// SOURCE/FOLDER.
        source: String,
        /// Message files (RFC 5322).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Set this flag on the appended messages (repeatable).
        #[arg(long, value_name = "FLAG")]
        flag: Vec<String>,
    },
    /// Watch a folder with IDLE and print each event as it happens.
    Watch {
        /// SOURCE/FOLDER.
        source: String,
        /// Run this shell command for each new message, with the message on its stdin.
        #[arg(long, value_name = "CMD")]
        exec: Option<String>,
    },
    /// Download a folder (or all) to mbox or Maildir: only what is new, each message once.
    Download {
        /// SOURCE[/FOLDER] (IMAP or POP3).
        source: String,
        /// The destination directory.
        dest: PathBuf,
        /// The output format.
        #[arg(long, value_enum, default_value_t = Format::Mbox)]
        format: Format,
        /// Download every folder (IMAP).
        #[arg(long)]
        all_folders: bool,
        /// With --all-folders: download this many folders at once, each over its own
        /// connection.
        #[arg(long, value_name = "N", default_value_t = 1)]
        jobs: usize,
        /// Delete from the server the messages saved (IMAP: \\Deleted + UID EXPUNGE;
        /// POP3: DELE + QUIT), only once they are durably written.
        #[arg(long)]
        delete_after: bool,
    },
    /// POP3 commands, as poplib has them.
    #[command(subcommand)]
    Pop(PopCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Manpage,
}

/// POP3 commands.
#[derive(Debug, Subcommand)]
pub enum PopCommand {
    /// Message count and total size.
    Stat {
        /// The POP3 server (URL or account name).
        source: String,
    },
    /// Message numbers and sizes.
    List {
        /// The POP3 server (URL or account name).
        source: String,
    },
    /// Message numbers and unique ids.
    Uidl {
        /// The POP3 server (URL or account name).
        source: String,
    },
    /// The headers and the first LINES lines of message N.
    Top {
        /// The POP3 server (URL or account name).
        source: String,
        /// The message number.
        n: u32,
        /// How many body lines.
        lines: u32,
    },
    /// Message N's exact bytes.
    Retr {
        /// The POP3 server (URL or account name).
        source: String,
        /// The message number.
        n: u32,
    },
    /// Delete messages (committed by QUIT at the end).
    Dele {
        /// The POP3 server (URL or account name).
        source: String,
        /// Message numbers.
        #[arg(required = true)]
        n: Vec<u32>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_after_the_command_word() {
        let cli = Cli::try_parse_from([
            "mailbag",
            "examine",
            "imaps://a@h/INBOX",
            "--json",
            "--ca-file",
            "/x.pem",
            "--tls",
            "implicit",
        ])
        .unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.tls, Some(TlsMode::Implicit));
        assert_eq!(
            cli.global.ca_file.as_deref(),
            Some(std::path::Path::new("/x.pem"))
        );
    }

    #[test]
    fn search_criteria_take_the_rest() {
        let cli = Cli::try_parse_from([
            "mailbag",
            "search",
            "x",
            "SINCE",
            "13-Jul-2013",
            "TEXT",
            "Apress",
        ])
        .unwrap();
        match cli.command {
            Command::Search { criteria, .. } => assert_eq!(criteria.len(), 4),
            other => panic!("{other:?}"),
        }
    }
}
