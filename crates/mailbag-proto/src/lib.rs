//! Sans-IO protocol core of mailbag: IMAP and POP3 types, streaming parsers, encoders and
//! client state machines.
//!
//! Nothing here touches a socket, an async runtime or a clock: the caller feeds received
//! bytes in, takes events and bytes to send out, and passes the current time where a
//! deadline matters (the shape of h11 and quinn-proto).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Server bytes reach most of this crate: no panicking access or arithmetic outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod imap;
pub mod pop3;
pub mod sasl;
pub mod secret;

pub use secret::Secret;
