//! The byte stream under every mail protocol: TCP, optionally TLS, with connect and
//! handshake timeouts, upgradable in place after STARTTLS / STLS.
//!
//! - Implicit TLS on 993 / 995 (RFC 8314 section 3.3) or STARTTLS / STLS (RFC 3501 section
//!   6.2.1, RFC 2595 sections 3.1 and 4), or plaintext only when the caller says so.
//! - [`Stream`] holds no read buffer of its own before an upgrade, so nothing received in
//!   clear can leak into the TLS session; the protocol layer must drop its own buffer when it
//!   upgrades (mailbag refuses the session if the server sent anything after its go-ahead, the
//!   CVE-2011-0411 injection). Under TLS the socket is read ahead ([`ReadAhead`], made at
//!   the handshake, empty then), since rustls asks for 4 KiB at a time.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::error::Error;
use crate::tls::{classify, server_name, TlsConfig};

/// How a connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// TLS from the first byte (`imaps://`, `pop3s://`).
    Implicit,
    /// Plain TCP, upgraded by STARTTLS / STLS before anything else; refused if the server
    /// does not offer it.
    StartTls,
    /// No TLS at all. Credentials then cross the network in clear: choose this explicitly,
    /// for a local test server only.
    Plaintext,
}

/// Time limits. `None` waits forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// DNS resolution and TCP connect.
    pub connect: Option<Duration>,
    /// The TLS handshake.
    pub tls: Option<Duration>,
    /// Waiting for the server's reply to one command (reset on every received byte).
    pub command: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(30)),
            tls: Some(Duration::from_secs(30)),
            command: Some(Duration::from_secs(120)),
        }
    }
}

/// Runs `fut` under an optional time limit.
///
/// # Errors
/// [`Error::Timeout`] naming `what` when the limit passes first.
pub async fn with_timeout<T>(
    limit: Option<Duration>,
    what: &'static str,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match limit {
        Some(d) => tokio::time::timeout(d, fut)
            .await
            .map_err(|_| Error::Timeout { what })?,
        None => fut.await,
    }
}

/// A TCP stream, plain or wrapped in TLS.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream {
    /// Not encrypted.
    Plain(TcpStream),
    /// Encrypted.
    Tls(Box<TlsStream<ReadAhead>>),
    /// A failed upgrade left nothing usable.
    Broken,
}

impl Stream {
    /// Opens a TCP connection and, for [`Security::Implicit`], runs the TLS handshake.
    ///
    /// # Errors
    /// [`Error::Connect`], [`Error::Timeout`], or [`Error::Tls`] saying which check failed.
    pub async fn connect(
        host: &str,
        port: u16,
        security: Security,
        tls: &TlsConfig,
        timeouts: &Timeouts,
    ) -> Result<Stream, Error> {
        let tcp = with_timeout(timeouts.connect, "connect", async {
            let dial = host.trim_start_matches('[').trim_end_matches(']');
            TcpStream::connect((dial, port))
                .await
                .map_err(|source| Error::Connect {
                    host: host.to_owned(),
                    port,
                    source,
                })
        })
        .await?;
        // Commands are small and latency matters more than packet count.
        let _ = tcp.set_nodelay(true);
        let mut stream = Stream::Plain(tcp);
        if security == Security::Implicit {
            stream.upgrade(host, tls, timeouts).await?;
        }
        Ok(stream)
    }

    /// Runs the TLS handshake over the plain stream, in place (after STARTTLS / STLS).
    ///
    /// # Errors
    /// [`Error::Misuse`] if already TLS; TLS and timeout errors as for `connect`. On error
    /// the stream is [`Stream::Broken`].
    pub async fn upgrade(
        &mut self,
        host: &str,
        tls: &TlsConfig,
        timeouts: &Timeouts,
    ) -> Result<(), Error> {
        let tcp = match std::mem::replace(self, Stream::Broken) {
            Stream::Plain(tcp) => tcp,
            other => {
                *self = other;
                return Err(Error::misuse("the stream is already TLS (or broken)"));
            }
        };
        let name = server_name(host)?;
        let connector = tls.connector();
        let tls_stream = with_timeout(timeouts.tls, "TLS handshake", async {
            connector
                .connect(name, ReadAhead::new(tcp))
                .await
                .map_err(|e| classify(host, e))
        })
        .await?;
        *self = Stream::Tls(Box::new(tls_stream));
        Ok(())
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "stream broken by a failed TLS upgrade",
    )
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Broken => Poll::Ready(Ok(())),
        }
    }
}

