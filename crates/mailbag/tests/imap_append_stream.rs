//! `ImapClient::append_stream` against the harness Dovecot: a 64 MiB message goes from a
//! reader to the server without being held (the process's resident size is sampled while
//! it goes), arrives byte for byte, and a reader that ends short is a clear error.
//! Its own test binary, so that no other test's memory is counted.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};

use mailbag::imap::{ConnectOptions, FetchAttribute, FetchEvent, Flag, ImapClient, MessageSet};
use mailbag::{Error, Security};
use mailbag_testserver::{vm_rss_kb, Dovecot};

/// FNV-1a over a stream of pieces.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A message of exactly `len` bytes made while it is read (headers, then numbered lines),
/// hashing what it gave and sampling the resident size every MiB.
struct Generated {
    given: u64,
    hash: Fnv,
    line: Vec<u8>,
    at: usize,
    peak_kb: Arc<AtomicU64>,
    hash_out: Arc<AtomicU64>,
    /// Stop early after this many bytes (a reader that ends short).
    stop_at: u64,
}

impl Generated {
    fn new(len: u64, peak_kb: Arc<AtomicU64>, hash_out: Arc<AtomicU64>) -> Generated {
        Generated {
            given: 0,
            hash: Fnv::new(),
            line: b"From: big@example.org\r\nTo: you@example.org\r\nSubject: a big one\r\n\r\n"
                .to_vec(),
            at: 0,
            peak_kb,
            hash_out,
            stop_at: len,
        }
    }

    fn next_line(&mut self) {
        self.line = format!(
            "line {:010} of a streamed APPEND, never held whole by the client\r\n",
            self.given
        )
        .into_bytes();
        self.at = 0;
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        while buf.remaining() > 0 && this.given < this.stop_at {
            if this.at == this.line.len() {
                this.next_line();
            }
            let left = (this.stop_at - this.given) as usize;
            let n = buf.remaining().min(this.line.len() - this.at).min(left);
            let piece = &this.line[this.at..this.at + n];
            this.hash.update(piece);
            buf.put_slice(piece);
            this.at += n;
            let before = this.given;
            this.given += n as u64;
            if before >> 20 != this.given >> 20 {
                this.peak_kb.fetch_max(vm_rss_kb(), Ordering::Relaxed);
            }
        }
        this.hash_out.store(this.hash.0, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

async fn login(d: &Dovecot) -> ImapClient {
    let user = d.new_user();
    // Dovecot's passwd-file cache sees a new user after a second (see pop3_dovecot.rs).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut o = ConnectOptions::new("localhost", Security::Implicit)
        .port(d.imaps_port())
        .ca_file(d.ca_file());
    o.only_ca_file = true;
    o.timeouts.command = Some(Duration::from_secs(60));
    let c = ImapClient::connect(o).await.unwrap();
    if let Err(e) = c.login(&user.name, &user.password).await {
        panic!("login: {e}\n{}", d.log_tail());
    }
    c
}

#[tokio::test]
async fn append_stream_sends_64_mib_in_little_memory_byte_for_byte() {
    let d = Dovecot::shared();
    let c = login(d).await;
    const LEN: u64 = 64 << 20;
    let peak = Arc::new(AtomicU64::new(0));
    let sent_hash = Arc::new(AtomicU64::new(0));
    let before = vm_rss_kb();
    let reader = Generated::new(LEN, peak.clone(), sent_hash.clone());
    let appended = c
        .append_stream("INBOX", vec![Flag::Seen], None, LEN, reader)
        .await
        .unwrap()
        .expect("APPENDUID (Dovecot offers UIDPLUS)");
    let growth_mb = peak.load(Ordering::Relaxed).saturating_sub(before) / 1024;
    eprintln!(
        "resident size grew {growth_mb} MB while appending {} MiB",
        LEN >> 20
    );
    assert!(
        growth_mb < 16,
        "append_stream held the message: +{growth_mb} MB"
    );

    // The server has the exact bytes: hash them as they stream back.
    c.examine("INBOX").await.unwrap();
    let mut fetch = c
        .fetch(
            MessageSet::Uid(appended.uids.clone()),
            vec![FetchAttribute::whole_message()],
        )
        .await
        .unwrap();
    let mut got = Fnv::new();
    let mut total = 0u64;
    while let Some(ev) = fetch.next().await {
        match ev.unwrap() {
            FetchEvent::BodyChunk(chunk) => {
                total += chunk.len() as u64;
                got.update(&chunk);
            }
            FetchEvent::BodyStart { body, .. } => assert_eq!(body.len, LEN),
            _ => {}
        }
    }
    assert_eq!(total, LEN);
    assert_eq!(got.0, sent_hash.load(Ordering::Relaxed), "bytes differ");
    c.logout().await.unwrap();
}

#[tokio::test]
async fn append_stream_of_a_short_reader_is_an_error_and_stores_nothing() {
    let d = Dovecot::shared();
    let c = login(d).await;
    let mut reader = Generated::new(
        100_000,
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    reader.stop_at = 60_000;
    let err = c
        .append_stream("INBOX", vec![], None, 100_000, reader)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Misuse { detail } if detail.contains("60000 of the 100000")),
        "{err:?}"
    );

    // A missing mailbox is the server's NO with TRYCREATE, and the session goes on.
    let c = login(d).await;
    let reader = Generated::new(
        5_000,
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let err = c
        .append_stream("NoSuchFolder", vec![], None, 5_000, reader)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::No { code: Some(code), .. } if code.contains("TRYCREATE")),
        "{err:?}"
    );
    let s = c.examine("INBOX").await.unwrap();
    assert_eq!(s.exists, 0, "nothing was stored");
    c.logout().await.unwrap();
}
