//! Server responses from RFC 3501, RFC 9051 and the extensions' RFCs, and the quirks real
//! servers are known for, each fed whole, byte by byte and in random splits.

mod imap_common;

use bytes::Bytes;
use imap_common::parse_all_ways;
use mailbag_proto::imap::parse::{Event, StreamedItem};
use mailbag_proto::imap::types::*;

fn one(input: &str) -> Response {
    let evs = parse_all_ways(input.as_bytes(), false);
    match evs.as_slice() {
        [Event::Response(r)] => r.clone(),
        other => panic!("expected one response for {input:?}, got {other:?}"),
    }
}

fn data(input: &str) -> Data {
    match one(input) {
        Response::Untagged(d) => d,
        other => panic!("expected untagged data, got {other:?}"),
    }
}

fn fetch(input: &str) -> (u32, Vec<FetchItem>) {
    match data(input) {
        Data::Fetch { seq, items } => (seq.get(), items),
        other => panic!("expected FETCH, got {other:?}"),
    }
}

fn b(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap()
}

#[test]
fn greetings() {
    let evs = parse_all_ways(
        b"* OK [CAPABILITY IMAP4rev2 AUTH=PLAIN] Server ready\r\n",
        true,
    );
    let Event::Response(Response::Greeting(st)) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(st.status, Status::Ok);
    assert_eq!(
        st.code,
        Some(ResponseCode::Capability(vec![
            Capability::Imap4rev2,
            Capability::Auth("PLAIN".into())
        ]))
    );
    assert_eq!(st.text, "Server ready");
    let evs = parse_all_ways(b"* PREAUTH IMAP4rev1 server logged in as Smith\r\n", true);
    assert!(matches!(
        &evs[0],
        Event::Response(Response::Greeting(StatusText {
            status: Status::PreAuth,
            ..
        }))
    ));
    let evs = parse_all_ways(b"* BYE Autologout; idle for too long\r\n", true);
    assert!(matches!(
        &evs[0],
        Event::Response(Response::Greeting(StatusText {
            status: Status::Bye,
            ..
        }))
    ));
}

