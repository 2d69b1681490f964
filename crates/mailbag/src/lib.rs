//! The async mail client of mailbag, on tokio and rustls.
//!
//! It drives the sans-IO state machines of [`mailbag_proto`] over TCP and TLS sockets.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use mailbag_proto as proto;
