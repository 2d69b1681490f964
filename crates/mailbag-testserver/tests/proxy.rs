//! Tests of the fault-injecting proxy: in front of the harness Dovecot (a whole login in
//! 1-byte segments, cuts, stalls, plan changes) and in front of a local upstream that
//! sends a known number of bytes (exact cut offsets across many reads).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::time::Duration;

use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
use mailbag_testserver::{Dovecot, TestUser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Long enough never to expire on a loaded machine when data is due.
const PATIENCE: Duration = Duration::from_secs(20);

/// One user for every login here: adding users while another test logs in made that login
/// fail now and then (the harness appends to the passwd-file as Dovecot reads it).
fn user() -> &'static TestUser {
    static USER: std::sync::OnceLock<TestUser> = std::sync::OnceLock::new();
    USER.get_or_init(|| Dovecot::shared().new_user())
}

fn imap() -> SocketAddr {
    let d = Dovecot::shared();
    d.addr(d.imap_port())
}

/// Reads everything until end-of-file or an error; the bytes and whether it was a reset.
async fn read_to_end(stream: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("no hang")
        {
            Ok(0) => return (all, false),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
                return (all, true);
            }
        }
    }
}

/// A local upstream that sends `total` bytes of a known pattern to each connection.
async fn sender(total: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
                let _ = s.write_all(&data).await;
                let _ = s.shutdown().await;
                let mut sink = [0u8; 1024];
                while let Ok(n) = s.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

fn read_line<R: BufRead>(r: &mut R) -> String {
    let mut line = String::new();
    r.read_line(&mut line).expect("read line");
    line
}

#[test]
fn one_byte_segments_carry_a_whole_imap_login() {
    let d = Dovecot::shared();
    let user = user();
    let plan = FaultPlan::every(Faults::none().one_byte_segments());
    let proxy = FaultProxy::spawn(d.addr(d.imap_port()), plan).unwrap();
    let stream = StdTcpStream::connect(proxy.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let mut received = read_line(&mut r);
    assert!(received.starts_with("* OK"), "{received}");
    let login = format!("a1 LOGIN {} {}\r\n", user.name, user.password);
    writer.write_all(login.as_bytes()).unwrap();
    loop {
        let line = read_line(&mut r);
        assert!(!line.is_empty(), "closed early: {received}");
        received.push_str(&line);
        if line.starts_with("a1 ") {
            assert!(line.starts_with("a1 OK"), "{line}");
            break;
        }
    }
    writer.write_all(b"a2 LOGOUT\r\n").unwrap();
    r.read_to_string(&mut String::new()).unwrap_or_default();
    let stats = proxy.connection(1).expect("one connection");
    assert_eq!(proxy.accepted(), 1);
    assert_eq!(stats.client_to_server, (login.len() + 11) as u64);
    assert!(stats.server_to_client >= received.len() as u64);
}

#[tokio::test]
async fn a_cut_delivers_exactly_n_bytes_then_end_of_file() {
    for n in [0u64, 1, 10, 16_384, 100_000] {
        let proxy = FaultProxy::start(sender(300_000).await, FaultPlan::pass())
            .await
            .unwrap();
        proxy.set_plan(FaultPlan::every(Faults::none().cut_after_server(n)));
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        let (got, reset) = read_to_end(&mut client).await;
        assert!(!reset, "a FIN cut must not reset");
        assert_eq!(got.len() as u64, n);
        let expected: Vec<u8> = (0..n as usize).map(|i| (i % 251) as u8).collect();
        assert_eq!(got, expected);
        assert_eq!(proxy.connection(1).unwrap().server_to_client, n);
    }
}

#[tokio::test]
async fn an_rst_cut_of_the_imap_greeting_resets_the_client() {
    let plan = FaultPlan::every(Faults::none().cut_after_server(5).rst());
    let proxy = FaultProxy::start(imap(), plan).await.unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (got, reset) = read_to_end(&mut client).await;
    assert!(reset, "expected a reset after {got:?}");
    assert!(got.len() <= 5 && b"* OK ".starts_with(&got), "{got:?}");
}

#[tokio::test]
async fn a_client_side_cut_stops_the_command_mid_way() {
    let plan = FaultPlan::every(Faults::none().cut_after_client(4));
    let proxy = FaultProxy::start(imap(), plan).await.unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    // The write may fail once the proxy has cut; what matters is what reached the server.
    let _ = client.write_all(b"a1 NOOP\r\n").await;
    let _ = read_to_end(&mut client).await;
    assert_eq!(proxy.connection(1).unwrap().client_to_server, 4);
}

#[tokio::test]
async fn blackhole_never_answers() {
    let proxy = FaultProxy::start(imap(), FaultPlan::every(Faults::blackhole()))
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client.write_all(b"a1 NOOP\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let read = timeout(Duration::from_millis(500), client.read(&mut buf)).await;
    assert!(read.is_err(), "the blackhole answered: {read:?}");
    let stats = proxy.connection(1).unwrap();
    assert_eq!((stats.client_to_server, stats.server_to_client), (0, 0));
}

#[tokio::test]
async fn a_stall_keeps_the_socket_open_but_silent() {
    let plan = FaultPlan::every(Faults::none().stall_after_server(3));
    let proxy = FaultProxy::start(imap(), plan).await.unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut got = [0u8; 3];
    timeout(PATIENCE, client.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got, b"* O");
    let mut more = [0u8; 64];
    let read = timeout(Duration::from_millis(500), client.read(&mut more)).await;
    assert!(read.is_err(), "the stalled proxy sent more: {read:?}");
    assert!(!proxy.connection(1).unwrap().closed);
}

#[tokio::test]
async fn the_plan_changes_between_connections() {
    let plan = FaultPlan::pass().connection(1, Faults::refuse());
    let proxy = FaultProxy::start(imap(), plan).await.unwrap();
    let handle = proxy.plan_handle();

    let mut first = TcpStream::connect(proxy.addr()).await.unwrap();
    assert!(read_to_end(&mut first).await.0.is_empty());

    let mut second = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut greeting = [0u8; 4];
    timeout(PATIENCE, second.read_exact(&mut greeting))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&greeting, b"* OK");

    handle.set(FaultPlan::every(Faults::refuse().rst()));
    let mut third = TcpStream::connect(proxy.addr()).await.unwrap();
    let (got, _) = read_to_end(&mut third).await;
    assert!(got.is_empty());
    assert_eq!(proxy.accepted(), 3);
    assert_eq!(proxy.connections().len(), 3);
}

#[tokio::test]
async fn delayed_one_byte_segments_arrive_intact() {
    let faults = Faults::none()
        .one_byte_segments()
        .delay(Duration::from_millis(1));
    let proxy = FaultProxy::start(sender(300).await, FaultPlan::every(faults))
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (got, reset) = read_to_end(&mut client).await;
    assert!(!reset);
    let expected: Vec<u8> = (0..300).map(|i| (i % 251) as u8).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() {
    let plan = FaultPlan::every(Faults::none().stall_after_server(0));
    let proxy = FaultProxy::start(imap(), plan).await.unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    // Make sure the proxy accepted before it is dropped.
    while proxy.accepted() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addr = proxy.addr();
    drop(proxy);
    let (got, _) = read_to_end(&mut client).await;
    assert!(got.is_empty());
    // The listener is gone too.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[test]
fn connection_one_is_cut_mid_login_and_connection_two_gets_through() {
    let d = Dovecot::shared();
    let user = user();
    // The greeting is longer than 10 bytes, so the first connection never sees all of it.
    let plan = FaultPlan::pass().connection(1, Faults::none().cut_after_server(10));
    let proxy = FaultProxy::spawn(d.addr(d.imap_port()), plan).unwrap();
    let login = |expect_ok: bool| {
        let stream = StdTcpStream::connect(proxy.addr()).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut all = String::new();
        let mut r = BufReader::new(stream);
        let greeting = read_line(&mut r);
        if !expect_ok {
            return greeting;
        }
        let command = format!("a1 LOGIN {} {}\r\na2 LOGOUT\r\n", user.name, user.password);
        writer.write_all(command.as_bytes()).unwrap();
        r.read_to_string(&mut all).unwrap();
        greeting + &all
    };
    let cut = login(false);
    assert_eq!(cut.len(), 10, "{cut:?}");
    assert!(!cut.ends_with('\n'));
    let whole = login(true);
    assert!(whole.contains("\r\na1 OK"), "{whole}");
    assert!(whole.contains("\r\na2 OK"), "{whole}");
    assert_eq!(proxy.accepted(), 2);
    assert_eq!(proxy.connection(1).unwrap().server_to_client, 10);
}

#[tokio::test]
async fn the_upstream_can_move() {
    let proxy = FaultProxy::start(sender(10).await, FaultPlan::pass())
        .await
        .unwrap();
    let mut first = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(read_to_end(&mut first).await.0.len(), 10);
    proxy.set_upstream(sender(20).await);
    let mut second = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(read_to_end(&mut second).await.0.len(), 20);
}
