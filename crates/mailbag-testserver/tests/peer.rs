//! Tests of the scripted peer, driven by hand-written clients: transcripts with tag
//! capture, literals, STARTTLS and implicit TLS trusting the peer's CA, several
//! connections, floods, resets, and every way a client can deviate being reported.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::Duration;

use mailbag_testserver::peer::{PeerCertificate, PeerErrorKind, Script, ScriptedPeer};
use rustls::pki_types::ServerName;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
    BufReader as AsyncBufReader,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const PATIENCE: Duration = Duration::from_secs(20);

async fn line<R: AsyncBufReadExt + Unpin>(r: &mut R) -> String {
    let mut s = String::new();
    tokio::time::timeout(PATIENCE, r.read_line(&mut s))
        .await
        .expect("no hang")
        .expect("read");
    s
}

fn connector(ca_pem: &str) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls<S: AsyncRead + AsyncWrite + Unpin>(
    ca_pem: &str,
    host: &str,
    s: S,
) -> tokio_rustls::client::TlsStream<S> {
    let name = ServerName::try_from(host.to_owned()).unwrap();
    connector(ca_pem)
        .connect(name, s)
        .await
        .expect("TLS handshake")
}

const LOGIN: &str = "
    S: * OK scripted IMAP ready
    C: {tag} LOGIN bob {any}
    S: {tag} OK LOGIN done
    C: {tag} LOGOUT
    S: * BYE see you
    S: {tag} OK LOGOUT done
";

#[tokio::test]
async fn a_transcript_captures_and_reuses_the_tag() {
    let peer = ScriptedPeer::start(Script::from_transcript(LOGIN).expect_eof())
        .await
        .unwrap();
    let mut s = AsyncBufReader::new(TcpStream::connect(peer.addr()).await.unwrap());
    assert_eq!(line(&mut s).await, "* OK scripted IMAP ready\r\n");
    s.write_all(b"x17 LOGIN bob secret\r\n").await.unwrap();
    assert_eq!(line(&mut s).await, "x17 OK LOGIN done\r\n");
    s.write_all(b"x18 LOGOUT\r\n").await.unwrap();
    assert_eq!(line(&mut s).await, "* BYE see you\r\n");
    assert_eq!(line(&mut s).await, "x18 OK LOGOUT done\r\n");
    drop(s);
    peer.finish().await.expect("the client followed the script");
}

#[tokio::test]
async fn literals_are_answered_and_checked() {
    let script = Script::from_transcript("S: * OK ready")
        .expect_literal("{tag} LOGIN {3}", Some(b"bob"), true)
        .expect_literal(" {6+}", Some(b"s\r\ncrt"), true)
        .expect("")
        .send_text("{tag} OK welcome");
    let peer = ScriptedPeer::start(script).await.unwrap();
    let mut s = AsyncBufReader::new(TcpStream::connect(peer.addr()).await.unwrap());
    line(&mut s).await;
    s.write_all(b"a1 LOGIN {3}\r\n").await.unwrap();
    assert_eq!(line(&mut s).await, "+ OK\r\n");
    // A non-synchronising literal gets no continuation request.
    s.write_all(b"bob {6+}\r\ns\r\ncrt\r\n").await.unwrap();
    assert_eq!(line(&mut s).await, "a1 OK welcome\r\n");
    drop(s);
    peer.finish().await.unwrap();
}

#[tokio::test]
async fn starttls_upgrades_and_the_client_trusts_the_peer_ca() {
    let script = Script::from_transcript(
        "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
         C: {tag} STARTTLS
         S: {tag} OK begin TLS",
    )
    .start_tls()
    .transcript("C: {tag} NOOP\nS: {tag} OK still here")
    .close();
    let peer = ScriptedPeer::start(script).await.unwrap();
    let mut plain = AsyncBufReader::new(TcpStream::connect(peer.addr()).await.unwrap());
    line(&mut plain).await;
    plain.write_all(b"t1 STARTTLS\r\n").await.unwrap();
    assert_eq!(line(&mut plain).await, "t1 OK begin TLS\r\n");
    assert!(plain.buffer().is_empty());
    let mut s = AsyncBufReader::new(tls(peer.ca_pem(), "localhost", plain.into_inner()).await);
    s.write_all(b"t2 NOOP\r\n").await.unwrap();
    s.flush().await.unwrap();
    assert_eq!(line(&mut s).await, "t2 OK still here\r\n");
    assert_eq!(line(&mut s).await, "", "close_notify, then end-of-file");
    drop(s);
    peer.finish().await.unwrap();
}

