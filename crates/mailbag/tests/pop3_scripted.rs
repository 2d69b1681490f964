//! The POP3 client against scripted peers: an in-process listener that sends fixed bytes,
//! for what Dovecot never does (RESP-CODES, no CAPA, a drop mid-message, stalls, replies
//! split at every byte).

use std::time::Duration;

use mailbag::pop3::{ConnectOptions, LoginMethod, Pop3Client};
use mailbag::proto::Secret;
use mailbag::{Error, Security, TlsFailure};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One step: wait for a client line starting with `expect` (if any), then send `reply`.
struct Step {
    expect: Option<&'static str>,
    reply: Vec<u8>,
    /// Send the reply one byte at a time.
    bytewise: bool,
}

fn s(expect: &'static str, reply: &str) -> Step {
    Step {
        expect: Some(expect),
        reply: reply.as_bytes().to_vec(),
        bytewise: false,
    }
}

const NO_CAPA: &str = "-ERR Unknown command\r\n";

/// Starts a peer that plays `script` to one client; the task returns the lines it read and
/// whether any command arrived while an earlier one was unanswered.
async fn serve(script: Vec<Step>) -> (u16, JoinHandle<(Vec<String>, bool)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        let mut lines = Vec::new();
        let mut pipelined = false;
        for step in script {
            if let Some(expect) = step.expect {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap() == 0 {
                    break;
                }
                assert!(
                    line.starts_with(expect),
                    "expected {expect:?}, got {line:?}"
                );
                pipelined |= !r.buffer().is_empty();
                lines.push(line.trim_end().to_owned());
            }
            if step.bytewise {
                for b in &step.reply {
                    w.write_all(&[*b]).await.unwrap();
                    w.flush().await.unwrap();
                }
            } else {
                w.write_all(&step.reply).await.unwrap();
            }
        }
        // Linger so the client sees the replies before the close.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_millis(200), r.read_to_end(&mut rest)).await;
        (lines, pipelined)
    });
    (port, task)
}

fn plain(port: u16) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", Security::Plaintext).port(port);
    o.timeouts.command = Some(Duration::from_secs(5));
    o
}

fn greeting_and_capa() -> Vec<Step> {
    vec![
        Step {
            expect: None,
            reply: b"+OK ready\r\n".to_vec(),
            bytewise: false,
        },
        s("CAPA", NO_CAPA),
    ]
}

async fn logged_in(mut script: Vec<Step>) -> (Pop3Client, JoinHandle<(Vec<String>, bool)>) {
    let mut full = greeting_and_capa();
    full.push(s("USER u", "+OK\r\n"));
    full.push(s("PASS secret", "+OK logged in\r\n"));
    full.push(s("CAPA", NO_CAPA));
    full.append(&mut script);
    let (port, task) = serve(full).await;
    let mut c = Pop3Client::connect(plain(port)).await.unwrap();
    c.login("u", &Secret::new("secret".into()), LoginMethod::Auto)
        .await
        .unwrap();
    (c, task)
}

#[tokio::test]
async fn bad_password_and_resp_codes() {
    let mut script = greeting_and_capa();
    script.push(s("USER u", "+OK\r\n"));
    script.push(s("PASS nope", "-ERR [AUTH] Invalid login or password\r\n"));
    let (port, _task) = serve(script).await;
    let mut c = Pop3Client::connect(plain(port)).await.unwrap();
    assert!(c.capabilities().is_none(), "server without CAPA");
    let err = c
        .login("u", &Secret::new("nope".into()), LoginMethod::Auto)
        .await
        .unwrap_err();
    match &err {
        Error::Auth { code, text } => {
            assert_eq!(code.as_deref(), Some("AUTH"));
            assert_eq!(text, "Invalid login or password");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_transient());

    let mut script = greeting_and_capa();
    script.push(s("USER u", "+OK\r\n"));
    script.push(s(
        "PASS secret",
        "-ERR [IN-USE] Mailbox locked by another session\r\n",
    ));
    let (port, _task) = serve(script).await;
    let mut c = Pop3Client::connect(plain(port)).await.unwrap();
    let err = c
        .login("u", &Secret::new("secret".into()), LoginMethod::Auto)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Auth { code: Some(c), .. } if c == "IN-USE"));
    assert!(err.is_transient());

    let (mut c, _task) = logged_in(vec![s("RETR 1", "-ERR [SYS/TEMP] try later\r\n")]).await;
    let err = c.retr_to_vec(1).await.unwrap_err();
    assert!(
        matches!(&err, Error::No { code: Some(c), text, .. } if c == "SYS/TEMP" && text == "try later")
    );
}

