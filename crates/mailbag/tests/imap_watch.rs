//! The reconnecting [`Watcher`] against the harness Dovecot through the fault proxy: a reset
//! while idling, a dead link (blackhole), a server restart, and a UIDVALIDITY change. Each
//! test delivers messages while the watcher is cut off and checks that every one is reported
//! after the reconnect, exactly once, in UID order. Timeouts are seconds, not minutes.

use std::collections::BTreeMap;
use std::time::Duration;

use mailbag::imap::{
    ConnectOptions, FetchAttribute, UidValidity, WatchEvent, WatchLogin, WatchOptions,
    WatchPosition, Watcher,
};
use mailbag::proto::sasl::Credentials;
use mailbag::Security;
use mailbag_testserver::messages::{generate, to_crlf};
use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
use mailbag_testserver::{Dovecot, TestUser};

/// How long any one expected event may take (Dovecot under load is slow to notice mail).
const PATIENCE: Duration = Duration::from_secs(30);

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A fresh user, once Dovecot's passwd-file cache can see it (see pop3_dovecot.rs).
fn fresh_user(d: &Dovecot) -> TestUser {
    let user = d.new_user();
    std::thread::sleep(Duration::from_millis(1100));
    user
}

/// Watch options through `proxy` with short timeouts, fetching each new message's body.
fn options(d: &Dovecot, proxy: &FaultProxy, user: &TestUser) -> WatchOptions {
    init_tracing();
    let mut connect = ConnectOptions::new("localhost", Security::Implicit)
        .port(proxy.port())
        .ca_file(d.ca_file());
    connect.only_ca_file = true;
    connect.timeouts.connect = Some(Duration::from_secs(3));
    connect.timeouts.tls = Some(Duration::from_secs(3));
    connect.timeouts.command = Some(Duration::from_secs(5));
    let login = WatchLogin::Login(Credentials::new(&user.name, &user.password));
    let mut o = WatchOptions::new(connect, login, "INBOX");
    o.backoff_initial = Duration::from_millis(100);
    o.backoff_max = Duration::from_secs(1);
    o.probe_after = Duration::from_secs(2);
    o.probe_timeout = Duration::from_secs(1);
    o.fetch = vec![FetchAttribute::whole_message()];
    o
}

async fn next(w: &mut Watcher) -> WatchEvent {
    match tokio::time::timeout(PATIENCE, w.next()).await {
        Ok(Ok(e)) => {
            eprintln!("{:?} {}", std::time::SystemTime::now(), brief(&e));
            e
        }
        Ok(Err(e)) => panic!("the watch ended: {e}"),
        Err(_) => panic!("no event within {PATIENCE:?} ({w:?})"),
    }
}

/// An event without message bodies, for failure output.
fn brief(e: &WatchEvent) -> String {
    match e {
        WatchEvent::New { uid, message } => format!(
            "New {{ uid: {uid}, {} body bytes }}",
            message
                .as_ref()
                .and_then(|m| m.body())
                .map_or(0, |b| b.len())
        ),
        other => format!("{other:?}"),
    }
}

/// Reads events until the first `Connected`; returns whether it was a reconnect.
async fn connected(w: &mut Watcher) -> bool {
    loop {
        match next(w).await {
            WatchEvent::Connected { reconnected, .. } => return reconnected,
            WatchEvent::New { uid, .. } => panic!("new message {uid} before connected"),
            _ => {}
        }
    }
}

/// Reads events until `Disconnected`; returns its reason. No new message may come first.
async fn disconnected(w: &mut Watcher) -> String {
    loop {
        match next(w).await {
            WatchEvent::Disconnected { reason } => return reason,
            WatchEvent::New { uid, .. } => panic!("UID {uid} reported over a broken link"),
            _ => {}
        }
    }
}

/// Drives the watcher (reconnect attempts happen while it is polled) for `d`, during which
/// it must report nothing: the server is out of reach.
async fn quiet_for(w: &mut Watcher, d: Duration) {
    if let Ok(event) = tokio::time::timeout(d, w.next()).await {
        panic!("an event while out of reach: {event:?}");
    }
}

