//! SASL client mechanisms, sans-IO, shared by IMAP `AUTHENTICATE` and POP3 `AUTH`.
//!
//! Implemented: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195),
//! SCRAM-SHA-256 (RFC 5802 section 5, RFC 7677; no channel binding, the server signature is
//! verified), XOAUTH2 (Google's and Microsoft's documented format) and OAUTHBEARER (RFC 7628
//! section 3.2, including the error step of section 3.2.3).
//!
//! Bytes in, bytes out: the protocol layer does base64 (RFC 3501 section 6.2.2, RFC 5034
//! section 4). The driver calls [`SaslClient::initial_response`] when the protocol can carry one
//! (SASL-IR, RFC 5034's initial response), then [`SaslClient::step`] for every server
//! challenge, and finally [`SaslClient::verify_final`] with the success data, if any, once the
//! server said OK. A mechanism whose initial response was not sent answers it to the first,
//! empty, challenge.
//!
//! ```
//! use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
//!
//! // RFC 2195's CRAM-MD5 example.
//! let mut sasl = SaslClient::new(Mechanism::CramMd5, Credentials::new("tim", "tanstaaftanstaaf"));
//! assert!(sasl.initial_response().is_none());
//! let answer = sasl.step(b"<1896.697170952@postoffice.reston.mci.net>").unwrap();
//! assert_eq!(answer, b"tim b913a602c7eda7a495b4e6e7334d3890");
//! assert!(sasl.is_complete());
//! ```
//!
//! The SCRAM user name is escaped (`=` and `,`) but not SASLprep-normalised: mailbag passes
//! user names and passwords through as UTF-8, which is what Dovecot and Cyrus compare against.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Largest SCRAM iteration count accepted from a server: a hostile server must not make the
/// client spin for minutes.
pub const MAX_SCRAM_ITERATIONS: u32 = 1_000_000;

/// A SASL mechanism that the client can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN`, RFC 4616: the password in clear (only over TLS).
    Plain,
    /// `LOGIN`: user name and password as two answers to two challenges.
    Login,
    /// `CRAM-MD5`, RFC 2195: HMAC-MD5 of the server's challenge.
    CramMd5,
    /// `SCRAM-SHA-256`, RFC 7677: salted challenge-response with mutual authentication.
    ScramSha256,
    /// `XOAUTH2`: an OAuth 2.0 bearer token in Google's and Microsoft's format.
    XOAuth2,
    /// `OAUTHBEARER`, RFC 7628: an OAuth 2.0 bearer token.
    OAuthBearer,
}

impl Mechanism {
    /// Every mechanism, strongest password mechanism first.
    pub const ALL: [Mechanism; 6] = [
        Mechanism::ScramSha256,
        Mechanism::CramMd5,
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::OAuthBearer,
        Mechanism::XOAuth2,
    ];

    /// The registered name, as servers list it.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The mechanism of a name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Whether the secret is a token (OAuth) rather than a password.
    pub fn uses_token(self) -> bool {
        matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }

    /// Whether an eavesdropper learns the secret (or a replayable token) from the exchange.
    pub fn exposes_secret(self) -> bool {
        matches!(
            self,
            Mechanism::Plain | Mechanism::Login | Mechanism::XOAuth2 | Mechanism::OAuthBearer
        )
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who authenticates, and with what.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The authentication identity (the login name).
    pub username: String,
    /// The password, or the OAuth access token for XOAUTH2 / OAUTHBEARER.
    pub secret: Secret<String>,
    /// An authorisation identity to act as, if different from `username`.
    pub authzid: Option<String>,
}

impl Credentials {
    /// Credentials with no separate authorisation identity.
    pub fn new(username: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            secret: Secret::new(secret.into()),
            authzid: None,
        }
    }
}

