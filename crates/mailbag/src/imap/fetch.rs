//! FETCH as a stream (RFC 9051 6.4.5, 7.5.2): small messages come whole; a body over the
//! parser's streaming threshold comes as chunks while it arrives, so a message of any size
//! is written out without ever being held in memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use mailbag_proto::imap::parse::{StreamedBody, StreamedItem};
use mailbag_proto::imap::types::{
    BodyStructure, Envelope, FetchItem, Flag, ModSeq, Section, SectionText, SeqNum, StatusText, Uid,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::client::completion;
use super::connection::Reply;
use crate::error::Error;

/// One FETCH response, with accessors for the common items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message's sequence number.
    pub seq: SeqNum,
    /// Its items, in the order sent.
    pub items: Vec<FetchItem>,
}

impl Message {
    /// UID
    pub fn uid(&self) -> Option<Uid> {
        self.items.iter().find_map(|i| match i {
            FetchItem::Uid(u) => Some(*u),
            _ => None,
        })
    }

    /// FLAGS
    pub fn flags(&self) -> Option<&[Flag]> {
        self.items.iter().find_map(|i| match i {
            FetchItem::Flags(f) => Some(f.as_slice()),
            _ => None,
        })
    }

    /// RFC822.SIZE
    pub fn size(&self) -> Option<u64> {
        self.items.iter().find_map(|i| match i {
            FetchItem::Rfc822Size(n) => Some(*n),
            _ => None,
        })
    }

    /// INTERNALDATE, as sent.
    pub fn internal_date(&self) -> Option<&str> {
        self.items.iter().find_map(|i| match i {
            FetchItem::InternalDate(d) => Some(d.as_str()),
            _ => None,
        })
    }

    /// ENVELOPE
    pub fn envelope(&self) -> Option<&Envelope> {
        self.items.iter().find_map(|i| match i {
            FetchItem::Envelope(e) => Some(e.as_ref()),
            _ => None,
        })
    }

    /// BODYSTRUCTURE, or BODY (the structure without extension data).
    pub fn body_structure(&self) -> Option<&BodyStructure> {
        self.items.iter().find_map(|i| match i {
            FetchItem::BodyStructure(b) | FetchItem::Body(b) => Some(b.as_ref()),
            _ => None,
        })
    }

    /// MODSEQ
    pub fn modseq(&self) -> Option<ModSeq> {
        self.items.iter().find_map(|i| match i {
            FetchItem::ModSeq(m) => Some(*m),
            _ => None,
        })
    }

    /// `BODY[]` (or RFC822): the whole message.
    pub fn body(&self) -> Option<&Bytes> {
        self.section(&Section::full()).or_else(|| {
            self.items.iter().find_map(|i| match i {
                FetchItem::Rfc822(Some(b)) => Some(b),
                _ => None,
            })
        })
    }

    /// `BODY[HEADER]` (or RFC822.HEADER).
    pub fn header(&self) -> Option<&Bytes> {
        self.items.iter().find_map(|i| match i {
            FetchItem::BodySection {
                section,
                data: Some(d),
                ..
            } if section.part.is_empty()
                && matches!(
                    section.text,
                    Some(SectionText::Header | SectionText::HeaderFields { .. })
                ) =>
            {
                Some(d)
            }
            FetchItem::Rfc822Header(Some(d)) => Some(d),
            _ => None,
        })
    }

    /// The data of `BODY[section]`.
    pub fn section(&self, wanted: &Section) -> Option<&Bytes> {
        self.items.iter().find_map(|i| match i {
            FetchItem::BodySection {
                section,
                data: Some(d),
                ..
            } if section == wanted => Some(d),
            _ => None,
        })
    }

    /// The data of `BINARY[part]` (RFC 3516): the part with its Content-Transfer-Encoding
    /// undone by the server.
    pub fn binary(&self, wanted: &[u32]) -> Option<&Bytes> {
        self.items.iter().find_map(|i| match i {
            FetchItem::Binary {
                part,
                data: Some(d),
                ..
            } if part == wanted => Some(d),
            _ => None,
        })
    }
}

/// A step of a FETCH stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// A whole FETCH response.
    Message(Message),
    /// A FETCH response whose body is streamed: the items before it, and which body (with
    /// its length). [`FetchEvent::BodyChunk`]s follow, then [`FetchEvent::BodyEnd`].
    BodyStart {
        /// The message's sequence number.
        seq: SeqNum,
        /// Items before the body.
        items: Vec<FetchItem>,
        /// Which body and its length.
        body: StreamedBody,
    },
    /// A piece of the streamed body.
    BodyChunk(Bytes),
    /// A further streamed body in the same response.
    NextBody {
        /// Items between the bodies.
        items: Vec<FetchItem>,
        /// Which body and its length.
        body: StreamedBody,
    },
    /// The end of the streamed response, with the items after the body (UID, FLAGS, ...).
    BodyEnd {
        /// Items after the body.
        items: Vec<FetchItem>,
    },
}

/// The responses of one FETCH, in order. Also a [`Stream`] of [`FetchEvent`]s.
///
/// Dropping it early is safe: the rest of the responses are discarded by the connection.
#[derive(Debug)]
pub struct FetchStream {
    rx: mpsc::Receiver<Reply>,
    done: Option<Result<StatusText, ()>>,
}

impl FetchStream {
    pub(crate) fn new(rx: mpsc::Receiver<Reply>) -> Self {
        FetchStream { rx, done: None }
    }

