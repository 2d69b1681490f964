//! The async IMAP client against the harness's real Dovecot.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use mailbag::imap::{
    Capability, ConnectOptions, FetchAttribute, FetchEvent, Flag, ImapClient, ImapEvent, Mechanism,
    MessageSet, Notification, SearchKey, SequenceSet, StoreKind, Uid,
};
use mailbag::proto::sasl::Credentials;
use mailbag::{Error, Security};
use mailbag_testserver::messages::{generate, subject, to_crlf};
use mailbag_testserver::{vm_rss_kb, Dovecot, TestUser};

fn options(d: &Dovecot, security: Security) -> ConnectOptions {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let port = match security {
        Security::Implicit => d.imaps_port(),
        _ => d.imap_port(),
    };
    let mut o = ConnectOptions::new("localhost", security)
        .port(port)
        .ca_file(d.ca_file());
    o.only_ca_file = true;
    o.timeouts.command = Some(Duration::from_secs(30));
    o
}

/// A fresh user, once Dovecot's passwd-file cache can see it (see pop3_dovecot.rs).
fn fresh_user(d: &Dovecot) -> TestUser {
    let user = d.new_user();
    std::thread::sleep(Duration::from_millis(1100));
    user
}

async fn login(d: &Dovecot, user: &TestUser) -> ImapClient {
    let c = ImapClient::connect(options(d, Security::Implicit))
        .await
        .unwrap();
    if let Err(e) = c.login(&user.name, &user.password).await {
        panic!("login as {}: {e}\n{}", user.name, d.log_tail());
    }
    c
}

fn uid(n: u32) -> Uid {
    Uid::try_from(n).unwrap()
}

fn all_uids() -> MessageSet {
    MessageSet::Uid(SequenceSet::from_to_end(uid(1)))
}