/// Why a SASL exchange failed on the client side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The server sent a challenge the mechanism does not expect at this step.
    #[error("unexpected SASL challenge from the server: {0}")]
    UnexpectedChallenge(&'static str),
    /// The server's challenge does not follow the mechanism's grammar.
    #[error("malformed SASL challenge from the server: {0}")]
    MalformedChallenge(&'static str),
    /// SCRAM: the server nonce does not extend the client nonce (RFC 5802 section 5.1).
    #[error("SCRAM server nonce does not start with the client nonce")]
    NonceMismatch,
    /// SCRAM: the server's signature is wrong: the server does not know the password.
    #[error("SCRAM server signature does not verify: the server is not who it claims")]
    ServerSignatureMismatch,
    /// SCRAM: the server ended the exchange with an `e=` error.
    #[error("SCRAM server error: {0}")]
    ServerError(String),
    /// SCRAM: the iteration count is zero or above [`MAX_SCRAM_ITERATIONS`].
    #[error("SCRAM iteration count {0} refused")]
    IterationCount(u32),
    /// The server declared success before the mechanism finished (e.g. SCRAM without a
    /// server signature).
    #[error("the server ended the SASL exchange before the mechanism completed")]
    Incomplete,
    /// A credential contains a byte the mechanism cannot carry (NUL, or `\x01` for OAuth).
    #[error("the credentials contain a character that {0} cannot carry")]
    InvalidCredentials(&'static str),
}

#[derive(Debug)]
enum State {
    /// Nothing sent yet.
    Start,
    /// LOGIN: user name sent, password next.
    LoginUserSent,
    /// SCRAM: client-first sent; `bare` is the client-first-message-bare.
    ScramFirstSent { bare: String },
    /// SCRAM: client-final sent; `server_signature` is what the server must prove.
    ScramFinalSent { server_signature: Vec<u8> },
    /// OAuth: the server sent an error JSON and we answered `\x01`.
    OAuthErrorAcknowledged,
    /// Everything sent (and, for SCRAM, the server verified).
    Done,
    /// A step failed; the exchange must be cancelled.
    Failed,
}

/// A client-side SASL exchange. See the module documentation for the call order.
#[derive(Debug)]
pub struct SaslClient {
    mechanism: Mechanism,
    credentials: Credentials,
    client_nonce: String,
    state: State,
    oauth_error: Option<Vec<u8>>,
}

impl SaslClient {
    /// Starts an exchange; SCRAM draws its client nonce from the thread's CSPRNG.
    pub fn new(mechanism: Mechanism, credentials: Credentials) -> Self {
        let mut raw = [0u8; 18];
        rand::thread_rng().fill(&mut raw);
        Self::with_client_nonce(mechanism, credentials, BASE64.encode(raw))
    }

    /// Starts an exchange with a caller-chosen SCRAM client nonce (printable, no `,`).
    pub fn with_client_nonce(
        mechanism: Mechanism,
        credentials: Credentials,
        client_nonce: String,
    ) -> Self {
        SaslClient {
            mechanism,
            credentials,
            client_nonce,
            state: State::Start,
            oauth_error: None,
        }
    }

    /// The mechanism this exchange runs.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Whether the client has nothing more to send or verify.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The OAuth error JSON the server sent, if it refused the token (RFC 7628 section 3.2.2).
    pub fn oauth_error(&self) -> Option<&[u8]> {
        self.oauth_error.as_deref()
    }

    /// The client's first message, for protocols that send one with the command. `None` for
    /// mechanisms where the server speaks first (LOGIN, CRAM-MD5) or after it was taken once.
    pub fn initial_response(&mut self) -> Option<Result<Vec<u8>, SaslError>> {
        if !matches!(self.state, State::Start) {
            return None;
        }
        match self.mechanism {
            Mechanism::Login | Mechanism::CramMd5 => None,
            _ => Some(self.first_message()),
        }
    }

    /// Answers one server challenge (already base64-decoded).
    ///
    /// # Errors
    /// A [`SaslError`] when the challenge is out of place or malformed, or SCRAM's server proof
    /// does not verify; the exchange should then be cancelled (`*` in POP3 and IMAP).
    pub fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        let result = self.step_inner(challenge);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn step_inner(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        let state = std::mem::replace(&mut self.state, State::Done);
        match (self.mechanism, state) {
            (Mechanism::Login, State::Start) => {
                self.state = State::LoginUserSent;
                Ok(self.credentials.username.as_bytes().to_vec())
            }
            (Mechanism::Login, State::LoginUserSent) => {
                Ok(self.credentials.secret.expose().as_bytes().to_vec())
            }
            (Mechanism::CramMd5, State::Start) => self.cram_md5(challenge),
            (Mechanism::ScramSha256, State::ScramFirstSent { bare }) => {
                self.scram_final(&bare, challenge)
            }
            (Mechanism::ScramSha256, State::ScramFinalSent { server_signature }) => {
                self.scram_verify(&server_signature, challenge)?;
                Ok(Vec::new())
            }
            (Mechanism::XOAuth2 | Mechanism::OAuthBearer, State::Done) if !challenge.is_empty() => {
                // RFC 7628 section 3.2.3: the client answers an error with a single 0x01;
                // XOAUTH2 takes an empty answer.
                self.oauth_error = Some(challenge.to_vec());
                self.state = State::OAuthErrorAcknowledged;
                Ok(if self.mechanism == Mechanism::OAuthBearer {
                    vec![0x01]
                } else {
                    Vec::new()
                })
            }
            (_, State::Start) if challenge.is_empty() => self.first_message(),
            _ => Err(SaslError::UnexpectedChallenge(self.mechanism.name())),
        }
    }

    /// Checks the end of the exchange once the server reported success; `success_data` is
    /// the data sent with the success (IMAP's `OK [SASL ...]`-style additional data), if any.
    ///
    /// # Errors
    /// [`SaslError::Incomplete`] when the mechanism did not finish (e.g. SCRAM without the
    /// server signature), or SCRAM's verification errors.
    pub fn verify_final(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        let state = std::mem::replace(&mut self.state, State::Done);
        match (state, success_data) {
            (State::ScramFinalSent { server_signature }, Some(data)) => {
                let result = self.scram_verify(&server_signature, data);
                if result.is_err() {
                    self.state = State::Failed;
                }
                result
            }
            (State::Done, _) => Ok(()),
            (State::ScramFinalSent { server_signature }, None) => {
                self.state = State::ScramFinalSent { server_signature };
                Err(SaslError::Incomplete)
            }
            _ => {
                self.state = State::Failed;
                Err(SaslError::Incomplete)
            }
        }
    }

    fn first_message(&mut self) -> Result<Vec<u8>, SaslError> {
        let c = &self.credentials;
        let authzid = c.authzid.as_deref().unwrap_or("");
        let secret = c.secret.expose();
        match self.mechanism {
            Mechanism::Plain => {
                if [authzid, &c.username, secret]
                    .iter()
                    .any(|s| s.contains('\0'))
                {
                    return Err(SaslError::InvalidCredentials("PLAIN"));
                }
                self.state = State::Done;
                Ok(format!("{authzid}\0{}\0{secret}", c.username).into_bytes())
            }
            Mechanism::ScramSha256 => {
                let bare = format!("n={},r={}", scram_escape(&c.username), self.client_nonce);
                let gs2 = gs2_header(c.authzid.as_deref());
                let message = format!("{gs2}{bare}").into_bytes();
                self.state = State::ScramFirstSent { bare };
                Ok(message)
            }
            Mechanism::XOAuth2 => {
                if c.username.contains('\x01') || secret.contains('\x01') {
                    return Err(SaslError::InvalidCredentials("XOAUTH2"));
                }
                self.state = State::Done;
                Ok(format!("user={}\x01auth=Bearer {secret}\x01\x01", c.username).into_bytes())
            }
            Mechanism::OAuthBearer => {
                if c.username.contains('\x01') || secret.contains('\x01') {
                    return Err(SaslError::InvalidCredentials("OAUTHBEARER"));
                }
                self.state = State::Done;
                let gs2 = gs2_header(Some(c.authzid.as_deref().unwrap_or(&c.username)));
                Ok(format!("{gs2}\x01auth=Bearer {secret}\x01\x01").into_bytes())
            }
            Mechanism::Login | Mechanism::CramMd5 => {
                Err(SaslError::UnexpectedChallenge(self.mechanism.name()))
            }
        }
    }

    fn cram_md5(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        if challenge.is_empty() {
            return Err(SaslError::MalformedChallenge(
                "CRAM-MD5 needs a non-empty challenge",
            ));
        }
        let mut mac =
            <Hmac<md5::Md5> as Mac>::new_from_slice(self.credentials.secret.expose().as_bytes())
                .map_err(|_| SaslError::InvalidCredentials("CRAM-MD5"))?;
        mac.update(challenge);
        let digest = mac.finalize().into_bytes();
        let mut out = self.credentials.username.as_bytes().to_vec();
        out.push(b' ');
        out.extend(hex(&digest).into_bytes());
        Ok(out)
    }

    fn scram_final(&mut self, bare: &str, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        let server_first = std::str::from_utf8(challenge)
            .map_err(|_| SaslError::MalformedChallenge("not UTF-8"))?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attr in server_first.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("m", _)) => {
                    return Err(SaslError::MalformedChallenge("mandatory extension m="))
                }
                Some(("e", v)) => return Err(SaslError::ServerError(v.to_owned())),
                _ => {}
            }
        }
        let nonce = nonce.ok_or(SaslError::MalformedChallenge("no nonce r="))?;
        if !nonce.starts_with(&self.client_nonce) || nonce.len() <= self.client_nonce.len() {
            return Err(SaslError::NonceMismatch);
        }
        let salt = salt
            .and_then(|s| BASE64.decode(s).ok())
            .ok_or(SaslError::MalformedChallenge("no valid salt s="))?;
        let iterations: u32 = iterations
            .and_then(|i| i.parse().ok())
            .ok_or(SaslError::MalformedChallenge("no valid iteration count i="))?;
        if iterations == 0 || iterations > MAX_SCRAM_ITERATIONS {
            return Err(SaslError::IterationCount(iterations));
        }
        let password = self.credentials.secret.expose().as_bytes();
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password, &salt, iterations, &mut salted);
        let client_key = hmac_sha256(&salted, b"Client Key")?;
        let stored_key = Sha256::digest(&client_key);
        let server_key = hmac_sha256(&salted, b"Server Key")?;
        let channel_binding = BASE64.encode(gs2_header(self.credentials.authzid.as_deref()));
        let without_proof = format!("c={channel_binding},r={nonce}");
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let client_signature = hmac_sha256(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key
            .iter()
            .zip(client_signature.iter())
            .map(|(k, s)| k ^ s)
            .collect();
        let server_signature = hmac_sha256(&server_key, auth_message.as_bytes())?;
        self.state = State::ScramFinalSent { server_signature };
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)).into_bytes())
    }

    fn scram_verify(&mut self, expected: &[u8], server_final: &[u8]) -> Result<(), SaslError> {
        let text = std::str::from_utf8(server_final)
            .map_err(|_| SaslError::MalformedChallenge("not UTF-8"))?;
        let text = text.trim_end();
        if let Some(e) = text.strip_prefix("e=") {
            return Err(SaslError::ServerError(e.to_owned()));
        }
        let v = text
            .split(',')
            .find_map(|a| a.strip_prefix("v="))
            .ok_or(SaslError::MalformedChallenge("no server signature v="))?;
        let got = BASE64
            .decode(v)
            .map_err(|_| SaslError::MalformedChallenge("server signature is not base64"))?;
        if !constant_time_eq(&got, expected) {
            return Err(SaslError::ServerSignatureMismatch);
        }
        self.state = State::Done;
        Ok(())
    }
}

/// RFC 5802 section 7 `gs2-header`, without channel binding.
fn gs2_header(authzid: Option<&str>) -> String {
    match authzid {
        Some(a) => format!("n,a={},", scram_escape(a)),
        None => "n,,".to_owned(),
    }
}

/// RFC 5802 section 5.1 `saslname`: `=` becomes `=3D` and `,` becomes `=2C`.
fn scram_escape(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, SaslError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| SaslError::InvalidCredentials("SCRAM-SHA-256"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lower-case hexadecimal, as CRAM-MD5 and APOP send digests.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    let digit = |n: u8| char::from(DIGITS.get(usize::from(n)).copied().unwrap_or(b'0'));
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
    out
}