/// How much room to offer a connection's next read: 4 KiB at first (all an idle connection,
/// such as a watcher's, ever needs), doubled each time a read fills all the room it was
/// offered (the server sends faster than we read, as in a bulk download), up to 256 KiB.
/// Used by the IMAP connection's read buffer and by [`ReadAhead`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSize(usize);

impl ReadSize {
    /// The first size.
    pub(crate) const MIN: usize = 4 * 1024;
    /// The largest.
    pub(crate) const MAX: usize = 256 * 1024;

    pub(crate) const fn new() -> ReadSize {
        ReadSize(Self::MIN)
    }

    /// The room to offer.
    pub(crate) fn get(self) -> usize {
        self.0
    }

    /// Takes note of a read that got `n` bytes into `offered` bytes of room.
    pub(crate) fn after_read(&mut self, n: usize, offered: usize) {
        if n >= offered {
            self.0 = self.0.saturating_mul(2).min(Self::MAX);
        }
    }
}

/// A connection's read buffer. Reads land in its spare room and are handed on without a
/// copy, as `Bytes` that share the allocation (a response the parser keeps, a body chunk in
/// a channel); another allocation is taken only when the room runs low. Two allocations take
/// turns: the one used before is taken back once everything cut from it has been dropped,
/// where a fresh one each time meant fresh pages from the kernel (issue 8: 12,451 page
/// faults in a 500 MB download over TLS, 3,152 with the turns). The room offered follows
/// [`ReadSize`].
#[derive(Debug)]
pub(crate) struct ReadBuffer {
    buf: BytesMut,
    previous: BytesMut,
    size: ReadSize,
    /// Allocations made, for the tests.
    #[cfg(test)]
    allocations: usize,
}

impl ReadBuffer {
    pub(crate) fn new() -> ReadBuffer {
        let size = ReadSize::new();
        ReadBuffer {
            buf: BytesMut::with_capacity(size.get()),
            previous: BytesMut::new(),
            size,
            #[cfg(test)]
            allocations: 1,
        }
    }

    /// Where the next read goes: read into its spare capacity.
    pub(crate) fn room(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Hands what was read since the last call to `use_data`, then makes room for the next
    /// read (after `use_data`, so that what it dropped can be taken back).
    pub(crate) fn hand_on<T>(&mut self, use_data: impl FnOnce(Bytes) -> T) -> T {
        self.size.after_read(self.buf.len(), self.buf.capacity());
        let result = use_data(self.buf.split().freeze());
        let want = self.size.get();
        if self.buf.capacity() < want / 4 && !self.buf.try_reclaim(want) {
            let next = if self.previous.try_reclaim(want) {
                std::mem::take(&mut self.previous)
            } else {
                #[cfg(test)]
                {
                    self.allocations += 1;
                }
                BytesMut::with_capacity(want)
            };
            self.previous = std::mem::replace(&mut self.buf, next);
        }
        result
    }
}

/// The TCP stream under TLS, read in large reads.
///
/// rustls reads its transport at most 4 KiB at a time while its buffer is empty, so through
/// tokio-rustls every 4 KiB of a download was a `recvfrom(2)` (issue 8: 49,318 of them for
/// 200 MB, against 787 in plain TCP). Here a read offers rustls what is already buffered, and
/// the buffer is refilled with one read of the socket, sized by [`ReadSize`] (so a
/// connection that has only idled keeps 4 KiB). Writes go straight through.
#[derive(Debug)]
pub struct ReadAhead {
    inner: TcpStream,
    buf: Vec<u8>,
    size: ReadSize,
    /// `buf[start..end]` is read and not yet handed on.
    start: usize,
    end: usize,
}

impl ReadAhead {
    /// Wraps `inner`, with nothing read yet.
    pub fn new(inner: TcpStream) -> ReadAhead {
        ReadAhead {
            inner,
            buf: Vec::new(),
            size: ReadSize::new(),
            start: 0,
            end: 0,
        }
    }