#[tokio::test]
async fn capabilities_login_select_fetch_search_store() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let msgs: Vec<Vec<u8>> = generate(5, 2000).iter().map(|m| to_crlf(m)).collect();
    d.fill(&user, "INBOX", &msgs).unwrap();
    let c = ImapClient::connect(options(d, Security::Implicit))
        .await
        .unwrap();
    let before = c.capabilities();
    assert!(before.contains(&Capability::Imap4rev1), "{before:?}");
    c.login(&user.name, &user.password).await.unwrap();
    let after = c.capabilities();
    assert!(after.contains(&Capability::Idle), "{after:?}");
    let enabled = c.enable(&[Capability::CondStore]).await.unwrap();
    assert_eq!(enabled, vec![Capability::CondStore]);

    let summary = c.select("INBOX").await.unwrap();
    assert_eq!(summary.exists, 5);
    assert!(summary.uid_validity.is_some());
    assert_eq!(summary.uid_next, Some(uid(6)));
    assert!(summary.read_write);
    assert!(summary.highest_modseq.is_some());
    assert!(!summary.permanent_flags.is_empty());

    let messages = c
        .fetch_collect(
            all_uids(),
            vec![
                FetchAttribute::Uid,
                FetchAttribute::Flags,
                FetchAttribute::Rfc822Size,
                FetchAttribute::Envelope,
                FetchAttribute::BodyStructure,
                FetchAttribute::whole_message(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(messages.len(), 5);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m.uid(), Some(uid(i as u32 + 1)));
        assert_eq!(m.body().map(|b| b.as_ref()), Some(msgs[i].as_slice()));
        assert_eq!(m.size(), Some(msgs[i].len() as u64));
        // ENVELOPE and BODYSTRUCTURE as Dovecot sends them, read through their accessors.
        let env = m.envelope().unwrap();
        let message_id = format!("<{i}.2000@mailbag.test>");
        assert_eq!(env.message_id(), Some(message_id.as_bytes()));
        if i % 4 == 2 {
            assert!(env.subject().unwrap().starts_with(b"=?UTF-8?B?"));
        } else {
            assert_eq!(env.subject(), Some(subject(i).as_bytes()));
        }
        let to: Vec<_> = env.to().mailboxes().collect();
        assert_eq!(to.len(), 1);
        assert_eq!(
            (to[0].name, to[0].mailbox, to[0].host),
            (
                Some(&b"Test User"[..]),
                Some(&b"test"[..]),
                Some(&b"mailbag.test"[..])
            )
        );
        let root = m.body_structure().unwrap().root();
        assert!(root.has_extension(), "BODYSTRUCTURE carries extension data");
        match i % 4 {
            0 => {
                assert!(root.is("text", "plain"), "{root:?}");
                assert_eq!(root.param("charset"), Some(&b"us-ascii"[..]));
                assert!(root.lines().unwrap() > 0);
            }
            1 => {
                assert!(root.is_multipart() && root.subtype().eq_ignore_ascii_case("mixed"));
                assert_eq!(root.param("boundary"), Some(&b"=_boundary_1"[..]));
                assert!(root.children().count() >= 2, "{root:?}");
            }
            _ => {}
        }
        assert!(
            !m.flags().unwrap().contains(&Flag::Seen),
            "PEEK must not set \\Seen"
        );
    }

    let found = c.search(vec![SearchKey::All]).await.unwrap();
    assert_eq!(found.len(), 5);
    let sorted = c
        .sort(
            vec![mailbag::imap::SortCriterion {
                reverse: true,
                key: mailbag::imap::SortKey::Arrival,
            }],
            vec![SearchKey::All],
        )
        .await
        .unwrap();
    assert_eq!(sorted.len(), 5);
    let threads = c.thread("REFERENCES", vec![SearchKey::All]).await.unwrap();
    assert!(!threads.is_empty());
    let raw = c.search_raw("UID 2:3").await.unwrap();
    assert_eq!(raw, vec![uid(2), uid(3)]);

    c.store(
        SequenceSet::from_numbers([uid(1)]),
        StoreKind::Add,
        vec![Flag::Flagged],
        None,
    )
    .await
    .unwrap();
    let flagged = c.search_raw("FLAGGED").await.unwrap();
    assert_eq!(flagged, vec![uid(1)]);

    // new_since, with the `*` quirk: 6:* would return message 5 on its own.
    let v = summary.uid_validity.unwrap();
    assert_eq!(c.new_since(v, 5).await.unwrap(), Some(vec![]));
    assert_eq!(c.new_since(v, 3).await.unwrap(), Some(vec![uid(4), uid(5)]));

    // A NO carries the server's words.
    match c.select("NoSuchFolder").await {
        Err(Error::No { command, text, .. }) => {
            assert_eq!(command, "SELECT");
            assert!(text.contains("NoSuchFolder"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    c.logout().await.unwrap();
}

#[tokio::test]
async fn mailboxes_create_rename_delete_list_status_append_copy_move_expunge() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let c = login(d, &user).await;
    c.create("Work").await.unwrap();
    c.rename("Work", "Jobs").await.unwrap();
    c.subscribe("Jobs").await.unwrap();
    let list = c.list("", "*").await.unwrap();
    let names: Vec<&str> = list.iter().map(|l| l.mailbox.name()).collect();
    assert!(
        names.contains(&"INBOX") && names.contains(&"Jobs"),
        "{names:?}"
    );
    let lsub = c.lsub("", "*").await.unwrap();
    assert!(lsub.iter().any(|l| l.mailbox.name() == "Jobs"));
    c.unsubscribe("Jobs").await.unwrap();

    let msg = to_crlf(&generate(1, 3000)[0]);
    let appended = c
        .append("Jobs", vec![Flag::Seen], None, msg.clone())
        .await
        .unwrap()
        .expect("APPENDUID");
    assert_eq!(appended.uids, SequenceSet::from_numbers([uid(1)]));
    let status = c.status("Jobs").await.unwrap();
    assert_eq!(status.messages, Some(1));
    assert_eq!(status.uid_next, Some(2));
    assert_eq!(status.unseen, Some(0));

    c.select("Jobs").await.unwrap();
    let copied = c
        .copy(SequenceSet::from_numbers([uid(1)]), "INBOX")
        .await
        .unwrap()
        .expect("COPYUID");
    assert_eq!(copied.target, SequenceSet::from_numbers([uid(1)]));
    c.r#move(SequenceSet::from_numbers([uid(1)]), "INBOX")
        .await
        .unwrap();
    assert_eq!(c.status("INBOX").await.unwrap().messages, Some(2));
    c.select("INBOX").await.unwrap();
    c.store(
        SequenceSet::from_numbers([uid(1)]),
        StoreKind::Add,
        vec![Flag::Deleted],
        None,
    )
    .await
    .unwrap();
    c.uid_expunge(SequenceSet::from_numbers([uid(1)]))
        .await
        .unwrap();
    c.expunge().await.unwrap();
    assert_eq!(c.search(vec![SearchKey::All]).await.unwrap(), vec![uid(2)]);
    c.unselect().await.unwrap();
    c.delete("Jobs").await.unwrap();
    assert!(c.id(None).await.is_ok());
    let ns = c.namespace().await.unwrap();
    assert_eq!(ns.personal.len(), 1, "{ns:?}");
    assert_eq!(ns.personal[0].prefix.name(), "");
    assert_eq!(ns.personal[0].delimiter, Some('/'));
    assert!(ns.other.is_empty() && ns.shared.is_empty(), "{ns:?}");
    c.noop().await.unwrap();
    c.logout().await.unwrap();
}

#[tokio::test]
async fn pipelined_commands_from_one_handle() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(3, 500)).unwrap();
    let c = login(d, &user).await;
    let (a, b, s) = tokio::join!(c.select("INBOX"), c.status("INBOX"), c.list("", "*"));
    assert_eq!(a.unwrap().exists, 3);
    assert_eq!(b.unwrap().messages, Some(3));
    assert!(!s.unwrap().is_empty());
    let c2 = c.clone();
    let t = tokio::spawn(async move { c2.search_raw("ALL").await });
    let f = c.fetch_collect(all_uids(), vec![FetchAttribute::Uid]);
    let (t, f) = tokio::join!(t, f);
    assert_eq!(t.unwrap().unwrap().len(), 3);
    assert_eq!(f.unwrap().len(), 3);
}

#[tokio::test]
async fn starttls_and_every_sasl_mechanism() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    for mech in [
        None,
        Some(Mechanism::Plain),
        Some(Mechanism::Login),
        Some(Mechanism::CramMd5),
        Some(Mechanism::ScramSha256),
    ] {
        let c = ImapClient::connect(options(d, Security::StartTls))
            .await
            .unwrap();
        assert!(!c.has_capability(&Capability::StartTls));
        c.authenticate(
            mech,
            Credentials::new(user.name.clone(), user.password.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{mech:?}: {e}"));
        c.select("INBOX").await.unwrap();
        c.logout().await.unwrap();
    }
    let c = ImapClient::connect(options(d, Security::Implicit))
        .await
        .unwrap();
    match c
        .authenticate(
            Some(Mechanism::Plain),
            Credentials::new(user.name.clone(), "wrong"),
        )
        .await
    {
        Err(Error::Auth { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn plaintext_password_refused_without_tls() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let mut o = options(d, Security::Plaintext);
    o.allow_plaintext_login = false;
    let c = ImapClient::connect(o).await.unwrap();
    assert!(matches!(
        c.login(&user.name, &user.password).await,
        Err(Error::Misuse { .. })
    ));
}

#[tokio::test]
async fn certificate_refused_without_the_ca() {
    let d = Dovecot::shared();
    let mut o = ConnectOptions::new("localhost", Security::Implicit).port(d.imaps_port());
    o.timeouts.command = Some(Duration::from_secs(10));
    match ImapClient::connect(o).await {
        Err(Error::Tls { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn compress_deflate() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(3, 20_000)).unwrap();
    let c = ImapClient::connect(options(d, Security::Implicit).compress(true))
        .await
        .unwrap();
    c.login(&user.name, &user.password).await.unwrap();
    if !c.has_capability(&Capability::Compress("DEFLATE".into())) {
        eprintln!("Dovecot without COMPRESS=DEFLATE; skipped");
        return;
    }
    assert!(c.is_compressed());
    c.select("INBOX").await.unwrap();
    let all = c
        .fetch_collect(all_uids(), vec![FetchAttribute::whole_message()])
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(all
        .iter()
        .all(|m| m.body().is_some_and(|b| b.len() > 19_000)));
}

#[tokio::test]
async fn idle_sees_a_delivered_message() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    d.fill(&user, "INBOX", &generate(1, 500)).unwrap();
    let c = login(d, &user).await;
    let mut events = c.notifications().unwrap();
    c.select("INBOX").await.unwrap();
    c.idle(true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    d.deliver(&user, "INBOX", &to_crlf(&generate(2, 700)[1]))
        .unwrap();
    let exists = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match events.next().await {
                Some(ImapEvent::Server(Notification::Exists(n))) => return n,
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    })
    .await
    .expect("EXISTS during IDLE");
    assert_eq!(exists, 2);
    // A command during IDLE ends it first, then IDLE resumes.
    let found = c.search_raw("ALL").await.unwrap();
    assert_eq!(found.len(), 2);
    d.deliver(&user, "INBOX", &to_crlf(&generate(3, 700)[2]))
        .unwrap();
    let exists = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let Some(ImapEvent::Server(Notification::Exists(n))) = events.next().await {
                return n;
            }
        }
    })
    .await
    .expect("EXISTS after IDLE resumed");
    assert_eq!(exists, 3);
    c.idle(false).await.unwrap();
    c.logout().await.unwrap();
}

#[tokio::test]
async fn large_message_streamed_with_bounded_memory() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    // Written straight into the maildir in pieces, so the test never holds the message.
    let size = 100usize << 20;
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n";
    let dir = d.maildir(&user, "INBOX").unwrap();
    let tmp = dir.join("tmp").join("1700000000.big.localhost");
    let mut expected_len = 0u64;
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
        let head = b"From: a@example.org\r\nSubject: big\r\n\r\n";
        f.write_all(head).unwrap();
        expected_len += head.len() as u64;
        while expected_len < size as u64 {
            f.write_all(line).unwrap();
            expected_len += line.len() as u64;
        }
        f.flush().unwrap();
    }
    std::fs::rename(&tmp, dir.join("new").join("1700000000.big.localhost")).unwrap();
    let c = login(d, &user).await;
    c.examine("INBOX").await.unwrap();
    let before = vm_rss_kb();
    let mut peak = before;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let mut fetch = c
        .fetch(all_uids(), vec![FetchAttribute::whole_message()])
        .await
        .unwrap();
    let mut got = 0;
    while let Some(ev) = fetch.next().await {
        if let FetchEvent::BodyStart { body, .. } = ev.unwrap() {
            assert_eq!(body.len, expected_len);
            // copy_body_to, by hand, to sample the resident size as the body streams.
            loop {
                match fetch.next().await.unwrap().unwrap() {
                    FetchEvent::BodyChunk(c) => {
                        file.write_all(&c).await.unwrap();
                        got += c.len() as u64;
                        if got % (1 << 20) < c.len() as u64 {
                            peak = peak.max(vm_rss_kb());
                        }
                    }
                    FetchEvent::BodyEnd { .. } => break,
                    other => panic!("{other:?}"),
                }
            }
        }
    }
    assert_eq!(got, expected_len);
    file.flush().await.unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), expected_len);
    let growth_mb = peak.saturating_sub(before) / 1024;
    eprintln!("peak RSS growth while streaming {expected_len} bytes: {growth_mb} MB");
    assert!(growth_mb < 32, "peak RSS grew by {growth_mb} MB");
}

