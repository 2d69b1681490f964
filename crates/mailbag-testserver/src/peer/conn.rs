//! One connection of a scripted peer: the socket (plain or TLS), the peer's own read
//! buffer, and the execution of each [`Step`].
//!
//! The peer keeps its own buffer instead of a `BufReader` so that [`Step::StartTls`] can
//! tell whether the client sent bytes it should not have before the handshake.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::script::{literal_size, matches, show, substitute, Step};
use super::PeerErrorKind;

/// The longest client line the peer reads; the client's lines are short.
const MAX_LINE: usize = 1 << 20;
/// How long a close waits for the client's own close; an idle client is not an error.
const CLOSE_DRAIN: Duration = Duration::from_secs(1);
/// The largest single write of a flood.
const FLOOD_CHUNK: usize = 64 * 1024;

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

impl Stream {
    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(s) => Some(s),
            Stream::Tls(t) => Some(t.get_ref().0),
            Stream::Gone => None,
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection already closed")
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(t) => Pin::new(t).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, b),
            Stream::Tls(t) => Pin::new(t).poll_write(cx, b),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(t) => Pin::new(t).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(t) => Pin::new(t).poll_shutdown(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

/// How a connection's script ended, when it did not fail.
pub(crate) enum Ended {
    /// The peer closed or reset the connection, or the client closed it as expected.
    Closed,
    /// The script ran out; the caller closes the connection.
    Open,
}

pub(crate) struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    tag: Option<Vec<u8>>,
    acceptor: TlsAcceptor,
    timeout: Duration,
}

impl Conn {
    pub(crate) fn new(tcp: TcpStream, acceptor: TlsAcceptor, timeout: Duration) -> Conn {
        Conn {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
            tag: None,
            acceptor,
            timeout,
        }
    }

    /// Runs one step; on failure, what went wrong.
    pub(crate) async fn run(&mut self, step: Step) -> Result<Option<Ended>, PeerErrorKind> {
        let wait = self.timeout;
        match step {
            Step::Send(bytes) => {
                let Some(bytes) = substitute(&bytes, self.tag.as_deref()) else {
                    return Err(PeerErrorKind::Script("`{tag}` before any tag was captured"));
                };
                self.write(&bytes).await?;
            }
            Step::Expect(pattern) => {
                let line = self.read_line(Instant::now() + wait).await?;
                self.check_line(&pattern, line)?;
            }
            Step::ExpectLiteral {
                line,
                content,
                sync,
            } => {
                let got = self.read_line(Instant::now() + wait).await?;
                let body = self.check_line(&line, got.clone())?;
                let Some((size, non_sync)) = literal_size(&body) else {
                    return Err(PeerErrorKind::Mismatch {
                        expected: "a line ending in a literal {n}".to_owned(),
                        got,
                    });
                };
                if sync && !non_sync {
                    self.write(b"+ OK\r\n").await?;
                }
                self.read_literal(size, content.as_deref()).await?;
            }
            Step::StartTls => self.start_tls().await?,
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::Close => {
                self.close().await;
                return Ok(Some(Ended::Closed));
            }
            Step::Reset => {
                if let Some(tcp) = self.stream.tcp() {
                    super::support::reset_on_close(tcp);
                }
                self.stream = Stream::Gone;
                return Ok(Some(Ended::Closed));
            }
            Step::SendRepeated { bytes, times } => self.flood(&bytes, times).await?,
            Step::SendGenerated(chunks) => {
                for chunk in chunks {
                    self.write(&chunk).await?;
                }
            }
            Step::ExpectEof => {
                self.read_eof(Instant::now() + wait).await?;
                self.stream = Stream::Gone;
                return Ok(Some(Ended::Closed));
            }
        }
        Ok(None)
    }

    /// Starts TLS server-side (implicit TLS, or after STARTTLS / STLS).
    pub(crate) async fn start_tls(&mut self) -> Result<(), PeerErrorKind> {
        if !self.buf.is_empty() {
            return Err(PeerErrorKind::Mismatch {
                expected: "nothing before the TLS handshake".to_owned(),
                got: std::mem::take(&mut self.buf),
            });
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(PeerErrorKind::Script(
                "StartTls on a connection not in plain text",
            ));
        };
        match timeout(self.timeout, self.acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => {
                self.stream = Stream::Tls(Box::new(tls));
                Ok(())
            }
            Ok(Err(e)) => Err(PeerErrorKind::Tls(e.to_string())),
            Err(_) => Err(PeerErrorKind::Timeout {
                received: Vec::new(),
            }),
        }
    }

    /// Closes in order: close_notify under TLS, FIN, then reads what the client still
    /// sends for a moment, since closing with unread input sends an RST.
    pub(crate) async fn close(&mut self) {
        let _ = timeout(self.timeout, self.stream.shutdown()).await;
        let mut scratch = [0u8; 4096];
        let drain = async {
            while let Ok(n) = self.stream.read(&mut scratch).await {
                if n == 0 {
                    break;
                }
            }
        };
        let _ = timeout(self.timeout.min(CLOSE_DRAIN), drain).await;
        self.stream = Stream::Gone;
    }

