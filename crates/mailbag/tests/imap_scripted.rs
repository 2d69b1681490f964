//! The async IMAP client against scripted peers: what Dovecot never does.

use std::time::Duration;

use mailbag::imap::{
    ConnectOptions, FetchAttribute, FetchEvent, ImapClient, ImapEvent, MessageSet, Notification,
    SequenceSet, Uid,
};
use mailbag::{Error, Security};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Starts a peer running `script` on the first connection; returns options to reach it.
async fn peer<F, Fut>(script: F) -> ConnectOptions
where
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        script(Peer::new(s)).await;
    });
    let mut o = ConnectOptions::new("127.0.0.1", Security::Plaintext)
        .port(port)
        .allow_plaintext_login(true);
    o.timeouts.command = Some(Duration::from_secs(10));
    o
}

struct Peer {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Peer {
    fn new(s: TcpStream) -> Peer {
        let (r, w) = s.into_split();
        Peer {
            r: BufReader::new(r),
            w,
        }
    }
    async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.unwrap();
    }
    /// Reads one command line and returns it (without CRLF).
    async fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).await.unwrap();
        l.trim_end().to_owned()
    }
    /// Reads a line and checks it.
    async fn expect(&mut self, want: &str) {
        assert_eq!(self.line().await, want);
    }
}

const GREETING: &[u8] = b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE UIDPLUS] ready\r\n";

fn body_item() -> Vec<FetchAttribute> {
    vec![FetchAttribute::whole_message()]
}

fn all() -> MessageSet {
    MessageSet::Uid(SequenceSet::from_to_end(Uid::try_from(1).unwrap()))
}

#[tokio::test]
async fn big_literal_in_odd_writes_arrives_whole() {
    let n = 3_000_000usize;
    let o = peer(move |mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 SELECT INBOX").await;
        p.send(b"* 1 EXISTS\r\nA1 OK [READ-WRITE] ok\r\n").await;
        p.expect("A2 UID FETCH 1:* BODY.PEEK[]").await;
        let mut wire = format!("* 1 FETCH (UID 1 BODY[] {{{n}}}\r\n").into_bytes();
        wire.extend((0..n).map(|i| (i % 251) as u8));
        wire.extend_from_slice(b" FLAGS ())\r\nA2 OK done\r\n");
        for piece in wire.chunks(9_999) {
            p.send(piece).await;
        }
        let _ = p.line().await;
    })
    .await;
    let c = ImapClient::connect(o).await.unwrap();
    c.select("INBOX").await.unwrap();
    let mut f = c.fetch(all(), body_item()).await.unwrap();
    let mut out = Vec::new();
    while let Some(ev) = f.next().await {
        if let FetchEvent::BodyStart { .. } = ev.unwrap() {
            let (items, _) = f.copy_body_to(&mut out).await.unwrap();
            assert_eq!(items.len(), 1);
        }
    }
    assert_eq!(out.len(), n);
    assert!(out.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
}