    /// The TCP stream.
    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsyncRead for ReadAhead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.start >= this.end {
            if this.buf.len() < this.size.get() {
                this.buf.resize(this.size.get(), 0);
            }
            let mut read = ReadBuf::new(&mut this.buf);
            std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            this.size.after_read(n, this.buf.len());
            this.start = 0;
            this.end = n;
        }
        let ready = this.buf.get(this.start..this.end).unwrap_or_default();
        let n = out.remaining().min(ready.len());
        out.put_slice(ready.get(..n).unwrap_or_default());
        this.start = this.start.saturating_add(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ReadAhead {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills all the room the buffer offers and hands it on to `keep`.
    fn read_full(rb: &mut ReadBuffer, byte: u8) -> Bytes {
        let room = rb.room();
        let n = room.capacity() - room.len();
        room.extend_from_slice(&vec![byte; n]);
        rb.hand_on(|data| data)
    }

    /// The buffer grows while reads fill it, takes back the allocation used before once
    /// nothing cut from it is alive instead of allocating, and never writes over a chunk that
    /// is still alive.
    #[test]
    fn read_buffer_takes_back_the_allocation_used_before() {
        let mut rb = ReadBuffer::new();
        let mut sizes = Vec::new();
        while rb.size.get() < ReadSize::MAX {
            sizes.push(read_full(&mut rb, b'g').len());
        }
        assert_eq!(sizes.first(), Some(&ReadSize::MIN));
        assert!(sizes.windows(2).all(|w| w[1] > w[0]), "{sizes:?}");
        drop(read_full(&mut rb, b'w'));
        drop(read_full(&mut rb, b'w'));
        // Chunks dropped before the read after next: two allocations take turns, no new one.
        let made = rb.allocations;
        for _ in 0..10 {
            drop(read_full(&mut rb, b'x'));
        }
        assert_eq!(
            rb.allocations, made,
            "an allocation was made while one was free"
        );
        // The same with a chunk kept across one read: its allocation is read into again.
        let one = read_full(&mut rb, b'1');
        let one_at = one.as_ptr();
        drop(one);
        let two = read_full(&mut rb, b'2');
        let three = read_full(&mut rb, b'3');
        assert_eq!(three.as_ptr(), one_at);
        assert_ne!(two.as_ptr(), one_at);
        assert_eq!(three.len(), ReadSize::MAX);
        assert!(
            two.iter().all(|&b| b == b'2'),
            "a live chunk was written over"
        );
        assert!(three.iter().all(|&b| b == b'3'));
        // With `two` and `three` alive in both allocations, the room after `three` is new.
        assert_eq!(rb.allocations, made + 1);
        drop((two, three));
        // A chunk kept across many reads costs one more allocation and is never written over.
        let kept = read_full(&mut rb, b'k');
        for byte in [b'p', b'q', b'r', b's'] {
            drop(read_full(&mut rb, byte));
        }
        assert!(
            kept.iter().all(|&b| b == b'k'),
            "a live chunk was written over"
        );
        assert_eq!(rb.allocations, made + 2);
    }
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Small reads are served from one read of the socket, whatever sizes the reader asks
    /// for, and every byte arrives once, in order; writes go through.
    #[tokio::test]
    async fn read_ahead_hands_on_every_byte_in_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(&sent).await.unwrap();
            let mut hello = [0u8; 5];
            s.read_exact(&mut hello).await.unwrap();
            assert_eq!(&hello, b"hello");
        });
        let mut r = ReadAhead::new(TcpStream::connect(addr).await.unwrap());
        let mut got = Vec::new();
        let mut sizes = [1usize, 7, 4096, 100, 65536, 3, 300_000]
            .into_iter()
            .cycle();
        while got.len() < data.len() {
            let mut chunk = vec![0u8; sizes.next().unwrap()];
            let n = r.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(got, data);
        assert!(r.size.get() > ReadSize::MIN && r.size.get() <= ReadSize::MAX);
        assert!(r.buf.len() >= ReadSize::MIN && r.buf.len() <= ReadSize::MAX);
        r.write_all(b"hello").await.unwrap();
        r.flush().await.unwrap();
        server.await.unwrap();
        let mut rest = [0u8; 1];
        assert_eq!(r.read(&mut rest).await.unwrap(), 0);
    }
}
