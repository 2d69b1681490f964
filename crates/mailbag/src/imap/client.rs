//! [`ImapClient`]: connection set-up, login, and the request/response plumbing every session
//! method uses (RFC 9051 sections 6.1-6.2, RFC 2595 STARTTLS, RFC 4959 SASL-IR).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mailbag_proto::imap::client::{ClientCore, Config, ConnectionState};
use mailbag_proto::imap::types::{Capability, Data, ResponseCode, Status, StatusText};
use mailbag_proto::imap::Command;
use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
use mailbag_proto::Secret;
use tokio::sync::mpsc;

use super::connection::{Connection, Reply, Request, Shared};
use super::notify::Notifications;
use super::ConnectOptions;
use crate::error::{Error, TlsFailure};
use crate::tls::TlsConfig;
use crate::transport::{with_timeout, Security, Stream};

/// Replies buffered per command before the connection waits for the reader.
const REPLY_CAPACITY: usize = 64;

/// A handle on one IMAP connection. Cheap to clone; every clone talks to the same session,
/// and commands issued concurrently are pipelined (see the [module docs](super)).
///
/// # Errors and cancel safety
///
/// Every command method returns [`Error::No`] / [`Error::Bad`] with the server's response
/// code and text when the server refuses it, [`Error::Misuse`] for a command not valid in
/// the connection state, [`Error::ConnectionLost`] and [`Error::Timeout`]; a method names any
/// other error it can return. A method cancelled after it sent its command leaves the command
/// running on the server; its results are discarded.
#[derive(Debug, Clone)]
pub struct ImapClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    requests: mpsc::Sender<Request>,
    shared: Arc<Mutex<Shared>>,
    notifications: Mutex<Option<Notifications>>,
    subscribed: Arc<AtomicBool>,
    greeting: StatusText,
    options: ConnectOptions,
    tls: bool,
    /// Ends the connection task at once (a dead link never lets it end by itself).
    task: tokio::task::AbortHandle,
}

/// Data and completion of one command.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) data: Vec<Data>,
    pub(crate) status: StatusText,
}

impl ImapClient {
    /// Connects, reads the greeting, and with [`Security::StartTls`] upgrades by STARTTLS
    /// (refusing to go on without it); then makes sure the capabilities are known.
    ///
    /// # Errors
    /// [`Error::Connect`], [`Error::Tls`], [`Error::Timeout`], [`Error::Bye`] for a BYE
    /// greeting, [`Error::Protocol`].
    ///
    /// # Cancel safety
    /// Not cancel safe: a cancelled connect leaves nothing to reuse.
    pub async fn connect(options: ConnectOptions) -> Result<ImapClient, Error> {
        let tls = TlsConfig::for_connection(
            options.security,
            options.ca_file.as_deref(),
            options.only_ca_file,
        )?;
        let stream = Stream::connect(
            &options.host,
            options.port,
            options.security,
            &tls,
            &options.timeouts,
        )
        .await?;
        let is_tls = stream.is_tls();
        let config = Config {
            command_timeout: options.timeouts.command,
            idle_refresh: options.idle_refresh,
            poll_interval: options.poll_interval,
            limits: options.limits.clone(),
        };
        let core = ClientCore::new(config);
        let (req_tx, req_rx) = mpsc::channel(64);
        let (note_tx, note_rx) = mpsc::channel(options.notification_capacity.max(1));
        let subscribed = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (greet_tx, mut greet_rx) = mpsc::channel(1);
        let mut conn = Connection::new(
            core,
            stream,
            options.host.clone(),
            tls,
            options.timeouts,
            req_rx,
            note_tx,
            subscribed.clone(),
            shared.clone(),
            options.max_responses,
        );
        conn.greeting = Some(greet_tx);
        let task = tokio::spawn(conn.run()).abort_handle();
        let greeting = with_timeout(options.timeouts.command, "greeting", async {
            greet_rx.recv().await.unwrap_or_else(|| {
                Err(Error::ConnectionLost {
                    detail: "closed before the greeting".into(),
                })
            })
        })
        .await?;
        if greeting.status == Status::Bye {
            return Err(Error::Bye {
                text: greeting.text,
            });
        }
        let client = ImapClient {
            inner: Arc::new(Inner {
                requests: req_tx,
                shared,
                notifications: Mutex::new(Some(Notifications { rx: note_rx })),
                subscribed,
                greeting,
                tls: is_tls || options.security == Security::StartTls,
                options,
                task,
            }),
        };
        if client.inner.options.security == Security::StartTls {
            client.start_tls().await?;
        }
        if client.capabilities().is_empty() {
            client.run(Command::Capability).await?;
        }
        Ok(client)
    }

