//! Pipelined RETR of many messages, read one message at a time (RFC 2449 section 6.6).
//!
//! [`Pop3Client::retr_batch`] sends every RETR at once (the session keeps at most its
//! window in flight when the server offers PIPELINING, one at a time otherwise) and hands
//! the replies back in order through [`RetrBatch::next`]. Unlike the callback of
//! [`Pop3Client::retr_many`], the caller's loop owns each message's consumer between
//! `next` calls, so it can hold a writer that borrows its own state (a store folder).

use std::collections::VecDeque;

use bytes::Bytes;
use mailbag_proto::pop3::{Command, CommandId, Event};

use super::client::{no, Pop3Client};
use super::MessageNumber;
use crate::error::Error;

/// What [`RetrBatch::next`] yields for the current message.
#[derive(Debug)]
pub enum RetrPiece {
    /// The next bytes of the message (dot-unstuffed, CRLF as sent).
    Chunk(Bytes),
    /// The message is complete.
    End,
    /// The server refused this message (`-ERR`); the batch goes on with the next.
    Refused(Error),
}

/// Replies of a pipelined RETR batch, message by message.
#[derive(Debug)]
pub struct RetrBatch<'a> {
    client: &'a mut Pop3Client,
    queue: VecDeque<(CommandId, MessageNumber)>,
}

impl Pop3Client {
    /// Sends RETR for each of `numbers`, pipelined when the server allows, and returns the
    /// batch to read the replies from, in order.
    ///
    /// # Errors
    /// [`Error::Misuse`] outside the TRANSACTION state.
    pub fn retr_batch(&mut self, numbers: &[MessageNumber]) -> Result<RetrBatch<'_>, Error> {
        let mut queue = VecDeque::with_capacity(numbers.len());
        for &n in numbers {
            let id = self.session.send(Command::Retr(n)).map_err(Error::misuse)?;
            queue.push_back((id, n));
        }
        Ok(RetrBatch {
            client: self,
            queue,
        })
    }
}

impl RetrBatch<'_> {
    /// The message whose pieces [`RetrBatch::next`] returns now, or `None` when the batch
    /// is done.
    pub fn current(&self) -> Option<MessageNumber> {
        self.queue.front().map(|&(_, n)| n)
    }

    /// The next piece of the current message; after `End` or `Refused` the next message
    /// becomes current. `None` when the batch is done.
    ///
    /// # Errors
    /// Connection and protocol errors: the batch cannot go on after one. A message cut by
    /// a lost connection never ends with `End`.
    ///
    /// # Cancel safety
    /// Cancel safe: a cancelled call loses no bytes.
    pub async fn next(&mut self) -> Result<Option<RetrPiece>, Error> {
        let Some(&(id, _)) = self.queue.front() else {
            return Ok(None);
        };
        loop {
            match self.client.next_event().await? {
                Event::BodyChunk { id: got, chunk } if got == id => {
                    return Ok(Some(RetrPiece::Chunk(chunk)));
                }
                Event::BodyEnd { id: got } if got == id => {
                    self.queue.pop_front();
                    return Ok(Some(RetrPiece::End));
                }
                Event::Err { id: got, status } if got == id => {
                    self.queue.pop_front();
                    return Ok(Some(RetrPiece::Refused(no("RETR", status))));
                }
                Event::Malformed { id: got, error } if got == id => {
                    return Err(Error::protocol(error.to_string(), &[]));
                }
                _ => {}
            }
        }
    }
}
