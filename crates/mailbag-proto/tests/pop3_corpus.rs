//! Every POP3 reply MailKit recorded from real servers (Gmail, Exchange, Comcast, ...) is
//! fed through the session, whole and byte by byte. Each file must give its expected
//! outcome; the files a server got wrong are listed with the reason.
//!
//! The corpus stays in /work/shared (its README: do not copy it); its lines end in LF and
//! are turned into CRLF before parsing.

use std::path::Path;

use mailbag_proto::pop3::{Command, Event, Reply, Session};
use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient};
use mailbag_proto::Secret;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mailkit"
);

/// The corpus directory: `MAILBAG_CORPUS` when set, else the documented path from
/// /work/main, else the nearest ancestor's `shared/corpus/mailkit` (a worktree deeper down),
/// else /work/shared's (a clone elsewhere on this machine). Not found is a failure.
fn corpus() -> std::path::PathBuf {
    std::env::var_os("MAILBAG_CORPUS")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(std::iter::once(Path::new(CORPUS).to_path_buf()))
        .chain(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared/corpus/mailkit")),
        )
        .chain(std::iter::once(
            Path::new("/work/shared/corpus/mailkit").to_path_buf(),
        ))
        .find(|p| p.is_dir())
        .expect("the MailKit corpus (set MAILBAG_CORPUS to its mailkit/ directory)")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Every reply parses to `+OK` with typed content.
    Ok,
    /// A `-ERR` reply.
    Err,
    /// `+OK` whose content breaks the grammar: reported as `Malformed`, stream in sync.
    Malformed,
    /// The file ends before the reply does: no event, no error.
    Incomplete,
    /// An AUTH continuation: answered, no event.
    Continuation,
}