/// What a stretch of the watch reported.
#[derive(Default)]
struct Seen {
    /// New messages' UIDs in the order reported, with their bodies.
    new: Vec<(u32, Vec<u8>)>,
    disconnects: Vec<String>,
    reconnects: usize,
    other: Vec<WatchEvent>,
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seen")
            .field("new", &self.new.iter().map(|(u, _)| u).collect::<Vec<_>>())
            .field("disconnects", &self.disconnects)
            .field("reconnects", &self.reconnects)
            .field("other", &self.other.iter().map(brief).collect::<Vec<_>>())
            .finish()
    }
}

/// Reads events until `count` new messages came, then `settle` more to catch duplicates.
async fn collect_new(w: &mut Watcher, count: usize, settle: Duration) -> Seen {
    let mut seen = Seen::default();
    let record = |seen: &mut Seen, e: WatchEvent| match e {
        WatchEvent::New { uid, message } => {
            let body = message
                .and_then(|m| m.body().map(|b| b.to_vec()))
                .unwrap_or_default();
            seen.new.push((uid.get(), body));
        }
        WatchEvent::Disconnected { reason } => seen.disconnects.push(reason),
        WatchEvent::Connected {
            reconnected: true, ..
        } => seen.reconnects += 1,
        other => seen.other.push(other),
    };
    while seen.new.len() < count {
        let e = next(w).await;
        record(&mut seen, e);
    }
    let end = tokio::time::Instant::now() + settle;
    while let Ok(Ok(e)) = tokio::time::timeout_at(end, w.next()).await {
        eprintln!("{:?} {}", std::time::SystemTime::now(), brief(&e));
        record(&mut seen, e);
    }
    seen
}

/// Delivers `n` messages numbered from `first`; returns their bytes by the UID they get
/// (UIDs are given in delivery order, starting at `first_uid`).
fn deliver(
    d: &Dovecot,
    user: &TestUser,
    first: usize,
    n: usize,
    first_uid: u32,
) -> BTreeMap<u32, Vec<u8>> {
    let all = generate(first + n, 600);
    let mut by_uid = BTreeMap::new();
    for (i, m) in all.iter().enumerate().skip(first) {
        let m = to_crlf(m);
        d.deliver(user, "INBOX", &m).unwrap();
        let uid = first_uid + u32::try_from(i - first).unwrap();
        by_uid.insert(uid, m);
    }
    by_uid
}

