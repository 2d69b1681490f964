//! The scripted peer's certificates: a throwaway CA per peer and a leaf certificate that
//! is good, or wrong in one chosen way, for the tests of certificate checking.
//!
//! The harness's own `tls.rs` makes only the good kind for Dovecot; the peer needs the CA's
//! key to sign the bad kinds too, so it makes its own, in the same style.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// Which certificate the peer presents. The CA ([`ScriptedPeer::ca_pem`]) is the same in
/// every case, so a client that trusts it fails only for the reason chosen here.
///
/// [`ScriptedPeer::ca_pem`]: super::ScriptedPeer::ca_pem
///
/// ```no_run
/// # async fn demo() {
/// use mailbag_testserver::peer::{PeerCertificate, Script, ScriptedPeer};
///
/// let peer = ScriptedPeer::builder()
///     .implicit_tls()
///     .certificate(PeerCertificate::Expired)
///     .connection(Script::new())
///     .start()
///     .await
///     .unwrap();
/// // A client trusting peer.ca_file() must refuse the connection, saying "expired".
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerCertificate {
    /// For `localhost` and `127.0.0.1`, signed by the peer's CA, valid now.
    #[default]
    Valid,
    /// For these names only (e.g. `mail.example.org`), signed by the peer's CA.
    ForNames(Vec<String>),
    /// For `localhost` and `127.0.0.1`, signed by the peer's CA, expired in 2001.
    Expired,
    /// For `localhost` and `127.0.0.1`, signed by its own key, not by the peer's CA.
    SelfSigned,
}

/// PEM texts of the CA and of the certificate and key the peer presents.
pub(crate) struct Identity {
    pub(crate) ca_pem: String,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

pub(crate) fn make(kind: &PeerCertificate) -> Result<Identity, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let ca = ca_params("mailbag scripted peer CA")?.self_signed(&ca_key)?;

    let here = || vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let names = match kind {
        PeerCertificate::ForNames(names) => names.clone(),
        _ => here(),
    };
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.clone())?;
    let common_name = names.first().map_or("localhost", String::as_str);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    if *kind == PeerCertificate::Expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let cert: Certificate = if *kind == PeerCertificate::SelfSigned {
        params.self_signed(&key)?
    } else {
        params.signed_by(&key, &ca, &ca_key)?
    };
    Ok(Identity {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn ca_params(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}
