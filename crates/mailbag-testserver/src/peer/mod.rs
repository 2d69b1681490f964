//! A scripted peer: an in-process fake server that follows a byte-level transcript, for
//! what Dovecot never does (provider quirks, malformed and hostile input, drops).
//!
//! [`ScriptedPeer`] listens on 127.0.0.1 and serves one [`Script`] per connection, in
//! order; after the last it stops listening, so a further connection is refused. It can
//! speak TLS from the start or switch to it at a [`Step::StartTls`], with a certificate
//! for `localhost` and `127.0.0.1` from a throwaway CA ([`ScriptedPeer::ca_pem`],
//! [`ScriptedPeer::ca_file`]). The first step that fails (a client line that does not
//! match, a timeout, an unexpected close) ends the peer, and [`ScriptedPeer::finish`] or
//! [`ScriptedPeer::join`] return it as a [`PeerError`], so a test fails when the client
//! deviated from the script.
//!
//! Bounds: every read waits at most the peer's timeout (10 s unless set), every write must
//! make progress within it, client lines are capped at 1 MiB, literals are compared as they
//! stream, and floods are written in 64 KiB chunks.

mod cert;
mod conn;
pub mod script;
pub(crate) mod support;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

pub use cert::PeerCertificate;
pub use script::{crlf, Generator, Script, Step};
use support::Runner;

/// How long each read waits, and each write may go without progress, unless set.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the client deviated from the script, or what else stopped the peer.
#[derive(Debug)]
pub struct PeerError {
    /// The connection (1 for the first).
    pub connection: usize,
    /// The failed step (1 for the first; 0 before the first step: accept, implicit TLS).
    pub step: usize,
    /// The failed step, described.
    pub step_text: String,
    /// What went wrong.
    pub kind: PeerErrorKind,
}

/// What went wrong in a [`PeerError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerErrorKind {
    /// The client sent something else than the script expected.
    Mismatch {
        /// What the script expected.
        expected: String,
        /// What came, with its line end.
        got: Vec<u8>,
    },
    /// Nothing (more) came within the timeout, or the client stopped reading.
    Timeout {
        /// What came of the awaited line so far.
        received: Vec<u8>,
    },
    /// The client closed the connection while the script expected more.
    Eof {
        /// An unterminated line that came before the close.
        received: Vec<u8>,
    },
    /// The script expected the client to close, and it sent this.
    NotEof {
        /// What came instead.
        got: Vec<u8>,
    },
    /// The client sent a line longer than 1 MiB.
    LineTooLong,
    /// The client closed or reset the connection while the peer wrote.
    ClientGone(String),
    /// The TLS handshake failed.
    Tls(String),
    /// Another socket error.
    Io(String),
    /// No client connected within the timeout.
    NoClient,
    /// The script cannot run as written.
    Script(&'static str),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scripted peer, connection {}, step {} ({}): ",
            self.connection, self.step, self.step_text
        )?;
        match &self.kind {
            PeerErrorKind::Mismatch { expected, got } => {
                write!(
                    f,
                    "expected {expected}, the client sent {}",
                    script::show(got)
                )
            }
            PeerErrorKind::Timeout { received } => {
                write!(f, "timed out; received so far {}", script::show(received))
            }
            PeerErrorKind::Eof { received } => write!(
                f,
                "the client closed the connection (after {})",
                script::show(received)
            ),
            PeerErrorKind::NotEof { got } => write!(
                f,
                "expected the client to close, it sent {}",
                script::show(got)
            ),
            PeerErrorKind::LineTooLong => write!(f, "the client sent a line over 1 MiB"),
            PeerErrorKind::ClientGone(e) => write!(f, "the client went away: {e}"),
            PeerErrorKind::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            PeerErrorKind::Io(e) => write!(f, "socket error: {e}"),
            PeerErrorKind::NoClient => write!(f, "no client connected"),
            PeerErrorKind::Script(why) => write!(f, "bad script: {why}"),
        }
    }
}

impl std::error::Error for PeerError {}

/// Options for a [`ScriptedPeer`] before it starts.
///
/// ```no_run
/// # async fn demo() {
/// use mailbag_testserver::peer::{Script, ScriptedPeer};
///
/// let peer = ScriptedPeer::builder()
///     .implicit_tls()
///     .connection(Script::from_transcript("S: * OK hi").close())
///     .connection(Script::from_transcript("S: * BYE go away").close())
///     .start()
///     .await
///     .unwrap();
/// // Connect twice to peer.addr(), trusting peer.ca_file(); then:
/// peer.finish().await.unwrap();
/// # }
/// ```
#[derive(Debug, Default)]
pub struct PeerBuilder {
    scripts: Vec<Script>,
    implicit_tls: bool,
    timeout: Option<Duration>,
    certificate: PeerCertificate,
}

