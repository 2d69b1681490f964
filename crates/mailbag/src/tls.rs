//! TLS client configuration on rustls with the ring provider (RFC 8446; certificate checks
//! per RFC 5280 and RFC 6125 as done by webpki; RFC 8314 for implicit TLS on mail ports).
//!
//! Trust anchors are the platform's roots (rustls-native-certs) plus, optionally, the CAs in
//! a PEM file. The crypto provider is passed to rustls explicitly, so no process-level
//! default provider must be installed. SNI carries the host name; an IP address is checked
//! against the certificate's IP SANs and sent without SNI, as RFC 6066 section 3 requires.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::error::{Error, TlsFailure};

/// Which roots a connection trusts. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    config: Arc<ClientConfig>,
}

impl TlsConfig {
    /// The platform's roots, plus the CAs in `ca_file` if given.
    ///
    /// # Errors
    /// [`Error::Tls`] with [`TlsFailure::Config`] when the CA file cannot be read or holds
    /// no certificate, or no root at all is available.
    pub fn new(ca_file: Option<&Path>) -> Result<TlsConfig, Error> {
        Self::build(true, ca_file)
    }

    /// Only the CAs in `ca_file` (for private servers and tests).
    ///
    /// # Errors
    /// As [`TlsConfig::new`].
    pub fn with_only_ca_file(ca_file: &Path) -> Result<TlsConfig, Error> {
        Self::build(false, Some(ca_file))
    }

    /// Built once per process for each set of roots and shared: parsing the platform's
    /// roots costs about 100 KB and a few milliseconds, which a process with 1,000 watched
    /// folders must not pay 1,000 times, and one configuration keeps one TLS session cache,
    /// so that reconnects resume their sessions. A CA file is read each time and its contents
    /// are part of the key, so a replaced file takes effect at the next connection.
    fn build(platform: bool, ca_file: Option<&Path>) -> Result<TlsConfig, Error> {
        type Key = (bool, Option<Vec<u8>>);
        type Built = Mutex<Vec<(Key, Arc<ClientConfig>)>>;
        static BUILT: OnceLock<Built> = OnceLock::new();
        let pem = match ca_file {
            Some(path) => {
                Some(std::fs::read(path).map_err(|e| config_error(path, &e.to_string()))?)
            }
            None => None,
        };
        let key: Key = (platform, pem);
        let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
        if let Ok(list) = built.lock() {
            if let Some((_, config)) = list.iter().find(|(k, _)| *k == key) {
                return Ok(TlsConfig {
                    config: config.clone(),
                });
            }
        }
        let config = Arc::new(Self::build_new(platform, ca_file, key.1.as_deref())?);
        if let Ok(mut list) = built.lock() {
            // A handful of distinct CA files at most in practice; never grow without bound.
            if list.len() >= 16 {
                list.clear();
            }
            list.push((key, config.clone()));
        }
        Ok(TlsConfig { config })
    }

    fn build_new(
        platform: bool,
        ca_file: Option<&Path>,
        pem: Option<&[u8]>,
    ) -> Result<ClientConfig, Error> {
        let mut roots = RootCertStore::empty();
        if platform {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "skipping unreadable platform certificate");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "platform roots loaded");
        }
        if let (Some(path), Some(pem)) = (ca_file, pem) {
            for cert in parse_pem_certs(path, pem)? {
                roots
                    .add(cert)
                    .map_err(|e| config_error(path, &e.to_string()))?;
            }
        }
        if roots.is_empty() {
            return Err(config_error(
                Path::new("-"),
                "no trusted root certificate available",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(Path::new("-"), &e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// The configuration a client connection needs: for [`crate::Security::Plaintext`],
    /// which never starts TLS, one that trusts no root at all (it could not verify any
    /// server) and costs no reading of the platform's roots (a few milliseconds at every
    /// start of the CLI); otherwise the platform's roots plus `ca_file`, or `ca_file` alone.
    pub(crate) fn for_connection(
        security: crate::Security,
        ca_file: Option<&Path>,
        only_ca_file: bool,
    ) -> Result<TlsConfig, Error> {
        match (ca_file, only_ca_file) {
            _ if security == crate::Security::Plaintext => Self::trusting_nothing(),
            (Some(ca), true) => Self::with_only_ca_file(ca),
            (ca, _) => Self::new(ca),
        }
    }

    fn trusting_nothing() -> Result<TlsConfig, Error> {
        static NONE: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        if let Some(config) = NONE.get() {
            return Ok(TlsConfig {
                config: config.clone(),
            });
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(Path::new("-"), &e.to_string()))?
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
        let config = NONE.get_or_init(|| Arc::new(config)).clone();
        Ok(TlsConfig { config })
    }

    /// Wraps a rustls configuration built by the caller (client certificates, pinning, ...).
    pub fn from_client_config(config: Arc<ClientConfig>) -> TlsConfig {
        TlsConfig { config }
    }

    /// A connector for tokio-rustls.
    pub fn connector(&self) -> tokio_rustls::TlsConnector {
        tokio_rustls::TlsConnector::from(self.config.clone())
    }
}

fn parse_pem_certs(path: &Path, mut data: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = rustls_pemfile::certs(&mut data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(path, &e.to_string()))?;
    if certs.is_empty() {
        return Err(config_error(path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

fn config_error(path: &Path, message: &str) -> Error {
    Error::Tls {
        host: String::new(),
        failure: TlsFailure::Config,
        message: format!("{}: {message}", path.display()),
    }
}

/// The name to verify the certificate against (a DNS name, or an IP address).
///
/// # Errors
/// [`Error::Tls`] with [`TlsFailure::Config`] when `host` is neither.
pub fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned()).map_err(|e| Error::Tls {
        host: host.to_owned(),
        failure: TlsFailure::Config,
        message: e.to_string(),
    })
}

/// Turns a handshake I/O error into a typed TLS error that says which check failed.
pub(crate) fn classify(host: &str, err: std::io::Error) -> Error {
    let rustls_error = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let failure = match rustls_error {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            // The certificate names a trusted CA as its issuer, but that CA's key did not
            // sign it (a self-signed certificate whose name happens to match a root, a
            // forgery): not issued by an authority we trust.
            CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                TlsFailure::UnknownIssuer
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch
            }
            _ => TlsFailure::Handshake,
        },
        Some(_) => TlsFailure::Handshake,
        None => {
            return Error::ConnectionLost {
                detail: format!("during the TLS handshake with {host}: {err}"),
            }
        }
    };
    Error::Tls {
        host: host.to_owned(),
        failure,
        message: err.to_string(),
    }
}
