//! The POP3 client against the harness's real Dovecot: every command, every login method,
//! STLS, certificate checks, dot-stuffed bodies, deletion only at QUIT, and the pipelining
//! speed-up.

use std::time::{Duration, Instant};

use mailbag::pop3::{ConnectOptions, LoginMethod, Mechanism, Pop3Client, RetrEvent};
use mailbag::proto::pop3::SessionState;
use mailbag::proto::Secret;
use mailbag::{Error, Security, TlsFailure};
use mailbag_testserver::messages::{generate, to_crlf};
use mailbag_testserver::{Dovecot, TestUser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn options(d: &Dovecot, security: Security) -> ConnectOptions {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let port = match security {
        Security::Implicit => d.pop3s_port(),
        _ => d.pop3_port(),
    };
    let mut o = ConnectOptions::new("localhost", security)
        .port(port)
        .ca_file(d.ca_file());
    o.only_ca_file = true;
    o.timeouts.command = Some(Duration::from_secs(20));
    o
}

/// A fresh user, usable once Dovecot's passwd-file cache sees it.
///
/// Workaround for a harness issue: a login in the same second as the passwd-file append
/// intermittently fails with `-ERR [AUTH]` (Dovecot 2.3 keeps the previously read file;
/// `add_user` appends with several write calls). Waiting for the next second avoids it.
fn fresh_user(d: &Dovecot) -> TestUser {
    // The harness gives each user its own passwd-file, so a new user can log in at once.
    d.new_user()
}

async fn login(d: &Dovecot, user: &TestUser, method: LoginMethod) -> Pop3Client {
    let mut c = Pop3Client::connect(options(d, Security::Implicit))
        .await
        .unwrap();
    let pw = Secret::new(user.password.clone());
    if let Err(e) = c.login(&user.name, &pw, method).await {
        panic!("{method:?} as {}: {e}\n{}", user.name, d.log_tail());
    }
    assert_eq!(c.state(), SessionState::Transaction);
    c
}

#[tokio::test]
async fn every_login_method_dovecot_offers() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(2, 500)).unwrap();
    for method in [
        LoginMethod::Auto,
        LoginMethod::UserPass,
        LoginMethod::Apop,
        LoginMethod::Sasl(Mechanism::Plain),
        LoginMethod::Sasl(Mechanism::Login),
        LoginMethod::Sasl(Mechanism::CramMd5),
        LoginMethod::Sasl(Mechanism::ScramSha256),
    ] {
        let mut c = login(d, &user, method).await;
        assert_eq!(c.stat().await.unwrap().count, 2, "{method:?}");
        c.quit().await.unwrap();
    }
}

#[tokio::test]
async fn capabilities_and_stls() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let mut c = Pop3Client::connect(options(d, Security::StartTls))
        .await
        .unwrap();
    assert!(c.is_tls());
    let caps = c.capabilities().unwrap().clone();
    assert!(caps.pipelining());
    assert!(!caps.stls(), "STLS is not offered again after TLS");
    let mechs = caps.sasl_mechanisms();
    for m in ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"] {
        assert!(mechs.iter().any(|x| x == m), "{m} in {mechs:?}");
    }
    let pw = Secret::new(user.password.clone());
    c.login(&user.name, &pw, LoginMethod::Auto).await.unwrap();
    c.noop().await.unwrap();
    c.quit().await.unwrap();

    // Explicit plaintext, allowed because the caller chose it.
    let mut c = Pop3Client::connect(options(d, Security::Plaintext))
        .await
        .unwrap();
    assert!(!c.is_tls());
    assert!(c.capabilities().unwrap().stls());
    c.login(&user.name, &pw, LoginMethod::UserPass)
        .await
        .unwrap();
    c.quit().await.unwrap();
}

#[tokio::test]
async fn certificate_checked_against_the_ca_file() {
    let d = Dovecot::shared();
    let mut o = options(d, Security::Implicit);
    o.ca_file = None;
    o.only_ca_file = false;
    // Only the platform's roots: the harness CA is unknown. (A system with no roots at all
    // fails earlier, as a configuration error.)
    match Pop3Client::connect(o).await {
        Err(Error::Tls { failure, .. }) => assert!(
            matches!(failure, TlsFailure::UnknownIssuer | TlsFailure::Config),
            "{failure:?}"
        ),
        other => panic!("expected a TLS error, got {:?}", other.map(|_| ())),
    }
    let mut o = options(d, Security::StartTls);
    o.ca_file = None;
    o.only_ca_file = false;
    assert!(matches!(
        Pop3Client::connect(o).await,
        Err(Error::Tls { .. })
    ));
    // The certificate names localhost and 127.0.0.1; both verify with the CA file.
    let mut o = options(d, Security::Implicit);
    o.host = "127.0.0.1".into();
    Pop3Client::connect(o).await.unwrap();
}