    /// Matches a line (with its line end) against `pattern`; returns the line without CRLF.
    fn check_line(&mut self, pattern: &str, got: Vec<u8>) -> Result<Vec<u8>, PeerErrorKind> {
        let Some(body) = got.strip_suffix(b"\r\n") else {
            return Err(PeerErrorKind::Mismatch {
                expected: format!("{pattern:?} ending in CRLF"),
                got,
            });
        };
        if matches(pattern, body, &mut self.tag) {
            Ok(body.to_vec())
        } else {
            Err(PeerErrorKind::Mismatch {
                expected: format!("{pattern:?}"),
                got,
            })
        }
    }

    async fn read_line(&mut self, deadline: Instant) -> Result<Vec<u8>, PeerErrorKind> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                return Ok(self.buf.drain(..=pos).collect());
            }
            if self.buf.len() > MAX_LINE {
                return Err(PeerErrorKind::LineTooLong);
            }
            if self.fill(deadline).await? == 0 {
                return Err(PeerErrorKind::Eof {
                    received: std::mem::take(&mut self.buf),
                });
            }
        }
    }

    async fn read_eof(&mut self, deadline: Instant) -> Result<(), PeerErrorKind> {
        if !self.buf.is_empty() {
            return Err(PeerErrorKind::NotEof {
                got: std::mem::take(&mut self.buf),
            });
        }
        match self.fill(deadline).await {
            Ok(0) | Err(PeerErrorKind::ClientGone(_)) => Ok(()),
            Ok(_) => Err(PeerErrorKind::NotEof {
                got: std::mem::take(&mut self.buf),
            }),
            Err(e) => Err(e),
        }
    }

    /// Reads a literal of `size` bytes, comparing as it goes, each read under the timeout.
    async fn read_literal(&mut self, size: u64, want: Option<&[u8]>) -> Result<(), PeerErrorKind> {
        if let Some(want) = want {
            if want.len() as u64 != size {
                return Err(PeerErrorKind::Mismatch {
                    expected: format!("a literal of {} bytes", want.len()),
                    got: format!("{{{size}}}").into_bytes(),
                });
            }
        }
        let mut done: u64 = 0;
        while done < size {
            if self.buf.is_empty() && self.fill(Instant::now() + self.timeout).await? == 0 {
                return Err(PeerErrorKind::Eof {
                    received: Vec::new(),
                });
            }
            // Bounded by the buffer's length, so it fits a usize.
            let take = (size - done).min(self.buf.len() as u64) as usize;
            let piece: Vec<u8> = self.buf.drain(..take).collect();
            if let Some(want) = want {
                let at = done as usize;
                if want[at..at + take] != piece[..] {
                    return Err(PeerErrorKind::Mismatch {
                        expected: format!(
                            "literal bytes {} at offset {at}",
                            show(&want[at..at + take])
                        ),
                        got: piece,
                    });
                }
            }
            done += take as u64;
        }
        Ok(())
    }

    /// Reads once into the buffer; the count read, 0 at end-of-file. At the deadline,
    /// a timeout error holding what came so far.
    async fn fill(&mut self, deadline: Instant) -> Result<usize, PeerErrorKind> {
        let mut scratch = [0u8; 8192];
        match timeout_at(deadline, self.stream.read(&mut scratch)).await {
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&scratch[..n]);
                Ok(n)
            }
            Ok(Err(e)) => Err(io_error(e)),
            Err(_) => Err(PeerErrorKind::Timeout {
                received: self.buf.clone(),
            }),
        }
    }

    /// Writes and flushes; a client that reads nothing for the timeout is an error.
    async fn write(&mut self, bytes: &[u8]) -> Result<(), PeerErrorKind> {
        for chunk in bytes.chunks(FLOOD_CHUNK) {
            let io = async {
                self.stream.write_all(chunk).await?;
                self.stream.flush().await
            };
            match timeout(self.timeout, io).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(io_error(e)),
                Err(_) => {
                    return Err(PeerErrorKind::Timeout {
                        received: Vec::new(),
                    })
                }
            }
        }
        Ok(())
    }

    async fn flood(&mut self, bytes: &[u8], times: u64) -> Result<(), PeerErrorKind> {
        if bytes.is_empty() || times == 0 {
            return Ok(());
        }
        let per_chunk = (FLOOD_CHUNK / bytes.len()).max(1) as u64;
        let chunk = bytes.repeat(per_chunk.min(times) as usize);
        let mut left = times;
        while left >= per_chunk {
            self.write(&chunk).await?;
            left -= per_chunk;
        }
        // `left` < `per_chunk`, which came from a usize.
        self.write(&chunk[..bytes.len() * left as usize]).await
    }
}

fn io_error(e: io::Error) -> PeerErrorKind {
    match e.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => PeerErrorKind::ClientGone(e.to_string()),
        _ => PeerErrorKind::Io(e.to_string()),
    }
}
