//! IMAP decode -> encode -> decode, through the command encoder and the response parser.
//!
//! mailbag has no response encoder (a client never writes responses), so the round trips go
//! through the values a client sends back: mailbox names, sequence sets and flags. Each value
//! read from the server (or made from the raw input) is encoded in a command, its argument's
//! bytes are cut out of the encoded command, put into a server response of the same grammar,
//! and parsed again: the value must come back equal (mailbox names byte for byte on the wire),
//! as exactly one response, whatever CR, LF, NUL, quote or 8-bit bytes it holds.
//!
//! Sources of values: the input parsed as a response stream; the input as a mailbox name's
//! wire bytes; the input as a program's mailbox name; the input as sequence-set text.
#![no_main]

use std::num::NonZeroU32;

use libfuzzer_sys::fuzz_target;
use mailbag_proto::imap::command::{FetchAttribute, MessageSet, StoreKind};
use mailbag_proto::imap::parse::{Event, ResponseParser};
use mailbag_proto::imap::types::{Data, ESearchItem, FetchItem, Flag, ResponseCode};
use mailbag_proto::imap::{
    encode, Command, EncodeOptions, Fragment, MailboxName, Response, SequenceSet, Tag, Uid,
};

fn options() -> [EncodeOptions; 3] {
    [
        EncodeOptions::default(),
        EncodeOptions {
            literal_plus: true,
            ..EncodeOptions::default()
        },
        EncodeOptions {
            utf8: true,
            literal_minus: true,
            ..EncodeOptions::default()
        },
    ]
}

/// The bytes of `command` after `prefix` (tag and command name), fragments joined, or `None`
/// when the encoder refused the command.
fn argument(command: &Command, prefix: &[u8], opts: &EncodeOptions) -> Option<Vec<u8>> {
    let tag = Tag::new("T").expect("valid tag");
    let frags = encode(&tag, command, opts).ok()?;
    let mut bytes = Vec::new();
    for f in frags {
        match f {
            Fragment::Line(l) => bytes.extend(l),
            Fragment::Literal { data, .. } => bytes.extend(data),
            Fragment::Deferred { .. } => return None,
        }
    }
    let rest = bytes.strip_prefix(prefix).unwrap_or_else(|| {
        panic!(
            "{:?} does not start with {:?}",
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(prefix)
        )
    });
    Some(rest.to_vec())
}

