//! Smoke tests of the harness: a real Dovecot greets on all four ports, TLS verifies
//! against the harness CA (and only against it), users log in, filled and delivered
//! messages appear in order.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailbag_testserver::{messages, Dovecot};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

fn tls_config(ca_pem: Option<&str>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
            roots
                .add(cert.expect("CA PEM parses"))
                .expect("CA accepted");
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn tls(
    tcp: TcpStream,
    ca_pem: Option<&str>,
    host: &str,
) -> StreamOwned<ClientConnection, TcpStream> {
    let name = ServerName::try_from(host.to_owned()).expect("server name");
    let conn = ClientConnection::new(tls_config(ca_pem), name).expect("client connection");
    StreamOwned::new(conn, tcp)
}

fn read_line<R: BufRead>(r: &mut R) -> String {
    let mut line = String::new();
    r.read_line(&mut line).expect("read line");
    line
}

/// Reads lines until one starts with `prefix`; returns everything read.
fn read_until<R: BufRead>(r: &mut R, prefix: &str) -> String {
    let mut all = String::new();
    loop {
        let line = read_line(r);
        assert!(!line.is_empty(), "connection closed; got so far: {all}");
        all.push_str(&line);
        if line.starts_with(prefix) {
            return all;
        }
    }
}

#[test]
fn imaps_greets_over_verified_tls() {
    let d = Dovecot::shared();
    for host in ["localhost", "127.0.0.1"] {
        let mut r = BufReader::new(tls(connect(d.imaps_port()), Some(d.ca_pem()), host));
        let greeting = read_line(&mut r);
        assert!(greeting.starts_with("* OK"), "{greeting}");
    }
}

#[test]
fn pop3s_greets_over_verified_tls() {
    let d = Dovecot::shared();
    let mut r = BufReader::new(tls(connect(d.pop3s_port()), Some(d.ca_pem()), "localhost"));
    let greeting = read_line(&mut r);
    assert!(greeting.starts_with("+OK"), "{greeting}");
}

#[test]
fn imap_starttls_by_hand() {
    let d = Dovecot::shared();
    let tcp = connect(d.imap_port());
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let greeting = read_line(&mut r);
    assert!(
        greeting.starts_with("* OK") && greeting.contains("STARTTLS"),
        "{greeting}"
    );
    (&tcp).write_all(b"a STARTTLS\r\n").unwrap();
    let done = read_until(&mut r, "a ");
    assert!(done.starts_with("a OK"), "{done}");
    drop(r);
    let mut s = BufReader::new(tls(tcp, Some(d.ca_pem()), "localhost"));
    s.get_mut().write_all(b"b CAPABILITY\r\n").unwrap();
    let caps = read_until(&mut s, "b ");
    assert!(
        caps.contains("AUTH=PLAIN") && !caps.contains("STARTTLS"),
        "{caps}"
    );
    assert!(caps.contains("IDLE"), "{caps}");
}

#[test]
fn pop3_stls_by_hand() {
    let d = Dovecot::shared();
    let tcp = connect(d.pop3_port());
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let greeting = read_line(&mut r);
    assert!(greeting.starts_with("+OK"), "{greeting}");
    // APOP is offered: the greeting carries the timestamp.
    assert!(
        greeting.contains('<') && greeting.contains('>'),
        "{greeting}"
    );
    (&tcp).write_all(b"STLS\r\n").unwrap();
    let ok = read_line(&mut r);
    assert!(ok.starts_with("+OK"), "{ok}");
    drop(r);
    let mut s = BufReader::new(tls(tcp, Some(d.ca_pem()), "localhost"));
    s.get_mut().write_all(b"CAPA\r\n").unwrap();
    let capa = read_until(&mut s, ".");
    assert!(
        capa.contains("SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"),
        "{capa}"
    );
    assert!(capa.contains("PIPELINING"), "{capa}");
}

#[test]
fn tls_without_the_ca_is_refused() {
    let d = Dovecot::shared();
    let mut s = tls(connect(d.imaps_port()), None, "localhost");
    let mut buf = [0u8; 64];
    let err = s.read(&mut buf).expect_err("an unknown CA must be refused");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
}

#[test]
fn tls_for_another_name_is_refused() {
    let d = Dovecot::shared();
    let mut s = tls(
        connect(d.imaps_port()),
        Some(d.ca_pem()),
        "mail.example.org",
    );
    let mut buf = [0u8; 64];
    let err = s
        .read(&mut buf)
        .expect_err("a name mismatch must be refused");
    assert!(err.to_string().contains("not valid for name"), "{err}");
}

/// Logs in on IMAPS and runs one command, returning everything up to its completion.
fn imap_session(d: &Dovecot, user: &mailbag_testserver::TestUser, command: &str) -> String {
    let mut s = BufReader::new(tls(connect(d.imaps_port()), Some(d.ca_pem()), "localhost"));
    read_line(&mut s);
    let login = format!("a LOGIN {} {}\r\n", user.name, user.password);
    s.get_mut().write_all(login.as_bytes()).unwrap();
    let ok = read_until(&mut s, "a ");
    assert!(ok.contains("a OK"), "{ok}");
    s.get_mut().write_all(b"s EXAMINE INBOX\r\n").unwrap();
    read_until(&mut s, "s OK");
    s.get_mut()
        .write_all(format!("b {command}\r\nc LOGOUT\r\n").as_bytes())
        .unwrap();
    let out = read_until(&mut s, "b ");
    read_until(&mut s, "c ");
    out
}

#[test]
fn fill_gives_uids_in_order_and_server_sends_crlf() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let msgs = messages::generate(20, 3000);
    let t = Instant::now();
    d.fill(&user, "INBOX", &msgs).unwrap();
    d.fill(&user, "Archive/2013", &msgs[..3]).unwrap();
    eprintln!("filled 23 messages in {:?}", t.elapsed());

    let out = imap_session(d, &user, "EXAMINE INBOX");
    assert!(out.contains("* 20 EXISTS"), "{out}");
    let out = imap_session(
        d,
        &user,
        "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
    );
    let ids: Vec<usize> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Message-ID: <"))
        .filter_map(|l| l.split('.').next()?.parse().ok())
        .collect();
    assert_eq!(ids, (0..20).collect::<Vec<_>>(), "{out}");

    let out = imap_session(d, &user, "LIST \"\" *");
    for folder in ["Archive/2013", "Drafts", "Sent", "Trash", "Junk", "INBOX"] {
        assert!(out.contains(folder), "{folder} missing in {out}");
    }
    let out = imap_session(d, &user, "STATUS Archive/2013 (MESSAGES)");
    assert!(out.contains("MESSAGES 3"), "{out}");

    // The exact bytes: what the server sends is the stored message with CRLF line ends.
    let out = imap_session(d, &user, "UID FETCH 1 BODY.PEEK[]");
    let expected = messages::to_crlf(&msgs[0]);
    let header = format!("{{{}}}", expected.len());
    assert!(out.contains(&header), "size {header} missing");
    assert!(out.contains(std::str::from_utf8(&expected).unwrap()));
}