#[tokio::test]
async fn implicit_tls_serves_connections_in_sequence_then_refuses() {
    let peer = ScriptedPeer::builder()
        .implicit_tls()
        .connection(Script::from_transcript("S: +OK first").close())
        .connection(Script::from_transcript("S: +OK second").close())
        .start()
        .await
        .unwrap();
    let ca = std::fs::read_to_string(peer.ca_file()).unwrap();
    assert_eq!(ca, peer.ca_pem());
    for (host, want) in [
        ("localhost", "+OK first\r\n"),
        ("127.0.0.1", "+OK second\r\n"),
    ] {
        let tcp = TcpStream::connect(peer.addr()).await.unwrap();
        let mut s = AsyncBufReader::new(tls(&ca, host, tcp).await);
        assert_eq!(line(&mut s).await, want);
    }
    let addr = peer.addr();
    peer.finish().await.unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no third connection"
    );
}

#[tokio::test]
async fn bad_certificates_fail_verification_for_the_chosen_reason() {
    let cases = [
        (PeerCertificate::Expired, "Expired"),
        (
            PeerCertificate::ForNames(vec!["mail.example.org".into()]),
            "NotValidForName",
        ),
        (PeerCertificate::SelfSigned, "UnknownIssuer"),
    ];
    for (certificate, reason) in cases {
        let peer = ScriptedPeer::builder()
            .implicit_tls()
            .certificate(certificate)
            .connection(Script::from_transcript("S: * OK never seen"))
            .start()
            .await
            .unwrap();
        let tcp = TcpStream::connect(peer.addr()).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let err = connector(peer.ca_pem())
            .connect(name, tcp)
            .await
            .expect_err("the certificate must be refused");
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        let text = format!("{inner:?}");
        assert!(text.contains(reason), "{reason}: {text}");
        let peer_err = peer.finish().await.unwrap_err();
        assert!(matches!(peer_err.kind, PeerErrorKind::Tls(_)), "{peer_err}");
        assert_eq!(peer_err.step, 0);
    }
}

