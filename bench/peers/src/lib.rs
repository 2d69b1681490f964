//! Shared bits of the bench peers: argument reading and a TLS client config that trusts
//! one CA file.
use std::sync::Arc;

/// The password, from MAILBAG_PASSWORD (as mailbag itself takes it).
pub fn password() -> String {
    std::env::var("MAILBAG_PASSWORD").expect("MAILBAG_PASSWORD must be set")
}

/// A rustls client config that trusts only the certificates in `ca_file` (PEM).
pub fn tls_config(ca_file: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).expect("CA file") {
        roots.add(cert.expect("CA certificate")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// An IMAP quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