#[tokio::test]
async fn bad_password_is_a_typed_auth_error() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    for method in [
        LoginMethod::UserPass,
        LoginMethod::Sasl(Mechanism::ScramSha256),
    ] {
        let mut c = Pop3Client::connect(options(d, Security::Implicit))
            .await
            .unwrap();
        let err = c
            .login(&user.name, &Secret::new("wrong".into()), method)
            .await
            .unwrap_err();
        let Error::Auth { text, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(!text.is_empty());
        assert!(!format!("{err:?}{err}").contains(&user.password));
    }
}

#[tokio::test]
async fn every_transaction_command_and_exact_bytes() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let msgs = generate(8, 3000);
    assert!(
        msgs.iter().any(|m| m.windows(2).any(|w| w == b"\n.")),
        "dot lines present"
    );
    d.fill(&user, "INBOX", &msgs).unwrap();
    let mut c = login(d, &user, LoginMethod::Auto).await;
    let stat = c.stat().await.unwrap();
    assert_eq!(stat.count, 8);
    let list = c.list().await.unwrap();
    assert_eq!(list.len(), 8);
    assert_eq!(list.iter().map(|e| e.size).sum::<u64>(), stat.size);
    assert_eq!(c.list_one(3).await.unwrap(), list[2]);
    let uidl = c.uidl().await.unwrap();
    assert_eq!(c.uidl_one(5).await.unwrap(), uidl[4]);
    let (u2, l2) = c.uidl_and_list().await.unwrap();
    assert_eq!((u2, l2), (uidl.clone(), list.clone()));
    for (i, m) in msgs.iter().enumerate() {
        let n = i as u32 + 1;
        let got = c.retr_to_vec(n).await.unwrap();
        assert_eq!(got, to_crlf(m), "message {n} byte for byte");
        assert_eq!(got.len() as u64, list[i].size);
    }
    let head = c.top_to_vec(1, 0).await.unwrap();
    let crlf = to_crlf(&msgs[0]);
    let end = crlf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(head, &crlf[..end]);
    // Every header in one pipelined batch, equal to TOP one by one.
    let mut heads = vec![Vec::new(); 8];
    c.top_many(&(1..=8).collect::<Vec<_>>(), 0, |e| {
        if let RetrEvent::Chunk(n, b) = e {
            heads[n as usize - 1].extend_from_slice(b);
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(heads[0], head);
    assert_eq!(heads[7], c.top_to_vec(8, 0).await.unwrap());
    // The body as a Stream of chunks.
    {
        use futures_util::TryStreamExt;
        let chunks: Vec<_> = c
            .retr(3)
            .await
            .unwrap()
            .into_stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(chunks.concat(), to_crlf(&msgs[2]));
    }
    // Streaming with an early drop: the next command still works.
    {
        let mut r = c.retr(2).await.unwrap();
        assert!(r.next_chunk().await.unwrap().is_some());
    }
    c.noop().await.unwrap();
    let mut file = Vec::new();
    let n = c.retr_to_writer(4, &mut file).await.unwrap();
    assert_eq!(n as usize, file.len());
    assert_eq!(file, to_crlf(&msgs[3]));
    // Errors carry the server's words.
    let err = c.retr(99).await.unwrap_err();
    assert!(
        matches!(&err, Error::No { text, .. } if !text.is_empty()),
        "{err:?}"
    );
    c.dele(1).await.unwrap();
    assert!(matches!(c.retr_to_vec(1).await, Err(Error::No { .. })));
    c.rset().await.unwrap();
    c.retr_to_vec(1).await.unwrap();
    c.capa().await.unwrap();
    c.quit().await.unwrap();
}

#[tokio::test]
async fn nothing_deleted_before_quit() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(3, 400)).unwrap();
    let mut c = login(d, &user, LoginMethod::Auto).await;
    c.dele(1).await.unwrap();
    c.dele(2).await.unwrap();
    drop(c); // the connection goes away without QUIT
    let mut c = login(d, &user, LoginMethod::Auto).await;
    assert_eq!(c.stat().await.unwrap().count, 3);
    c.dele(1).await.unwrap();
    c.quit().await.unwrap();
    let mut c = login(d, &user, LoginMethod::Auto).await;
    assert_eq!(c.stat().await.unwrap().count, 2);
    c.quit().await.unwrap();
}