#[test]
fn ten_thousand_messages_fill_fast() {
    let d = Dovecot::start().expect("isolated server");
    let user = d.new_user();
    let msgs = messages::generate(10_000, 2_000);
    let t = Instant::now();
    d.fill(&user, "INBOX", &msgs).unwrap();
    let took = t.elapsed();
    eprintln!("filled 10,000 messages in {took:?}");
    let out = imap_session(&d, &user, "STATUS INBOX (MESSAGES UIDNEXT)");
    assert!(out.contains("MESSAGES 10000"), "{out}");
    assert!(out.contains("UIDNEXT 10001"), "{out}");
}

#[test]
fn idle_sees_a_delivered_message_and_bad_password_fails_fast() {
    let d = Dovecot::shared();
    let user = d.new_user();
    // A wrong password answers at once (auth_failure_delay = 0) and does not slow down
    // later logins from 127.0.0.1 (no anvil penalty).
    for _ in 0..2 {
        let t = Instant::now();
        let mut s = BufReader::new(tls(connect(d.imaps_port()), Some(d.ca_pem()), "localhost"));
        read_line(&mut s);
        let login = format!("a LOGIN {} wrong\r\n", user.name);
        s.get_mut().write_all(login.as_bytes()).unwrap();
        let no = read_until(&mut s, "a ");
        assert!(no.contains("a NO [AUTHENTICATIONFAILED]"), "{no}");
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
    }

    let mut s = BufReader::new(tls(connect(d.imaps_port()), Some(d.ca_pem()), "localhost"));
    read_line(&mut s);
    let t = Instant::now();
    let login = format!(
        "a LOGIN {} {}\r\nb SELECT INBOX\r\nc IDLE\r\n",
        user.name, user.password
    );
    s.get_mut().write_all(login.as_bytes()).unwrap();
    let out = read_until(&mut s, "a ");
    assert!(out.contains("a OK"), "login after failures: {out}");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    read_until(&mut s, "b OK");
    read_until(&mut s, "+");
    d.deliver(&user, "INBOX", &messages::message(1, 1500))
        .unwrap();
    let exists = read_until(&mut s, "* 1 EXISTS");
    assert!(exists.contains("* 1 EXISTS"), "{exists}");
    s.get_mut().write_all(b"DONE\r\n").unwrap();
    let done = read_until(&mut s, "c ");
    assert!(done.contains("c OK"), "{done}");
}

#[test]
fn a_dropped_server_stops_and_leaves_nothing() {
    let d = Dovecot::start().expect("isolated server");
    let dir = d.dir().to_owned();
    let port = d.imap_port();
    assert!(dir.exists());
    drop(d);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
}

#[test]
fn new_users_log_in_at_once_while_others_are_added() {
    let d = Dovecot::shared();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let user = d.new_user();
                    let out = imap_session(d, &user, "NOOP");
                    assert!(out.contains("b OK"), "{out}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("login thread");
    }
}
