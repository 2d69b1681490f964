//! Connection set-up, the event loop that drives [`Session`] over a [`Stream`], and login
//! (RFC 1939 sections 4 and 7, RFC 2595 section 4, RFC 5034 section 4).

use mailbag_proto::pop3::{
    Capabilities, Command, CommandId, Event, Greeting, ParseError, Reply, Session, SessionState,
    StatusLine,
};
use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
use mailbag_proto::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::debug;

use super::{ConnectOptions, LoginMethod};
use crate::error::{Error, TlsFailure};
use crate::tls::TlsConfig;
use crate::transport::{with_timeout, Security, Stream};

/// Room made in the session's buffer before each read.
const READ_BUFFER: usize = 64 * 1024;

/// A POP3 connection. One command runs at a time per `&mut self`; batch methods pipeline.
///
/// # Cancel safety
/// Dropping a method's future while it waits for the reply is safe: the reply is read and
/// skipped by the next call. Dropping it while a command is being written leaves the
/// connection unusable; later calls then return [`Error::ConnectionLost`].
#[derive(Debug)]
pub struct Pop3Client {
    pub(super) stream: Stream,
    pub(super) session: Session,
    options: ConnectOptions,
    greeting: Option<Greeting>,
    capabilities: Option<Capabilities>,
    failed: Option<String>,
    /// A DELE was sent since the last successful RSET: QUIT's answer matters.
    pub(super) marked: bool,
}

impl Pop3Client {
    /// Connects, reads the greeting, asks CAPA, and with [`Security::StartTls`] upgrades by
    /// STLS (refusing to go on if the server does not agree).
    ///
    /// # Errors
    /// [`Error::Connect`], [`Error::Tls`], [`Error::Timeout`], [`Error::Bye`] for an `-ERR`
    /// greeting, [`Error::Protocol`] for a broken greeting.
    ///
    /// # Cancel safety
    /// Not cancel safe: a cancelled connect leaves nothing to reuse.
    pub async fn connect(options: ConnectOptions) -> Result<Pop3Client, Error> {
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
        let mut session = Session::new();
        session.set_window(options.pipeline_window);
        session.set_listing_limits(options.max_listing_bytes, options.max_listing_lines);
        let mut client = Pop3Client {
            stream,
            session,
            options,
            greeting: None,
            capabilities: None,
            failed: None,
            marked: false,
        };
        let greeting = match client.next_event().await? {
            Event::GreetingReceived(g) => g,
            other => {
                return Err(Error::protocol(
                    format!("expected greeting, got {other:?}"),
                    &[],
                ))
            }
        };
        debug!(target: "mailbag::pop3", "S: greeting {}{}", if greeting.status.ok { "+OK " } else { "-ERR " }, greeting.status.text);
        if !greeting.status.ok {
            return Err(Error::Bye {
                text: greeting.status.text,
            });
        }
        client.greeting = Some(greeting);
        client.capa().await?;
        if client.options.security == Security::StartTls {
            client.stls(&tls).await?;
        }
        Ok(client)
    }

    async fn stls(&mut self, tls: &TlsConfig) -> Result<(), Error> {
        if let Err(e) = self.run(Command::Stls).await {
            return Err(Error::Tls {
                host: self.options.host.clone(),
                failure: TlsFailure::Handshake,
                message: format!("the server does not start TLS (STLS): {e}"),
            });
        }
        self.stream
            .upgrade(&self.options.host, tls, &self.options.timeouts)
            .await?;
        let injected = self.session.tls_established();
        if injected > 0 {
            // CVE-2011-0411: bytes after the STLS +OK were sent in clear by someone.
            return Err(Error::protocol(
                format!("{injected} bytes arrived in clear after the STLS go-ahead"),
                &[],
            ));
        }
        self.capa().await?;
        Ok(())
    }

    /// The greeting's status line.
    pub fn greeting(&self) -> Option<&StatusLine> {
        self.greeting.as_ref().map(|g| &g.status)
    }