#[tokio::test]
async fn without_capa_commands_go_one_at_a_time() {
    let (mut c, task) = logged_in(vec![
        s("RETR 1", "+OK\r\none\r\n.\r\n"),
        s("RETR 2", "+OK\r\ntwo\r\n.\r\n"),
        s("RETR 3", "+OK\r\nthree\r\n.\r\n"),
        s("QUIT", "+OK bye\r\n"),
    ])
    .await;
    let mut got = Vec::new();
    c.retr_many(&[1, 2, 3], |e| {
        if let mailbag::pop3::RetrEvent::Chunk(n, b) = e {
            got.push((n, b.to_vec()));
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], (3, b"three\r\n".to_vec()));
    c.quit().await.unwrap();
    let (_, pipelined) = task.await.unwrap();
    assert!(
        !pipelined,
        "no PIPELINING offered, so no command may overtake a reply"
    );
}

#[tokio::test]
async fn dot_stuffed_reply_split_at_every_byte() {
    let body = "+OK 40 octets\r\nSubject: x\r\n\r\n..foo\r\n...\r\n..\r\nlast\r\n.\r\n";
    let (mut c, _task) = logged_in(vec![Step {
        expect: Some("RETR 1"),
        reply: body.as_bytes().to_vec(),
        bytewise: true,
    }])
    .await;
    let got = c.retr_to_vec(1).await.unwrap();
    assert_eq!(got, b"Subject: x\r\n\r\n.foo\r\n..\r\n.\r\nlast\r\n");
}

#[tokio::test]
async fn drop_in_the_middle_of_a_message_is_connection_lost() {
    let (mut c, _task) = logged_in(vec![s(
        "RETR 1",
        "+OK\r\nSubject: cut\r\n\r\nfirst half of the bo",
    )])
    .await;
    let err = c.retr_to_vec(1).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    // The failure is sticky: no later command pretends the session is fine.
    assert!(matches!(c.noop().await, Err(Error::ConnectionLost { .. })));
}

#[tokio::test]
async fn stalled_server_times_out() {
    let (port, _task) = serve(vec![Step {
        expect: None,
        reply: b"+OK ready\r\n".to_vec(),
        bytewise: false,
    }])
    .await;
    let mut o = plain(port);
    o.timeouts.command = Some(Duration::from_millis(100));
    let err = Pop3Client::connect(o).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { what: "command" }), "{err:?}");
}

#[tokio::test]
async fn garbage_is_a_protocol_error_with_the_bytes() {
    let (mut c, _task) = logged_in(vec![s("STAT", "HTTP/1.1 400 Bad Request\r\n")]).await;
    let err = c.stat().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(&err, Error::Protocol { bytes, .. } if bytes == b"HTTP/1.1 400 Bad Request"));
    assert!(text.contains("HTTP/1.1 400"), "{text}");
}