    /// STARTTLS, required: refused when the server's known capabilities lack it (nothing is
    /// sent then), or when the server answers NO or BAD. A failed certificate check keeps
    /// its [`TlsFailure`].
    async fn start_tls(&self) -> Result<(), Error> {
        let host = &self.inner.options.host;
        let caps = self.capabilities();
        if !caps.is_empty() && !caps.contains(&Capability::StartTls) {
            return Err(Error::Tls {
                host: host.clone(),
                failure: TlsFailure::Handshake,
                message: "the server does not offer STARTTLS; refusing to go on without TLS".into(),
            });
        }
        let message = match self.run(Command::StartTls).await {
            Ok(_) => return Ok(()),
            Err(e @ Error::Tls { .. }) => return Err(e),
            Err(e @ (Error::No { .. } | Error::Bad { .. })) => {
                format!("the server refuses STARTTLS ({e}); refusing to go on without TLS")
            }
            // Bytes injected in clear after the go-ahead end up here, as the reason the
            // connection ended.
            Err(e) => format!("STARTTLS failed: {e}"),
        };
        Err(Error::Tls {
            host: host.clone(),
            failure: TlsFailure::Handshake,
            message,
        })
    }

    /// The greeting's status, code and text.
    pub fn greeting(&self) -> &StatusText {
        &self.inner.greeting
    }

    /// The server's capabilities as last announced (they change after login).
    pub fn capabilities(&self) -> Vec<Capability> {
        self.shared(|s| s.capabilities.clone())
    }

