//! TLS failures Dovecot cannot show: a certificate for another name, an expired one, and
//! bytes injected in clear after the STLS go-ahead (CVE-2011-0411). The peers are scripted
//! in-process TLS servers with rcgen certificates.

use std::path::PathBuf;
use std::sync::Arc;

use mailbag::pop3::{ConnectOptions, Pop3Client};
use mailbag::{Error, Security, TlsFailure};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

struct Pki {
    _dir: tempfile::TempDir,
    ca_file: PathBuf,
    acceptor: TlsAcceptor,
}

/// A CA (written to a file) and a server certificate for `names`, optionally expired.
fn pki(names: &[&str], expired: bool) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        leaf.not_before = rcgen::date_time_ymd(2001, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(2002, 1, 1);
    }
    let cert = leaf.signed_by(&key, &ca, &ca_key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let certs = vec![CertificateDer::from_pem_slice(cert.pem().as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Pki {
        _dir: dir,
        ca_file,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    }
}

/// A POP3S server that completes the handshake (if the client lets it), greets, and
/// answers the first command (CAPA) with -ERR: after it, not before, since a reply that
/// comes before its command is refused as unsolicited.
async fn implicit_tls_server(acceptor: TlsAcceptor) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        if let Ok(tls) = acceptor.accept(sock).await {
            let mut tls = BufReader::new(tls);
            let _ = tls.get_mut().write_all(b"+OK ready\r\n").await;
            let mut command = String::new();
            let _ = tls.read_line(&mut command).await;
            let _ = tls.get_mut().write_all(b"-ERR no CAPA\r\n").await;
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink).await;
        }
    });
    port
}

fn options(port: u16, security: Security, ca_file: &std::path::Path) -> ConnectOptions {
    let mut o = ConnectOptions::new("localhost", security)
        .port(port)
        .ca_file(ca_file);
    o.only_ca_file = true;
    o
}

#[tokio::test]
async fn certificate_for_another_name() {
    let pki = pki(&["mail.other.example"], false);
    let port = implicit_tls_server(pki.acceptor.clone()).await;
    let err = Pop3Client::connect(options(port, Security::Implicit, &pki.ca_file))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Tls {
                failure: TlsFailure::NameMismatch,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not valid for this host name"),
        "{err}"
    );
}

#[tokio::test]
async fn expired_certificate() {
    let pki = pki(&["localhost"], true);
    let port = implicit_tls_server(pki.acceptor.clone()).await;
    let err = Pop3Client::connect(options(port, Security::Implicit, &pki.ca_file))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Tls {
                failure: TlsFailure::Expired,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn good_certificate_by_name_and_by_address() {
    let pki = pki(&["localhost", "127.0.0.1"], false);
    let port = implicit_tls_server(pki.acceptor.clone()).await;
    let c = Pop3Client::connect(options(port, Security::Implicit, &pki.ca_file))
        .await
        .unwrap();
    assert!(c.is_tls());
    let port = implicit_tls_server(pki.acceptor.clone()).await;
    let mut o = options(port, Security::Implicit, &pki.ca_file);
    o.host = "127.0.0.1".into();
    Pop3Client::connect(o).await.unwrap();
}

#[tokio::test]
async fn bytes_injected_before_the_stls_handshake_are_refused() {
    let pki = pki(&["localhost"], false);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = pki.acceptor.clone();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let mut sock = BufReader::new(sock);
        sock.get_mut().write_all(b"+OK ready\r\n").await.unwrap();
        let mut line = String::new();
        sock.read_line(&mut line).await.unwrap();
        assert_eq!(line, "CAPA\r\n");
        sock.get_mut()
            .write_all(b"+OK\r\nSTLS\r\n.\r\n")
            .await
            .unwrap();
        line.clear();
        sock.read_line(&mut line).await.unwrap();
        assert_eq!(line, "STLS\r\n");
        // A man in the middle appends a reply that would be read as if it came over TLS.
        sock.get_mut()
            .write_all(b"+OK Begin TLS\r\n+OK injected\r\n")
            .await
            .unwrap();
        if let Ok(mut tls) = acceptor.accept(sock.into_inner()).await {
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink).await;
        }
    });
    let err = Pop3Client::connect(options(port, Security::StartTls, &pki.ca_file))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("in clear after the STLS")),
        "{err:?}"
    );
}
