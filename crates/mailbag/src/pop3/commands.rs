//! One method per POP3 command (RFC 1939 sections 5-7, RFC 6856 section 2), streamed
//! bodies, and pipelined batches (RFC 2449 section 6.6).

use bytes::Bytes;
use mailbag_proto::pop3::{Command, CommandId, Event, Reply};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::client::{no, Pop3Client};
use super::{ListEntry, MessageNumber, Stat, UidlEntry};
use crate::error::Error;

/// A RETR or TOP body being received. Read it with [`RetrReader::next_chunk`] until `None`.
///
/// Dropping it early is allowed: the rest of the body is read and discarded by the next
/// command on the client.
#[derive(Debug)]
pub struct RetrReader<'a> {
    client: &'a mut Pop3Client,
    id: CommandId,
    done: bool,
}

impl RetrReader<'_> {
    /// The next piece of the message (dot-unstuffed, CRLF line ends as sent), or `None` at
    /// its end.
    ///
    /// # Errors
    /// [`Error::ConnectionLost`] if the connection ends before the message does: a
    /// truncated message is never reported as complete.
    ///
    /// # Cancel safety
    /// Cancel safe: a cancelled call loses no bytes.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.client.next_event().await? {
                Event::BodyChunk { id, chunk } if id == self.id => return Ok(Some(chunk)),
                Event::BodyEnd { id } if id == self.id => {
                    self.done = true;
                    return Ok(None);
                }
                _ => {}
            }
        }
    }
}

