//! Security guarantees of the async IMAP client, each against a scripted peer that checks
//! the bytes it receives (see SECURITY.md, which points here):
//!
//! - STARTTLS not offered, or answered NO or BAD: the connection is refused and nothing
//!   more goes out, least of all a password;
//! - bytes sent in clear after the STARTTLS go-ahead (CVE-2011-0411) are never acted on;
//! - a certificate for another host, an expired one, or one from an unknown authority is
//!   refused, and the error says which;
//! - no LOGIN or AUTHENTICATE without TLS unless plaintext login was allowed;
//! - CR, LF and NUL in mailbox names, flags, search strings and user names cannot start a
//!   second command;
//! - passwords appear in no `Debug` output.

use std::time::Duration;

use mailbag::imap::{
    Capability, ConnectOptions, Flag, ImapClient, Mechanism, SearchKey, SequenceSet, StoreKind,
    Uid, WatchLogin, WatchOptions, Watcher,
};
use mailbag::proto::imap::client::{ClientCore, Config};
use mailbag::proto::imap::Command;
use mailbag::proto::sasl::{Credentials, SaslClient};
use mailbag::proto::Secret;
use mailbag::{Error, Security, TlsFailure};
use mailbag_testserver::peer::{PeerCertificate, Script, ScriptedPeer};

/// A password no test output may contain.
const PASSWORD: &str = "Hunter2-Zebra-Quokka";

/// Options for `peer`, trusting only the peer's CA.
fn options(peer: &ScriptedPeer, security: Security) -> ConnectOptions {
    let mut o = ConnectOptions::new("localhost", security)
        .port(peer.port())
        .ca_file(peer.ca_file());
    o.only_ca_file = true;
    o.timeouts.command = Some(Duration::from_secs(10));
    o
}

