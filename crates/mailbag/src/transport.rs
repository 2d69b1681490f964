//! The byte stream under every mail protocol: TCP, optionally TLS, with connect and
//! handshake timeouts, upgradable in place after STARTTLS / STLS.
//!
//! - Implicit TLS on 993 / 995 (RFC 8314 section 3.3) or STARTTLS / STLS (RFC 3501 section
//!   6.2.1, RFC 2595 sections 3.1 and 4), or plaintext only when the caller says so.
//! - [`Stream`] holds no read buffer of its own, so nothing received before an upgrade can
//!   leak into the TLS session; the protocol layer must drop its own buffer when it upgrades
//!   (mailbag refuses the session if the server sent anything after its go-ahead, the
//!   CVE-2011-0411 injection).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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
    Tls(Box<TlsStream<TcpStream>>),
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
                .connect(name, tcp)
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
