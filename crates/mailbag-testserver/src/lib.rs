//! Test support for mailbag: a private, real Dovecot started for the tests.
//!
//! [`Dovecot::start`] writes a config file, a CA and a server certificate, a passwd-file and
//! a Maildir root under a fresh temporary directory, starts `dovecot -F -c FILE` listening
//! on 127.0.0.1 only, on four free ports (IMAP with STARTTLS, IMAPS, POP3 with STLS, POP3S),
//! and waits until every port greets. Nothing of the system's own Dovecot service is used.
//!
//! Tests that can share a server use [`Dovecot::shared`] (one per test binary) and give each
//! test its own user ([`Dovecot::new_user`]), so they stay isolated without paying for a
//! server each. Tests that restart or break the server start their own.
//!
//! Cleanup: a dropped `Dovecot` stops the server and removes its directory. A shared one is
//! never dropped (it lives in a static), so each server also gets a watchdog process that
//! stops it and removes the directory as soon as the test process is gone, whether it ended
//! normally, panicked or was killed.
//!
//! Dovecot facts this relies on (Debian 12, Dovecot 2.3): imap and pop3 processes refuse to
//! run as root, so mail belongs to the stock `mail` user (uid 8); a failed login otherwise
//! costs 2 s plus anvil's per-IP penalty, which `auth_failure_delay = 0` and an unusable
//! `anvil-auth-penalty` socket remove.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
pub mod messages;
pub mod peer;
pub mod proxy;
mod tls;

pub use peer::{PeerError, Script, ScriptedPeer, Step};
pub use proxy::{FaultPlan, FaultProxy, Faults};

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where Debian's packages put the server binary.
pub const DOVECOT_BIN: &str = "/usr/sbin/dovecot";

/// The system user that owns the test mail (Debian's stock `mail`, uid 8 / gid 8).
const MAIL_UID: u32 = 8;
const MAIL_GID: u32 = 8;

/// How long a start may take before it is reported as failed.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the harness could not do what a test asked.
#[derive(Debug)]
pub enum HarnessError {
    /// `/usr/sbin/dovecot` is not installed.
    NotInstalled,
    /// The server did not start or did not greet in time; the text holds its log.
    Start(String),
    /// A file operation on the server's directory failed.
    Io(io::Error),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::NotInstalled => write!(
                f,
                "{DOVECOT_BIN} is missing: install Debian's dovecot-imapd and dovecot-pop3d \
                 (scripts/test.sh does it)"
            ),
            HarnessError::Start(why) => write!(f, "the test Dovecot did not start: {why}"),
            HarnessError::Io(e) => write!(f, "test Dovecot file operation failed: {e}"),
        }
    }
}

impl std::error::Error for HarnessError {}

impl From<io::Error> for HarnessError {
    fn from(e: io::Error) -> Self {
        HarnessError::Io(e)
    }
}

/// A user of the test server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestUser {
    /// The login name.
    pub name: String,
    /// The password (kept in the passwd-file in clear, which CRAM-MD5, SCRAM and APOP need).
    pub password: String,
}

/// The four ports the server listens on, all on 127.0.0.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// IMAP with STARTTLS.
    pub imap: u16,
    /// IMAP over implicit TLS.
    pub imaps: u16,
    /// POP3 with STLS.
    pub pop3: u16,
    /// POP3 over implicit TLS.
    pub pop3s: u16,
}

/// A running private Dovecot. Dropping it stops the server and removes its directory.
pub struct Dovecot {
    dir: tempfile::TempDir,
    master: Mutex<Option<Child>>,
    watchdog: Option<Child>,
    ports: Ports,
    ca_pem: String,
    users: Mutex<()>,
    file_counter: AtomicU64,
}