#[test]
fn rfc9051_select_exchange() {
    let input = "* 172 EXISTS\r\n\
        * OK [UIDVALIDITY 3857529045] UIDs valid\r\n\
        * OK [UIDNEXT 4392] Predicted next UID\r\n\
        * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
        * OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n\
        * LIST () \"/\" INBOX\r\n\
        A142 OK [READ-WRITE] SELECT completed\r\n";
    let evs = parse_all_ways(input.as_bytes(), false);
    let r: Vec<Response> = evs
        .into_iter()
        .map(|e| match e {
            Event::Response(r) => r,
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(r[0], Response::Untagged(Data::Exists(172)));
    assert_eq!(
        r[1],
        Response::Untagged(Data::Status(StatusText {
            status: Status::Ok,
            code: Some(ResponseCode::UidValidity(
                UidValidity::new(3857529045).unwrap()
            )),
            text: "UIDs valid".into()
        }))
    );
    assert!(
        matches!(&r[2], Response::Untagged(Data::Status(StatusText { code: Some(ResponseCode::UidNext(u)), .. })) if u.get() == 4392)
    );
    assert_eq!(
        r[3],
        Response::Untagged(Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft
        ]))
    );
    assert!(
        matches!(&r[4], Response::Untagged(Data::Status(StatusText { code: Some(ResponseCode::PermanentFlags(f)), .. })) if f == &vec![Flag::Deleted, Flag::Seen, Flag::MayCreate])
    );
    assert!(
        matches!(&r[5], Response::Untagged(Data::List(l)) if l.mailbox.is_inbox() && l.delimiter == Some('/'))
    );
    match &r[6] {
        Response::Tagged { tag, status } => {
            assert_eq!(tag.as_str(), "A142");
            assert_eq!(status.code, Some(ResponseCode::ReadWrite));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn status_search_expunge() {
    assert_eq!(
        data("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 SIZE 9000000000 HIGHESTMODSEQ 7 MAILBOXID (F2212ea87))\r\n"),
        Data::MailboxStatus {
            mailbox: MailboxName::new("blurdybloop"),
            items: vec![
                StatusItem::Messages(231),
                StatusItem::UidNext(44292),
                StatusItem::Size(9000000000),
                StatusItem::HighestModSeq(7),
                StatusItem::MailboxId("F2212ea87".into())
            ]
        }
    );
    assert_eq!(
        data("* SEARCH 2 84 882\r\n"),
        Data::Search {
            numbers: vec![2, 84, 882],
            modseq: None
        }
    );
    assert_eq!(
        data("* SEARCH\r\n"),
        Data::Search {
            numbers: vec![],
            modseq: None
        }
    );
    assert_eq!(
        data("* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"),
        Data::Search {
            numbers: vec![2, 5, 6, 7, 11, 12, 18, 19, 20, 23],
            modseq: ModSeq::new(917162500)
        }
    );
    assert_eq!(
        data("* 22 EXPUNGE\r\n"),
        Data::Expunge(SeqNum::new(22).unwrap())
    );
    assert_eq!(data("* 5 RECENT\r\n"), Data::Recent(5));
}

#[test]
fn esearch_sort_thread_vanished() {
    let Data::ESearch(e) =
        data("* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800 COUNT 15 ALL 7,12:14,3800\r\n")
    else {
        panic!()
    };
    assert_eq!(e.tag.as_deref(), Some("A285"));
    assert!(e.uid);
    assert_eq!(e.items[0], ESearchItem::Min(7));
    assert!(matches!(&e.items[3], ESearchItem::All(s) if s.to_string() == "7,12:14,3800"));
    assert_eq!(
        data("* SORT 2 3 6\r\n"),
        Data::Sort {
            numbers: vec![2, 3, 6],
            modseq: None
        }
    );
    let Data::Thread(t) = data("* THREAD (2)(3 6 (4 23)(44 7 96))\r\n") else {
        panic!()
    };
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].chain, vec![3, 6]);
    assert_eq!(t[1].children[1].chain, vec![44, 7, 96]);
    let Data::Vanished { earlier, uids } = data("* VANISHED (EARLIER) 300:310,405,411\r\n") else {
        panic!()
    };
    assert!(earlier);
    assert_eq!(uids.to_string(), "300:310,405,411");
}

#[test]
fn list_variants() {
    let Data::List(l) = data("* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit/Peach\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n") else { panic!() };
    assert_eq!(
        l.attributes,
        vec![MailboxAttribute::Subscribed, MailboxAttribute::NonExistent]
    );
    assert_eq!(l.child_info, vec!["SUBSCRIBED".to_string()]);
    let Data::List(l) = data("* LIST () \"/\" NewMailbox (\"OLDNAME\" (\"OldMailbox\"))\r\n")
    else {
        panic!()
    };
    assert_eq!(l.old_name, Some(MailboxName::new("OldMailbox")));
    let Data::List(l) = data("* XLIST (\\HasNoChildren \\Spam) \"/\" \"[Gmail]/Spam\"\r\n") else {
        panic!()
    };
    assert_eq!(l.kind, ListKind::XList);
    assert_eq!(l.attributes[1], MailboxAttribute::Junk);
    let Data::List(l) = data("* LIST (\\Noselect) NIL \"\"\r\n") else {
        panic!()
    };
    assert_eq!(l.delimiter, None);
    let Data::List(l) = data(
        "* LIST () \".\" {11}\r\nEntw&APw-rfe\r\n"
            .replace("{11}", "{12}")
            .as_str(),
    ) else {
        panic!()
    };
    assert_eq!(l.mailbox.name(), "Entwürfe");
}

#[test]
fn capability_enabled_namespace_id_quota_metadata() {
    assert_eq!(
        data("* CAPABILITY IMAP4rev1 LITERAL- COMPRESS=DEFLATE \r\n"),
        Data::Capability(vec![
            Capability::Imap4rev1,
            Capability::LiteralMinus,
            Capability::Compress("DEFLATE".into())
        ])
    );
    assert_eq!(
        data("* ENABLED CONDSTORE QRESYNC\r\n"),
        Data::Enabled(vec![Capability::CondStore, Capability::QResync])
    );
    let Data::Namespace {
        personal,
        other,
        shared,
    } = data(
        "* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\" \"X-PARAM\" (\"FLAG1\")))\r\n",
    )
    else {
        panic!()
    };
    assert_eq!(personal[0].delimiter, Some('/'));
    assert!(other.is_empty());
    assert_eq!(shared[0].extensions[0].1, vec!["FLAG1".to_string()]);
    assert_eq!(
        data("* ID (\"name\" \"Cyrus\" \"version\" NIL)\r\n"),
        Data::Id(Some(vec![
            ("name".into(), Some("Cyrus".into())),
            ("version".into(), None)
        ]))
    );
    assert_eq!(data("* ID ()\r\n"), Data::Id(Some(vec![])));
    assert_eq!(data("* ID NIL\r\n"), Data::Id(None));
    assert_eq!(
        data("* QUOTA \"\" (STORAGE 10 512)\r\n"),
        Data::Quota {
            root: "".into(),
            resources: vec![QuotaResource {
                name: "STORAGE".into(),
                usage: 10,
                limit: 512
            }]
        }
    );
    assert_eq!(
        data("* QUOTAROOT INBOX \"\"\r\n"),
        Data::QuotaRoot {
            mailbox: MailboxName::inbox(),
            roots: vec!["".into()]
        }
    );
    assert_eq!(
        data("* METADATA \"INBOX\" (/private/comment \"My own comment\")\r\n"),
        Data::Metadata {
            mailbox: MailboxName::inbox(),
            entries: MetadataEntries::Values(vec![(
                "/private/comment".into(),
                b("My own comment")
            )])
        }
    );
    assert_eq!(
        data("* METADATA \"\" /shared/comment /private/comment\r\n"),
        Data::Metadata {
            mailbox: MailboxName::new(""),
            entries: MetadataEntries::Names(vec![
                "/shared/comment".into(),
                "/private/comment".into()
            ])
        }
    );
}

#[test]
fn response_codes() {
    let code = |s: &str| match one(s) {
        Response::Tagged { status, .. } => status.code,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code("A1 OK [APPENDUID 38505 3955] APPEND completed\r\n"),
        Some(ResponseCode::AppendUid {
            uid_validity: UidValidity::new(38505).unwrap(),
            uids: SequenceSet::from_numbers([uid(3955)])
        })
    );
    assert!(
        matches!(code("A1 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"),
        Some(ResponseCode::CopyUid { source, target, .. }) if source.to_string() == "304,319:320" && target.to_string() == "3956:3958")
    );
    assert_eq!(
        code("A1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"),
        Some(ResponseCode::Rfc5530(Rfc5530Code::AuthenticationFailed))
    );
    assert_eq!(
        code("A1 NO [ALREADYEXISTS] Mailbox exists\r\n"),
        Some(ResponseCode::Rfc5530(Rfc5530Code::AlreadyExists))
    );
    assert_eq!(
        code("A1 OK [HIGHESTMODSEQ 715194045007] Ok\r\n"),
        ModSeq::new(715194045007).map(ResponseCode::HighestModSeq)
    );
    assert!(
        matches!(code("A1 OK [MODIFIED 7,9] Conditional STORE failed\r\n"), Some(ResponseCode::Modified(s)) if s.to_string() == "7,9")
    );
    assert_eq!(
        code("A1 NO [METADATA LONGENTRIES 2199] Some entries\r\n"),
        Some(ResponseCode::Metadata(MetadataCode::LongEntries(2199)))
    );
    assert_eq!(
        code("A1 OK [BADCHARSET (UTF-8 US-ASCII)] bad\r\n"),
        Some(ResponseCode::BadCharset(vec![
            "UTF-8".into(),
            "US-ASCII".into()
        ]))
    );
    assert_eq!(
        code("A1 OK [XFOO bar baz] t\r\n"),
        Some(ResponseCode::Other {
            name: "XFOO".into(),
            text: Some("bar baz".into())
        })
    );
    // A known code with broken arguments is kept, not failed.
    assert_eq!(
        code("A1 OK [UIDNEXT abc] t\r\n"),
        Some(ResponseCode::Other {
            name: "UIDNEXT".into(),
            text: Some("abc".into())
        })
    );
    assert_eq!(code("A1 OK [CLOSED]\r\n"), Some(ResponseCode::Closed));
    assert_eq!(
        code("A1 OK [MAILBOXID (F2212ea87)] Created\r\n"),
        Some(ResponseCode::MailboxId("F2212ea87".into()))
    );
}

#[test]
fn continuation_requests() {
    assert_eq!(
        one("+ Ready for literal data\r\n"),
        Response::Continuation(Continuation {
            code: None,
            text: Bytes::from_static(b"Ready for literal data")
        })
    );
    assert_eq!(
        one("+\r\n"),
        Response::Continuation(Continuation {
            code: None,
            text: Bytes::new()
        })
    );
    assert_eq!(
        one("+ \r\n"),
        Response::Continuation(Continuation {
            code: None,
            text: Bytes::new()
        })
    );
    assert_eq!(
        one("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n"),
        Response::Continuation(Continuation {
            code: None,
            text: Bytes::from_static(
                b"YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ="
            )
        })
    );
}

#[test]
fn fetch_rfc_example() {
    let (seq, items) = fetch("* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n");
    assert_eq!(seq, 12);
    assert_eq!(items[0], FetchItem::Flags(vec![Flag::Seen]));
    assert_eq!(
        items[1],
        FetchItem::InternalDate("17-Jul-1996 02:44:25 -0700".into())
    );
    let FetchItem::InternalDate(date) = &items[1] else {
        panic!()
    };
    // 1996-07-17T09:44:25Z
    assert_eq!(date.unix_timestamp(), Some(837_596_665));
    assert_eq!(date.as_str(), "17-Jul-1996 02:44:25 -0700");
    assert_eq!(items[2], FetchItem::Rfc822Size(4286));
    let FetchItem::Envelope(env) = &items[3] else {
        panic!()
    };
    assert_eq!(
        env.date(),
        Some(&b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"[..])
    );
    assert_eq!(
        env.subject(),
        Some(&b"IMAP4rev1 WG mtg summary and minutes"[..])
    );
    let terry = Address {
        name: Some(b"Terry Gray"),
        adl: None,
        mailbox: Some(b"gray"),
        host: Some(b"cac.washington.edu"),
    };
    for list in [env.from(), env.sender(), env.reply_to()] {
        assert_eq!(list.collect::<Vec<_>>(), vec![AddressEntry::Mailbox(terry)]);
    }
    assert_eq!(env.to().count(), 1);
    let cc: Vec<_> = env.cc().collect();
    assert_eq!(cc.len(), 2);
    assert!(
        matches!(&cc[1], AddressEntry::Mailbox(a) if a.mailbox == Some(b"KLENSIN") && a.name == Some(b"John Klensin"))
    );
    assert!(env.bcc().is_empty() && env.in_reply_to().is_none());
    assert_eq!(
        env.message_id(),
        Some(&b"<B27397-0100000@cac.washington.edu>"[..])
    );
    let FetchItem::Body(body) = &items[4] else {
        panic!()
    };
    let part = body.root();
    assert!(!part.is_multipart() && part.is("text", "plain"));
    assert_eq!(
        part.params().collect::<Vec<_>>(),
        vec![("CHARSET", &b"US-ASCII"[..])]
    );
    assert_eq!(part.param("charset"), Some(&b"US-ASCII"[..]));
    assert_eq!((part.id(), part.description()), (None, None));
    assert_eq!(part.encoding(), "7BIT");
    assert_eq!(part.size(), 3028);
    assert_eq!(part.lines(), Some(92));
    assert!(!part.has_extension() && part.disposition().is_none());
    assert_eq!(part.children().count(), 0);
}

#[test]
fn fetch_bodystructure_nested_with_extensions() {
    let (_, items) = fetch("* 1 FETCH (UID 7 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 120 5 NIL NIL NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 400 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"HTML\" NIL NIL NIL \"8BIT\" 20 1) 12)(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 1000 \"md5sum\" (\"attachment\" (\"FILENAME\" \"a.pdf\")) (\"en\" \"de\") \"http://x/a.pdf\" 42) \"MIXED\" (\"BOUNDARY\" \"xyz\") (\"inline\" NIL) \"en\" NIL))\r\n");
    assert_eq!(items[0], FetchItem::Uid(uid(7)));
    let FetchItem::BodyStructure(bs) = &items[1] else {
        panic!()
    };
    let root = bs.root();
    assert!(root.is_multipart() && root.is("multipart", "mixed"));
    assert_eq!(root.subtype(), "MIXED");
    let parts: Vec<_> = root.children().collect();
    assert_eq!(parts.len(), 3);
    assert!(root.has_extension());
    assert_eq!(root.param("boundary"), Some(&b"xyz"[..]));
    let d = root.disposition().unwrap();
    assert_eq!((d.kind, d.params.len()), ("inline", 0));
    assert_eq!(root.language().collect::<Vec<_>>(), vec!["en"]);
    assert_eq!(root.location(), None);
    // The text part.
    assert!(parts[0].is("TEXT", "PLAIN"));
    assert_eq!(parts[0].encoding(), "QUOTED-PRINTABLE");
    assert_eq!((parts[0].size(), parts[0].lines()), (120, Some(5)));
    assert!(parts[0].has_extension() && parts[0].disposition().is_none());
    // The message/rfc822 part: its envelope and its own structure.
    let msg = parts[1];
    assert_eq!(msg.lines(), Some(12));
    assert_eq!(msg.envelope().unwrap().subject(), Some(&b"inner"[..]));
    let inner = msg.message_body().unwrap();
    assert!(inner.is("text", "html") && inner.lines() == Some(1) && !inner.has_extension());
    assert_eq!(msg.children().count(), 0);
    // The attachment, after the message part's subtree.
    let pdf = parts[2];
    assert!(pdf.is("application", "pdf"));
    assert_eq!(pdf.md5(), Some(&b"md5sum"[..]));
    let d = pdf.disposition().unwrap();
    assert_eq!(d.kind, "attachment");
    assert_eq!(d.param("filename"), Some(&b"a.pdf"[..]));
    assert_eq!(pdf.language().collect::<Vec<_>>(), vec!["en", "de"]);
    assert_eq!(pdf.location(), Some(&b"http://x/a.pdf"[..]));
    assert_eq!(pdf.extension_values(), &[Value::Number(42)]);
    assert_eq!(pdf.lines(), None);
    // Equal structures compare equal, wherever their bytes are; different ones do not.
    let (_, again) = fetch("* 9 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 120 5 NIL NIL NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 400 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"HTML\" NIL NIL NIL \"8BIT\" 20 1) 12)(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 1000 \"md5sum\" (\"attachment\" (\"FILENAME\" \"a.pdf\")) (\"en\" \"de\") \"http://x/a.pdf\" 42) \"MIXED\" (\"BOUNDARY\" \"xyz\") (\"inline\" NIL) \"en\" NIL) UID 7)\r\n");
    assert_eq!(again[0], items[1]);
    let (_, other) = fetch("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 121 5 NIL NIL NIL NIL) \"MIXED\"))\r\n");
    assert_ne!(other[0], items[1]);
    // Debug shows the tree as text.
    let shown = format!("{bs:?}");
    assert!(
        shown.contains("\"attachment\"") && shown.contains("\"inner\""),
        "{shown}"
    );
}

#[test]
fn fetch_sections_and_extensions() {
    let (_, items) = fetch("* 3 FETCH (UID 9 BODY[1.2.HEADER.FIELDS (SUBJECT FROM)] {5}\r\nabcde BODY[]<100> \"xy\" BINARY[2] ~{3}\r\na\0b BINARY.SIZE[2] 3 MODSEQ (624140003) EMAILID (M6d99ac3275bb4e) THREADID NIL X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \"Foo Bar\" work) PREVIEW \"hello\" SAVEDATE NIL RFC822.HEADER NIL)\r\n");
    assert_eq!(items[0], FetchItem::Uid(uid(9)));
    assert_eq!(
        items[1],
        FetchItem::BodySection {
            section: Section {
                part: vec![1, 2],
                text: Some(SectionText::HeaderFields {
                    not: false,
                    fields: vec!["SUBJECT".into(), "FROM".into()]
                })
            },
            origin: None,
            data: b("abcde")
        }
    );
    assert_eq!(
        items[2],
        FetchItem::BodySection {
            section: Section::full(),
            origin: Some(100),
            data: b("xy")
        }
    );
    assert_eq!(
        items[3],
        FetchItem::Binary {
            part: vec![2],
            origin: None,
            data: Some(Bytes::from_static(b"a\0b"))
        }
    );
    assert_eq!(
        items[4],
        FetchItem::BinarySize {
            part: vec![2],
            size: 3
        }
    );
    assert_eq!(items[5], FetchItem::ModSeq(ModSeq::new(624140003).unwrap()));
    assert_eq!(items[6], FetchItem::EmailId("M6d99ac3275bb4e".into()));
    assert_eq!(items[7], FetchItem::ThreadId(None));
    assert_eq!(items[8], FetchItem::GmMsgId(1278455344230334865));
    assert_eq!(items[9], FetchItem::GmThrId(1266894439832287888));
    assert_eq!(
        items[10],
        FetchItem::GmLabels(vec!["\\Inbox".into(), "Foo Bar".into(), "work".into()])
    );
    assert_eq!(items[11], FetchItem::Preview(b("hello")));
    assert_eq!(items[12], FetchItem::SaveDate(None));
    assert_eq!(items[13], FetchItem::Rfc822Header(None));
}

#[test]
fn quirks() {
    // LF-only line ends, lowercase keywords, extra and trailing spaces.
    assert_eq!(data("* 3 exists\n"), Data::Exists(3));
    assert_eq!(
        data("*  SEARCH  1   2 \r\n"),
        Data::Search {
            numbers: vec![1, 2],
            modseq: None
        }
    );
    // No text after a response code; no space before it.
    assert!(matches!(
        one("A1 OK[READ-ONLY]\r\n"),
        Response::Tagged {
            status: StatusText {
                code: Some(ResponseCode::ReadOnly),
                ..
            },
            ..
        }
    ));
    // `[` with no `]`: text, not a code.
    assert!(matches!(
        one("A1 OK [Gmail done\r\n"),
        Response::Tagged {
            status: StatusText { code: None, .. },
            ..
        }
    ));
    // `[` and `]` inside flag keywords, `\*` in FLAGS.
    assert_eq!(
        data("* FLAGS (\\Seen $Label[1] Junk] \\*)\r\n"),
        Data::Flags(vec![
            Flag::Seen,
            Flag::Keyword("$Label[1]".into()),
            Flag::Keyword("Junk]".into()),
            Flag::MayCreate
        ])
    );
    // 8-bit and invalid UTF-8 in quoted strings.
    let (_, items) = fetch(
        "* 1 FETCH (ENVELOPE (NIL \"caf\u{e9} \u{ff}\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
    );
    assert!(
        matches!(&items[0], FetchItem::Envelope(e) if e.subject() == Some("caf\u{e9} \u{ff}".as_bytes()))
    );
    let raw = b"* 1 FETCH (ENVELOPE (NIL \"\xff\xfe bad\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n";
    let evs = parse_all_ways(raw, false);
    assert!(matches!(
        &evs[0],
        Event::Response(Response::Untagged(Data::Fetch { .. }))
    ));
    // Negative and missing numbers, NIL encoding, empty parameter list in BODYSTRUCTURE.
    let (_, items) =
        fetch("* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" () NIL NIL NIL -1 NIL))\r\n");
    let FetchItem::BodyStructure(bs) = &items[0] else {
        panic!()
    };
    assert!(
        bs.root().lines() == Some(0)
            && bs.root().size() == 0
            && bs.root().encoding().is_empty()
            && bs.root().params().is_empty()
    );
    // Extra parentheses around items (Domino), MODSEQ (-1) (Zoho), missing value (Yandex).
    let (_, items) = fetch("* 2 FETCH (UID 5 (FLAGS ()) MODSEQ (-1) BODY[2] )\r\n");
    assert_eq!(items[1], FetchItem::Flags(vec![]));
    assert_eq!(items[2], FetchItem::ModSeq(ModSeq::new(0).unwrap()));
    assert_eq!(
        items[3],
        FetchItem::BodySection {
            section: Section {
                part: vec![2],
                text: None
            },
            origin: None,
            data: None
        }
    );
    // Spaces between addresses missing, or doubled.
    let (_, items) = fetch("* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\" \"x\")(NIL NIL \"b\" \"x\"))  ((NIL NIL \"c\" \"x\")  (NIL NIL \"d\" \"x\")) NIL NIL NIL NIL NIL NIL))\r\n");
    assert!(
        matches!(&items[0], FetchItem::Envelope(e) if e.from().count() == 2 && e.sender().count() == 2)
    );
    // A group in an address list.
    let (_, items) = fetch("* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL ((NIL NIL \"team\" NIL)(NIL NIL \"a\" \"x\")(NIL NIL NIL NIL)(NIL NIL \"z\" \"y\")) NIL NIL NIL NIL))\r\n");
    let FetchItem::Envelope(e) = &items[0] else {
        panic!()
    };
    let to: Vec<_> = e.to().collect();
    assert!(
        matches!(&to[0], AddressEntry::Group { name, members } if *name == Some(&b"team"[..]) && members.len() == 1 && members[0].mailbox == Some(b"a"))
    );
    assert!(matches!(&to[1], AddressEntry::Mailbox(a) if a.mailbox == Some(b"z")));
    assert_eq!(to.len(), 2);
    assert_eq!(
        e.to().mailboxes().map(|a| a.mailbox).collect::<Vec<_>>(),
        vec![Some(&b"a"[..]), Some(&b"z"[..])]
    );
    // A missing ")" at the end of a FETCH.
    let (_, items) = fetch("* 4 FETCH (UID 8 FLAGS (\\Seen)\r\n");
    assert_eq!(items.len(), 2);
    // Exchange's bare response-code line.
    assert!(matches!(
        one("[COPYUID 55 31 6]\r\n"),
        Response::Untagged(Data::Status(StatusText {
            code: Some(ResponseCode::CopyUid { .. }),
            ..
        }))
    ));
    // An unknown untagged response is kept.
    assert!(
        matches!(data("* ACL INBOX fred rwipsldexta\r\n"), Data::Other { name, values, .. } if name == "ACL" && values.len() == 3)
    );
}

#[test]
fn error_recovery_skips_one_response() {
    let input =
        b"* 1 FETCH (UID x)\r\n* 2 FETCH (BODY[] {5}\r\nab\r\n) garbage \"\r\n* 3 EXISTS\r\n";
    let evs = parse_all_ways(input, false);
    assert!(matches!(&evs[0], Event::Error(e) if e.bytes.starts_with(b"* 1 FETCH")));
    assert!(matches!(&evs[1], Event::Error(e) if e.bytes.starts_with(b"* 2 FETCH")));
    assert_eq!(evs[2], Event::Response(Response::Untagged(Data::Exists(3))));
    assert_eq!(evs.len(), 3);
}

#[test]
fn streamed_body_keeps_items_around_it() {
    let body: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut input = format!(
        "* 7 FETCH (UID 42 FLAGS (\\Seen) BODY[] {{{}}}\r\n",
        body.len()
    )
    .into_bytes();
    input.extend_from_slice(&body);
    input.extend_from_slice(b" MODSEQ (99) RFC822.TEXT {70000}\r\n");
    input.extend_from_slice(&[b'x'; 70000]);
    input.extend_from_slice(b" UID 42)\r\n* 8 EXISTS\r\n");
    let evs = parse_all_ways(&input, false);
    assert_eq!(
        evs.len(),
        6,
        "{:?}",
        evs.iter()
            .map(|e| format!("{e:?}").chars().take(80).collect::<String>())
            .collect::<Vec<_>>()
    );
    let Event::FetchStart {
        seq,
        items,
        body: sb,
    } = &evs[0]
    else {
        panic!()
    };
    assert_eq!(seq.get(), 7);
    assert_eq!(
        items,
        &vec![FetchItem::Uid(uid(42)), FetchItem::Flags(vec![Flag::Seen])]
    );
    assert_eq!(sb.len, 200_000);
    assert_eq!(
        sb.item,
        StreamedItem::BodySection {
            section: Section::full(),
            origin: None
        }
    );
    assert_eq!(evs[1], Event::BodyChunk(body.into()));
    let Event::FetchBody { items, body: sb } = &evs[2] else {
        panic!()
    };
    assert_eq!(items, &vec![FetchItem::ModSeq(ModSeq::new(99).unwrap())]);
    assert_eq!((sb.item.clone(), sb.len), (StreamedItem::Rfc822Text, 70000));
    assert_eq!(evs[3], Event::BodyChunk(vec![b'x'; 70000].into()));
    assert_eq!(
        evs[4],
        Event::FetchEnd {
            items: vec![FetchItem::Uid(uid(42))]
        }
    );
    assert_eq!(evs[5], Event::Response(Response::Untagged(Data::Exists(8))));
}

#[test]
fn streaming_with_lf_line_ends_and_small_threshold() {
    let limits = mailbag_proto::imap::parse::Limits {
        stream_threshold: 4,
        ..Default::default()
    };
    let input = b"* 1 FETCH (UID 2 BODY[TEXT] {10}\nabcdefghij FLAGS (\\Seen))\n* 2 FETCH (BODY[] {3}\nxyz)\n";
    let evs = imap_common::parse_all_ways_with(input, false, &limits);
    assert!(
        matches!(&evs[0], Event::FetchStart { items, body, .. } if items.len() == 1 && body.len == 10)
    );
    assert_eq!(evs[1], Event::BodyChunk(Bytes::from_static(b"abcdefghij")));
    assert_eq!(
        evs[2],
        Event::FetchEnd {
            items: vec![FetchItem::Flags(vec![Flag::Seen])]
        }
    );
    // At or under the threshold: one whole response.
    assert!(
        matches!(&evs[3], Event::Response(Response::Untagged(Data::Fetch { items, .. })) if items.len() == 1)
    );
    assert_eq!(evs.len(), 4);
}

#[test]
fn discard_buffered_drops_partial_input() {
    let mut p = mailbag_proto::imap::parse::ResponseParser::new();
    p.set_expect_greeting(false);
    p.feed(b"* 1 FETCH (BODY[] {5}\r\nab");
    assert_eq!(p.next_event(), None);
    assert_eq!(p.discard_buffered(), 25);
    p.feed(b"* 4 EXISTS\r\n");
    assert_eq!(
        p.next_event(),
        Some(Event::Response(Response::Untagged(Data::Exists(4))))
    );
}

/// `feed_bytes` takes the caller's buffer over: a buffered body literal and the chunks of a
/// streamed one are slices of the fed `Bytes`, not copies; a response cut between two
/// `feed_bytes` calls is still whole, and mixing in `feed(&[u8])` keeps the order.
#[test]
fn feed_bytes_hands_out_slices_of_the_input() {
    use mailbag_proto::imap::parse::{Limits, ResponseParser};

    let limits = Limits {
        stream_threshold: 16,
        ..Limits::default()
    };
    let body = "x".repeat(40);
    let text = format!(
        "* 1 FETCH (UID 7 BODY[] {{5}}\r\nhello)\r\n* 2 FETCH (BODY[] {{40}}\r\n{body} UID 8)\r\n"
    );
    let input = Bytes::from(text.into_bytes());
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let inside = |b: &Bytes| range.contains(&(b.as_ptr() as usize));

    let mut p = ResponseParser::with_limits(limits.clone());
    p.set_expect_greeting(false);
    p.feed_bytes(input.clone());
    match p.next_event() {
        Some(Event::Response(Response::Untagged(Data::Fetch { items, .. }))) => {
            let data = items.iter().find_map(|i| match i {
                FetchItem::BodySection { data: Some(d), .. } => Some(d.clone()),
                _ => None,
            });
            let data = data.expect("BODY[] of the first FETCH");
            assert_eq!(&data[..], b"hello");
            assert!(inside(&data), "the buffered literal was copied");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(p.next_event(), Some(Event::FetchStart { .. })));
    match p.next_event() {
        Some(Event::BodyChunk(chunk)) => {
            assert_eq!(chunk, body.as_bytes());
            assert!(inside(&chunk), "the streamed chunk was copied");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(p.next_event(), Some(Event::FetchEnd { items }) if items.len() == 1));
    assert_eq!(p.next_event(), None);
    assert_eq!(p.buffered(), 0);

    // Cut in the middle of the first response's literal, then mixed with a copy.
    let (a, rest) = input.split_at(30);
    let (b, c) = rest.split_at(20);
    let mut p = ResponseParser::with_limits(limits);
    p.set_expect_greeting(false);
    p.feed_bytes(input.slice(..a.len()));
    assert_eq!(p.next_event(), None);
    p.feed(b);
    p.feed_bytes(input.slice(a.len() + b.len()..));
    assert_eq!(c.len(), input.len() - 50);
    let mut events = Vec::new();
    while let Some(e) = p.next_event() {
        events.push(e);
    }
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(matches!(&events[0], Event::Response(_)));
    assert!(matches!(&events[3], Event::FetchEnd { .. }));
}

#[test]
fn envelope_and_body_structure_strings_escaped_literal_and_not_utf8() {
    // Escapes, a literal, and groups that end early or never.
    let raw = b"* 1 FETCH (ENVELOPE (\"d\" {7}\r\nlit\"ral ((\"A \\\"q\\\" B\" NIL \"a\" \"x\")) NIL NIL ((NIL NIL \"g1\" NIL)(NIL NIL \"g2\" NIL)(NIL NIL \"m\" \"h\")) ((NIL NIL NIL NIL)) NIL NIL \"<id>\") BODYSTRUCTURE (\"TE\xffXT\" \"pl\\\\ain\" (\"N\xfeAME\" \"v\\\"al\" \"odd\") NIL NIL \"8BIT\" 3 NIL \"inline\" NIL))\r\n";
    let evs = parse_all_ways(raw, false);
    let Event::Response(Response::Untagged(Data::Fetch { items, .. })) = &evs[0] else {
        panic!("{evs:?}")
    };
    let FetchItem::Envelope(e) = &items[0] else {
        panic!()
    };
    assert_eq!(e.subject(), Some(&b"lit\"ral"[..]));
    let from: Vec<_> = e.from().collect();
    assert!(matches!(&from[..], [AddressEntry::Mailbox(a)] if a.name == Some(b"A \"q\" B")));
    // A group start ends the group before it; a group without an end marker ends the list.
    let to: Vec<_> = e.to().collect();
    assert_eq!(
        to,
        vec![
            AddressEntry::Group {
                name: Some(b"g1"),
                members: vec![]
            },
            AddressEntry::Group {
                name: Some(b"g2"),
                members: vec![Address {
                    mailbox: Some(b"m"),
                    host: Some(b"h"),
                    ..Address::default()
                }]
            }
        ]
    );
    // An end marker with no group open is an (empty) address.
    assert_eq!(
        e.cc().collect::<Vec<_>>(),
        vec![AddressEntry::Mailbox(Address::default())]
    );
    assert_eq!(e.message_id(), Some(&b"<id>"[..]));
    let FetchItem::BodyStructure(bs) = &items[1] else {
        panic!()
    };
    let p = bs.root();
    // Tokens that are not UTF-8 are decoded lossily; escapes are undone.
    assert_eq!(p.media_type(), "TE\u{fffd}XT");
    assert_eq!(p.subtype(), "pl\\ain");
    assert_eq!(
        p.params().collect::<Vec<_>>(),
        vec![("N\u{fffd}AME", &b"v\"al"[..]), ("odd", &b""[..])]
    );
    assert_eq!(p.lines(), None, "not TEXT, so no line count");
    assert_eq!(p.disposition().map(|d| d.kind), Some("inline"));
    assert_eq!(p.language().count(), 0);
}

#[test]
fn body_structure_sections_follow_rfc_9051_part_numbers() {
    let numbers = |raw: &str| {
        let (_, items) = fetch(raw);
        let FetchItem::BodyStructure(bs) = &items[0] else {
            panic!()
        };
        bs.sections()
            .into_iter()
            .map(|(s, p)| {
                let s: Vec<String> = s.iter().map(u32::to_string).collect();
                format!("{}={}/{}", s.join("."), p.media_type(), p.subtype())
            })
            .collect::<Vec<_>>()
    };
    // A one-part message: its body is part 1.
    assert_eq!(
        numbers("* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1))\r\n"),
        vec!["1=TEXT/PLAIN"]
    );
    // RFC 9051 6.4.5's example, shortened: a multipart holding a multipart, and a message
    // whose own multipart's parts are numbered under it.
    let raw = "* 1 FETCH (BODYSTRUCTURE (\
        (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)\
        (\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 4)\
        (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 100 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) \
          ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 9) \"MIXED\") 5)\
        ((\"IMAGE\" \"JPEG\" NIL NIL NIL \"BASE64\" 9)\
         (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 50 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) \
           (\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 3 1) 2) \"MIXED\") \
        \"MIXED\"))\r\n";
    assert_eq!(
        numbers(raw),
        vec![
            "=MULTIPART/MIXED",
            "1=TEXT/PLAIN",
            "2=APPLICATION/OCTET-STREAM",
            "3=MESSAGE/RFC822",
            "3.1=TEXT/PLAIN",
            "3.2=IMAGE/GIF",
            "4=MULTIPART/MIXED",
            "4.1=IMAGE/JPEG",
            "4.2=MESSAGE/RFC822",
            "4.2.1=TEXT/HTML",
        ]
    );
}
