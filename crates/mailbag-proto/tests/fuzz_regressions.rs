//! Inputs the fuzz targets under `fuzz/` found to break an invariant, kept as tests after the
//! fix (one test per finding, named after what broke).

use mailbag_proto::pop3::{Command, Event, Reply, Session};
use mailbag_proto::Secret;

fn drain(s: &mut Session) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = s.poll_event().expect("valid") {
        out.push(e);
    }
    out
}

/// pop3_session: commands queued after STLS was accepted went out in clear (USER and PASS
/// before the TLS handshake) because `poll_transmit` did not wait for `tls_established`.
#[test]
fn pop3_nothing_sent_between_stls_ok_and_handshake() {
    let mut s = Session::new();
    s.feed(b"+OK ready\r\n");
    drain(&mut s);
    s.send(Command::Stls).unwrap();
    assert_eq!(s.poll_transmit().unwrap().data, b"STLS\r\n");
    s.feed(b"+OK begin TLS\r\n");
    let ev = drain(&mut s);
    assert!(matches!(&ev[..], [Event::Ok { reply: Reply::Status(_), .. }]));
    assert!(s.awaiting_tls());
    s.send(Command::User("joe".into())).unwrap();
    s.send(Command::Pass(Secret::new("secret".into()))).unwrap();
    assert_eq!(s.poll_transmit(), None, "sent in clear before the handshake");
    s.tls_established();
    assert_eq!(s.poll_transmit().unwrap().data, b"USER joe\r\n");
}