#[tokio::test]
async fn a_deviating_client_is_reported() {
    let peer = ScriptedPeer::start(Script::from_transcript(LOGIN))
        .await
        .unwrap();
    let mut s = AsyncBufReader::new(TcpStream::connect(peer.addr()).await.unwrap());
    line(&mut s).await;
    s.write_all(b"a1 SELECT INBOX\r\n").await.unwrap();
    let err = peer.finish().await.expect_err("a mismatch");
    assert_eq!((err.connection, err.step), (1, 2));
    match &err.kind {
        PeerErrorKind::Mismatch { expected, got } => {
            assert!(expected.contains("{tag} LOGIN bob {any}"), "{expected}");
            assert_eq!(got, b"a1 SELECT INBOX\r\n");
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("a1 SELECT INBOX"), "{text}");
}

#[tokio::test]
async fn a_bare_lf_a_silent_client_and_an_early_close_are_reported() {
    let peer = ScriptedPeer::start(Script::new().expect("A1 NOOP"))
        .await
        .unwrap();
    let mut s = TcpStream::connect(peer.addr()).await.unwrap();
    s.write_all(b"A1 NOOP\n").await.unwrap();
    let err = peer.finish().await.unwrap_err();
    assert!(matches!(err.kind, PeerErrorKind::Mismatch { .. }), "{err}");

    let peer = ScriptedPeer::builder()
        .timeout(Duration::from_millis(300))
        .connection(Script::new().expect("A1 NOOP"))
        .start()
        .await
        .unwrap();
    let mut s = TcpStream::connect(peer.addr()).await.unwrap();
    s.write_all(b"A1 NO").await.unwrap();
    let err = peer.finish().await.unwrap_err();
    assert_eq!(
        err.kind,
        PeerErrorKind::Timeout {
            received: b"A1 NO".to_vec()
        }
    );

    let peer = ScriptedPeer::start(Script::new().expect("A1 NOOP"))
        .await
        .unwrap();
    drop(TcpStream::connect(peer.addr()).await.unwrap());
    let err = peer.finish().await.unwrap_err();
    assert!(matches!(err.kind, PeerErrorKind::Eof { .. }), "{err}");
}

#[tokio::test]
async fn a_flood_streams_and_a_client_that_gives_up_is_accepted() {
    const LINES: u64 = 200_000;
    let script = Script::new()
        .send_repeated(b"* 1 EXISTS\r\n", LINES)
        .send_text("* OK end");
    let peer = ScriptedPeer::start(script).await.unwrap();
    let mut s = AsyncBufReader::new(TcpStream::connect(peer.addr()).await.unwrap());
    for _ in 0..LINES {
        assert_eq!(line(&mut s).await, "* 1 EXISTS\r\n");
    }
    assert_eq!(line(&mut s).await, "* OK end\r\n");
    drop(s);
    peer.finish().await.unwrap();

    // 256 MiB without a line end; the client reads 1 MiB and hangs up.
    let endless = (0..4096).map(|_| vec![b'x'; 64 * 1024]);
    let script = Script::new().send_generated(endless).expect_eof();
    let peer = ScriptedPeer::start(script).await.unwrap();
    let mut s = TcpStream::connect(peer.addr()).await.unwrap();
    let mut got = vec![0u8; 1 << 20];
    s.read_exact(&mut got).await.unwrap();
    assert!(got.iter().all(|&b| b == b'x'));
    drop(s);
    peer.finish()
        .await
        .expect("hanging up on a flood is what was expected");
}

#[tokio::test]
async fn reset_aborts_the_connection() {
    let peer = ScriptedPeer::start(Script::from_transcript("S: * OK").reset())
        .await
        .unwrap();
    let mut s = TcpStream::connect(peer.addr()).await.unwrap();
    let mut all = Vec::new();
    let err = loop {
        let mut buf = [0u8; 64];
        match s.read(&mut buf).await {
            Ok(0) => panic!("expected a reset, got end-of-file after {all:?}"),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    peer.finish().await.unwrap();
}

#[test]
fn a_spawned_peer_serves_a_sync_client() {
    let peer = ScriptedPeer::spawn(Script::from_transcript(
        "S: +OK POP3 ready
         C: USER bob
         S: +OK
         C: QUIT
         S: +OK bye",
    ))
    .unwrap();
    let stream = std::net::TcpStream::connect(peer.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let mut l = String::new();
    r.read_line(&mut l).unwrap();
    assert_eq!(l, "+OK POP3 ready\r\n");
    w.write_all(b"USER bob\r\nQUIT\r\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut r, &mut rest).unwrap();
    assert_eq!(rest, "+OK\r\n+OK bye\r\n");
    drop((r, w));
    peer.join().unwrap();
}

#[tokio::test]
async fn scripts_that_cannot_run_are_reported() {
    let peer = ScriptedPeer::start(Script::new().send("{tag} OK"))
        .await
        .unwrap();
    let _s = TcpStream::connect(peer.addr()).await.unwrap();
    let err = peer.finish().await.unwrap_err();
    assert!(matches!(err.kind, PeerErrorKind::Script(_)), "{err}");

    let peer = ScriptedPeer::start(Script::new().close().send("* OK"))
        .await
        .unwrap();
    drop(TcpStream::connect(peer.addr()).await.unwrap());
    let err = peer.finish().await.unwrap_err();
    assert_eq!(err.step, 2, "{err}");

    let peer = ScriptedPeer::builder()
        .timeout(Duration::from_millis(200))
        .connection(Script::new())
        .start()
        .await
        .unwrap();
    let err = peer.finish().await.unwrap_err();
    assert_eq!(err.kind, PeerErrorKind::NoClient);
}

/// Logs in, sends `last`, and resets the connection without reading the answer.
async fn send_and_reset(peer: &ScriptedPeer, last: &[u8]) {
    let tcp = TcpStream::connect(peer.addr()).await.unwrap();
    tcp.set_zero_linger().unwrap();
    let mut s = AsyncBufReader::new(tcp);
    line(&mut s).await;
    s.write_all(b"x1 LOGIN bob secret\r\n").await.unwrap();
    assert_eq!(line(&mut s).await, "x1 OK LOGIN done\r\n");
    s.write_all(last).await.unwrap();
    s.flush().await.unwrap();
    drop(s);
}

/// A client may close as soon as it has written LOGOUT: the answer the script still had to
/// send goes unheard, and that is no fault. Closing so after any other command still is one.
#[tokio::test]
async fn a_client_may_close_after_logout_without_the_answer() {
    let script = |command: &str| {
        Script::from_transcript(&format!(
            "S: * OK scripted IMAP ready
             C: {{tag}} LOGIN bob secret
             S: {{tag}} OK LOGIN done
             C: {{tag}} {command}"
        ))
        .sleep(Duration::from_millis(300))
        .transcript(
            "S: * BYE see you
             S: {tag} OK done",
        )
    };
    let peer = ScriptedPeer::start(script("LOGOUT")).await.unwrap();
    send_and_reset(&peer, b"x2 LOGOUT\r\n").await;
    peer.finish()
        .await
        .expect("closing after LOGOUT is allowed");

    let peer = ScriptedPeer::start(script("NOOP")).await.unwrap();
    send_and_reset(&peer, b"x2 NOOP\r\n").await;
    let err = peer.finish().await.unwrap_err();
    assert!(matches!(err.kind, PeerErrorKind::ClientGone(_)), "{err:?}");
}