/// (file, commands sent, expectation, why).
const FILES: &[(&str, &[&str], Expect, &str)] = &[
    ("common/ok-greeting.txt", &[], Expect::Ok, "greeting"),
    ("common/err-greeting.txt", &[], Expect::Err, "greeting refusing service"),
    ("comcast/greeting.txt", &[], Expect::Ok, ""),
    ("exchange/greeting.txt", &[], Expect::Ok, ""),
    ("gmail/greeting.txt", &[], Expect::Ok, ""),
    ("lang/greeting.txt", &[], Expect::Ok, "greeting with APOP timestamp"),
    ("comcast/capa1.txt", &["CAPA"], Expect::Ok, ""),
    ("comcast/capa2.txt", &["CAPA"], Expect::Ok, ""),
    ("exchange/capa.txt", &["CAPA"], Expect::Ok, ""),
    ("gmail/capa1.txt", &["CAPA"], Expect::Ok, ""),
    ("gmail/capa2.txt", &["CAPA"], Expect::Ok, ""),
    ("lang/capa1.txt", &["CAPA"], Expect::Ok, ""),
    ("lang/capa2.txt", &["CAPA"], Expect::Ok, ""),
    ("comcast/err.txt", &["NOOP"], Expect::Err, "bare -ERR without text"),
    ("comcast/ok.txt", &["NOOP"], Expect::Ok, "bare +OK without text"),
    ("comcast/quit.txt", &["QUIT"], Expect::Ok, ""),
    ("exchange/quit.txt", &["QUIT"], Expect::Ok, ""),
    ("gmail/quit.txt", &["QUIT"], Expect::Ok, ""),
    ("lang/quit.txt", &["QUIT"], Expect::Ok, ""),
    ("gmail/noop.txt", &["NOOP"], Expect::Ok, ""),
    ("gmail/rset.txt", &["RSET"], Expect::Ok, ""),
    ("gmail/dele.txt", &["DELE 1"], Expect::Ok, ""),
    ("gmail/dele123.txt", &["DELE 1", "DELE 2", "DELE 3"], Expect::Ok, "pipelined"),
    ("comcast/stat.txt", &["STAT"], Expect::Ok, ""),
    ("exchange/stat.txt", &["STAT"], Expect::Ok, ""),
    ("gmail/stat.txt", &["STAT"], Expect::Ok, ""),
    ("lang/stat.txt", &["STAT"], Expect::Ok, ""),
    ("comcast/stat-error1.txt", &["STAT"], Expect::Malformed, "size missing"),
    ("comcast/stat-error2.txt", &["STAT"], Expect::Malformed, "count not a number"),
    ("comcast/stat-error3.txt", &["STAT"], Expect::Malformed, "size not a number"),
    ("comcast/list.txt", &["LIST"], Expect::Ok, ""),
    ("gmail/list.txt", &["LIST"], Expect::Ok, ""),
    ("comcast/list-error1.txt", &["LIST"], Expect::Malformed, "entry without size"),
    ("comcast/list-error2.txt", &["LIST"], Expect::Ok,
        "gap in the numbering (7 missing): legal, messages marked deleted are not listed"),
    ("comcast/list-error3.txt", &["LIST"], Expect::Malformed, "size not a number"),
    ("comcast/list1.txt", &["LIST 1"], Expect::Ok, ""),
    ("gmail/list1.txt", &["LIST 1"], Expect::Ok, ""),
    ("gmail/list2.txt", &["LIST 2"], Expect::Ok, ""),
    ("gmail/list3.txt", &["LIST 3"], Expect::Ok, ""),
    ("comcast/list1-error1.txt", &["LIST 1"], Expect::Malformed, "size missing"),
    ("comcast/list1-error2.txt", &["LIST 1"], Expect::Malformed, "answers for message 99"),
    ("comcast/list1-error3.txt", &["LIST 1"], Expect::Malformed, "size not a number"),
    ("exchange/uidl.txt", &["UIDL"], Expect::Ok, ""),
    ("gmail/uidl.txt", &["UIDL"], Expect::Ok, ""),
    ("gmail/uidl-error1.txt", &["UIDL"], Expect::Malformed, "entry without uid"),
    ("gmail/uidl-error2.txt", &["UIDL"], Expect::Ok, "gap in the numbering: legal"),
    ("gmail/uidl1.txt", &["UIDL 1"], Expect::Ok, ""),
    ("gmail/uidl2.txt", &["UIDL 2"], Expect::Ok, ""),
    ("gmail/uidl3.txt", &["UIDL 3"], Expect::Ok, ""),
    ("gmail/uidl1-error1.txt", &["UIDL 1"], Expect::Malformed, "uid missing"),
    ("gmail/uidl1-error2.txt", &["UIDL 1"], Expect::Malformed, "answers for message 99"),
    ("comcast/retr1.txt", &["RETR 1"], Expect::Ok, ""),
    ("exchange/retr1.txt", &["RETR 1"], Expect::Ok, ""),
    ("gmail/retr1.txt", &["RETR 1"], Expect::Ok, ""),
    ("gmail/retr123.txt", &["RETR 1", "RETR 2", "RETR 3"], Expect::Ok, "pipelined"),
    ("gmail/retr1-parse-error.txt", &["RETR 1"], Expect::Ok,
        "MailKit's error is in the MIME content (a message starting mid-base64); POP3 framing is fine"),
    ("gmail/top.txt", &["TOP 1 0"], Expect::Ok, ""),
    ("gmail/top123.txt", &["TOP 1 0", "TOP 2 0", "TOP 3 0"], Expect::Ok, "pipelined"),
    ("exchange/auth.txt", &["AUTH"], Expect::Ok, ""),
    ("gmail/auth.txt", &["AUTH"], Expect::Ok, ""),
    ("lang/auth.txt", &["AUTH"], Expect::Ok, ""),
    ("exchange/plus.txt", &["AUTH"], Expect::Continuation, "bare '+' challenge"),
    ("gmail/plus.txt", &["AUTH"], Expect::Continuation, "'+ ' challenge"),
    ("lang/utf8.txt", &["UTF8"], Expect::Ok, ""),
    ("lang/setlang.txt", &["NOOP"], Expect::Ok,
        "LANG (RFC 6856 section 3) is not implemented; its single-line reply parses as NOOP's"),
    ("lang/getlang.txt", &["CAPA"], Expect::Ok,
        "LANG listing: not implemented; its multi-line shape parses as CAPA's"),
];