async fn refused_starttls(script: Script) -> Error {
    let peer = ScriptedPeer::start(script.expect_eof()).await.unwrap();
    let err = ImapClient::connect(options(&peer, Security::StartTls))
        .await
        .unwrap_err();
    // `expect_eof`: after the refusal the client closed without sending anything more.
    peer.finish().await.expect("the client followed the script");
    assert!(
        matches!(
            &err,
            Error::Tls {
                failure: TlsFailure::Handshake,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("STARTTLS"), "{err}");
    err
}

#[tokio::test]
async fn starttls_not_advertised_is_refused_before_anything_is_sent() {
    let err = refused_starttls(Script::from_transcript(
        "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN-REFERRALS] no TLS here",
    ))
    .await;
    assert!(err.to_string().contains("does not offer STARTTLS"), "{err}");
}

#[tokio::test]
async fn starttls_answered_no_is_refused() {
    let err = refused_starttls(Script::from_transcript(
        "S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready
         C: {tag} STARTTLS
         S: {tag} NO [UNAVAILABLE] TLS is down today",
    ))
    .await;
    assert!(err.to_string().contains("TLS is down today"), "{err}");
}

#[tokio::test]
async fn starttls_answered_bad_is_refused() {
    // No capabilities in the greeting: the client asks for STARTTLS straight away.
    let err = refused_starttls(Script::from_transcript(
        "S: * OK ready
         C: {tag} STARTTLS
         S: {tag} BAD unknown command",
    ))
    .await;
    assert!(err.to_string().contains("unknown command"), "{err}");
}

#[tokio::test]
async fn bytes_after_the_starttls_go_ahead_are_not_acted_on() {
    // A man in the middle appends responses to the server's OK, in the same packet: new
    // capabilities (no STARTTLS, LOGIN allowed) and a tagged OK for the next command. Read
    // as if they came over TLS, they would change what the client believes.
    let peer = ScriptedPeer::start(
        Script::from_transcript(
            "S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready
             C: {tag} STARTTLS",
        )
        .send("{tag} OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA2 OK LOGIN done\r\n")
        .start_tls()
        // Over TLS the client says nothing more: no CAPABILITY, no LOGIN.
        .expect_eof(),
    )
    .await
    .unwrap();
    let err = ImapClient::connect(options(&peer, Security::StartTls))
        .await
        .unwrap_err();
    peer.finish()
        .await
        .expect("the handshake completed and then the client closed");
    assert!(
        err.to_string()
            .contains("bytes arrived in clear after the STARTTLS go-ahead"),
        "{err}"
    );
}

#[tokio::test]
async fn bytes_in_a_later_packet_before_the_handshake_break_it() {
    // The injected bytes come after a pause, while the client is in its handshake: they are
    // not a TLS record, so the handshake fails and no session exists to log in with.
    let peer = ScriptedPeer::start(
        Script::from_transcript(
            "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
             C: {tag} STARTTLS
             S: {tag} OK begin TLS",
        )
        .sleep(Duration::from_millis(50))
        .send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"),
    )
    .await
    .unwrap();
    let err = ImapClient::connect(options(&peer, Security::StartTls))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

/// Connects with `security` to a peer presenting `cert`; returns the error.
async fn certificate_error(cert: PeerCertificate, security: Security, trust: bool) -> Error {
    let mut builder = ScriptedPeer::builder().certificate(cert);
    builder = match security {
        Security::Implicit => builder.implicit_tls().connection(Script::new()),
        _ => builder.connection(
            Script::from_transcript(
                "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                 C: {tag} STARTTLS
                 S: {tag} OK begin TLS",
            )
            .start_tls(),
        ),
    };
    let peer = builder.start().await.unwrap();
    let mut o = options(&peer, security);
    if !trust {
        o.ca_file = None;
        o.only_ca_file = false;
    }
    let err = ImapClient::connect(o).await.unwrap_err();
    // The peer's handshake fails with the client's alert: nothing to check there.
    drop(peer);
    err
}

fn assert_tls(err: &Error, want: TlsFailure, words: &str) {
    match err {
        Error::Tls { failure, .. } => assert_eq!(*failure, want, "{err:?}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(err.to_string().contains(words), "{err}");
}

#[tokio::test]
async fn certificate_for_another_host_is_refused() {
    for security in [Security::Implicit, Security::StartTls] {
        let cert = PeerCertificate::ForNames(vec!["mail.other.example".into()]);
        let err = certificate_error(cert, security, true).await;
        assert_tls(
            &err,
            TlsFailure::NameMismatch,
            "not valid for this host name",
        );
    }
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    for security in [Security::Implicit, Security::StartTls] {
        let err = certificate_error(PeerCertificate::Expired, security, true).await;
        assert_tls(&err, TlsFailure::Expired, "expired");
    }
}

#[tokio::test]
async fn self_signed_certificate_is_refused() {
    // Self-signed, so the CA the client trusts did not sign it.
    let err = certificate_error(PeerCertificate::SelfSigned, Security::Implicit, true).await;
    assert_tls(&err, TlsFailure::UnknownIssuer, "unknown authority");
    // A private CA without a CA file: only the platform roots are trusted.
    let err = certificate_error(PeerCertificate::Valid, Security::Implicit, false).await;
    assert_tls(&err, TlsFailure::UnknownIssuer, "unknown authority");
}

#[tokio::test]
async fn certificate_from_an_impostor_of_a_trusted_ca_is_refused() {
    // The trusted CA file holds a CA with the very name of the peer's CA, but another key:
    // the peer's certificate names a trusted issuer whose key did not sign it.
    let peer = ScriptedPeer::builder()
        .implicit_tls()
        .connection(Script::new())
        .start()
        .await
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mailbag scripted peer CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let impostor = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("impostor.pem");
    std::fs::write(&ca_file, impostor.pem()).unwrap();
    let mut o = options(&peer, Security::Implicit);
    o.ca_file = Some(ca_file);
    let err = ImapClient::connect(o).await.unwrap_err();
    assert_tls(&err, TlsFailure::UnknownIssuer, "unknown authority");
}

const PLAINTEXT_GREETING: &str = "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN \
     AUTH=CRAM-MD5 AUTH=SCRAM-SHA-256 AUTH=XOAUTH2] plaintext server";

#[tokio::test]
async fn no_login_or_authenticate_without_tls_unless_allowed() {
    let peer = ScriptedPeer::start(Script::from_transcript(PLAINTEXT_GREETING).expect_eof())
        .await
        .unwrap();
    let mut o = options(&peer, Security::Plaintext);
    o.allow_plaintext_login = false;
    let c = ImapClient::connect(o).await.unwrap();
    let creds = || Credentials::new("joe", PASSWORD);
    let mut refusals = vec![c.login("joe", PASSWORD).await.unwrap_err()];
    refusals.push(c.authenticate(None, creds()).await.unwrap_err());
    for mech in [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::ScramSha256,
        Mechanism::XOAuth2,
    ] {
        refusals.push(c.authenticate(Some(mech), creds()).await.unwrap_err());
    }
    for err in &refusals {
        assert!(
            matches!(err, Error::Misuse { detail } if detail.contains("without TLS")),
            "{err:?}"
        );
    }
    drop(c);
    // `expect_eof`: not one byte went out, no LOGIN, no AUTHENTICATE.
    peer.finish().await.expect("nothing was sent");
}

#[tokio::test]
async fn plaintext_login_goes_out_only_when_allowed() {
    let peer = ScriptedPeer::start(Script::from_transcript(&format!(
        "{PLAINTEXT_GREETING}
         C: {{tag}} LOGIN joe {PASSWORD}
         S: {{tag}} OK [CAPABILITY IMAP4rev1] in"
    )))
    .await
    .unwrap();
    let o = options(&peer, Security::Plaintext).allow_plaintext_login(true);
    let c = ImapClient::connect(o).await.unwrap();
    c.login("joe", PASSWORD).await.unwrap();
    drop(c);
    peer.finish().await.unwrap();
}

#[tokio::test]
async fn watcher_refuses_plaintext_login_too() {
    let peer = ScriptedPeer::start(Script::from_transcript(PLAINTEXT_GREETING).expect_eof())
        .await
        .unwrap();
    let o = options(&peer, Security::Plaintext);
    let login = WatchLogin::Login(Credentials::new("joe", PASSWORD));
    let mut w = Watcher::new(WatchOptions::new(o, login, "INBOX"));
    let err = tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("a refusal is final, not retried")
        .unwrap_err();
    assert!(matches!(err, Error::Misuse { .. }), "{err:?}");
    drop(w);
    peer.finish().await.expect("nothing was sent");
}

#[tokio::test]
async fn login_disabled_is_respected() {
    let peer = ScriptedPeer::builder()
        .implicit_tls()
        .connection(
            Script::from_transcript("S: * OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN] hi")
                .expect_eof(),
        )
        .start()
        .await
        .unwrap();
    let c = ImapClient::connect(options(&peer, Security::Implicit))
        .await
        .unwrap();
    let err = c.login("joe", PASSWORD).await.unwrap_err();
    assert!(
        matches!(&err, Error::Misuse { detail } if detail.contains("LOGINDISABLED")),
        "{err:?}"
    );
    drop(c);
    peer.finish().await.expect("no LOGIN was sent");
}

/// A line break and a second command, as an attacker would put into a value.
const INJECT: &str = "x\r\nZ9 DELETE INBOX";

#[tokio::test]
async fn line_breaks_in_mailbox_names_stay_inside_one_argument() {
    // Without UTF8=ACCEPT a name goes in modified UTF-7: CR and LF become base64 (`&AA0ACg-`)
    // inside one quoted string. With it, the name goes as a literal of its exact bytes.
    let peer = ScriptedPeer::start(
        Script::from_transcript(
            "S: * PREAUTH [CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT] ready
             C: {tag} CREATE \"x&AA0ACg-Z9 DELETE INBOX\"
             S: {tag} OK created
             C: {tag} SELECT \"x&AA0ACg-Z9 DELETE INBOX\"
             S: {tag} NO no such mailbox
             C: {tag} RENAME \"x&AA0ACg-Z9 DELETE INBOX\" a&AAA-b
             S: {tag} OK renamed
             C: {tag} ENABLE UTF8=ACCEPT
             S: * ENABLED UTF8=ACCEPT
             S: {tag} OK enabled",
        )
        .expect_literal("{tag} CREATE {18}", Some(INJECT.as_bytes()), true)
        .transcript(
            "C: 
             S: {tag} OK created",
        )
        .expect_eof(),
    )
    .await
    .unwrap();
    let c = ImapClient::connect(options(&peer, Security::Plaintext))
        .await
        .unwrap();
    c.create(INJECT).await.unwrap();
    assert!(matches!(c.select(INJECT).await, Err(Error::No { .. })));
    c.rename(INJECT, "a\0b").await.unwrap();
    assert_eq!(
        c.enable(&[Capability::Utf8Accept]).await.unwrap(),
        vec![Capability::Utf8Accept]
    );
    c.create(INJECT).await.unwrap();
    // Under UTF-8 a NUL has no encoding at all: refused before anything is sent.
    let err = c.create("a\0b").await.unwrap_err();
    assert!(
        matches!(&err, Error::Misuse { detail } if detail.contains("NUL")),
        "{err:?}"
    );
    drop(c);
    peer.finish().await.expect("exactly the commands above");
}

#[tokio::test]
async fn line_breaks_in_flags_and_search_strings_cannot_start_a_command() {
    let peer = ScriptedPeer::start(
        Script::from_transcript(
            "S: * PREAUTH [CAPABILITY IMAP4rev1] ready
             C: {tag} SELECT INBOX
             S: * 1 EXISTS
             S: {tag} OK [READ-WRITE] selected",
        )
        .expect_literal(
            "{tag} UID SEARCH SUBJECT {18}",
            Some(INJECT.as_bytes()),
            true,
        )
        .transcript(
            "C: 
             S: * SEARCH 1
             S: {tag} OK done",
        )
        .expect_eof(),
    )
    .await
    .unwrap();
    let c = ImapClient::connect(options(&peer, Security::Plaintext))
        .await
        .unwrap();
    c.select("INBOX").await.unwrap();
    let one = || SequenceSet::from_numbers([Uid::try_from(1).unwrap()]);
    for flag in [
        Flag::Keyword(INJECT.into()),
        Flag::Keyword("a\0b".into()),
        Flag::Extension("Seen\r\nZ9 DELETE INBOX".into()),
    ] {
        let err = c
            .store(one(), StoreKind::Add, vec![flag.clone()], None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Misuse { .. }), "{flag:?}: {err:?}");
    }
    for raw in [INJECT, "ALL\0", "ALL\n"] {
        let err = c.search_raw(raw).await.unwrap_err();
        assert!(matches!(err, Error::Misuse { .. }), "{raw:?}: {err:?}");
    }
    let err = c
        .search(vec![SearchKey::Subject("a\0b".into())])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Misuse { .. }), "{err:?}");
    let found = c
        .search(vec![SearchKey::Subject(INJECT.into())])
        .await
        .unwrap();
    assert_eq!(found, vec![Uid::try_from(1).unwrap()]);
    drop(c);
    peer.finish().await.expect("exactly the commands above");
}

#[tokio::test]
async fn line_breaks_in_user_names_and_passwords_stay_in_literals() {
    let password = format!("{PASSWORD}\r\nZ9 DELETE INBOX");
    let peer = ScriptedPeer::start(
        Script::from_transcript(PLAINTEXT_GREETING)
            .expect_literal("{tag} LOGIN {18}", Some(INJECT.as_bytes()), true)
            .expect_literal(
                &format!(" {{{}}}", password.len()),
                Some(password.as_bytes()),
                true,
            )
            .transcript(
                "C: 
                 S: {tag} NO [AUTHENTICATIONFAILED] no
                 C: {tag} AUTHENTICATE PLAIN
                 S: +
                 C: *
                 S: {tag} BAD AUTHENTICATE cancelled",
            )
            .expect_eof(),
    )
    .await
    .unwrap();
    let o = options(&peer, Security::Plaintext).allow_plaintext_login(true);
    let c = ImapClient::connect(o).await.unwrap();
    let err = c.login(INJECT, &password).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    // NUL cannot travel in LOGIN, nor in SASL PLAIN (where it separates the fields).
    let err = c.login("joe\0root", PASSWORD).await.unwrap_err();
    assert!(matches!(err, Error::Misuse { .. }), "{err:?}");
    let err = c
        .authenticate(
            Some(Mechanism::Plain),
            Credentials::new("joe\0root", PASSWORD),
        )
        .await
        .unwrap_err();
    // The exchange is cancelled with `*` instead of a response that would hold the NUL.
    assert!(matches!(err, Error::Bad { .. }), "{err:?}");
    drop(c);
    peer.finish()
        .await
        .expect("one LOGIN with its arguments as literals, one cancelled AUTHENTICATE");
}

/// Fails when `text` holds the password as text, or as the `Debug` of its bytes
/// (`72, 117, 110, ...`), which is how a `Vec<u8>` would show it.
fn assert_hidden(what: &str, text: &str) {
    let as_bytes = PASSWORD
        .bytes()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        !text.contains(PASSWORD) && !text.contains(&as_bytes),
        "{what} shows the password: {text}"
    );
}

#[tokio::test]
async fn passwords_are_absent_from_debug_output_and_errors() {
    let creds = Credentials::new("joe", PASSWORD);
    assert_hidden("Credentials", &format!("{creds:?}"));
    assert_hidden("Secret", &format!("{:?}", Secret::new(PASSWORD.to_owned())));
    let login = Command::Login {
        username: "joe".into(),
        password: Secret::new(PASSWORD.into()),
    };
    assert_hidden("Command::Login", &format!("{login:?}"));
    let sasl = SaslClient::new(Mechanism::Plain, creds.clone());
    assert_hidden("SaslClient", &format!("{sasl:?}"));
    let mut o = ConnectOptions::new("localhost", Security::Implicit);
    o.ca_file = None;
    let watch = WatchOptions::new(o.clone(), WatchLogin::Login(creds.clone()), "INBOX");
    assert_hidden("WatchOptions", &format!("{watch:?}"));
    assert_hidden("Watcher", &format!("{:?}", Watcher::new(watch)));

    // The sans-IO core holds the encoded LOGIN until the driver takes it: its Debug output
    // must not show those bytes (nor a literal waiting for the server's `+`).
    let mut core = ClientCore::new(Config::default());
    let now = std::time::Instant::now();
    core.handle_input_bytes(
        now,
        bytes::Bytes::from_static(b"* OK [CAPABILITY IMAP4rev1] hi\r\n"),
    );
    while core.poll_event().is_some() {}
    core.submit(now, login.clone()).unwrap();
    assert_hidden("ClientCore", &format!("{core:?}"));
    let mut sent = Vec::new();
    while let Some(b) = core.poll_transmit() {
        sent.extend_from_slice(&b);
    }
    assert!(
        String::from_utf8_lossy(&sent).contains(PASSWORD),
        "the password does go on the wire"
    );
    while let Some(line) = core.poll_trace() {
        assert_hidden("the protocol trace", &line);
    }
    // A password with a line break goes as a literal, held back until the server's `+`.
    let mut core = ClientCore::new(Config::default());
    core.handle_input_bytes(
        now,
        bytes::Bytes::from_static(b"* OK [CAPABILITY IMAP4rev1] hi\r\n"),
    );
    while core.poll_event().is_some() {}
    let literal = Command::Login {
        username: "joe".into(),
        password: Secret::new(format!("{PASSWORD}\n")),
    };
    core.submit(now, literal).unwrap();
    while core.poll_transmit().is_some() {}
    assert_hidden("ClientCore waiting for +", &format!("{core:?}"));

    // The client handle and the errors of a failed login.
    let peer = ScriptedPeer::start(Script::from_transcript(&format!(
        "{PLAINTEXT_GREETING}
         C: {{tag}} LOGIN joe {PASSWORD}
         S: {{tag}} NO [AUTHENTICATIONFAILED] Authentication failed.
         C: {{tag}} AUTHENTICATE PLAIN
         S: +
         C: {{any}}
         S: {{tag}} NO [AUTHENTICATIONFAILED] Authentication failed."
    )))
    .await
    .unwrap();
    let o = options(&peer, Security::Plaintext).allow_plaintext_login(true);
    let c = ImapClient::connect(o.clone()).await.unwrap();
    assert_hidden("ConnectOptions", &format!("{o:?}"));
    let err = c.login("joe", PASSWORD).await.unwrap_err();
    assert_hidden("login error", &format!("{err:?} {err}"));
    let err = c
        .authenticate(Some(Mechanism::Plain), creds)
        .await
        .unwrap_err();
    assert_hidden("authenticate error", &format!("{err:?} {err}"));
    assert_hidden("ImapClient", &format!("{c:?}"));
    drop(c);
    peer.finish().await.unwrap();

    // A program that unwraps a failed login panics with the error's Debug output. (The
    // literal `Err(..).unwrap()` is the point here: its panic message.)
    let auth = Error::Auth {
        code: Some("AUTHENTICATIONFAILED".into()),
        text: "Authentication failed.".into(),
    };
    #[allow(clippy::unnecessary_literal_unwrap)]
    let payloads = [
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Err::<(), _>(auth).unwrap()))
            .unwrap_err(),
        std::panic::catch_unwind(|| Err::<(), _>(Credentials::new("joe", PASSWORD)).unwrap())
            .unwrap_err(),
    ];
    for payload in payloads {
        let message = payload
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(message.contains("unwrap()"), "{message}");
        assert_hidden("a panic message", message);
    }
}

#[test]
fn pop3_session_debug_hides_queued_credentials() {
    use mailbag::proto::pop3::{Command as PopCommand, Session};
    let mut s = Session::new();
    s.feed(b"+OK ready <1.2@host>\r\n");
    while let Ok(Some(_)) = s.poll_event() {}
    s.send(PopCommand::User("joe".into())).unwrap();
    s.send(PopCommand::Pass(Secret::new(PASSWORD.into())))
        .unwrap();
    assert_hidden("pop3::Session", &format!("{s:?}"));
    let mut a = Session::new();
    a.feed(b"+OK ready\r\n");
    while let Ok(Some(_)) = a.poll_event() {}
    let sasl = SaslClient::new(Mechanism::Plain, Credentials::new("joe", PASSWORD));
    a.authenticate(sasl, true).unwrap();
    let debug = format!("{a:?}");
    assert_hidden("pop3::Session in AUTH", &debug);
    let plain = base64_plain("joe", PASSWORD);
    assert!(!debug.contains(&plain), "base64 PLAIN response in {debug}");
}

/// The SASL PLAIN response as it goes on the wire (base64 of `\0user\0password`).
fn base64_plain(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}
