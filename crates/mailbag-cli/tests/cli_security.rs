//! Security guarantees of the `mailbag` binary (see SECURITY.md, which points here):
//! certificate errors exit 4 and say which check failed; no password in clear without
//! `--allow-plaintext`; CR, LF and NUL in folder names, flags, search criteria and user
//! names cannot inject a command; passwords never show in `-v` traces or error output;
//! downloaded files are 0600 and directories 0700 whatever the umask.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use mailbag_testserver::messages::{generate, to_crlf};
use mailbag_testserver::peer::{PeerCertificate, Script, ScriptedPeer};
use mailbag_testserver::{Dovecot, TestUser};

/// A password no output may contain.
const PASSWORD: &str = "Hunter2-Zebra-Quokka";

/// A line break followed by a command of the attacker's, with a tag the client never uses.
const INJECT: &str = "x\r\nZ9 DELETE INBOX";

fn user() -> TestUser {
    TestUser {
        name: "ann".into(),
        password: PASSWORD.into(),
    }
}

/// `mailbag ARGS` against a plain-text test server (`--tls none --allow-plaintext`).
fn plain(args: &[&str]) -> Command {
    let mut c = mailbag(&user(), args);
    c.args(["--tls", "none", "--allow-plaintext", "--timeout", "10"]);
    c
}

/// A fake IMAP server that says OK to every command and records each command whole (its
/// lines and literals), for asserting on what the client sent, however many commands a
/// CLI command needs. Synchronising literals get their `+`.
struct Recorder {
    port: u16,
    commands: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    fn start(greeting: &'static str) -> Recorder {
        Recorder::start_with(greeting, "* LIST () \"/\" INBOX\r\n")
    }

    /// A recorder that answers LIST with `list` (untagged lines).
    fn start_with(greeting: &'static str, list: &'static str) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let log = commands.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, greeting, list, &log);
                });
            }
        });
        Recorder { port, commands }
    }

    fn commands(&self) -> Vec<String> {
        self.commands
            .lock()
            .unwrap()
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// Asserts that no command the server received starts with the injected tag `Z9`.
    fn assert_no_injection(&self) -> Vec<String> {
        let commands = self.commands();
        for c in &commands {
            assert!(!c.starts_with("Z9 "), "injected command: {commands:?}");
        }
        commands
    }
}

fn serve(
    stream: TcpStream,
    greeting: &str,
    list: &str,
    log: &Mutex<Vec<Vec<u8>>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(format!("{greeting}\r\n").as_bytes())?;
    loop {
        let mut command = Vec::new();
        loop {
            let mut line = Vec::new();
            if r.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            command.extend_from_slice(&line);
            let text = String::from_utf8_lossy(&line);
            let Some(size) = literal_size(text.trim_end()) else {
                break;
            };
            if !text.trim_end().ends_with("+}") {
                w.write_all(b"+ go on\r\n")?;
            }
            let mut literal = vec![0; size];
            r.read_exact(&mut literal)?;
            command.extend_from_slice(&literal);
        }
        let text = String::from_utf8_lossy(&command).into_owned();
        log.lock().unwrap().push(command);
        let mut words = text.split(' ');
        let tag = words.next().unwrap_or("*").trim_end();
        let verb = words.next().unwrap_or("").trim_end().to_ascii_uppercase();
        let answer = match verb.as_str() {
            "LOGOUT" => {
                w.write_all(format!("* BYE bye\r\n{tag} OK bye\r\n").as_bytes())?;
                return Ok(());
            }
            "LOGIN" => format!("{tag} OK [CAPABILITY IMAP4rev1 UIDPLUS] in\r\n"),
            "SELECT" | "EXAMINE" => format!(
                "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 2] n\r\n{tag} OK [READ-WRITE] ok\r\n"
            ),
            "LIST" => format!("{list}{tag} OK done\r\n"),
            _ => format!("{tag} OK done\r\n"),
        };
        w.write_all(answer.as_bytes())?;
    }
}