fn command(text: &str) -> Command {
    let mut w = text.split(' ');
    let kw = w.next().unwrap_or_default();
    let n: Option<u32> = w.next().map(|n| n.parse().unwrap());
    match kw {
        "CAPA" => Command::Capa,
        "NOOP" => Command::Noop,
        "QUIT" => Command::Quit,
        "RSET" => Command::Rset,
        "STAT" => Command::Stat,
        "UTF8" => Command::Utf8,
        "DELE" => Command::Dele(n.unwrap()),
        "LIST" => Command::List(n),
        "UIDL" => Command::Uidl(n),
        "RETR" => Command::Retr(n.unwrap()),
        "TOP" => Command::Top(n.unwrap(), 0),
        other => panic!("{other}"),
    }
}

fn drain(s: &mut Session, data: &[u8], split: usize) -> Vec<Event> {
    let mut out = Vec::new();
    for piece in data.chunks(split) {
        s.feed(piece);
        // A driver writes whatever may go out before it reads on.
        s.poll_transmit();
        while let Some(e) = s.poll_event().expect("no parse error in corpus") {
            out.push(e);
            s.poll_transmit();
        }
    }
    out
}

fn replay(commands: &[&str], data: &[u8], split: usize) -> Vec<Event> {
    let mut s = Session::new();
    s.set_window(8);
    if commands.is_empty() {
        return drain(&mut s, data, split);
    }
    drain(&mut s, b"+OK\r\n", 1);
    let transaction = !matches!(commands[0], "UTF8" | "AUTH");
    if commands[0] == "AUTH" {
        let plain = SaslClient::new(Mechanism::Plain, Credentials::new("u", "p"));
        s.authenticate(plain, true).unwrap();
    } else if transaction {
        s.send(Command::User("u".into())).unwrap();
        s.send(Command::Pass(Secret::new("p".into()))).unwrap();
        s.poll_transmit();
        drain(&mut s, b"+OK\r\n+OK\r\n", 1);
        // Let several commands out at once, as a pipelining client would.
        s.send(Command::Capa).unwrap();
        s.poll_transmit();
        drain(&mut s, b"+OK\r\nPIPELINING\r\n.\r\n", 1);
    }
    for c in commands.iter().filter(|c| **c != "AUTH") {
        s.send(command(c)).unwrap();
    }
    s.poll_transmit();
    drain(&mut s, data, split)
}

fn outcome(events: &[Event]) -> Expect {
    if events.is_empty() {
        return Expect::Incomplete;
    }
    if events.iter().any(|e| matches!(e, Event::Malformed { .. })) {
        return Expect::Malformed;
    }
    let ok = events.iter().all(|e| match e {
        Event::GreetingReceived(g) => g.status.ok,
        Event::Ok { .. } | Event::BodyChunk { .. } | Event::BodyEnd { .. } => true,
        _ => false,
    });
    if ok {
        Expect::Ok
    } else {
        Expect::Err
    }
}

#[test]
fn every_recorded_reply_parses_or_is_listed() {
    let root = corpus().join("pop3");
    let mut seen = Vec::new();
    for dir in std::fs::read_dir(&root).expect("corpus present") {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            seen.push(
                p.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    seen.sort();
    let mut listed: Vec<String> = FILES.iter().map(|f| f.0.to_owned()).collect();
    listed.sort();
    assert_eq!(seen, listed, "every corpus file must be listed");

    for (file, commands, expect, why) in FILES {
        let raw = std::fs::read(root.join(file)).unwrap();
        let mut data = Vec::new();
        for b in raw {
            if b == b'\n' {
                data.push(b'\r');
            }
            data.push(b);
        }
        let whole = replay(commands, &data, usize::MAX);
        let bytewise = replay(commands, &data, 1);
        let got = if *expect == Expect::Continuation && whole.is_empty() {
            Expect::Continuation
        } else {
            outcome(&whole)
        };
        assert_eq!(got, *expect, "{file} ({why}): {whole:?}");
        let merge = |ev: &[Event]| -> (usize, Vec<u8>) {
            let mut body = Vec::new();
            let mut n = 0;
            for e in ev {
                match e {
                    Event::BodyChunk { chunk, .. } => body.extend_from_slice(chunk),
                    _ => n += 1,
                }
            }
            (n, body)
        };
        assert_eq!(
            merge(&whole),
            merge(&bytewise),
            "{file} split at every byte"
        );
        if file.contains("retr") && *expect == Expect::Ok {
            assert!(whole.iter().any(|e| matches!(
                e,
                Event::Ok {
                    reply: Reply::BodyFollows(_),
                    ..
                }
            )));
        }
    }
}