#[tokio::test]
async fn drop_in_the_middle_of_a_literal_is_connection_lost() {
    let o = peer(|mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 SELECT INBOX").await;
        p.send(b"* 1 EXISTS\r\nA1 OK ok\r\n").await;
        p.expect("A2 UID FETCH 1:* BODY.PEEK[]").await;
        p.send(b"* 1 FETCH (UID 1 BODY[] {100000}\r\n").await;
        p.send(&[b'x'; 70_000]).await;
    })
    .await;
    let c = ImapClient::connect(o).await.unwrap();
    c.select("INBOX").await.unwrap();
    let mut f = c.fetch(all(), body_item()).await.unwrap();
    let mut result = Ok(());
    while let Some(ev) = f.next().await {
        match ev {
            Ok(FetchEvent::BodyStart { .. }) => {
                let mut sink = Vec::new();
                if let Err(e) = f.copy_body_to(&mut sink).await {
                    result = Err(e);
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    assert!(
        matches!(result, Err(Error::ConnectionLost { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn bye_during_a_command() {
    let o = peer(|mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 NOOP").await;
        p.send(b"* BYE server shutting down\r\n").await;
    })
    .await;
    let c = ImapClient::connect(o).await.unwrap();
    let mut events = c.notifications().unwrap();
    let r = c.noop().await;
    assert!(matches!(r, Err(Error::ConnectionLost { .. })), "{r:?}");
    match events.next().await {
        Some(ImapEvent::Server(Notification::Bye(s))) => assert!(s.text.contains("shutting")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        events.next().await,
        Some(ImapEvent::ConnectionLost { .. })
    ));
}

#[tokio::test]
async fn unsolicited_fetch_during_search() {
    let o = peer(|mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 SELECT INBOX").await;
        p.send(b"* 2 EXISTS\r\nA1 OK ok\r\n").await;
        p.expect("A2 UID SEARCH ALL").await;
        p.send(b"* 1 FETCH (FLAGS (\\Seen))\r\n* SEARCH 7 8\r\nA2 OK done\r\n")
            .await;
        let _ = p.line().await;
    })
    .await;
    let c = ImapClient::connect(o).await.unwrap();
    let mut events = c.notifications().unwrap();
    c.select("INBOX").await.unwrap();
    let uids = c.search_raw("ALL").await.unwrap();
    assert_eq!(uids.len(), 2);
    match events.next().await {
        Some(ImapEvent::Server(Notification::FlagsChanged { flags, .. })) => {
            assert_eq!(flags.unwrap().len(), 1)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_without_idle_is_polled_with_noop() {
    let o = peer(|mut p| async move {
        p.send(b"* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n").await;
        p.expect("A1 SELECT INBOX").await;
        p.send(b"* 1 EXISTS\r\nA1 OK ok\r\n").await;
        p.expect("A2 NOOP").await;
        p.send(b"* 2 EXISTS\r\nA2 OK ok\r\n").await;
        let _ = p.line().await;
    })
    .await;
    let mut o = o;
    o.poll_interval = Duration::from_millis(200);
    let c = ImapClient::connect(o).await.unwrap();
    let mut events = c.notifications().unwrap();
    c.select("INBOX").await.unwrap();
    c.idle(true).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap();
    assert_eq!(ev, Some(ImapEvent::Server(Notification::Exists(2))));
}

#[tokio::test]
async fn slow_notification_reader_loses_nothing() {
    let count = 300u32;
    let o = peer(move |mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 SELECT INBOX").await;
        p.send(b"* 0 EXISTS\r\nA1 OK ok\r\n").await;
        p.expect("A2 NOOP").await;
        let mut burst = Vec::new();
        for i in 1..=count {
            burst.extend_from_slice(format!("* {i} EXISTS\r\n").as_bytes());
        }
        burst.extend_from_slice(b"A2 OK ok\r\n");
        p.send(&burst).await;
        let _ = p.line().await;
    })
    .await;
    let mut o = o;
    o.notification_capacity = 4;
    let c = ImapClient::connect(o).await.unwrap();
    let mut events = c.notifications().unwrap();
    c.select("INBOX").await.unwrap();
    let noop = tokio::spawn({
        let c = c.clone();
        async move { c.noop().await }
    });
    for i in 1..=count {
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(
            events.next().await,
            Some(ImapEvent::Server(Notification::Exists(i)))
        );
    }
    noop.await.unwrap().unwrap();
}

#[tokio::test]
async fn namespace_quota_and_metadata_are_typed() {
    let o = peer(|mut p| async move {
        p.send(b"* PREAUTH [CAPABILITY IMAP4rev1 NAMESPACE QUOTA METADATA] ready\r\n")
            .await;
        p.expect("A1 NAMESPACE").await;
        p.send(
            b"* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"shared\" NIL))\r\n\
              A1 OK done\r\n",
        )
        .await;
        p.expect("A2 GETQUOTAROOT INBOX").await;
        p.send(
            b"* QUOTAROOT INBOX \"\" other\r\n\
              * QUOTA \"\" (STORAGE 10 512 MESSAGE 3 1000)\r\n\
              A2 OK done\r\n",
        )
        .await;
        p.expect("A3 GETMETADATA INBOX (/private/comment /shared/vendor)")
            .await;
        p.send(
            b"* METADATA INBOX (/private/comment \"hello\" /shared/vendor NIL)\r\n\
              A3 OK done\r\n",
        )
        .await;
        let _ = p.line().await;
    })
    .await;
    let c = ImapClient::connect(o).await.unwrap();

    let ns = c.namespace().await.unwrap();
    assert_eq!(ns.personal.len(), 1);
    assert_eq!(ns.personal[0].prefix.name(), "INBOX.");
    assert_eq!(ns.personal[0].delimiter, Some('.'));
    assert_eq!(ns.other[0].prefix.name(), "user.");
    assert_eq!(ns.shared[0].prefix.name(), "shared");
    assert_eq!(ns.shared[0].delimiter, None);

    let q = c.quota_root("INBOX").await.unwrap();
    assert_eq!(q.roots, vec![String::new(), "other".to_owned()]);
    assert_eq!(q.quotas.len(), 1);
    assert_eq!(q.quotas[0].root, "");
    let r: Vec<(&str, u64, u64)> = q.quotas[0]
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.usage, r.limit))
        .collect();
    assert_eq!(r, vec![("STORAGE", 10, 512), ("MESSAGE", 3, 1000)]);

    let m = c
        .metadata(
            "INBOX",
            vec!["/private/comment".into(), "/shared/vendor".into()],
        )
        .await
        .unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].name, "/private/comment");
    assert_eq!(m[0].value.as_deref(), Some(&b"hello"[..]));
    assert_eq!(m[1].name, "/shared/vendor");
    assert_eq!(m[1].value, None);
}

/// `disconnect` lets the commands in flight finish, sends LOGOUT, and closes without waiting
/// for LOGOUT's answer (this server never sends one).
#[tokio::test]
async fn disconnect_lets_earlier_commands_finish_and_does_not_wait_for_logout() {
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel();
    let o = peer(move |mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 NOOP").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        p.send(b"* 3 EXISTS\r\nA1 OK noop done\r\n").await;
        p.expect("A2 LOGOUT").await;
        let rest = tokio::time::timeout(Duration::from_secs(5), p.line()).await;
        let _ = eof_tx.send(rest.map(|l| l.is_empty()).unwrap_or(false));
    })
    .await;
    let c = ImapClient::connect(o).await.unwrap();
    let c2 = c.clone();
    let noop = tokio::spawn(async move { c2.noop().await });
    // Let the NOOP reach the connection first.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    c.disconnect().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    noop.await
        .unwrap()
        .expect("the NOOP issued before completed");
    assert_eq!(eof_rx.await, Ok(true), "the client closed after LOGOUT");
    assert!(matches!(c.noop().await, Err(Error::ConnectionLost { .. })));
}

/// The mailbox view the handles read: while a FETCH streams, its counters are there; the
/// UIDs it taught are all there once the FETCH completes (the map is copied at command
/// boundaries, not on every read), and an EXISTS announced during IDLE shows by the next
/// command's completion.
#[tokio::test]
async fn mailbox_view_is_current_at_command_boundaries_and_after_notifications() {
    let n = 2_000u32;
    let o = peer(move |mut p| async move {
        p.send(GREETING).await;
        p.expect("A1 SELECT INBOX").await;
        p.send(
            format!("* {n} EXISTS\r\n* OK [UIDVALIDITY 7] v\r\nA1 OK [READ-WRITE] ok\r\n")
                .as_bytes(),
        )
        .await;
        p.expect("A2 UID FETCH 1:* BODY.PEEK[]").await;
        for seq in 1..=n {
            let uid = seq * 10;
            p.send(format!("* {seq} FETCH (UID {uid} BODY[] {{3}}\r\nabc)\r\n").as_bytes())
                .await;
        }
        p.send(b"A2 OK done\r\n").await;
        p.expect("A3 IDLE").await;
        p.send(b"+ idling\r\n").await;
        p.send(format!("* {} EXISTS\r\n", n + 1).as_bytes()).await;
        p.expect("DONE").await;
        p.send(b"A3 OK idle done\r\n").await;
        p.expect("A4 NOOP").await;
        p.send(b"A4 OK nothing\r\n").await;
        p.expect("A5 LOGOUT").await;
        p.send(b"* BYE\r\nA5 OK bye\r\n").await;
    })
    .await;
    let client = ImapClient::connect(o).await.unwrap();
    let mut events = client.notifications().unwrap();
    client.select("INBOX").await.unwrap();
    let mut fetch = client.fetch(all(), body_item()).await.unwrap();
    let mut seen = 0;
    while let Some(ev) = fetch.next().await {
        if let FetchEvent::Message(_) = ev.unwrap() {
            seen += 1;
            assert_eq!(client.mailbox_view().exists, n);
        }
    }
    assert_eq!(seen, n);
    let view = client.mailbox_view();
    for seq in [1, 2, n / 2, n] {
        let seq = mailbag::imap::SeqNum::try_from(seq).unwrap();
        assert_eq!(
            view.uid(seq).map(|u| u.get()),
            Some(seq.get() * 10),
            "{seq:?}"
        );
    }
    client.idle(true).await.unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .unwrap()
            .unwrap();
        if let ImapEvent::Server(Notification::Exists(e)) = ev {
            assert_eq!(e, n + 1);
            break;
        }
    }
    // Whatever the timing of the turn that carried it, a later command's completion shows it.
    client.idle(false).await.unwrap();
    client.noop().await.unwrap();
    assert_eq!(client.mailbox_view().exists, n + 1);
    client.logout().await.unwrap();
}