impl PeerBuilder {
    /// Adds the script of the next connection.
    pub fn connection(mut self, script: Script) -> PeerBuilder {
        self.scripts.push(script);
        self
    }

    /// Speaks TLS from the first byte of every connection (IMAPS, POP3S).
    pub fn implicit_tls(mut self) -> PeerBuilder {
        self.implicit_tls = true;
        self
    }

    /// Presents this certificate instead of a valid one for `localhost` and `127.0.0.1`.
    pub fn certificate(mut self, certificate: PeerCertificate) -> PeerBuilder {
        self.certificate = certificate;
        self
    }

    /// How long each read waits, and each write may go without progress (default 10 s).
    pub fn timeout(mut self, d: Duration) -> PeerBuilder {
        self.timeout = Some(d);
        self
    }

    /// Starts the peer on the current tokio runtime.
    ///
    /// # Errors
    /// When no port can be bound or the certificates cannot be made.
    pub async fn start(self) -> io::Result<ScriptedPeer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let (mut peer, server) = self.prepare(listener.local_addr()?)?;
        peer._runner = Some(Runner::task(server.run(listener)));
        Ok(peer)
    }

    /// Starts the peer on its own runtime on a background thread, for sync tests.
    ///
    /// # Errors
    /// When no port can be bound, the certificates cannot be made, or the thread cannot
    /// start.
    pub fn spawn(self) -> io::Result<ScriptedPeer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let (mut peer, server) = self.prepare(listener.local_addr()?)?;
        let runner = Runner::thread("scripted-peer", move || async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => server.run(listener).await,
                Err(e) => eprintln!("scripted peer cannot listen: {e}"),
            }
        })?;
        peer._runner = Some(runner);
        Ok(peer)
    }

    /// Makes the certificates and the CA file; the peer to hand out, and the server loop
    /// to run on a listener.
    fn prepare(self, addr: SocketAddr) -> io::Result<(ScriptedPeer, Server)> {
        let pki = cert::make(&self.certificate).map_err(io::Error::other)?;
        let dir = tempfile::Builder::new().prefix("mailbag-peer-").tempdir()?;
        std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem)?;
        let (result, rx) = oneshot::channel();
        let server = Server {
            scripts: self.scripts,
            acceptor: acceptor(&pki)?,
            implicit_tls: self.implicit_tls,
            wait: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            result,
        };
        let peer = ScriptedPeer {
            addr,
            ca_pem: pki.ca_pem,
            dir,
            result: Some(rx),
            _runner: None,
        };
        Ok((peer, server))
    }
}

/// The server loop of a peer, before it runs.
struct Server {
    scripts: Vec<Script>,
    acceptor: TlsAcceptor,
    implicit_tls: bool,
    wait: Duration,
    result: oneshot::Sender<Result<(), PeerError>>,
}

impl Server {
    async fn run(self, listener: TcpListener) {
        let outcome = serve(
            listener,
            self.scripts,
            self.acceptor,
            self.implicit_tls,
            self.wait,
        );
        let _ = self.result.send(outcome.await);
    }
}

/// A running scripted peer. Dropping it stops it.
///
/// ```no_run
/// # async fn demo() {
/// use mailbag_testserver::peer::{Script, ScriptedPeer};
///
/// let peer = ScriptedPeer::start(Script::from_transcript(
///     "S: * OK ready
///      C: {tag} CAPABILITY
///      S: * CAPABILITY IMAP4rev1
///      S: {tag} OK done",
/// ))
/// .await
/// .unwrap();
/// // Run the client against peer.addr(), then:
/// peer.finish().await.expect("the client followed the script");
/// # }
/// ```
#[derive(Debug)]
pub struct ScriptedPeer {
    addr: SocketAddr,
    ca_pem: String,
    dir: tempfile::TempDir,
    result: Option<oneshot::Receiver<Result<(), PeerError>>>,
    _runner: Option<Runner>,
}

impl ScriptedPeer {
    /// Options: several connections, implicit TLS, another timeout.
    pub fn builder() -> PeerBuilder {
        PeerBuilder::default()
    }

    /// Starts a plain-text peer for one connection on the current tokio runtime.
    ///
    /// # Errors
    /// As [`PeerBuilder::start`].
    pub async fn start(script: Script) -> io::Result<ScriptedPeer> {
        ScriptedPeer::builder().connection(script).start().await
    }