    /// The capabilities from the last CAPA, `None` if the server has no CAPA.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Sends CAPA and stores the answer; a server without CAPA gives `None`.
    ///
    /// # Errors
    /// Connection and protocol errors.
    pub async fn capa(&mut self) -> Result<Option<Capabilities>, Error> {
        match self.run(Command::Capa).await {
            Ok(Reply::Capa(c)) => {
                self.capabilities = Some(c.clone());
                Ok(Some(c))
            }
            Ok(_) => Ok(None),
            Err(Error::No { .. }) => {
                self.capabilities = None;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Logs in. Over a connection without TLS this is refused unless the connection was
    /// made with [`Security::Plaintext`].
    ///
    /// # Errors
    /// [`Error::Auth`] with the server's words when the credentials are refused;
    /// [`Error::Misuse`] when the method is not offered or TLS is missing.
    pub async fn login(
        &mut self,
        user: &str,
        password: &Secret<String>,
        method: LoginMethod,
    ) -> Result<(), Error> {
        if !self.stream.is_tls() && self.options.security != Security::Plaintext {
            return Err(Error::misuse("refusing to send credentials without TLS"));
        }
        let method = match method {
            LoginMethod::Auto => self.choose_method(),
            m => m,
        };
        debug!(target: "mailbag::pop3", ?method, "logging in");
        let result = match method {
            LoginMethod::Apop => {
                let stamp = self
                    .greeting
                    .as_ref()
                    .and_then(|g| g.timestamp.clone())
                    .ok_or_else(|| Error::misuse("the greeting has no APOP timestamp"))?;
                let digest = Greeting::apop_digest(&stamp, password.expose());
                let command = Command::Apop {
                    user: user.to_owned(),
                    digest: Secret::new(digest),
                };
                self.run(command).await
            }
            LoginMethod::Sasl(mechanism) => {
                let sasl =
                    SaslClient::new(mechanism, Credentials::new(user, password.expose().clone()));
                let id = self
                    .session
                    .authenticate(sasl, true)
                    .map_err(Error::misuse)?;
                self.wait(id, "AUTH").await
            }
            LoginMethod::UserPass | LoginMethod::Auto => {
                let user_id = self
                    .session
                    .send(Command::User(user.to_owned()))
                    .map_err(Error::misuse)?;
                let user_result = self.wait(user_id, "USER").await;
                match user_result {
                    Ok(_) => self.run(Command::Pass(password.clone())).await,
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok(_) => {
                // RFC 2449 section 5: capabilities may change after login.
                self.capa().await?;
                Ok(())
            }
            Err(Error::No { code, text, .. }) => Err(Error::Auth { code, text }),
            Err(e) => Err(e),
        }
    }

    fn choose_method(&self) -> LoginMethod {
        let offered = self
            .capabilities
            .as_ref()
            .map(|c| c.sasl_mechanisms())
            .unwrap_or_default();
        [Mechanism::ScramSha256, Mechanism::CramMd5, Mechanism::Plain]
            .into_iter()
            .find(|m| offered.iter().any(|o| o == m.name()))
            .map_or(LoginMethod::UserPass, LoginMethod::Sasl)
    }

    /// The session state.
    pub fn state(&self) -> SessionState {
        self.session.state()
    }

    /// Sends one command and waits for its reply.
    pub(super) async fn run(&mut self, command: Command) -> Result<Reply, Error> {
        let keyword = command.keyword();
        let id = self.session.send(command).map_err(Error::misuse)?;
        self.wait(id, keyword).await
    }

    /// Waits for the final reply to `id`, skipping what is left of abandoned commands.
    pub(super) async fn wait(&mut self, id: CommandId, keyword: &str) -> Result<Reply, Error> {
        loop {
            match self.next_event().await? {
                Event::Ok { id: got, reply } if got == id => return Ok(reply),
                Event::Err { id: got, status } if got == id => {
                    return Err(no(keyword, status));
                }
                Event::Malformed { id: got, error } if got == id => {
                    return Err(Error::protocol(error.to_string(), error.offending_bytes()));
                }
                Event::SaslFailed { id: got, error } if got == id => {
                    return Err(Error::Auth {
                        code: None,
                        text: format!("SASL exchange failed on the client side: {error}"),
                    });
                }
                _ => {}
            }
        }
    }

    /// Writes what may go out, then returns the next event, reading as needed.
    pub(super) async fn next_event(&mut self) -> Result<Event, Error> {
        if let Some(detail) = &self.failed {
            return Err(Error::ConnectionLost {
                detail: detail.clone(),
            });
        }
        let result = self.next_event_inner().await;
        if let Err(
            e @ (Error::ConnectionLost { .. }
            | Error::Protocol { .. }
            | Error::Timeout { .. }
            | Error::LimitExceeded { .. }),
        ) = &result
        {
            self.failed = Some(format!("the session failed earlier: {e}"));
        }
        result
    }

    async fn next_event_inner(&mut self) -> Result<Event, Error> {
        loop {
            self.transmit().await?;
            match self.session.poll_event() {
                Ok(Some(event)) => {
                    trace_event(&event);
                    return Ok(event);
                }
                Ok(None) => {}
                Err(e) => return Err(parse_error(e)),
            }
            // Parsing may have produced an answer (an AUTH challenge response).
            self.transmit().await?;
            if self.session.state() == SessionState::Closed && !self.session.is_busy() {
                return Err(Error::misuse("the session is closed"));
            }
            let timeout = self.options.timeouts.command;
            // Read straight into the session's buffer: message chunks are slices of it.
            let stream = &mut self.stream;
            let buf = self.session.receive_buffer(READ_BUFFER);
            let n = with_timeout(timeout, "command", async {
                stream.read_buf(buf).await.map_err(lost)
            })
            .await?;
            if n == 0 {
                return Err(Error::ConnectionLost {
                    detail: "the server closed the connection in the middle of a reply".into(),
                });
            }
        }
    }
}

impl Pop3Client {
    pub(super) async fn transmit(&mut self) -> Result<(), Error> {
        // Redacted lines are made only while someone logs them.
        self.session
            .set_trace(tracing::enabled!(target: "mailbag::pop3", tracing::Level::DEBUG));
        while let Some(t) = self.session.poll_transmit() {
            for line in &t.redacted {
                debug!(target: "mailbag::pop3", "C: {line}");
            }
            // If this future is dropped mid-write, a partial command may be on the wire: the
            // mark stays and every later call fails instead of desynchronising.
            self.failed = Some("a command was cancelled while being written".to_owned());
            self.stream.write_all(&t.data).await.map_err(lost)?;
            self.stream.flush().await.map_err(lost)?;
            self.failed = None;
        }
        Ok(())
    }
}

fn trace_event(event: &Event) {
    match event {
        Event::Ok { reply, .. } => match reply {
            Reply::List(v) => debug!(target: "mailbag::pop3", "S: +OK {} LIST entries", v.len()),
            Reply::Uidl(v) => debug!(target: "mailbag::pop3", "S: +OK {} UIDL entries", v.len()),
            other => debug!(target: "mailbag::pop3", "S: +OK {other:?}"),
        },
        Event::BodyChunk { chunk, .. } => {
            tracing::trace!(target: "mailbag::pop3", "S: <{} body bytes>", chunk.len())
        }
        other => debug!(target: "mailbag::pop3", "S: {other:?}"),
    }
}

/// A broken reply: a limit passed is [`Error::LimitExceeded`], anything else
/// [`Error::Protocol`].
fn parse_error(e: ParseError) -> Error {
    let (what, limit) = match e {
        ParseError::LineTooLong { limit } => ("bytes in one line", limit),
        ParseError::TooLarge { limit } => ("bytes in one listing", limit),
        ParseError::TooManyLines { limit } => ("lines in one listing", limit),
        e => return Error::protocol(e.to_string(), e.offending_bytes()),
    };
    Error::LimitExceeded {
        what,
        limit: u64::try_from(limit).unwrap_or(u64::MAX),
    }
}

fn lost(e: std::io::Error) -> Error {
    Error::ConnectionLost {
        detail: e.to_string(),
    }
}

pub(super) fn no(keyword: &str, status: StatusLine) -> Error {
    Error::No {
        command: keyword.to_owned(),
        code: status.code.map(|c| c.to_string()),
        text: status.text,
    }
}