    fn map(&mut self, reply: Option<Reply>) -> Option<Result<FetchEvent, Error>> {
        if self.done.is_some() {
            return None;
        }
        let Some(reply) = reply else {
            self.done = Some(Err(()));
            return Some(Err(Error::ConnectionLost {
                detail: "the connection task ended".into(),
            }));
        };
        Some(Ok(match reply {
            Reply::Data(mailbag_proto::imap::types::Data::Fetch { seq, items }) => {
                FetchEvent::Message(Message { seq, items })
            }
            // Other data in a FETCH answer is not expected; is_other() filters it out.
            Reply::Data(_) => return None,
            Reply::FetchStarted { seq, items, body } => FetchEvent::BodyStart { seq, items, body },
            Reply::FetchBodyStarted { items, body } => FetchEvent::NextBody { items, body },
            Reply::Chunk(c) => FetchEvent::BodyChunk(c),
            Reply::FetchEnded { items } => FetchEvent::BodyEnd { items },
            Reply::Done(status) => {
                return match completion(Vec::new(), status) {
                    Ok(o) => {
                        self.done = Some(Ok(o.status));
                        None
                    }
                    Err(e) => {
                        self.done = Some(Err(()));
                        Some(Err(e))
                    }
                }
            }
            Reply::Failed(e) => {
                self.done = Some(Err(()));
                return Some(Err(e));
            }
        }))
    }

    /// The next event; `None` once the FETCH completed with OK.
    ///
    /// # Errors
    /// A NO/BAD completion, [`Error::ConnectionLost`] (also in the middle of a body).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn next(&mut self) -> Option<Result<FetchEvent, Error>> {
        if self.done.is_some() {
            return None;
        }
        loop {
            let reply = self.rx.recv().await;
            if !is_other(&reply) {
                return self.map(reply);
            }
        }
    }

    /// The next message with its bodies collected in memory: for small messages.
    ///
    /// # Errors
    /// As [`FetchStream::next`].
    ///
    /// # Cancel safety
    /// Not cancel safe: a message being collected is lost.
    pub async fn next_message(&mut self) -> Option<Result<Message, Error>> {
        let mut current: Option<(Message, StreamedItem, BytesMut)> = None;
        loop {
            match self.next().await? {
                Err(e) => return Some(Err(e)),
                Ok(FetchEvent::Message(m)) => return Some(Ok(m)),
                Ok(FetchEvent::BodyStart { seq, items, body }) => {
                    let cap = usize::try_from(body.len).unwrap_or(0).min(64 << 20);
                    current = Some((
                        Message { seq, items },
                        body.item,
                        BytesMut::with_capacity(cap),
                    ));
                }
                Ok(FetchEvent::BodyChunk(c)) => {
                    if let Some((_, _, buf)) = current.as_mut() {
                        buf.extend_from_slice(&c);
                    }
                }
                Ok(FetchEvent::NextBody { items, body }) => {
                    if let Some((m, item, buf)) = current.as_mut() {
                        let done = std::mem::replace(item, body.item);
                        m.items
                            .push(streamed_item(done, std::mem::take(buf).freeze()));
                        m.items.extend(items);
                    }
                }
                Ok(FetchEvent::BodyEnd { items }) => {
                    if let Some((mut m, item, buf)) = current.take() {
                        m.items.push(streamed_item(item, buf.freeze()));
                        m.items.extend(items);
                        return Some(Ok(m));
                    }
                }
            }
        }
    }

    /// After a [`FetchEvent::BodyStart`], writes the body to `out` as it arrives and returns
    /// the items after it and the number of bytes written.
    ///
    /// # Errors
    /// As [`FetchStream::next`], and the writer's I/O errors.
    ///
    /// # Cancel safety
    /// Not cancel safe.
    pub async fn copy_body_to<W: AsyncWrite + Unpin>(
        &mut self,
        out: &mut W,
    ) -> Result<(Vec<FetchItem>, u64), Error> {
        let mut written = 0u64;
        loop {
            match self.next().await {
                None => return Err(Error::protocol("FETCH ended inside a body", &[])),
                Some(Err(e)) => return Err(e),
                Some(Ok(FetchEvent::BodyChunk(c))) => {
                    out.write_all(&c).await?;
                    written = written.saturating_add(c.len() as u64);
                }
                Some(Ok(FetchEvent::BodyEnd { items })) => return Ok((items, written)),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Collects every message (small fetches only).
    ///
    /// # Errors
    /// As [`FetchStream::next`].
    ///
    /// # Cancel safety
    /// Not cancel safe.
    pub async fn collect(mut self) -> Result<Vec<Message>, Error> {
        let mut all = Vec::new();
        while let Some(m) = self.next_message().await {
            all.push(m?);
        }
        Ok(all)
    }
}

/// Untagged data other than FETCH (none is routed to a FETCH in practice; skipped).
fn is_other(reply: &Option<Reply>) -> bool {
    matches!(reply, Some(Reply::Data(d)) if !matches!(d, mailbag_proto::imap::types::Data::Fetch { .. }))
}

fn streamed_item(item: StreamedItem, data: Bytes) -> FetchItem {
    match item {
        StreamedItem::BodySection { section, origin } => FetchItem::BodySection {
            section,
            origin,
            data: Some(data),
        },
        StreamedItem::Binary { part, origin } => FetchItem::Binary {
            part,
            origin,
            data: Some(data),
        },
        StreamedItem::Rfc822 => FetchItem::Rfc822(Some(data)),
        StreamedItem::Rfc822Header => FetchItem::Rfc822Header(Some(data)),
        StreamedItem::Rfc822Text => FetchItem::Rfc822Text(Some(data)),
    }
}

impl Stream for FetchStream {
    type Item = Result<FetchEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done.is_some() {
            return Poll::Ready(None);
        }
        loop {
            match self.rx.poll_recv(cx) {
                Poll::Ready(r) if is_other(&r) => continue,
                Poll::Ready(r) => return Poll::Ready(self.map(r)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