/// Resident memory now (sampled: the process-wide VmHWM is raised by tests running beside).

#[tokio::test]
async fn multiappend_stores_every_message_in_one_command_with_appenduid() {
    let d = Dovecot::shared();
    let user = fresh_user(d);
    let c = login(d, &user).await;
    assert!(c.has_capability(&Capability::MultiAppend));
    let msgs: Vec<Vec<u8>> = generate(3, 900).iter().map(|m| to_crlf(m)).collect();
    let batch = msgs
        .iter()
        .map(|m| mailbag::imap::AppendMessage {
            flags: vec![Flag::Seen],
            date: None,
            data: m.clone(),
        })
        .collect();
    let results = c.append_many("INBOX", batch).await.unwrap();
    assert_eq!(results.len(), 1, "one APPEND, one APPENDUID: {results:?}");
    let got: Vec<u32> = results[0]
        .uids
        .iter(uid(u32::MAX))
        .map(|u| u.get())
        .collect();
    assert_eq!(got, vec![1, 2, 3]);
    let summary = c.examine("INBOX").await.unwrap();
    assert_eq!(summary.exists, 3);
    assert_eq!(summary.uid_validity, Some(results[0].uid_validity));
    let stored = c
        .fetch_collect(
            all_uids(),
            vec![FetchAttribute::Flags, FetchAttribute::whole_message()],
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    for (m, want) in stored.iter().zip(&msgs) {
        assert_eq!(m.body().map(|b| b.as_ref()), Some(want.as_slice()));
        assert!(m.flags().is_some_and(|f| f.contains(&Flag::Seen)));
    }
    c.logout().await.unwrap();
}
