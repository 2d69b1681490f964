//! Notifications: every unsolicited response, typed, in order, never dropped once the
//! program subscribed (RFC 9051 section 7: the server may send them at any time).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc;

pub use mailbag_proto::imap::client::Notification;

/// One event of the notification stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImapEvent {
    /// An unsolicited server response (new message count, expunge with its UID where known,
    /// vanished UIDs, flag or modseq change, UIDVALIDITY change, alert, BYE, ...).
    Server(Notification),
    /// A response could not be parsed; it was skipped and the session goes on.
    Unparsable {
        /// What was wrong.
        detail: String,
        /// The start of the response.
        bytes: Vec<u8>,
    },
    /// The connection ended; this is the last event.
    ConnectionLost {
        /// Why.
        detail: String,
    },
}

/// The stream of [`ImapEvent`]s of one connection, from [`super::ImapClient::notifications`].
///
/// While it is not read, the connection stops reading the socket once the channel is full:
/// nothing is dropped and memory stays bounded. Keep reading it (or drop it) while you run
/// commands, or they will wait for you.
#[derive(Debug)]
pub struct Notifications {
    pub(crate) rx: mpsc::Receiver<ImapEvent>,
}

impl Notifications {
    /// The next event; `None` once the connection is gone and every event was read.
    ///
    /// # Cancel safety
    /// Cancel safe: an event is never lost by dropping this future.
    pub async fn next(&mut self) -> Option<ImapEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_next(&mut self) -> Option<ImapEvent> {
        self.rx.try_recv().ok()
    }
}

impl Stream for Notifications {
    type Item = ImapEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ImapEvent>> {
        self.rx.poll_recv(cx)
    }
}