/// Parses `bytes` as one response; panics unless it is exactly one.
fn parse_one(bytes: &[u8]) -> Response {
    let mut p = ResponseParser::new();
    p.set_expect_greeting(false);
    p.feed(bytes);
    let first = p.next_event();
    let second = p.next_event();
    match (first, second) {
        (Some(Event::Response(r)), None) => r,
        other => panic!(
            "{:?} did not parse as one response: {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

fn mailbox_roundtrip(name: &MailboxName) {
    for opts in options() {
        let select = Command::Select {
            mailbox: name.clone(),
            params: vec![],
        };
        let Some(arg) = argument(&select, b"T SELECT ", &opts) else {
            // Refused: only a NUL can make a mailbox name unencodable.
            assert!(name.to_wire(opts.utf8).contains(&0), "{name:?} refused");
            continue;
        };
        let mut response = b"* LIST () \"/\" ".to_vec();
        response.extend(arg);
        let Response::Untagged(Data::List(item)) = parse_one(&response) else {
            panic!("not a LIST: {:?}", String::from_utf8_lossy(&response));
        };
        let wire = name.to_wire(opts.utf8);
        assert_eq!(
            item.mailbox.wire().map(|w| &w[..]),
            Some(&wire[..]),
            "wire bytes changed"
        );
        if name.wire().is_some() || !opts.utf8 {
            // With UTF8=ACCEPT a program's name may happen to read as modified UTF-7 too.
            assert_eq!(&item.mailbox, name, "name changed");
        }
    }
}

fn set_roundtrip(set: &SequenceSet<Uid>) {
    let fetch = Command::Fetch {
        set: MessageSet::Uid(set.clone()),
        items: vec![FetchAttribute::Uid, FetchAttribute::Flags],
        changed_since: None,
        vanished: false,
    };
    let Some(arg) = argument(&fetch, b"T UID FETCH ", &EncodeOptions::default()) else {
        assert!(set.is_empty(), "{set:?} refused");
        return;
    };
    let text = arg
        .strip_suffix(b" (UID FLAGS)\r\n")
        .expect("FETCH ends with its items");
    let text = String::from_utf8(text.to_vec()).expect("a set is ASCII");
    let esearch = format!("* ESEARCH (TAG \"T\") UID ALL {text}\r\n");
    match parse_one(esearch.as_bytes()) {
        Response::Untagged(Data::ESearch(e)) => match &e.items[..] {
            [ESearchItem::All(all)] => {
                assert_eq!(&all.clone().into_kind::<Uid>(), set, "{esearch:?}")
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let copyuid = format!("T OK [COPYUID 7 {text} {text}] done\r\n");
    match parse_one(copyuid.as_bytes()) {
        Response::Tagged { status, .. } => match status.code {
            Some(ResponseCode::CopyUid { source, target, .. }) => {
                assert_eq!(&source, set);
                assert_eq!(&target, set);
            }
            other => panic!("{copyuid:?}: {other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn flags_roundtrip(flags: &[Flag]) {
    let mut set = SequenceSet::new();
    set.push(Uid::from(NonZeroU32::MIN));
    let store = Command::Store {
        set: MessageSet::Uid(set),
        kind: StoreKind::Replace,
        silent: false,
        flags: flags.to_vec(),
        unchanged_since: None,
    };
    let Some(arg) = argument(&store, b"T UID STORE 1 FLAGS ", &EncodeOptions::default()) else {
        return;
    };
    let mut response = b"* 1 FETCH (FLAGS ".to_vec();
    let arg = arg.strip_suffix(b"\r\n").expect("CRLF");
    response.extend_from_slice(arg);
    response.extend_from_slice(b")\r\n");
    match parse_one(&response) {
        Response::Untagged(Data::Fetch { items, .. }) => {
            assert_eq!(
                items,
                vec![FetchItem::Flags(flags.to_vec())],
                "{:?}",
                String::from_utf8_lossy(&response)
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Every mailbox name, sequence set and flag list in a parsed response.
fn harvest(
    r: &Response,
    names: &mut Vec<MailboxName>,
    sets: &mut Vec<SequenceSet<Uid>>,
    flags: &mut Vec<Vec<Flag>>,
) {
    let code = match r {
        Response::Greeting(s) | Response::Tagged { status: s, .. } => s.code.as_ref(),
        Response::Untagged(Data::Status(s)) => s.code.as_ref(),
        _ => None,
    };
    match code {
        Some(ResponseCode::PermanentFlags(f)) => flags.push(f.clone()),
        Some(ResponseCode::CopyUid { source, target, .. }) => {
            sets.push(source.clone());
            sets.push(target.clone());
        }
        Some(ResponseCode::AppendUid { uids, .. }) => sets.push(uids.clone()),
        Some(ResponseCode::Modified(s)) => sets.push(s.clone().into_kind()),
        _ => {}
    }
    let Response::Untagged(d) = r else { return };
    match d {
        Data::List(item) => {
            names.push(item.mailbox.clone());
            names.extend(item.old_name.clone());
        }
        Data::MailboxStatus { mailbox, .. } | Data::QuotaRoot { mailbox, .. } => {
            names.push(mailbox.clone())
        }
        Data::Flags(f) => flags.push(f.clone()),
        Data::Fetch { items, .. } => {
            for i in items {
                if let FetchItem::Flags(f) = i {
                    flags.push(f.clone());
                }
            }
        }
        Data::Vanished { uids, .. } => sets.push(uids.clone()),
        Data::ESearch(e) => {
            for i in &e.items {
                if let ESearchItem::All(s) = i {
                    sets.push(s.clone().into_kind());
                }
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let (mut names, mut sets, mut flags) = (Vec::new(), Vec::new(), Vec::new());
    let mut p = ResponseParser::new();
    p.set_expect_greeting(false);
    p.feed(data);
    while let Some(ev) = p.next_event() {
        if let Event::Response(r) = ev {
            harvest(&r, &mut names, &mut sets, &mut flags);
        }
    }
    names.push(MailboxName::from_wire(bytes::Bytes::copy_from_slice(data)));
    let program = String::from_utf8_lossy(data);
    if !program.eq_ignore_ascii_case("INBOX") {
        names.push(MailboxName::new(program.into_owned()));
    }
    if let Ok(set) = std::str::from_utf8(data)
        .unwrap_or("")
        .parse::<SequenceSet<Uid>>()
    {
        sets.push(set);
    }
    for n in names.iter().take(8) {
        mailbox_roundtrip(n);
    }
    for s in sets.iter().take(8) {
        set_roundtrip(s);
    }
    for f in flags.iter().take(8) {
        flags_roundtrip(f);
    }
});