    /// Starts a plain-text peer for one connection on a background thread.
    ///
    /// # Errors
    /// As [`PeerBuilder::spawn`].
    pub fn spawn(script: Script) -> io::Result<ScriptedPeer> {
        ScriptedPeer::builder().connection(script).spawn()
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port clients connect to, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The CA certificate (PEM) that signed the peer's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A PEM file holding the CA certificate, for `--ca-file`; removed with the peer.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Waits until every script ran, or one step failed.
    ///
    /// # Errors
    /// The first failed step.
    pub async fn finish(mut self) -> Result<(), PeerError> {
        let rx = self.result.take();
        outcome(match rx {
            Some(rx) => rx.await.ok(),
            None => None,
        })
    }

    /// [`ScriptedPeer::finish`] for sync tests.
    ///
    /// # Errors
    /// The first failed step.
    ///
    /// # Panics
    /// Inside an async context (use `finish` there).
    pub fn join(mut self) -> Result<(), PeerError> {
        let rx = self.result.take();
        outcome(rx.and_then(|rx| rx.blocking_recv().ok()))
    }
}

fn outcome(result: Option<Result<(), PeerError>>) -> Result<(), PeerError> {
    result.unwrap_or_else(|| {
        Err(PeerError {
            connection: 0,
            step: 0,
            step_text: "run".to_owned(),
            kind: PeerErrorKind::Script("the peer stopped without a result (it panicked)"),
        })
    })
}

fn acceptor(pki: &cert::Identity) -> io::Result<TlsAcceptor> {
    let certs = rustls_pemfile::certs(&mut pki.cert_pem.as_bytes()).collect::<Result<_, _>>()?;
    let key = rustls_pemfile::private_key(&mut pki.key_pem.as_bytes())?
        .ok_or_else(|| io::Error::other("no private key in the generated PEM"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(io::Error::other)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn serve(
    listener: TcpListener,
    scripts: Vec<Script>,
    acceptor: TlsAcceptor,
    implicit_tls: bool,
    wait: Duration,
) -> Result<(), PeerError> {
    for (index, script) in scripts.into_iter().enumerate() {
        let connection = index + 1;
        let fail = |step: usize, step_text: String, kind| PeerError {
            connection,
            step,
            step_text,
            kind,
        };
        let tcp = match tokio::time::timeout(wait, listener.accept()).await {
            Ok(Ok((tcp, _))) => tcp,
            Ok(Err(e)) => return Err(fail(0, "accept".into(), PeerErrorKind::Io(e.to_string()))),
            Err(_) => return Err(fail(0, "accept".into(), PeerErrorKind::NoClient)),
        };
        let mut conn = conn::Conn::new(tcp, acceptor.clone(), wait);
        if implicit_tls {
            conn.start_tls()
                .await
                .map_err(|k| fail(0, "implicit TLS".into(), k))?;
        }
        let mut steps = script.into_steps().into_iter().enumerate().peekable();
        let mut ended = conn::Ended::Open;
        let mut after_logout = false;
        while let Some((i, step)) = steps.next() {
            let text = step.describe();
            let is_send = matches!(step, Step::Send(_));
            if let Step::Expect(p) = &step {
                let p = p.to_ascii_uppercase();
                after_logout |= p.contains("LOGOUT") || p.trim() == "QUIT";
            }
            match conn.run(step).await {
                Ok(None) => continue,
                // A client may close as soon as it has sent LOGOUT (or a POP3 QUIT with no
                // message marked for deletion), without reading the answer: it goes unheard.
                Err(PeerErrorKind::ClientGone(_)) if after_logout && is_send => {
                    for (j, rest) in steps.by_ref() {
                        if !matches!(rest, Step::Send(_)) {
                            let kind = PeerErrorKind::Script("the client closed after LOGOUT");
                            return Err(fail(j + 1, rest.describe(), kind));
                        }
                    }
                    ended = conn::Ended::Closed;
                }
                Ok(Some(end)) => ended = end,
                // A client that hangs up while the peer writes is what an `ExpectEof` that
                // follows asked for (a client that gives up on a flood).
                Err(PeerErrorKind::ClientGone(_))
                    if matches!(steps.peek(), Some((_, Step::ExpectEof))) =>
                {
                    ended = conn::Ended::Closed;
                    steps.next();
                }
                Err(kind) => return Err(fail(i + 1, text, kind)),
            }
            if let Some((j, next)) = steps.next() {
                let kind = PeerErrorKind::Script("steps after the connection ended");
                return Err(fail(j + 1, next.describe(), kind));
            }
        }
        if let conn::Ended::Open = ended {
            conn.close().await;
        }
    }
    Ok(())
}