/// Every expected message reported once, in UID order, with its exact bytes.
fn assert_exactly(seen: &Seen, expected: &BTreeMap<u32, Vec<u8>>) {
    let uids: Vec<u32> = seen.new.iter().map(|(u, _)| *u).collect();
    let want: Vec<u32> = expected.keys().copied().collect();
    assert_eq!(uids, want, "new UIDs reported ({seen:?})");
    for (uid, body) in &seen.new {
        assert_eq!(Some(body), expected.get(uid), "body of UID {uid}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_while_idling_reports_every_message_delivered_meanwhile_once() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(2, 500)).unwrap();
    let proxy = FaultProxy::start(d.addr(d.imaps_port()), FaultPlan::pass())
        .await
        .unwrap();
    let mut w = Watcher::new(options(d, &proxy, &user));
    assert!(!connected(&mut w).await);
    assert_eq!(w.position().map(|p| p.last_uid), Some(2));

    // Live while idling.
    let live = deliver(d, &user, 0, 1, 3);
    let seen = collect_new(&mut w, 1, Duration::ZERO).await;
    assert_exactly(&seen, &live);

    // Cut: the connection is reset and no new one gets through while mail arrives.
    proxy.set_plan(FaultPlan::every(Faults::refuse().rst()));
    proxy.reset_all();
    let meanwhile = deliver(d, &user, 1, 3, 4);
    let reason = disconnected(&mut w).await;
    assert!(reason.contains("reset"), "{reason}");
    quiet_for(&mut w, Duration::from_millis(1500)).await;
    proxy.set_plan(FaultPlan::pass());
    let seen = collect_new(&mut w, 3, Duration::from_secs(2)).await;
    assert_exactly(&seen, &meanwhile);
    assert!(seen.disconnects.is_empty(), "{seen:?}");
    assert_eq!(seen.reconnects, 1, "{seen:?}");
    assert!(
        proxy.accepted() >= 4,
        "refused attempts went through the backoff: {}",
        proxy.accepted()
    );
    assert_eq!(w.position().map(|p| p.last_uid), Some(6));

    // Still watching after the reconnect.
    let after = deliver(d, &user, 4, 1, 7);
    let seen = collect_new(&mut w, 1, Duration::ZERO).await;
    assert_exactly(&seen, &after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_link_is_found_by_the_noop_probe_and_nothing_is_missed() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(1, 500)).unwrap();
    let proxy = FaultProxy::start(d.addr(d.imaps_port()), FaultPlan::pass())
        .await
        .unwrap();
    let mut w = Watcher::new(options(d, &proxy, &user));
    assert!(!connected(&mut w).await);

    // The link goes silent: no reset, no FIN, nothing forwarded either way, and new
    // connections hang too.
    proxy.set_plan(FaultPlan::every(Faults::blackhole()));
    proxy.freeze_all();
    let meanwhile = deliver(d, &user, 0, 2, 2);
    let reason = disconnected(&mut w).await;
    assert!(reason.contains("dead link"), "{reason}");
    quiet_for(&mut w, Duration::from_secs(1)).await;
    proxy.set_plan(FaultPlan::pass());
    let seen = collect_new(&mut w, 2, Duration::from_secs(2)).await;
    assert_exactly(&seen, &meanwhile);
    assert_eq!(seen.reconnects, 1, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_reports_every_message_delivered_while_it_was_down() {
    let mut d = Dovecot::start().unwrap();
    let user = fresh_user(&d);
    d.fill(&user, "INBOX", &generate(3, 500)).unwrap();
    let proxy = FaultProxy::start(d.addr(d.imaps_port()), FaultPlan::pass())
        .await
        .unwrap();
    let mut w = Watcher::new(options(&d, &proxy, &user));
    assert!(!connected(&mut w).await);
    let before = w.position().unwrap();
    assert_eq!(before.last_uid, 3);

    // Dovecot's imap processes outlive the master's SIGTERM here (the session went on
    // through a bare restart when tried), so the proxy ends the sessions as a restart
    // with `shutdown_clients` does; reconnects then meet the stopped server.
    d.stop_keeping_files();
    proxy.reset_all();
    let meanwhile = deliver(&d, &user, 3, 2, 4);
    disconnected(&mut w).await;
    let attempts = proxy.accepted();
    quiet_for(&mut w, Duration::from_secs(2)).await;
    assert!(
        proxy.accepted() > attempts,
        "reconnects were tried while the server was down"
    );
    d.start_master().unwrap();
    let seen = collect_new(&mut w, 2, Duration::from_secs(2)).await;
    assert_exactly(&seen, &meanwhile);
    assert!(seen.disconnects.is_empty(), "{seen:?}");
    assert_eq!(seen.reconnects, 1, "{seen:?}");
    assert!(
        !seen
            .other
            .iter()
            .any(|e| matches!(e, WatchEvent::UidValidityChanged { .. })),
        "same Maildir, same UIDVALIDITY: {seen:?}"
    );
    assert_eq!(
        w.position().map(|p| p.uid_validity),
        Some(before.uid_validity)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_uidvalidity_is_its_own_event_and_the_watch_goes_on_from_uidnext() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(2, 500)).unwrap();
    let proxy = FaultProxy::start(d.addr(d.imaps_port()), FaultPlan::pass())
        .await
        .unwrap();
    let mut o = options(d, &proxy, &user);
    let stale = UidValidity::try_from(1u32).unwrap();
    o.start = Some(WatchPosition {
        uid_validity: stale,
        last_uid: 0,
        highest_modseq: None,
    });
    let mut w = Watcher::new(o);
    let mut events = Vec::new();
    loop {
        let e = next(&mut w).await;
        let done = matches!(e, WatchEvent::UidValidityChanged { .. });
        events.push(e);
        if done {
            break;
        }
    }
    let Some(WatchEvent::UidValidityChanged { old, new }) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(*old, stale);
    assert_ne!(*new, stale);
    // UIDs of the old validity mean nothing: the two messages are not "new".
    let later = deliver(d, &user, 2, 1, 3);
    let seen = collect_new(&mut w, 1, Duration::from_secs(1)).await;
    assert_exactly(&seen, &later);
    assert_eq!(
        w.position().map(|p| (p.uid_validity, p.last_uid)),
        Some((*new, 3))
    );
}