impl<'a> RetrReader<'a> {
    /// The body as a [`Stream`](futures_util::Stream) of chunks, ending after the last one
    /// or at the first error.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Bytes, Error>> + 'a {
        futures_util::stream::unfold(Some(self), |reader| async move {
            let mut reader = reader?;
            match reader.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(reader))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

/// One step of [`Pop3Client::retr_many`] and [`Pop3Client::top_many`].
#[derive(Debug)]
pub enum RetrEvent<'a> {
    /// A piece of message `n`.
    Chunk(MessageNumber, &'a [u8]),
    /// Message `n` is complete.
    End(MessageNumber),
    /// The server refused message `n` (`-ERR`); the others go on.
    Refused(MessageNumber, Error),
}

impl Pop3Client {
    /// STAT: number and total size of the messages.
    ///
    /// # Errors
    /// [`Error::No`] with the server's words; connection and protocol errors.
    pub async fn stat(&mut self) -> Result<Stat, Error> {
        match self.run(Command::Stat).await? {
            Reply::Stat(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// LIST: number and size of every message.
    ///
    /// # Errors
    /// As [`Pop3Client::stat`].
    pub async fn list(&mut self) -> Result<Vec<ListEntry>, Error> {
        match self.run(Command::List(None)).await? {
            Reply::List(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// LIST n.
    ///
    /// # Errors
    /// As [`Pop3Client::stat`]; [`Error::No`] when there is no such message.
    pub async fn list_one(&mut self, n: MessageNumber) -> Result<ListEntry, Error> {
        match self.run(Command::List(Some(n))).await? {
            Reply::ListOne(e) => Ok(e),
            other => Err(unexpected(other)),
        }
    }

    /// UIDL: the unique id of every message.
    ///
    /// # Errors
    /// As [`Pop3Client::stat`].
    pub async fn uidl(&mut self) -> Result<Vec<UidlEntry>, Error> {
        match self.run(Command::Uidl(None)).await? {
            Reply::Uidl(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// UIDL n.
    ///
    /// # Errors
    /// As [`Pop3Client::list_one`].
    pub async fn uidl_one(&mut self, n: MessageNumber) -> Result<UidlEntry, Error> {
        match self.run(Command::Uidl(Some(n))).await? {
            Reply::UidlOne(e) => Ok(e),
            other => Err(unexpected(other)),
        }
    }

    /// RETR n, streamed: returns once the server said `+OK`.
    ///
    /// # Errors
    /// [`Error::No`] when the server refuses; connection errors.
    pub async fn retr(&mut self, n: MessageNumber) -> Result<RetrReader<'_>, Error> {
        self.body(Command::Retr(n), "RETR").await
    }

    /// TOP n lines, streamed: the header, a blank line and `lines` body lines.
    ///
    /// # Errors
    /// As [`Pop3Client::retr`].
    pub async fn top(&mut self, n: MessageNumber, lines: u32) -> Result<RetrReader<'_>, Error> {
        self.body(Command::Top(n, lines), "TOP").await
    }

    async fn body(&mut self, command: Command, keyword: &str) -> Result<RetrReader<'_>, Error> {
        let id = self.session.send(command).map_err(Error::misuse)?;
        match self.wait(id, keyword).await? {
            Reply::BodyFollows(_) => Ok(RetrReader {
                client: self,
                id,
                done: false,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// RETR n into memory (for small messages).
    ///
    /// # Errors
    /// As [`RetrReader::next_chunk`].
    pub async fn retr_to_vec(&mut self, n: MessageNumber) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.retr_to_writer(n, &mut out).await?;
        Ok(out)
    }

    /// TOP n lines into memory.
    ///
    /// # Errors
    /// As [`RetrReader::next_chunk`].
    pub async fn top_to_vec(&mut self, n: MessageNumber, lines: u32) -> Result<Vec<u8>, Error> {
        let mut reader = self.top(n, lines).await?;
        let mut out = Vec::new();
        while let Some(chunk) = reader.next_chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// RETR n copied to `writer` as it arrives; returns the number of bytes written.
    ///
    /// # Errors
    /// As [`RetrReader::next_chunk`]; [`Error::Io`] when writing fails.
    pub async fn retr_to_writer<W: AsyncWrite + Unpin>(
        &mut self,
        n: MessageNumber,
        mut writer: W,
    ) -> Result<u64, Error> {
        let mut reader = self.retr(n).await?;
        let mut total = 0u64;
        while let Some(chunk) = reader.next_chunk().await? {
            writer.write_all(&chunk).await?;
            total = total.saturating_add(chunk.len() as u64);
        }
        writer.flush().await?;
        Ok(total)
    }

    /// DELE n: marks the message; it is removed only by a successful QUIT.
    ///
    /// # Errors
    /// As [`Pop3Client::list_one`].
    pub async fn dele(&mut self, n: MessageNumber) -> Result<(), Error> {
        self.marked = true;
        self.run(Command::Dele(n)).await.map(drop)
    }

    /// RSET: unmarks every message marked by DELE.
    ///
    /// # Errors
    /// As [`Pop3Client::stat`].
    pub async fn rset(&mut self) -> Result<(), Error> {
        self.run(Command::Rset).await?;
        self.marked = false;
        Ok(())
    }

    /// NOOP: keeps the connection alive.
    ///
    /// # Errors
    /// As [`Pop3Client::stat`].
    pub async fn noop(&mut self) -> Result<(), Error> {
        self.run(Command::Noop).await.map(drop)
    }

    /// UTF8 (RFC 6856): asks for UTF-8 user names, passwords and headers. Before login.
    ///
    /// # Errors
    /// As [`Pop3Client::stat`].
    pub async fn utf8(&mut self) -> Result<(), Error> {
        self.run(Command::Utf8).await.map(drop)
    }

    /// QUIT: the server deletes the messages marked by DELE and closes. Returns the
    /// server's farewell.
    ///
    /// # Errors
    /// [`Error::No`] when the server could not delete every marked message.
    pub async fn quit(mut self) -> Result<String, Error> {
        let reply = self.run(Command::Quit).await?;
        let _ = self.stream_shutdown().await;
        match reply {
            Reply::Status(s) => Ok(s.text),
            other => Err(unexpected(other)),
        }
    }

    /// Ends the session without a round trip of its own: QUIT is written and the connection
    /// closed without waiting for the answer, which tells a program nothing when no message
    /// is marked for deletion. After a DELE (not undone by RSET) it is [`Pop3Client::quit`]:
    /// the deletions happen at QUIT, and its answer says whether they were done. The CLI
    /// ends every POP3 command this way.
    ///
    /// # Errors
    /// After a DELE, as [`Pop3Client::quit`]; otherwise none (a connection already lost
    /// has nothing left to close).
    pub async fn disconnect(mut self) -> Result<(), Error> {
        if self.marked || self.session.is_busy() {
            return self.quit().await.map(drop);
        }
        if self.session.send(Command::Quit).is_ok() {
            let _ = self.transmit().await;
        }
        let _ = self.stream_shutdown().await;
        Ok(())
    }

    async fn stream_shutdown(&mut self) -> std::io::Result<()> {
        self.stream.shutdown().await
    }

    /// RETR of every message in `numbers`, pipelined when the server offers PIPELINING.
    /// `sink` sees each message's chunks, then its end, in order.
    ///
    /// # Errors
    /// Connection and protocol errors, and the first error `sink` returns. A message the
    /// server refuses is reported to `sink` as [`RetrEvent::Refused`].
    pub async fn retr_many<F>(&mut self, numbers: &[MessageNumber], sink: F) -> Result<(), Error>
    where
        F: FnMut(RetrEvent<'_>) -> std::io::Result<()>,
    {
        self.bodies_many(numbers, None, sink).await
    }

    /// TOP n `lines` of every message in `numbers`, pipelined like
    /// [`Pop3Client::retr_many`]: the headers of a whole maildrop in one round trip.
    ///
    /// # Errors
    /// As [`Pop3Client::retr_many`].
    pub async fn top_many<F>(
        &mut self,
        numbers: &[MessageNumber],
        lines: u32,
        sink: F,
    ) -> Result<(), Error>
    where
        F: FnMut(RetrEvent<'_>) -> std::io::Result<()>,
    {
        self.bodies_many(numbers, Some(lines), sink).await
    }

    async fn bodies_many<F>(
        &mut self,
        numbers: &[MessageNumber],
        top: Option<u32>,
        mut sink: F,
    ) -> Result<(), Error>
    where
        F: FnMut(RetrEvent<'_>) -> std::io::Result<()>,
    {
        let keyword = if top.is_some() { "TOP" } else { "RETR" };
        let mut ids = std::collections::VecDeque::new();
        for &n in numbers {
            let command = match top {
                Some(lines) => Command::Top(n, lines),
                None => Command::Retr(n),
            };
            let id = self.session.send(command).map_err(Error::misuse)?;
            ids.push_back((id, n));
        }
        while let Some(&(id, n)) = ids.front() {
            match self.next_event().await? {
                Event::BodyChunk { id: got, chunk } if got == id => {
                    sink(RetrEvent::Chunk(n, &chunk))?;
                }
                Event::BodyEnd { id: got } if got == id => {
                    sink(RetrEvent::End(n))?;
                    ids.pop_front();
                }
                Event::Err { id: got, status } if got == id => {
                    sink(RetrEvent::Refused(n, no(keyword, status)))?;
                    ids.pop_front();
                }
                Event::Malformed { id: got, error } if got == id => {
                    return Err(Error::protocol(error.to_string(), error.offending_bytes()));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// UIDL and LIST in one batch (one round trip with PIPELINING).
    ///
    /// # Errors
    /// As [`Pop3Client::stat`].
    pub async fn uidl_and_list(&mut self) -> Result<(Vec<UidlEntry>, Vec<ListEntry>), Error> {
        let uidl = self
            .session
            .send(Command::Uidl(None))
            .map_err(Error::misuse)?;
        let list = self
            .session
            .send(Command::List(None))
            .map_err(Error::misuse)?;
        let uidl = self.wait(uidl, "UIDL").await;
        let list = self.wait(list, "LIST").await;
        match (uidl?, list?) {
            (Reply::Uidl(u), Reply::List(l)) => Ok((u, l)),
            (other, _) => Err(unexpected(other)),
        }
    }
}

fn unexpected(reply: Reply) -> Error {
    Error::protocol(format!("reply of an unexpected kind: {reply:?}"), &[])
}
