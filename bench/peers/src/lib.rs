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
        roots
            .add(cert.expect("CA certificate"))
            .expect("CA certificate");
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
/// it: each message created in `tmp/` (`openat` on the open directory) and written as received
/// through an 8 KB `BufWriter` (larger pieces go straight to `write(2)`); every 256 messages
/// and at the end each file is fsync'd and renamed into `new/` (`renameat` between the open
/// directories), and `new/` is fsync'd.
pub struct MaildirSink {
    tmp: std::fs::File,
    new: std::fs::File,
    file: Option<(std::io::BufWriter<std::fs::File>, String)>,
    n: u64,
    unsynced: Vec<(std::fs::File, String)>,
    pid: u32,
}

impl MaildirSink {
    pub fn new(dir: std::path::PathBuf) -> MaildirSink {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        MaildirSink {
            tmp: std::fs::File::open(dir.join("tmp")).unwrap(),
            new: std::fs::File::open(dir.join("new")).unwrap(),
            file: None,
            n: 0,
            unsynced: Vec::new(),
            pid: std::process::id(),
        }
    }
    pub fn begin(&mut self) {
        use rustix::fs::{Mode, OFlags};
        self.n += 1;
        let name = format!("{}.M{}P{}.raw", self.n, self.n, self.pid);
        let fd = rustix::fs::openat(
            &self.tmp,
            name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let f = std::fs::File::from(fd);
        self.file = Some((std::io::BufWriter::with_capacity(8192, f), name));
    }
    pub fn write(&mut self, bytes: &[u8]) {
        if let Some((f, _)) = self.file.as_mut() {
            f.write_all(bytes).unwrap();
        }
    }
    pub fn finish(&mut self) {
        let Some((f, name)) = self.file.take() else {
            return;
        };
        self.unsynced.push((f.into_inner().unwrap(), name));
        if self.unsynced.len() == 256 {
            self.sync();
        }
    }
    pub fn sync(&mut self) {
        for (f, name) in self.unsynced.drain(..) {
            f.sync_all().unwrap();
            rustix::fs::renameat(&self.tmp, name.as_str(), &self.new, name.as_str()).unwrap();
        }
        self.new.sync_all().unwrap();
    }
}