/// The size announced by a literal at the end of `line` (`{n}` or `{n+}`).
fn literal_size(line: &str) -> Option<usize> {
    let inner = line.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    let digits = inner[open + 1..].trim_end_matches('+');
    digits.parse().ok()
}

const GREETING: &str = "* OK [CAPABILITY IMAP4rev1 UIDPLUS] recorder ready";

#[test]
fn folder_names_with_line_breaks_stay_one_argument() {
    let server = Recorder::start(GREETING);
    let src = format!("imap://ann@127.0.0.1:{}", server.port);
    // --folder is not percent-decoded: the bytes reach the library as they are.
    let (out, _, stderr) = run(plain(&["examine", &src, "--folder", INJECT]));
    assert!(out.status.success(), "{stderr}");
    let (out, _, stderr) = run(plain(&["rename", &format!("{src}/INBOX"), INJECT]));
    assert!(out.status.success(), "{stderr}");
    let commands = server.assert_no_injection();
    // In modified UTF-7, CR LF is `&AA0ACg-`, inside the one quoted mailbox argument.
    assert!(
        commands
            .iter()
            .any(|c| c.ends_with(" EXAMINE \"x&AA0ACg-Z9 DELETE INBOX\"\r\n")),
        "{commands:?}"
    );
    assert!(
        commands
            .iter()
            .any(|c| c.ends_with(" RENAME INBOX \"x&AA0ACg-Z9 DELETE INBOX\"\r\n")),
        "{commands:?}"
    );

    // Percent-encoded in the URL: refused as a usage error before anything is sent.
    let before = server.commands().len();
    for url in [
        format!("{src}/x%0D%0AZ9%20DELETE%20INBOX"),
        format!("{src}/a%00b"),
    ] {
        let (out, _, stderr) = run(plain(&["mkdir", &url]));
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("line break or NUL"), "{stderr}");
    }
    assert_eq!(server.commands().len(), before);
}

#[test]
fn flags_and_search_criteria_with_line_breaks_are_refused() {
    let server = Recorder::start(GREETING);
    let src = format!("imap://ann@127.0.0.1:{}/INBOX", server.port);
    for flag in ["\\Seen\r\nZ9 DELETE INBOX", "a\nb", "$Junk\r"] {
        let (out, _, stderr) = run(plain(&["flags", &src, "1", "--add", flag]));
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {stderr}");
    }
    for criteria in [
        vec!["SUBJECT", INJECT],
        vec!["TEXT", "a\nb"],
        vec!["ALL\r\nZ9", "DELETE", "INBOX"],
    ] {
        let mut args = vec!["search", src.as_str()];
        args.extend(&criteria);
        let (out, _, stderr) = run(plain(&args));
        assert_eq!(out.status.code(), Some(2), "{criteria:?}: {stderr}");
        assert!(stderr.contains("line breaks or NUL"), "{stderr}");
    }
    let commands = server.assert_no_injection();
    assert!(
        commands
            .iter()
            .all(|c| !c.contains(" STORE ") && !c.contains(" SEARCH ")),
        "{commands:?}"
    );
}

#[test]
fn user_names_and_passwords_with_line_breaks_cannot_inject() {
    let server = Recorder::start(GREETING);
    // In the URL: percent-decoding a line break is refused.
    let url = format!(
        "imap://ann%0D%0AZ9%20DELETE%20INBOX@127.0.0.1:{}",
        server.port
    );
    let (out, _, stderr) = run(plain(&["login", &url]));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(server.commands().is_empty());

    // From the config file (not decoded) and the password from the environment: both go
    // as literals, inside the one LOGIN command.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.odd]\nurl = \"imap://127.0.0.1:{}/INBOX\"\nuser = \"ann\\r\\nZ9 DELETE INBOX\"\n",
            server.port
        ),
    )
    .unwrap();
    let password = format!("{PASSWORD}\r\nZ9 DELETE INBOX");
    let mut cmd = plain(&["login", "odd", "--config", config.to_str().unwrap()]);
    cmd.env("MAILBAG_PASSWORD", &password);
    let (out, stdout, stderr) = run(cmd);
    assert!(out.status.success(), "{stdout} {stderr}");
    let commands = server.assert_no_injection();
    let login: Vec<&String> = commands.iter().filter(|c| c.contains(" LOGIN ")).collect();
    assert_eq!(login.len(), 1, "{commands:?}");
    let user = "ann\r\nZ9 DELETE INBOX";
    assert!(
        login[0].contains(&format!("{{{}}}\r\n{user}", user.len()))
            && login[0].contains(&format!(" {{{}}}\r\n{password}", password.len())),
        "{login:?}"
    );
}

