//! The async POP3 client (RFC 1939, with RFC 2449 CAPA / RESP-CODES / PIPELINING,
//! RFC 2595 STLS, RFC 5034 AUTH, RFC 6856 UTF8, RFC 8314 implicit TLS on port 995).
//!
//! [`Pop3Client::connect`] opens the connection (TLS by default: implicit, or STLS required
//! on port 110), reads the greeting and the capabilities; [`Pop3Client::login`] chooses the
//! mechanism; then one method per command. Bodies of RETR and TOP are streamed
//! ([`Pop3Client::retr`] gives a chunk reader; [`Pop3Client::retr_to_writer`] copies to any
//! `AsyncWrite`), and batch methods ([`Pop3Client::retr_many`],
//! [`Pop3Client::uidl_and_list`]) pipeline when the server offers PIPELINING.
//!
//! Nothing is deleted before [`Pop3Client::quit`]: DELE only marks (RFC 1939 section 6), and
//! a connection dropped without QUIT leaves the maildrop as it was.
//!
//! ```no_run
//! use mailbag::pop3::{ConnectOptions, LoginMethod, Pop3Client};
//! use mailbag::proto::Secret;
//! use mailbag::Security;
//!
//! # async fn run() -> Result<(), mailbag::Error> {
//! let options = ConnectOptions::new("pop.example.org", Security::Implicit);
//! let mut pop = Pop3Client::connect(options).await?;
//! pop.login("me", &Secret::new("password".to_owned()), LoginMethod::Auto).await?;
//! let (uids, sizes) = pop.uidl_and_list().await?;
//! let mut file = tokio::fs::File::create("1.eml").await?;
//! pop.retr_to_writer(uids[0].number, &mut file).await?;
//! pop.quit().await?; // nothing was marked, nothing is deleted
//! # let _ = sizes;
//! # Ok(())
//! # }
//! ```
//!
//! Commands and replies are traced with `tracing` at DEBUG under the target
//! `mailbag::pop3`, with PASS, APOP and AUTH payloads redacted.

mod batch;
mod client;
mod commands;

use std::path::PathBuf;

pub use batch::{RetrBatch, RetrPiece};
pub use client::Pop3Client;
pub use commands::{RetrEvent, RetrReader};
pub use mailbag_proto::pop3::{Capabilities, ListEntry, MessageNumber, Stat, UidlEntry};
pub use mailbag_proto::sasl::Mechanism;

use crate::transport::{Security, Timeouts};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Host name or IP address; also the name checked in the certificate.
    pub host: String,
    /// Port: 995 for implicit TLS, 110 for STLS or plaintext.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// An extra CA certificate file (PEM) to trust besides the platform's roots.
    pub ca_file: Option<PathBuf>,
    /// Trust only `ca_file`, not the platform's roots.
    pub only_ca_file: bool,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Commands in flight when the server offers PIPELINING.
    pub pipeline_window: usize,
    /// Most lines in one LIST / UIDL / CAPA reply; past it the connection fails with
    /// [`Error::LimitExceeded`](crate::Error::LimitExceeded). Default 10 million (UIDL of a
    /// 10-million-message maildrop).
    pub max_listing_lines: usize,
    /// Most bytes in one LIST / UIDL / CAPA reply (each line plus one for its end), kept in
    /// memory until the reply ends. Default 64 MiB.
    pub max_listing_bytes: usize,
}

impl ConnectOptions {
    /// Options with the defaults: the port of `security` (995 implicit, else 110), the
    /// platform's roots, default timeouts, a window of [`mailbag_proto::pop3::DEFAULT_WINDOW`] commands.
    pub fn new(host: impl Into<String>, security: Security) -> Self {
        let port = if security == Security::Implicit {
            995
        } else {
            110
        };
        ConnectOptions {
            host: host.into(),
            port,
            security,
            ca_file: None,
            only_ca_file: false,
            timeouts: Timeouts::default(),
            pipeline_window: mailbag_proto::pop3::DEFAULT_WINDOW,
            max_listing_lines: mailbag_proto::pop3::MAX_LISTING_LINES,
            max_listing_bytes: mailbag_proto::pop3::MAX_LISTING,
        }
    }

    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds a CA file to trust.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }
}

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginMethod {
    /// The strongest the server offers: SCRAM-SHA-256 > CRAM-MD5 > PLAIN > USER/PASS.
    Auto,
    /// APOP with the greeting's timestamp (RFC 1939 section 7).
    Apop,
    /// USER and PASS (RFC 1939 section 7).
    UserPass,
    /// AUTH with this SASL mechanism (RFC 5034).
    Sasl(Mechanism),
}
