//! The async mail client of mailbag, on tokio and rustls.
//!
//! It drives the sans-IO state machines of [`mailbag_proto`] over TCP and TLS sockets:
//! [`transport`] and [`tls`] make the connection, [`error`] says what went wrong, and
//! [`pop3`] is the POP3 client.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod imap;
pub mod pop3;
pub mod tls;
pub mod transport;

pub use error::{Error, Result, TlsFailure};
pub use mailbag_proto as proto;
pub use tls::TlsConfig;
pub use transport::{Security, Stream, Timeouts};