#[test]
fn pop3_user_with_a_line_break_is_refused_before_it_is_sent() {
    let peer = ScriptedPeer::builder()
        .connection(
            Script::from_transcript(
                "S: +OK ready
                 C: CAPA
                 S: +OK
                 S: USER
                 S: .",
            )
            .expect_eof(),
        )
        .spawn()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.odd]\nurl = \"pop3://127.0.0.1:{}\"\nuser = \"ann\\r\\nDELE 1\"\n",
            peer.port()
        ),
    )
    .unwrap();
    let (out, _, stderr) = run(plain(&[
        "pop",
        "stat",
        "odd",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert!(!out.status.success(), "{stderr}");
    peer.join()
        .expect("no USER, no DELE: the client closed after CAPA");
}

#[test]
fn plaintext_is_refused_without_allow_plaintext() {
    let server = Recorder::start(GREETING);
    let src = format!("imap://ann@127.0.0.1:{}/INBOX", server.port);
    let (out, _, stderr) = run(mailbag(&user(), &["login", &src, "--tls", "none"]));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-plaintext"), "{stderr}");
    // imap:// means STARTTLS, required: this server does not offer it.
    let (out, _, stderr) = run(mailbag(&user(), &["login", &src]));
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("does not offer STARTTLS"), "{stderr}");
    assert!(
        server.commands().is_empty(),
        "sent: {:?}",
        server.commands()
    );
    assert!(!stderr.contains(PASSWORD));

    // POP3: STLS refused by the server: no USER, no PASS.
    let peer = ScriptedPeer::builder()
        .connection(
            Script::from_transcript(
                "S: +OK ready
                 C: CAPA
                 S: +OK
                 S: USER
                 S: .
                 C: STLS
                 S: -ERR not here",
            )
            .expect_eof(),
        )
        .spawn()
        .unwrap();
    let src = format!("pop3://ann@127.0.0.1:{}", peer.port());
    let (out, _, stderr) = run(mailbag(&user(), &["pop", "stat", &src]));
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    peer.join().expect("nothing after the refused STLS");
}

/// Runs `mailbag login` against a TLS peer presenting `cert`; returns exit code and stderr.
fn cert_failure(cert: PeerCertificate, starttls: bool, ca_file: bool) -> (Option<i32>, String) {
    let mut builder = ScriptedPeer::builder().certificate(cert);
    builder = if starttls {
        builder.connection(
            Script::from_transcript(
                "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                 C: {tag} STARTTLS
                 S: {tag} OK begin TLS",
            )
            .start_tls(),
        )
    } else {
        builder.implicit_tls().connection(Script::new())
    };
    let peer = builder.spawn().unwrap();
    let scheme = if starttls { "imap" } else { "imaps" };
    let src = format!("{scheme}://ann@127.0.0.1:{}", peer.port());
    let ca = peer.ca_file();
    let mut args = vec!["login", src.as_str(), "--timeout", "10"];
    if ca_file {
        args.extend(["--ca-file", ca.to_str().unwrap()]);
    }
    let (out, _, stderr) = run(mailbag(&user(), &args));
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    (out.status.code(), stderr)
}

#[test]
fn certificate_errors_exit_4_and_say_which() {
    let cases = [
        (
            PeerCertificate::Valid,
            false,
            "certificate issued by an unknown authority",
        ),
        (
            PeerCertificate::SelfSigned,
            true,
            "certificate issued by an unknown authority",
        ),
        (
            PeerCertificate::ForNames(vec!["mail.other.example".into()]),
            true,
            "certificate is not valid for this host name",
        ),
        (
            PeerCertificate::Expired,
            true,
            "certificate expired or not yet valid",
        ),
    ];
    for starttls in [false, true] {
        for (cert, ca_file, words) in &cases {
            let (code, stderr) = cert_failure(cert.clone(), starttls, *ca_file);
            let case = format!("{cert:?} starttls={starttls} ca_file={ca_file}");
            assert_eq!(code, Some(4), "{case}: {stderr}");
            assert!(stderr.contains(words), "{case}: {stderr}");
            assert!(stderr.contains("--ca-file"), "{case}: {stderr}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{case}: {stderr}");
        }
    }
}

/// Both forms an eavesdropper of a trace could use: the password, and SASL PLAIN's
/// base64 response.
fn assert_no_password(what: &str, text: &str, user: &TestUser) {
    let plain = base64::engine::general_purpose::STANDARD
        .encode(format!("\0{}\0{}", user.name, user.password));
    assert!(
        !text.contains(&user.password) && !text.contains(&plain),
        "{what} shows the password:\n{text}"
    );
}

#[test]
fn passwords_never_show_in_traces_or_errors() {
    let d = Dovecot::shared();
    let name = format!("sec{}", std::process::id());
    let user = d.add_user(&name, PASSWORD).unwrap();
    d.fill(&user, "INBOX", &generate(2, 500)).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let ca = d.ca_file();
    let ca = ca.to_str().unwrap();
    let imaps = imaps(d, &user, "INBOX");
    let imap = format!("imap://{}@127.0.0.1:{}/INBOX", user.name, d.imap_port());
    let pop3s = pop3s(d, &user);
    let pop3_plain_auth = format!(
        "pop3://{};AUTH=PLAIN@127.0.0.1:{}",
        user.name,
        d.pop3_port()
    );
    let out_dir = dest.path().join("m");
    // Each run with the redacted line that shows the trace did cover the login.
    let runs: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-v", "login", &imaps], "LOGIN <redacted>"),
        (vec!["-vv", "login", &imap], "LOGIN <redacted>"),
        (
            vec!["-v", "download", &imaps, out_dir.to_str().unwrap()],
            "LOGIN <redacted>",
        ),
        (vec!["-v", "pop", "stat", &pop3s], "<redacted>"),
        (
            vec!["-vv", "pop", "uidl", &pop3_plain_auth],
            "AUTH PLAIN <redacted>",
        ),
    ];
    for (args, redacted) in &runs {
        let mut cmd = mailbag(&user, args);
        cmd.args(["--ca-file", ca]);
        let (out, stdout, stderr) = run(cmd);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains(redacted),
            "{args:?}: no {redacted:?} in the trace:\n{stderr}"
        );
        assert_no_password(&format!("{args:?} stdout"), &stdout, &user);
        assert_no_password(&format!("{args:?} stderr"), &stderr, &user);
    }
    // A failed login with a distinctive wrong password: neither password shows.
    let wrong = TestUser {
        name: user.name.clone(),
        password: "Wrong-Walrus-Password-77".into(),
    };
    for args in [
        vec!["-vv", "login", imaps.as_str()],
        vec!["-vv", "pop", "stat", pop3s.as_str()],
        vec!["-vv", "pop", "stat", pop3_plain_auth.as_str()],
    ] {
        let mut cmd = mailbag(&wrong, &args);
        cmd.args(["--ca-file", ca]);
        let (out, stdout, stderr) = run(cmd);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        for text in [&stdout, &stderr] {
            assert_no_password(&format!("{args:?}"), text, &wrong);
            assert_no_password(&format!("{args:?}"), text, &user);
        }
    }
}