#[tokio::test]
async fn stls_required_but_refused() {
    let mut script = greeting_and_capa();
    script.push(s("STLS", "-ERR not here\r\n"));
    let (port, _task) = serve(script).await;
    let mut o = plain(port);
    o.security = Security::StartTls;
    let err = Pop3Client::connect(o).await.unwrap_err();
    assert!(
        matches!(&err, Error::Tls { failure: TlsFailure::Handshake, message, .. } if message.contains("not here")),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_greeting_is_bye() {
    let (port, _task) = serve(vec![Step {
        expect: None,
        reply: b"-ERR [SYS/TEMP] too many connections\r\n".to_vec(),
        bytewise: false,
    }])
    .await;
    let err = Pop3Client::connect(plain(port)).await.unwrap_err();
    assert!(matches!(err, Error::Bye { text } if text.contains("too many")));
}

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn utf8_and_a_trace_without_credentials() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut script = greeting_and_capa();
    script.push(s("UTF8", "+OK UTF8 enabled\r\n"));
    script.push(s("USER jörg", "+OK\r\n"));
    script.push(s("PASS hunter2 with spaces", "+OK\r\n"));
    script.push(s("CAPA", NO_CAPA));
    script.push(s("QUIT", "+OK\r\n"));
    let (port, task) = serve(script).await;
    let mut c = Pop3Client::connect(plain(port)).await.unwrap();
    c.utf8().await.unwrap();
    c.login(
        "jörg",
        &Secret::new("hunter2 with spaces".into()),
        LoginMethod::UserPass,
    )
    .await
    .unwrap();
    c.quit().await.unwrap();
    let (lines, _) = task.await.unwrap();
    assert!(lines.contains(&"PASS hunter2 with spaces".to_owned()));
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("C: USER jörg"), "{log}");
    assert!(log.contains("C: PASS <redacted>"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
}

#[tokio::test]
async fn apop_without_a_greeting_timestamp_is_misuse() {
    let mut script = greeting_and_capa();
    script.push(s("QUIT", "+OK\r\n"));
    let (port, _task) = serve(script).await;
    let mut c = Pop3Client::connect(plain(port)).await.unwrap();
    let err = c
        .login("u", &Secret::new("p".into()), LoginMethod::Apop)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Misuse { .. }), "{err:?}");
}

#[tokio::test]
async fn xoauth2_refused_token_gets_the_servers_words() {
    let mut script = greeting_and_capa();
    // user=u\x01auth=Bearer tok\x01\x01
    script.push(s(
        "AUTH XOAUTH2 dXNlcj11AWF1dGg9QmVhcmVyIHRvawEB",
        "+ eyJzdGF0dXMiOiI0MDEifQ==\r\n",
    ));
    script.push(s("\r\n", "-ERR [AUTH] Invalid credentials\r\n"));
    let (port, _task) = serve(script).await;
    let mut c = Pop3Client::connect(plain(port)).await.unwrap();
    let err = c
        .login(
            "u",
            &Secret::new("tok".into()),
            LoginMethod::Sasl(mailbag::pop3::Mechanism::XOAuth2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth { text, .. } if text == "Invalid credentials"),
        "{err:?}"
    );
}

/// `disconnect` writes QUIT and closes without waiting for the answer (this server never
/// sends one) when nothing is marked for deletion.
#[tokio::test]
async fn disconnect_does_not_wait_for_quit_when_nothing_is_marked() {
    let (mut c, task) = logged_in(vec![
        s("STAT", "+OK 1 10\r\n"),
        Step {
            expect: Some("QUIT"),
            reply: Vec::new(),
            bytewise: false,
        },
    ])
    .await;
    c.stat().await.unwrap();
    let started = std::time::Instant::now();
    c.disconnect().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let (lines, _) = task.await.unwrap();
    assert_eq!(lines.last().map(String::as_str), Some("QUIT"));
}

/// After a DELE the deletions happen at QUIT: `disconnect` waits for its answer and reports
/// a failure.
#[tokio::test]
async fn disconnect_after_dele_waits_for_quit_and_reports_its_failure() {
    let (mut c, task) = logged_in(vec![
        s("DELE 1", "+OK marked\r\n"),
        s(
            "QUIT",
            "-ERR [SYS/TEMP] some deleted messages not removed\r\n",
        ),
    ])
    .await;
    c.dele(1).await.unwrap();
    let err = c.disconnect().await.unwrap_err();
    assert!(matches!(err, Error::No { .. }), "{err:?}");
    let (lines, _) = task.await.unwrap();
    assert_eq!(lines.last().map(String::as_str), Some("QUIT"));
}
