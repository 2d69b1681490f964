//! The async IMAP client: connect, authenticate, the session API, notifications and IDLE
//! (RFC 9051, RFC 3501 and the extensions of [`mailbag_proto::imap`]).
//!
//! One task per connection owns the socket and the sans-IO [`ClientCore`]; an
//! [`ImapClient`] is a cheap `Clone` handle whose `&self` methods send it commands. Commands
//! issued from several tasks (or joined futures) are pipelined: they go out without waiting
//! for each other, except where RFC 9051 section 5.5 requires order — a command naming
//! messages by sequence number waits behind one that may expunge, and nothing passes
//! STARTTLS, COMPRESS, AUTHENTICATE, IDLE or LOGOUT. The core enforces that, not the caller.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mailbag::Error> {
//! use mailbag::imap::{ConnectOptions, FetchAttribute, ImapClient, MessageSet};
//! use mailbag::Security;
//!
//! let client = ImapClient::connect(ConnectOptions::new("imap.example.org", Security::Implicit)).await?;
//! client.login("joe", "secret").await?;
//! let inbox = client.select("INBOX").await?;
//! println!("{} messages", inbox.exists);
//! let mut fetch = client
//!     .fetch(MessageSet::Uid("1:*".parse().unwrap()), vec![FetchAttribute::Uid, FetchAttribute::Flags])
//!     .await?;
//! while let Some(message) = fetch.next_message().await {
//!     let message = message?;
//!     println!("{:?} {:?}", message.uid(), message.flags());
//! }
//! let mut events = client.notifications().expect("first call");
//! client.idle(true).await?;
//! while let Some(event) = events.next().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! [`ClientCore`]: mailbag_proto::imap::client::ClientCore

mod client;
mod connection;
mod fetch;
mod messages;
mod notify;
mod session;
mod types;
mod watch;

use std::path::PathBuf;
use std::time::Duration;

pub use client::ImapClient;
pub use fetch::{FetchEvent, FetchStream, Message};
pub use mailbag_proto::imap::command::{
    AppendMessage, FetchAttribute, ListReturn, ListSelect, MessageSet, SortCriterion, SortKey,
    StatusAttribute, StoreKind,
};
pub use mailbag_proto::imap::parse::Limits;
pub use mailbag_proto::imap::search::SearchKey;
pub use mailbag_proto::imap::types::{
    Address, AddressEntry, Addresses, BodyStructure, Disposition, Envelope, Params, Part,
};
pub use mailbag_proto::imap::types::{
    Capability, Flag, ListItem, MailboxAttribute, MailboxName, ModSeq, SeqNum, SequenceSet, Uid,
    UidValidity,
};
pub use mailbag_proto::imap::types::{Namespace, QuotaResource};
pub use mailbag_proto::sasl::Mechanism;
pub use notify::{ImapEvent, Notification, Notifications};
pub use types::{
    AppendResult, CopyResult, MailboxStatus, MailboxSummary, MetadataEntry, Namespaces, Quota,
    QuotaRoots,
};
pub use watch::{WatchEvent, WatchLogin, WatchOptions, WatchPosition, Watcher};

use crate::transport::{Security, Timeouts};

/// How to reach the server and what to negotiate.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Host name (also used for SNI and certificate checks).
    pub host: String,
    /// Port: 993 for implicit TLS, 143 otherwise.
    pub port: u16,
    /// Implicit TLS, STARTTLS (required), or plaintext (only when explicitly chosen).
    pub security: Security,
    /// An extra CA certificate file (PEM).
    pub ca_file: Option<PathBuf>,
    /// Trust only `ca_file`, not the platform roots.
    pub only_ca_file: bool,
    /// Allow LOGIN and AUTHENTICATE (any mechanism) without TLS.
    pub allow_plaintext_login: bool,
    /// Connect, TLS and command timeouts.
    pub timeouts: Timeouts,
    /// IDLE is ended and re-issued after this long (RFC 2177: under 29 minutes).
    pub idle_refresh: Duration,
    /// Without IDLE, how often the IDLE mode polls with NOOP.
    pub poll_interval: Duration,
    /// Negotiate COMPRESS=DEFLATE after login when the server offers it.
    pub compress: bool,
    /// Room for notifications before the connection stops reading the socket.
    pub notification_capacity: usize,
    /// What one response may weigh: longest line, largest literal and response. A response
    /// past a size limit closes the connection with
    /// [`Error::LimitExceeded`](crate::Error::LimitExceeded); one that breaks the grammar
    /// (nesting past `max_depth` included) is skipped and reported as
    /// [`ImapEvent::Unparsable`].
    pub limits: Limits,
    /// Most untagged responses one command may collect (LIST, STATUS, SEARCH, ... answers;
    /// FETCH streams them and is not counted). Past it the connection closes with
    /// [`Error::LimitExceeded`](crate::Error::LimitExceeded). Default 1,000,000.
    pub max_responses: usize,
}

/// The default of [`ConnectOptions::max_responses`].
pub const MAX_RESPONSES: usize = 1_000_000;

impl ConnectOptions {
    /// Options with the default port for `security` (993 or 143) and default timeouts.
    pub fn new(host: impl Into<String>, security: Security) -> Self {
        let port = if security == Security::Implicit {
            993
        } else {
            143
        };
        ConnectOptions {
            host: host.into(),
            port,
            security,
            ca_file: None,
            only_ca_file: false,
            allow_plaintext_login: false,
            timeouts: Timeouts::default(),
            idle_refresh: Duration::from_secs(28 * 60),
            poll_interval: Duration::from_secs(60),
            compress: false,
            notification_capacity: 1024,
            limits: Limits::default(),
            max_responses: MAX_RESPONSES,
        }
    }

    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds a CA certificate file to the trusted roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Allows sending a password over a connection without TLS.
    pub fn allow_plaintext_login(mut self, allow: bool) -> Self {
        self.allow_plaintext_login = allow;
        self
    }

    /// Asks for COMPRESS=DEFLATE after login.
    pub fn compress(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }
}