#[tokio::test]
async fn big_message_streams_in_chunks() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let msgs = generate(1, 8_000_000);
    d.fill(&user, "INBOX", &msgs).unwrap();
    let mut c = login(d, &user, LoginMethod::Auto).await;
    let mut r = c.retr(1).await.unwrap();
    let (mut total, mut chunks, mut largest) = (0usize, 0usize, 0usize);
    while let Some(chunk) = r.next_chunk().await.unwrap() {
        total += chunk.len();
        chunks += 1;
        largest = largest.max(chunk.len());
    }
    assert_eq!(total, to_crlf(&msgs[0]).len());
    assert!(
        chunks > 10 && largest <= 256 * 1024,
        "{chunks} chunks, largest {largest}"
    );
}

/// A TCP relay to `target` that holds every chunk for `delay` in each direction, in order,
/// like a link with a round trip of twice `delay`; pipelined bytes flow without waiting.
async fn delay_proxy(target: u16, delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(("127.0.0.1", target)).await.unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(relay(cr, sw, delay));
            tokio::spawn(relay(sr, cw, delay));
        }
    });
    port
}

async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, data)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0
            || tx
                .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
        {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn retr_all(
    d: &Dovecot,
    user: &TestUser,
    window: usize,
    n: u32,
    port: u16,
) -> (std::time::Duration, usize) {
    let mut o = options(d, Security::Implicit);
    o.port = port;
    o.pipeline_window = window;
    let mut c = Pop3Client::connect(o).await.unwrap();
    c.login(
        &user.name,
        &Secret::new(user.password.clone()),
        LoginMethod::Auto,
    )
    .await
    .unwrap();
    let numbers: Vec<u32> = (1..=n).collect();
    let start = Instant::now();
    let mut bytes = 0;
    let mut ends = 0;
    c.retr_many(&numbers, |e| {
        match e {
            RetrEvent::Chunk(_, b) => bytes += b.len(),
            RetrEvent::End(_) => ends += 1,
            RetrEvent::Refused(n, e) => panic!("{n}: {e}"),
        }
        Ok(())
    })
    .await
    .unwrap();
    let took = start.elapsed();
    assert_eq!(ends, n as usize);
    c.quit().await.unwrap();
    (took, bytes)
}

#[tokio::test]
async fn pipelining_speed_up() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(1000, 1000)).unwrap();
    // Warm the server's index first.
    let direct = d.pop3s_port();
    retr_all(d, &user, 64, 1000, direct).await;
    let (one, b1) = retr_all(d, &user, 1, 1000, direct).await;
    let (piped, b2) = retr_all(d, &user, 64, 1000, direct).await;
    assert_eq!(b1, b2);
    println!(
        "RETR of 1000 messages ({b1} bytes) over TLS on loopback: one at a time {one:?}, \
         pipelined (window 64) {piped:?}, speed-up {:.2}x",
        one.as_secs_f64() / piped.as_secs_f64()
    );
    // The same over a link with a 2 ms round trip, where pipelining matters.
    let slow = delay_proxy(direct, Duration::from_millis(1)).await;
    let (one, _) = retr_all(d, &user, 1, 1000, slow).await;
    let (piped, _) = retr_all(d, &user, 64, 1000, slow).await;
    let speed_up = one.as_secs_f64() / piped.as_secs_f64();
    println!(
        "RETR of 1000 messages over TLS with a 2 ms round trip: one at a time {one:?}, \
         pipelined (window 64) {piped:?}, speed-up {speed_up:.1}x"
    );
    assert!(speed_up > 2.0, "pipelining must pay off on a slow link");
}

/// Dovecot behind the harness's fault proxy: the link dies or stalls in the middle of a
/// 1 MB RETR, after about 40 KB of it.
#[tokio::test]
async fn link_cut_or_stalled_mid_message() {
    use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(1, 1_000_000)).unwrap();
    let pw = Secret::new(user.password.clone());
    for (faults, expect_timeout) in [
        (Faults::none().cut_after_server(50_000), false),
        (Faults::none().cut_after_server(50_000).rst(), false),
        (Faults::none().stall_after_server(50_000), true),
    ] {
        let proxy = FaultProxy::start(d.addr(d.pop3s_port()), FaultPlan::every(faults))
            .await
            .unwrap();
        let mut o = options(d, Security::Implicit);
        o.port = proxy.port();
        o.timeouts.command = Some(Duration::from_millis(500));
        let mut c = Pop3Client::connect(o).await.unwrap();
        c.login(&user.name, &pw, LoginMethod::Auto).await.unwrap();
        let mut got = 0usize;
        let err = async {
            let mut r = c.retr(1).await?;
            while let Some(chunk) = r.next_chunk().await? {
                got += chunk.len();
            }
            Ok::<(), Error>(())
        }
        .await
        .unwrap_err();
        assert!(got > 0 && got < 1_000_000, "{got}");
        if expect_timeout {
            assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        } else {
            assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
        }
        assert!(c.noop().await.is_err(), "the failure is sticky");
    }
}
