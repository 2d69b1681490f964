//! `mailbag watch` across a dropped connection: the real binary watches through the fault
//! proxy, the proxy resets the connection and refuses new ones while a message arrives, and
//! the watch must reconnect by itself, say so on stderr, and print (and `--exec`) the message
//! delivered meanwhile, once.

mod common;

use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use mailbag_testserver::proxy::{FaultPlan, FaultProxy, Faults};
use mailbag_testserver::{messages, Dovecot};

#[test]
fn watch_reconnects_after_a_reset_and_prints_what_arrived_meanwhile() {
    let d = Dovecot::shared();
    let user = d.new_user();
    d.fill(&user, "INBOX", &messages::generate(2, 1000))
        .unwrap();
    let proxy = FaultProxy::spawn(d.addr(d.imaps_port()), FaultPlan::pass()).unwrap();
    let src = format!("imaps://{}@127.0.0.1:{}/INBOX", user.name, proxy.port());
    let ca = d.ca_file().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let exec_out = dir.path().join("exec");
    let exec = format!("cat >> {}", exec_out.display());
    let mut child = mailbag(&user, &["watch", &src, "--ca-file", &ca, "--exec", &exec])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    forward(child.stdout.take().unwrap(), true, tx.clone());
    forward(child.stderr.take().unwrap(), false, tx);
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, "the watching note", |(out, l)| {
        !out && l.starts_with("watching INBOX (uidnext 3)")
    });

    d.deliver(&user, "INBOX", &messages::message(10, 1200))
        .unwrap();
    wait_for(&rx, &mut seen, "new uid 3", |(out, l)| {
        *out && l.starts_with("new uid 3\t")
    });

    // The connection is reset; reconnects are refused while message 11 arrives.
    proxy.set_plan(FaultPlan::every(Faults::refuse().rst()));
    proxy.reset_all();
    d.deliver(&user, "INBOX", &messages::message(11, 1200))
        .unwrap();
    wait_for(&rx, &mut seen, "the connection-lost note", |(out, l)| {
        !out && l.starts_with("connection lost")
    });
    std::thread::sleep(Duration::from_secs(2));
    proxy.set_plan(FaultPlan::pass());
    wait_for(&rx, &mut seen, "the reconnected note", |(out, l)| {
        !out && l.starts_with("reconnected; watching INBOX")
    });
    wait_for(&rx, &mut seen, "new uid 4", |(out, l)| {
        *out && l.starts_with("new uid 4\t")
    });
    // Anything more (a duplicate) would come right after the catch-up.
    std::thread::sleep(Duration::from_secs(1));
    seen.extend(rx.try_iter());
    let _ = child.kill();
    let _ = child.wait();

    let new: Vec<&str> = seen
        .iter()
        .filter(|(out, l)| *out && l.starts_with("new uid "))
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(new.len(), 2, "each new message once: {seen:#?}");
    assert!(new[1].ends_with(&messages::subject(11)), "{new:?}");
    assert!(
        proxy.accepted() >= 3,
        "refused reconnects: {}",
        proxy.accepted()
    );
    let piped = std::fs::read_to_string(&exec_out).unwrap_or_default();
    for i in [10, 11] {
        assert!(
            piped.contains(&format!("Message-ID: <{i}.")),
            "--exec got message {i}: {piped}"
        );
    }
}