static SHARED: OnceLock<Dovecot> = OnceLock::new();
static USER_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Dovecot {
    /// The server shared by every test of this test binary, started on first use.
    ///
    /// # Panics
    /// When the server cannot start, with the reason: a test that needs Dovecot must fail
    /// loudly, never pass without it.
    pub fn shared() -> &'static Dovecot {
        SHARED.get_or_init(|| match Dovecot::start() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        })
    }

    /// Starts a new private server, for a test that needs isolation (restarts, faults).
    pub fn start() -> Result<Dovecot, HarnessError> {
        if !Path::new(DOVECOT_BIN).exists() {
            return Err(HarnessError::NotInstalled);
        }
        let mut last = String::new();
        // Free ports are found by binding port 0 and letting go; another process may take
        // one in between, so a bind failure gets a second and third chance.
        for _ in 0..3 {
            match Dovecot::try_start() {
                Ok(d) => return Ok(d),
                Err(HarnessError::Start(why)) => last = why,
                Err(e) => return Err(e),
            }
        }
        Err(HarnessError::Start(last))
    }

    fn try_start() -> Result<Dovecot, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("mailbag-dovecot-")
            .tempdir()?;
        let root = dir.path();
        // Dovecot's unprivileged processes (mail, dovecot, dovenull) must traverse the root.
        fs::set_permissions(root, fs::Permissions::from_mode(0o755))?;
        for sub in ["base", "state", "log"] {
            fs::create_dir(root.join(sub))?;
        }
        let mail = root.join("mail");
        fs::create_dir(&mail)?;
        chown_mail(&mail)?;

        let pki = tls::make_pki().map_err(|e| HarnessError::Start(format!("certificates: {e}")))?;
        write_file(&root.join("ca.pem"), pki.ca_pem.as_bytes(), 0o644)?;
        write_file(&root.join("server.pem"), pki.cert_pem.as_bytes(), 0o644)?;
        write_file(&root.join("server.key"), pki.key_pem.as_bytes(), 0o600)?;
        fs::create_dir(root.join("users"))?;

        let ports = Ports {
            imap: free_port()?,
            imaps: free_port()?,
            pop3: free_port()?,
            pop3s: free_port()?,
        };
        let conf = root.join("dovecot.conf");
        write_file(&conf, config::render(root, &ports).as_bytes(), 0o644)?;

        let stderr = fs::File::create(root.join("log/stderr.log"))?;
        let master = Command::new(DOVECOT_BIN)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| HarnessError::Start(format!("cannot run {DOVECOT_BIN}: {e}")))?;
        let watchdog = spawn_watchdog(master.id(), root).ok();
        let dovecot = Dovecot {
            dir,
            master: Mutex::new(Some(master)),
            watchdog,
            ports,
            ca_pem: pki.ca_pem,
            users: Mutex::new(()),
            file_counter: AtomicU64::new(0),
        };
        dovecot.wait_ready()?;
        Ok(dovecot)
    }

    /// Stops the server and starts it again on the same ports, config and mail (a server
    /// restart as an administrator does one: UIDVALIDITY and UIDs stay as they were).
    /// Clients connected before see their connections closed.
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.stop_keeping_files();
        self.start_master()
    }

    /// Stops the server but keeps its directory, for [`Dovecot::start_master`] later. The
    /// watchdog goes first: it removes the directory when the server ends.
    pub fn stop_keeping_files(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        self.stop();
    }

    /// Starts the server again after [`Dovecot::stop_keeping_files`]; waits until it greets.
    pub fn start_master(&mut self) -> Result<(), HarnessError> {
        let root = self.dir.path().to_path_buf();
        let stderr = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(root.join("log/stderr.log"))?;
        let master = Command::new(DOVECOT_BIN)
            .arg("-F")
            .arg("-c")
            .arg(self.config_file())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| HarnessError::Start(format!("cannot run {DOVECOT_BIN}: {e}")))?;
        self.watchdog = spawn_watchdog(master.id(), &root).ok();
        *self.master.lock().unwrap_or_else(|p| p.into_inner()) = Some(master);
        self.wait_ready()
    }

    fn wait_ready(&self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let ports = [
            self.ports.imap,
            self.ports.imaps,
            self.ports.pop3,
            self.ports.pop3s,
        ];
        for port in ports {
            loop {
                if let Some(status) = self.master_exit_status() {
                    return Err(HarnessError::Start(format!(
                        "dovecot exited ({status}); log:\n{}",
                        self.log_tail()
                    )));
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(HarnessError::Start(format!(
                        "port {port} did not open within {READY_TIMEOUT:?}; log:\n{}",
                        self.log_tail()
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // A greeting proves the login process and config work, not just the listener.
        let mut s = TcpStream::connect(("127.0.0.1", self.ports.imap))?;
        s.set_read_timeout(Some(READY_TIMEOUT))?;
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf)?;
        if !buf[..n].starts_with(b"* OK") {
            return Err(HarnessError::Start(format!(
                "unexpected IMAP greeting {:?}",
                String::from_utf8_lossy(&buf[..n])
            )));
        }
        Ok(())
    }

    fn master_exit_status(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.master.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for name in ["log/dovecot.log", "log/stderr.log"] {
            if let Ok(text) = fs::read_to_string(self.dir.path().join(name)) {
                let lines: Vec<&str> = text.lines().collect();
                let from = lines.len().saturating_sub(30);
                for line in &lines[from..] {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// The ports the server listens on.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// IMAP with STARTTLS.
    pub fn imap_port(&self) -> u16 {
        self.ports.imap
    }

    /// IMAP over implicit TLS.
    pub fn imaps_port(&self) -> u16 {
        self.ports.imaps
    }

    /// POP3 with STLS.
    pub fn pop3_port(&self) -> u16 {
        self.ports.pop3
    }

    /// POP3 over implicit TLS.
    pub fn pop3s_port(&self) -> u16 {
        self.ports.pop3s
    }

    /// The address of a port on 127.0.0.1.
    pub fn addr(&self, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A PEM file holding the CA certificate, for `--ca-file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's directory (config, logs, mail).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's config file, for `doveadm -c`.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    /// Adds a user with a fresh unique name and a password, usable at once.
    pub fn new_user(&self) -> TestUser {
        let n = USER_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("user{}x{n}", std::process::id());
        let password = format!("pw-{n}-{}", nanos() % 1_000_000);
        self.add_user(&name, &password)
            .unwrap_or_else(|e| panic!("cannot add test user: {e}"));
        TestUser { name, password }
    }

    /// Adds a user with the given name and password.
    pub fn add_user(&self, name: &str, password: &str) -> Result<TestUser, HarnessError> {
        let _guard = self.users.lock().unwrap_or_else(|p| p.into_inner());
        // One passwd-file per user: Dovecot re-reads a passwd-file at most once a second,
        // so a user appended to a shared file could stay unknown for up to a second. A new
        // file is read at its first lookup. Written whole, then renamed into place.
        if name.is_empty() || name.contains(['/', '\0', '\n', ':']) || name.starts_with('.') {
            return Err(HarnessError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unusable test user name {name:?}"),
            )));
        }
        let dir = self.dir.path().join("users");
        let tmp = dir.join(format!(".{name}.tmp"));
        write_file(
            &tmp,
            format!("{name}:{{PLAIN}}{password}\n").as_bytes(),
            0o644,
        )?;
        fs::rename(&tmp, dir.join(name))?;
        Ok(TestUser {
            name: name.to_owned(),
            password: password.to_owned(),
        })
    }

    /// The Maildir directory of `folder` for `user` (Maildir++ layout: INBOX is the root,
    /// `a/b` is `.a.b`), created with its `cur`, `new` and `tmp` when missing.
    pub fn maildir(&self, user: &TestUser, folder: &str) -> Result<PathBuf, HarnessError> {
        let home = self.dir.path().join("mail").join(&user.name);
        let root = home.join("Maildir");
        let dir = if folder.eq_ignore_ascii_case("INBOX") {
            root.clone()
        } else {
            root.join(format!(".{}", folder.replace('/', ".")))
        };
        for d in [&home, &root, &dir] {
            if !d.exists() {
                fs::create_dir(d)?;
                fs::set_permissions(d, fs::Permissions::from_mode(0o700))?;
                chown_mail(d)?;
            }
        }
        for sub in ["cur", "new", "tmp"] {
            let p = dir.join(sub);
            if !p.exists() {
                fs::create_dir(&p)?;
                fs::set_permissions(&p, fs::Permissions::from_mode(0o700))?;
                chown_mail(&p)?;
            }
        }
        if dir != root {
            let marker = dir.join("maildirfolder");
            if !marker.exists() {
                write_file(&marker, b"", 0o600)?;
                chown_mail(&marker)?;
            }
        }
        Ok(dir)
    }

    /// Writes messages straight into a folder's `cur/` (fast: 10,000 in about a second).
    ///
    /// Messages are stored as given; use LF line ends, as Maildir does (the server sends
    /// them with CRLF: see [`messages::to_crlf`]). The server gives them UIDs in the order
    /// given, when a client next opens the folder.
    pub fn fill(
        &self,
        user: &TestUser,
        folder: &str,
        messages: &[Vec<u8>],
    ) -> Result<(), HarnessError> {
        let dir = self.maildir(user, folder)?;
        for m in messages {
            let name = self.unique_name(m.len(), ":2,");
            let path = dir.join("cur").join(name);
            write_file(&path, m, 0o600)?;
            chown_mail(&path)?;
        }
        Ok(())
    }

    /// Delivers one message into a folder's `new/` as an MDA would (tmp/, then rename), for
    /// a client that is connected and idling to see.
    pub fn deliver(
        &self,
        user: &TestUser,
        folder: &str,
        message: &[u8],
    ) -> Result<(), HarnessError> {
        let dir = self.maildir(user, folder)?;
        let name = self.unique_name(message.len(), "");
        let tmp = dir.join("tmp").join(&name);
        write_file(&tmp, message, 0o600)?;
        chown_mail(&tmp)?;
        fs::rename(&tmp, dir.join("new").join(&name))?;
        Ok(())
    }

    /// Maildir names sort in creation order (zero-padded counter), which is the order in
    /// which Dovecot assigns UIDs to files it finds.
    fn unique_name(&self, size: usize, info: &str) -> String {
        let n = self.file_counter.fetch_add(1, Ordering::Relaxed);
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!(
            "{secs}.M{n:010}P{}.mailbag,S={size}{info}",
            std::process::id()
        )
    }

    /// Runs `doveadm` against this server as `user` (e.g. `["mailbox", "create", "X"]`).
    pub fn doveadm(&self, user: &TestUser, args: &[&str]) -> Result<String, HarnessError> {
        let out = Command::new("/usr/bin/doveadm")
            .arg("-c")
            .arg(self.config_file())
            .arg(args.first().copied().unwrap_or("help"))
            .args(args.get(1).into_iter().copied())
            .arg("-u")
            .arg(&user.name)
            .args(args.iter().skip(2))
            .output()?;
        if !out.status.success() {
            return Err(HarnessError::Start(format!(
                "doveadm {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stops the server (it can be started again only as a new `Dovecot`).
    pub fn stop(&self) {
        let mut guard = self.master.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = guard.take() {
            terminate(&mut child);
            // The master's children (login processes) hold the listeners a moment longer;
            // a restart test needs the ports really closed.
            let deadline = Instant::now() + Duration::from_secs(5);
            let ports = [
                self.ports.imap,
                self.ports.imaps,
                self.ports.pop3,
                self.ports.pop3s,
            ];
            while Instant::now() < deadline
                && ports
                    .iter()
                    .any(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        // TempDir's own drop removes the directory.
    }
}

impl fmt::Debug for Dovecot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dovecot")
            .field("dir", &self.dir.path())
            .field("ports", &self.ports)
            .finish()
    }
}

/// Stops the master with SIGTERM (it stops its children), then SIGKILL if it lingers.
fn terminate(child: &mut Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A shell that outlives this process by a moment: when the test process is gone it stops
/// the server and removes its directory. Shared servers live in a static and are never
/// dropped, so this is what cleans them up, after a panic or a SIGKILL too.
fn spawn_watchdog(master: u32, root: &Path) -> io::Result<Child> {
    let script = r#"
while kill -0 "$TEST_PID" 2>/dev/null && kill -0 "$MASTER_PID" 2>/dev/null; do sleep 0.2; done
kill -TERM "$MASTER_PID" 2>/dev/null
i=0; while kill -0 "$MASTER_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$MASTER_PID" 2>/dev/null
case "$ROOT" in */mailbag-dovecot-*) rm -rf "$ROOT" ;; esac
"#;
    Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .env("TEST_PID", std::process::id().to_string())
        .env("MASTER_PID", master.to_string())
        .env("ROOT", root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn write_file(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(data)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Gives a path to the `mail` user when running as root (the server's mail processes run
/// as `mail`); as another user the files stay that user's.
fn chown_mail(path: &Path) -> io::Result<()> {
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::chown(path, Some(MAIL_UID), Some(MAIL_GID))?;
    }
    Ok(())
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// This process's resident memory in KiB (`VmRSS` of /proc/self/status; 0 where unreadable),
/// for tests that check that data streams through instead of being held.
pub fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}