#[test]
fn hostile_folder_names_cannot_write_outside_the_destination() {
    // A server lists folders named to climb out of DEST, to hide, or to hit the state
    // directory: each becomes one escaped file name inside DEST.
    let server = Recorder::start_with(
        GREETING,
        "* LIST () \"/\" INBOX\r\n* LIST () \"/\" \"../../escape\"\r\n\
         * LIST () \"/\" \".mailbag/INBOX\"\r\n* LIST () \"/\" \"~x/..\"\r\n",
    );
    let top = tempfile::tempdir().unwrap();
    let dest = top.path().join("a").join("b").join("dest");
    let src = format!("imap://ann@127.0.0.1:{}", server.port);
    for format in ["mbox", "maildir"] {
        let (out, stdout, stderr) = run(plain(&[
            "download",
            &src,
            dest.join(format).to_str().unwrap(),
            "--all-folders",
            "--format",
            format,
        ]));
        assert!(out.status.success(), "{format}: {stdout} {stderr}");
    }
    let mut names = Vec::new();
    let mut stack = vec![top.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            assert!(
                p.starts_with(&dest) || dest.starts_with(&p),
                "written outside DEST: {}",
                p.display()
            );
            if p.is_dir() {
                stack.push(p.clone());
            }
            if p.parent() == Some(dest.join("mbox").as_path())
                || p.parent() == Some(dest.join("maildir").as_path())
            {
                names.push(p.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    for want in [
        "%2E%2E.%2E%2E.escape.mbox",
        "%2Emailbag.INBOX.mbox",
        "%7Ex.%2E%2E.mbox",
        "%2E%2E.%2E%2E.escape",
        "%2Emailbag.INBOX",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
}

/// Every directory under `root` (and `root`) is 0700, every file 0600.
fn assert_private(root: &Path) -> usize {
    let mode = std::fs::metadata(root).unwrap().permissions().mode() & 0o777;
    let mut checked = 1;
    if root.is_dir() {
        assert_eq!(mode, 0o700, "{}", root.display());
        for e in std::fs::read_dir(root).unwrap() {
            checked += assert_private(&e.unwrap().path());
        }
    } else {
        assert_eq!(mode, 0o600, "{}", root.display());
    }
    checked
}

#[test]
fn downloads_are_private_even_under_umask_000() {
    let d = Dovecot::shared();
    let user = d.new_user();
    std::thread::sleep(Duration::from_millis(1100));
    let msgs: Vec<Vec<u8>> = generate(3, 800).iter().map(|m| to_crlf(m)).collect();
    d.fill(&user, "INBOX", &msgs).unwrap();
    d.fill(&user, "Work/2026", &msgs[..1]).unwrap();
    let top = tempfile::tempdir().unwrap();
    let runs = [
        ("mbox", imaps(d, &user, ""), true),
        ("maildir", imaps(d, &user, ""), true),
        ("mbox", pop3s(d, &user), false),
        ("maildir", pop3s(d, &user), false),
    ];
    for (i, (format, src, all_folders)) in runs.iter().enumerate() {
        // DEST does not exist yet: mailbag creates it, and everything in it.
        let dest = top.path().join(format!("{i}")).join("mail");
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg("umask 000; exec \"$0\" \"$@\"")
            .arg(bin())
            .args(["download", src])
            .arg(&dest)
            .args(["--format", format, "--ca-file"])
            .arg(d.ca_file())
            .args(all_folders.then_some("--all-folders"))
            .env("MAILBAG_PASSWORD", &user.password)
            .env("XDG_CONFIG_HOME", "/nonexistent-mailbag-test");
        let (out, stdout, stderr) = run(cmd);
        assert!(out.status.success(), "{src} {format}: {stdout} {stderr}");
        assert!(
            dest.join(".mailbag").is_dir(),
            "{src} {format}: no state dir"
        );
        let checked = assert_private(&dest);
        assert!(checked >= 5, "{src} {format}: only {checked} entries");
    }
    // The check can fail: umask 000 itself makes 0666 files.
    let probe = top.path().join("probe");
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 000; : > \"$0\"")
        .arg(&probe)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777,
        0o666
    );
}
