//! Shared bits of the bench peers: argument reading and a TLS client config that trusts
//! one CA file.
use std::io::Write;
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

/// The least a client that stores each message in a Maildir does, as mailbag's writer does
/// it: each message created in `tmp/` and written as received through an 8 KB `BufWriter`
/// (larger pieces go straight to `write(2)`); every 256 messages and at the end each file is
/// fsync'd and renamed into `new/`, and `new/` is fsync'd.
pub struct MaildirSink {
    dir: std::path::PathBuf,
    file: Option<(std::io::BufWriter<std::fs::File>, std::path::PathBuf, String)>,
    n: u64,
    unsynced: Vec<(std::fs::File, std::path::PathBuf, String)>,
    pid: u32,
}

impl MaildirSink {
    pub fn new(dir: std::path::PathBuf) -> MaildirSink {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        MaildirSink {
            dir,
            file: None,
            n: 0,
            unsynced: Vec::new(),
            pid: std::process::id(),
        }
    }
    pub fn begin(&mut self) {
        self.n += 1;
        let name = format!("{}.M{}P{}.raw", self.n, self.n, self.pid);
        let tmp = self.dir.join("tmp").join(&name);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .unwrap();
        self.file = Some((std::io::BufWriter::with_capacity(8192, f), tmp, name));
    }
    pub fn write(&mut self, bytes: &[u8]) {
        if let Some((f, _, _)) = self.file.as_mut() {
            f.write_all(bytes).unwrap();
        }
    }
    pub fn finish(&mut self) {
        let Some((f, tmp, name)) = self.file.take() else { return };
        self.unsynced.push((f.into_inner().unwrap(), tmp, name));
        if self.unsynced.len() == 256 {
            self.sync();
        }
    }
    pub fn sync(&mut self) {
        for (f, tmp, name) in self.unsynced.drain(..) {
            f.sync_all().unwrap();
            std::fs::rename(&tmp, self.dir.join("new").join(name)).unwrap();
        }
        std::fs::File::open(self.dir.join("new")).unwrap().sync_all().unwrap();
    }
}