    /// Whether the server announced `cap`.
    pub fn has_capability(&self, cap: &Capability) -> bool {
        self.shared(|s| s.capabilities.contains(cap))
    }

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.shared(|s| s.state.unwrap_or(ConnectionState::Logout))
    }

    /// The selected mailbox as far as known (exists, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and
    /// the UIDs by sequence number that responses taught). The counters follow every turn of
    /// the connection; the UID map is complete at every command's completion (before its
    /// handle hears of it) and after notifications; while a long FETCH runs it is brought up
    /// to date each time responses numbering a sixteenth of the mailbox's messages arrived.
    pub fn mailbox_view(&self) -> mailbag_proto::imap::client::MailboxView {
        self.shared(|s| s.view.clone())
    }

    /// Whether COMPRESS=DEFLATE is active.
    pub fn is_compressed(&self) -> bool {
        self.shared(|s| s.compressed)
    }

    /// The notification stream; `Some` on the first call only. Until it is taken,
    /// notifications are kept while there is room and then discarded; once taken, none is
    /// ever dropped (see [`Notifications`]).
    pub fn notifications(&self) -> Option<Notifications> {
        let taken = self.inner.notifications.lock().ok()?.take();
        if taken.is_some() {
            self.inner.subscribed.store(true, Ordering::Release);
        }
        taken
    }

    fn shared<T>(&self, f: impl FnOnce(&Shared) -> T) -> T {
        match self.inner.shared.lock() {
            Ok(s) => f(&s),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// Logs in with LOGIN (RFC 9051 6.2.3), then ENABLEs nothing; see [`ImapClient::enable`].
    ///
    /// # Errors
    /// [`Error::Misuse`] over a connection without TLS unless plaintext login was allowed, or
    /// when the server says LOGINDISABLED; [`Error::Auth`] with the server's code and text.
    ///
    /// # Cancel safety
    /// Not cancel safe: the login may complete after the future is dropped.
    pub async fn login(&self, username: &str, password: &str) -> Result<(), Error> {
        self.check_plaintext()?;
        if self.has_capability(&Capability::LoginDisabled) {
            return Err(Error::misuse(
                "the server refuses LOGIN here (LOGINDISABLED)",
            ));
        }
        let command = Command::Login {
            username: username.to_owned(),
            password: Secret::new(password.to_owned()),
        };
        self.authenticated(self.run_raw(self.submit_collected(command).await?).await)
            .await
    }

    /// Logs in with AUTHENTICATE: `mechanism`, or when `None` the strongest the server lists
    /// in AUTH= that mailbag knows (SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN).
    ///
    /// # Errors
    /// As [`ImapClient::login`]; [`Error::Misuse`] when no usable mechanism is offered.
    ///
    /// # Cancel safety
    /// Not cancel safe.
    pub async fn authenticate(
        &self,
        mechanism: Option<Mechanism>,
        credentials: Credentials,
    ) -> Result<(), Error> {
        let offered: Vec<String> = self
            .capabilities()
            .into_iter()
            .filter_map(|c| match c {
                Capability::Auth(m) => Some(m),
                _ => None,
            })
            .collect();
        let mechanism = match mechanism {
            Some(m) => m,
            None => Mechanism::ALL
                .into_iter()
                .filter(|m| !m.uses_token())
                .find(|m| offered.iter().any(|o| o.eq_ignore_ascii_case(m.name())))
                .ok_or_else(|| {
                    Error::misuse(format!("no known SASL mechanism among {offered:?}"))
                })?,
        };
        // Even the challenge-response mechanisms (CRAM-MD5, SCRAM) give an eavesdropper
        // what an offline dictionary attack needs, so all of them need TLS or the opt-in.
        self.check_plaintext()?;
        let (tx, rx) = mpsc::channel(REPLY_CAPACITY);
        let sasl = Box::new(SaslClient::new(mechanism, credentials));
        self.request(Request::Authenticate { sasl, reply: tx })
            .await?;
        self.authenticated(self.run_raw(rx).await).await
    }

    async fn authenticated(&self, outcome: Result<Outcome, Error>) -> Result<(), Error> {
        match outcome {
            Ok(o) => {
                let has_caps = matches!(o.status.code, Some(ResponseCode::Capability(_)));
                if !has_caps {
                    self.run(Command::Capability).await?;
                }
                if self.inner.options.compress {
                    self.compress().await?;
                }
                Ok(())
            }
            Err(Error::No { code, text, .. }) => Err(Error::Auth { code, text }),
            Err(e) => Err(e),
        }
    }

    fn check_plaintext(&self) -> Result<(), Error> {
        if self.inner.tls || self.inner.options.allow_plaintext_login {
            Ok(())
        } else {
            Err(Error::misuse(
                "refusing to send a password without TLS (allow_plaintext_login is off)",
            ))
        }
    }

    /// Negotiates COMPRESS=DEFLATE (RFC 4978) when offered; a no-op when already active or not
    /// offered. Returns whether compression is active.
    ///
    /// # Errors
    /// A NO/BAD from the server, [`Error::ConnectionLost`].
    ///
    /// # Cancel safety
    /// Not cancel safe.
    pub async fn compress(&self) -> Result<bool, Error> {
        if self.is_compressed() {
            return Ok(true);
        }
        if !self.has_capability(&Capability::Compress("DEFLATE".into())) {
            return Ok(false);
        }
        self.run(Command::CompressDeflate).await?;
        Ok(true)
    }

    /// Turns the IDLE mode on or off (RFC 2177). On: whenever no command is running the
    /// connection idles, announcing changes on [`ImapClient::notifications`]; a command issued
    /// meanwhile ends IDLE first (DONE) and IDLE resumes after it; IDLE is re-issued before
    /// `idle_refresh`. Servers without IDLE are polled with NOOP every `poll_interval`.
    ///
    /// # Errors
    /// [`Error::ConnectionLost`].
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn idle(&self, on: bool) -> Result<(), Error> {
        self.request(Request::SetIdle(on)).await
    }

    /// Ends the session without a round trip of its own: LOGOUT goes out once every command
    /// issued before it has completed, and the connection closes as soon as LOGOUT is
    /// written, without waiting for its answer (which tells a program nothing). Saves the round trip [`ImapClient::logout`] waits
    /// for; the CLI ends every command this way. Returns once the connection is closed, or
    /// after the command timeout, when it is cut with [`ImapClient::abort`]. Other handles on
    /// the connection see their later commands fail with [`Error::ConnectionLost`].
    ///
    /// # Cancel safety
    /// Cancel safe once the request is queued: LOGOUT goes out and the connection closes all
    /// the same.
    pub async fn disconnect(&self) {
        let (done, closed) = tokio::sync::oneshot::channel();
        if self.request(Request::Disconnect { done }).await.is_err() {
            return;
        }
        let wait = self.inner.options.timeouts.command;
        if with_timeout(wait, "disconnect", async {
            let _ = closed.await;
            Ok(())
        })
        .await
        .is_err()
        {
            self.abort();
        }
    }

    /// Ends the connection at once, without LOGOUT: every command waiting fails with
    /// [`Error::ConnectionLost`]. For a link found dead, where LOGOUT would wait forever.
    pub fn abort(&self) {
        self.inner.task.abort();
    }

    // ---- plumbing ----

    async fn request(&self, request: Request) -> Result<(), Error> {
        self.inner
            .requests
            .send(request)
            .await
            .map_err(|_| self.lost())
    }

    pub(crate) fn lost(&self) -> Error {
        Error::ConnectionLost {
            detail: self
                .shared(|s| s.closed.clone())
                .unwrap_or_else(|| "the connection task ended".into()),
        }
    }

    /// Submits a command; its replies come on the returned channel.
    pub(crate) async fn submit(&self, command: Command) -> Result<mpsc::Receiver<Reply>, Error> {
        self.submit_with(command, false, None).await
    }

    /// Submits a command whose untagged data [`ImapClient::run_raw`] collects: the
    /// connection bounds how many responses it gets ([`super::ConnectOptions::max_responses`]).
    pub(crate) async fn submit_collected(
        &self,
        command: Command,
    ) -> Result<mpsc::Receiver<Reply>, Error> {
        self.submit_with(command, true, None).await
    }

    /// Submits a command; `collected` as for [`ImapClient::submit_collected`], and the bytes
    /// of its deferred literal ([`Command::AppendStream`]) on `literal`.
    pub(crate) async fn submit_with(
        &self,
        command: Command,
        collected: bool,
        literal: Option<mpsc::Receiver<bytes::Bytes>>,
    ) -> Result<mpsc::Receiver<Reply>, Error> {
        let (tx, rx) = mpsc::channel(REPLY_CAPACITY);
        self.request(Request::Submit {
            command,
            reply: tx,
            collected,
            literal,
        })
        .await?;
        Ok(rx)
    }

    /// Collects a command's data and turns NO/BAD into errors.
    pub(crate) async fn run_raw(&self, mut rx: mpsc::Receiver<Reply>) -> Result<Outcome, Error> {
        let mut data = Vec::new();
        while let Some(reply) = rx.recv().await {
            match reply {
                Reply::Data(d) => data.push(d),
                Reply::Done(status) => return completion(data, status),
                Reply::Failed(e) => return Err(e),
                // Streamed bodies are read by FetchStream; elsewhere they are not asked for.
                Reply::FetchStarted { .. }
                | Reply::FetchBodyStarted { .. }
                | Reply::Chunk(_)
                | Reply::FetchEnded { .. } => {}
            }
        }
        Err(self.lost())
    }

    /// Runs a command to completion.
    pub(crate) async fn run(&self, command: Command) -> Result<Outcome, Error> {
        let name = command_name(&command);
        let rx = self.submit_collected(command).await?;
        self.run_named(name, rx).await
    }

    /// [`ImapClient::run_raw`], with a NO naming the command `name`.
    pub(crate) async fn run_named(
        &self,
        name: &'static str,
        rx: mpsc::Receiver<Reply>,
    ) -> Result<Outcome, Error> {
        self.run_raw(rx).await.map_err(|e| match e {
            Error::No { code, text, .. } => Error::No {
                command: name.to_owned(),
                code,
                text,
            },
            e => e,
        })
    }
}

/// OK, or the NO / BAD as an error with the server's code and text.
pub(crate) fn completion(data: Vec<Data>, status: StatusText) -> Result<Outcome, Error> {
    match status.status {
        Status::Ok => Ok(Outcome { data, status }),
        Status::No => Err(Error::No {
            command: "command".into(),
            code: status.code.as_ref().map(code_text),
            text: status.text,
        }),
        _ => Err(Error::Bad {
            text: match &status.code {
                Some(c) => format!("[{}] {}", code_text(c), status.text),
                None => status.text,
            },
        }),
    }
}

/// A response code as the server wrote its name (`AUTHENTICATIONFAILED`, `TRYCREATE`, ...).
pub(crate) fn code_text(code: &ResponseCode) -> String {
    match code {
        ResponseCode::Rfc5530(c) => format!("{c:?}").to_ascii_uppercase(),
        ResponseCode::Other {
            name,
            text: Some(t),
        } => format!("{name} {t}"),
        ResponseCode::Other { name, text: None } => name.clone(),
        other => {
            let debug = format!("{other:?}");
            debug
                .split(['(', ' ', '{'])
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase()
        }
    }
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Select { .. } => "SELECT",
        Command::Examine { .. } => "EXAMINE",
        Command::Create { .. } => "CREATE",
        Command::Delete(_) => "DELETE",
        Command::Rename { .. } => "RENAME",
        Command::Append { .. } | Command::AppendStream { .. } => "APPEND",
        Command::Store { .. } => "STORE",
        Command::Copy { .. } => "COPY",
        Command::Move { .. } => "MOVE",
        Command::Fetch { .. } => "FETCH",
        Command::Search { .. } => "SEARCH",
        Command::Status { .. } => "STATUS",
        Command::List { .. } => "LIST",
        Command::Expunge | Command::UidExpunge(_) => "EXPUNGE",
        _ => "command",
    }
}
