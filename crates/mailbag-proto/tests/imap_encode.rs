//! The command encoder: the bytes of every command, literal handling, and that no value can
//! break out of its argument.

use mailbag_proto::imap::command::*;
use mailbag_proto::imap::search::{Date, SearchKey};
use mailbag_proto::imap::types::*;
use mailbag_proto::imap::{encode, EncodeError, EncodeOptions, Fragment, LiteralMode};
use mailbag_proto::Secret;
use proptest::prelude::*;

fn tag() -> Tag {
    Tag::new("A1").unwrap()
}

fn enc_with(c: &Command, o: &EncodeOptions) -> Result<Vec<Fragment>, EncodeError> {
    encode(&tag(), c, o)
}

/// The command as one string, literal contents inline (for commands with no literal, this is
/// exactly what goes on the wire).
fn wire(c: &Command) -> String {
    wire_with(c, &EncodeOptions::default())
}

fn wire_with(c: &Command, o: &EncodeOptions) -> String {
    let mut out = Vec::new();
    for f in enc_with(c, o).unwrap() {
        match f {
            Fragment::Line(l) => out.extend(l),
            Fragment::Literal { data, .. } => out.extend(data),
            Fragment::Deferred { len, .. } => out.extend(format!("<{len} deferred>").bytes()),
        }
    }
    String::from_utf8(out).unwrap()
}

fn uids(s: &str) -> SequenceSet<Uid> {
    s.parse().unwrap()
}

fn seqs(s: &str) -> SequenceSet<SeqNum> {
    s.parse().unwrap()
}

#[test]
fn simple_commands() {
    assert_eq!(wire(&Command::Capability), "A1 CAPABILITY\r\n");
    assert_eq!(wire(&Command::Noop), "A1 NOOP\r\n");
    assert_eq!(wire(&Command::Logout), "A1 LOGOUT\r\n");
    assert_eq!(wire(&Command::StartTls), "A1 STARTTLS\r\n");
    assert_eq!(wire(&Command::Idle), "A1 IDLE\r\n");
    assert_eq!(wire(&Command::Unselect), "A1 UNSELECT\r\n");
    assert_eq!(wire(&Command::CompressDeflate), "A1 COMPRESS DEFLATE\r\n");
    assert_eq!(wire(&Command::Namespace), "A1 NAMESPACE\r\n");
    assert_eq!(
        wire(&Command::UidExpunge(uids("3000:3002"))),
        "A1 UID EXPUNGE 3000:3002\r\n"
    );
    assert_eq!(
        mailbag_proto::imap::done(),
        Fragment::Line(b"DONE\r\n".to_vec())
    );
}

#[test]
fn authentication() {
    let c = Command::Authenticate {
        mechanism: "PLAIN".into(),
        initial_response: Some(Secret::new(b"\0user\0pass".to_vec())),
    };
    assert_eq!(wire(&c), "A1 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==\r\n");
    assert!(c.is_sensitive());
    let c = Command::Authenticate {
        mechanism: "EXTERNAL".into(),
        initial_response: Some(Secret::new(vec![])),
    };
    assert_eq!(wire(&c), "A1 AUTHENTICATE EXTERNAL =\r\n");
    let c = Command::Authenticate {
        mechanism: "BAD MECH".into(),
        initial_response: None,
    };
    assert!(matches!(
        enc_with(&c, &EncodeOptions::default()),
        Err(EncodeError::NotAnAtom { .. })
    ));
    assert_eq!(
        wire(&Command::Login {
            username: "fred".into(),
            password: Secret::new("f r\"e\\d".into())
        }),
        "A1 LOGIN fred \"f r\\\"e\\\\d\"\r\n"
    );
    assert!(!format!(
        "{:?}",
        Command::Login {
            username: "u".into(),
            password: Secret::new("hunter2".into())
        }
    )
    .contains("hunter2"));
    assert_eq!(
        mailbag_proto::imap::authenticate_response(Some(b"abc")),
        Fragment::Line(b"YWJj\r\n".to_vec())
    );
    assert_eq!(
        mailbag_proto::imap::authenticate_response(None),
        Fragment::Line(b"*\r\n".to_vec())
    );
}

#[test]
fn mailbox_commands() {
    assert_eq!(
        wire(&Command::Select {
            mailbox: "Entwürfe".into(),
            params: vec![SelectParam::CondStore]
        }),
        "A1 SELECT Entw&APw-rfe (CONDSTORE)\r\n"
    );
    let utf8 = EncodeOptions {
        utf8: true,
        ..Default::default()
    };
    assert_eq!(
        wire_with(
            &Command::Select {
                mailbox: "Entwürfe".into(),
                params: vec![]
            },
            &utf8
        ),
        "A1 SELECT \"Entwürfe\"\r\n"
    );
    let q = SelectParam::QResync {
        uid_validity: UidValidity::new(67890007).unwrap(),
        modseq: ModSeq::new(20050715194045000).unwrap(),
        known_uids: Some(uids("41,43:211,214:541")),
        seq_match: None,
    };
    assert_eq!(
        wire(&Command::Examine {
            mailbox: MailboxName::inbox(),
            params: vec![q]
        }),
        "A1 EXAMINE INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n"
    );
    assert_eq!(
        wire(&Command::Create {
            mailbox: "My Stuff".into(),
            special_use: vec![MailboxAttribute::Drafts]
        }),
        "A1 CREATE \"My Stuff\" (USE (\\Drafts))\r\n"
    );
    assert_eq!(
        wire(&Command::Rename {
            from: "a".into(),
            to: "b/c".into()
        }),
        "A1 RENAME a b/c\r\n"
    );
    assert_eq!(
        wire(&Command::Delete("nil".into())),
        "A1 DELETE \"nil\"\r\n"
    );
    assert_eq!(
        wire(&Command::Subscribe("".into())),
        "A1 SUBSCRIBE \"\"\r\n"
    );
    assert_eq!(
        wire(&Command::List {
            reference: "".into(),
            patterns: vec!["*".into()],
            selection: vec![],
            returns: vec![
                ListReturn::SpecialUse,
                ListReturn::Status(vec![StatusAttribute::Messages, StatusAttribute::Unseen])
            ]
        }),
        "A1 LIST \"\" * RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))\r\n"
    );
    assert_eq!(
        wire(&Command::List {
            reference: "".into(),
            patterns: vec!["INBOX".into(), "Drafts/%".into()],
            selection: vec![ListSelect::Subscribed, ListSelect::RecursiveMatch],
            returns: vec![]
        }),
        "A1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX Drafts/%)\r\n"
    );
    assert_eq!(
        wire(&Command::Lsub {
            reference: "#news.".into(),
            pattern: "comp.mail.*".into()
        }),
        "A1 LSUB #news. comp.mail.*\r\n"
    );
    assert_eq!(
        wire(&Command::Status {
            mailbox: "blurdybloop".into(),
            items: vec![
                StatusAttribute::UidNext,
                StatusAttribute::Size,
                StatusAttribute::HighestModSeq
            ]
        }),
        "A1 STATUS blurdybloop (UIDNEXT SIZE HIGHESTMODSEQ)\r\n"
    );
}

#[test]
fn fetch_store_copy_move() {
    let items = vec![
        FetchAttribute::Uid,
        FetchAttribute::Flags,
        FetchAttribute::BodySection {
            section: Section {
                part: vec![1, 2],
                text: Some(SectionText::HeaderFields {
                    not: true,
                    fields: vec!["Subject".into()],
                }),
            },
            partial: Some((0, 1024)),
            peek: true,
        },
        FetchAttribute::Binary {
            part: vec![3],
            partial: None,
            peek: true,
        },
        FetchAttribute::BinarySize(vec![3]),
        FetchAttribute::GmLabels,
    ];
    assert_eq!(
        wire(&Command::Fetch { set: MessageSet::Uid(uids("1:*")), items, changed_since: ModSeq::new(12345), vanished: true }),
        "A1 UID FETCH 1:* (UID FLAGS BODY.PEEK[1.2.HEADER.FIELDS.NOT (Subject)]<0.1024> BINARY.PEEK[3] BINARY.SIZE[3] X-GM-LABELS) (CHANGEDSINCE 12345 VANISHED)\r\n"
    );
    assert_eq!(
        wire(&Command::Fetch {
            set: MessageSet::Seq(seqs("2:4")),
            items: vec![FetchAttribute::Fast],
            changed_since: None,
            vanished: false
        }),
        "A1 FETCH 2:4 FAST\r\n"
    );
    let bad = Command::Fetch {
        set: MessageSet::Seq(seqs("1")),
        items: vec![FetchAttribute::Uid],
        changed_since: ModSeq::new(1),
        vanished: true,
    };
    assert!(matches!(
        enc_with(&bad, &EncodeOptions::default()),
        Err(EncodeError::Invalid(_))
    ));
    let empty = Command::Fetch {
        set: MessageSet::Uid(SequenceSet::new()),
        items: vec![FetchAttribute::Uid],
        changed_since: None,
        vanished: false,
    };
    assert!(matches!(
        enc_with(&empty, &EncodeOptions::default()),
        Err(EncodeError::Empty { .. })
    ));
    assert_eq!(
        wire(&Command::Store {
            set: MessageSet::Seq(seqs("2:4")),
            kind: StoreKind::Add,
            silent: true,
            flags: vec![Flag::Deleted, Flag::Keyword("$Junk".into())],
            unchanged_since: ModSeq::new(320162338)
        }),
        "A1 STORE 2:4 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted $Junk)\r\n"
    );
    assert_eq!(
        wire(&Command::Store {
            set: MessageSet::Saved { uid: true },
            kind: StoreKind::Replace,
            silent: false,
            flags: vec![],
            unchanged_since: None
        }),
        "A1 UID STORE $ FLAGS ()\r\n"
    );
    let bad_flag = Command::Store {
        set: MessageSet::Seq(seqs("1")),
        kind: StoreKind::Remove,
        silent: false,
        flags: vec![Flag::Keyword("a)b".into())],
        unchanged_since: None,
    };
    assert!(matches!(
        enc_with(&bad_flag, &EncodeOptions::default()),
        Err(EncodeError::NotAnAtom { .. })
    ));
    assert_eq!(
        wire(&Command::Copy {
            set: MessageSet::Uid(uids("5,7")),
            mailbox: "Archive".into()
        }),
        "A1 UID COPY 5,7 Archive\r\n"
    );
    assert_eq!(
        wire(&Command::Move {
            set: MessageSet::Seq(seqs("1:3")),
            mailbox: "[Gmail]/Trash".into()
        }),
        "A1 MOVE 1:3 [Gmail]/Trash\r\n"
    );
    assert_eq!(
        wire(&Command::StoreGmailLabels {
            set: MessageSet::Uid(uids("9")),
            kind: StoreKind::Add,
            silent: false,
            labels: vec!["\\Important".into(), "My Label".into()]
        }),
        "A1 UID STORE 9 +X-GM-LABELS (\\Important \"My Label\")\r\n"
    );
}

#[test]
fn search_sort_thread() {
    let criteria = vec![
        SearchKey::Unseen,
        SearchKey::From("Smith".into()).or(SearchKey::Subject("a \"quoted\" thing".into())),
        SearchKey::Since(Date::new(1994, 2, 1).unwrap()),
        !SearchKey::Deleted,
        SearchKey::Header("X-Foo".into(), "".into()),
        SearchKey::Uid(uids("1:100")),
        SearchKey::And(vec![
            SearchKey::Larger(10),
            SearchKey::ModSeq(ModSeq::new(5).unwrap()),
        ]),
    ];
    assert_eq!(
        wire(&Command::Search { uid: true, charset: Some("UTF-8".into()), criteria, returns: Some(vec![SearchReturn::Min, SearchReturn::Count]) }),
        "A1 UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 UNSEEN OR FROM Smith SUBJECT \"a \\\"quoted\\\" thing\" SINCE 1-Feb-1994 NOT DELETED HEADER X-Foo \"\" UID 1:100 (LARGER 10 MODSEQ 5)\r\n"
    );
    assert_eq!(
        wire(&Command::Search {
            uid: false,
            charset: None,
            criteria: vec![],
            returns: None
        }),
        "A1 SEARCH ALL\r\n"
    );
    assert_eq!(
        wire(&Command::Search {
            uid: false,
            charset: None,
            criteria: vec![SearchKey::GmRaw("has:attachment in:unread".into())],
            returns: None
        }),
        "A1 SEARCH X-GM-RAW \"has:attachment in:unread\"\r\n"
    );
    let raw = Command::Search {
        uid: false,
        charset: None,
        criteria: vec![SearchKey::Raw("ALL\r\nA2 DELETE INBOX".into())],
        returns: None,
    };
    assert!(enc_with(&raw, &EncodeOptions::default()).is_err());
    assert_eq!(
        wire(&Command::Sort {
            uid: true,
            criteria: vec![
                SortCriterion {
                    reverse: true,
                    key: SortKey::Date
                },
                SortCriterion {
                    reverse: false,
                    key: SortKey::Subject
                }
            ],
            charset: "UTF-8".into(),
            search: vec![SearchKey::All]
        }),
        "A1 UID SORT (REVERSE DATE SUBJECT) UTF-8 ALL\r\n"
    );
    assert_eq!(
        wire(&Command::Thread {
            uid: false,
            algorithm: "REFERENCES".into(),
            charset: "UTF-8".into(),
            search: vec![]
        }),
        "A1 THREAD REFERENCES UTF-8 ALL\r\n"
    );
}

#[test]
fn misc_extensions() {
    assert_eq!(
        wire(&Command::Enable(vec![
            Capability::CondStore,
            Capability::Utf8Accept
        ])),
        "A1 ENABLE CONDSTORE UTF8=ACCEPT\r\n"
    );
    assert_eq!(
        wire(&Command::Id(Some(vec![
            ("name".into(), Some("mailbag".into())),
            ("os".into(), None)
        ]))),
        "A1 ID (\"name\" \"mailbag\" \"os\" NIL)\r\n"
    );
    assert_eq!(wire(&Command::Id(None)), "A1 ID NIL\r\n");
    assert_eq!(
        wire(&Command::GetQuotaRoot(MailboxName::inbox())),
        "A1 GETQUOTAROOT INBOX\r\n"
    );
    assert_eq!(wire(&Command::GetQuota("".into())), "A1 GETQUOTA \"\"\r\n");
    assert_eq!(
        wire(&Command::SetQuota {
            root: "".into(),
            limits: vec![("STORAGE".into(), 512)]
        }),
        "A1 SETQUOTA \"\" (STORAGE 512)\r\n"
    );
    assert_eq!(
        wire(&Command::GetMetadata {
            mailbox: MailboxName::inbox(),
            entries: vec!["/private/comment".into()],
            max_size: Some(1024),
            depth: Some(MetadataDepth::Infinity)
        }),
        "A1 GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/private/comment)\r\n"
    );
    assert_eq!(
        wire(&Command::SetMetadata {
            mailbox: "".into(),
            entries: vec![
                ("/shared/comment".into(), Some(b"hello".to_vec())),
                ("/private/x".into(), None)
            ]
        }),
        "A1 SETMETADATA \"\" (/shared/comment \"hello\" /private/x NIL)\r\n"
    );
    assert_eq!(
        wire(&Command::Notify(Notify::Set {
            status: true,
            groups: vec![
                (NotifyFilter::Selected, vec![NotifyEvent::MessageNew(vec![FetchAttribute::Uid, FetchAttribute::Flags]), NotifyEvent::MessageExpunge, NotifyEvent::FlagChange]),
                (NotifyFilter::Subtree(vec!["Lists".into()]), vec![NotifyEvent::MessageNew(vec![])]),
                (NotifyFilter::Personal, vec![]),
            ]
        })),
        "A1 NOTIFY SET STATUS (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (SUBTREE (Lists) (MessageNew)) (PERSONAL NONE)\r\n"
    );
    assert_eq!(wire(&Command::Notify(Notify::None)), "A1 NOTIFY NONE\r\n");
}

#[test]
fn literals_and_their_modes() {
    let msg = b"From: a\r\nSubject: hi\r\n\r\nbody\r\n".to_vec();
    let append = Command::Append {
        mailbox: "Sent".into(),
        messages: vec![AppendMessage {
            flags: vec![Flag::Seen],
            date: Some("7-Feb-1994 21:52:25 -0800".into()),
            data: msg.clone(),
        }],
    };
    assert_eq!(
        enc_with(&append, &EncodeOptions::default()).unwrap(),
        vec![
            Fragment::Line(
                b"A1 APPEND Sent (\\Seen) \"7-Feb-1994 21:52:25 -0800\" {30}\r\n".to_vec()
            ),
            Fragment::Literal {
                data: msg.clone(),
                mode: LiteralMode::Sync
            },
            Fragment::Line(b"\r\n".to_vec()),
        ]
    );
    let plus = EncodeOptions {
        literal_plus: true,
        ..Default::default()
    };
    assert_eq!(
        enc_with(&append, &plus).unwrap()[0],
        Fragment::Line(b"A1 APPEND Sent (\\Seen) \"7-Feb-1994 21:52:25 -0800\" {30+}\r\n".to_vec())
    );
    // LITERAL-: non-synchronising only up to 4096 bytes.
    let minus = EncodeOptions {
        literal_minus: true,
        ..Default::default()
    };
    let big = Command::Append {
        mailbox: "Sent".into(),
        messages: vec![AppendMessage {
            flags: vec![],
            date: None,
            data: vec![b'x'; 5000],
        }],
    };
    assert!(matches!(
        enc_with(&big, &minus).unwrap()[1],
        Fragment::Literal {
            mode: LiteralMode::Sync,
            ..
        }
    ));
    assert!(matches!(
        enc_with(&append, &minus).unwrap()[1],
        Fragment::Literal {
            mode: LiteralMode::NonSync,
            ..
        }
    ));
    // MULTIAPPEND: two literals.
    let two = Command::Append {
        mailbox: "Sent".into(),
        messages: vec![
            AppendMessage {
                flags: vec![],
                date: None,
                data: b"a".to_vec(),
            },
            AppendMessage {
                flags: vec![],
                date: None,
                data: b"b".to_vec(),
            },
        ],
    };
    assert_eq!(wire(&two), "A1 APPEND Sent {1}\r\na {1}\r\nb\r\n");
    // NUL: refused, unless BINARY allows a literal8.
    let nul = Command::Append {
        mailbox: "Sent".into(),
        messages: vec![AppendMessage {
            flags: vec![],
            date: None,
            data: b"a\0b".to_vec(),
        }],
    };
    assert_eq!(
        enc_with(&nul, &EncodeOptions::default()),
        Err(EncodeError::Nul {
            what: "APPEND message"
        })
    );
    let binary = EncodeOptions {
        binary: true,
        ..Default::default()
    };
    assert_eq!(
        enc_with(&nul, &binary).unwrap()[0],
        Fragment::Line(b"A1 APPEND Sent ~{3}\r\n".to_vec())
    );
    // A date that tries to escape its quotes is refused.
    let evil = Command::Append {
        mailbox: "Sent".into(),
        messages: vec![AppendMessage {
            flags: vec![],
            date: Some("x\" {5}\r\n".into()),
            data: b"a".to_vec(),
        }],
    };
    assert!(enc_with(&evil, &EncodeOptions::default()).is_err());
    // 8-bit text without UTF8=ACCEPT, and long text, go as literals.
    let search = Command::Search {
        uid: false,
        charset: Some("UTF-8".into()),
        criteria: vec![SearchKey::Subject("Grüße".into())],
        returns: None,
    };
    assert_eq!(
        enc_with(&search, &EncodeOptions::default()).unwrap()[0],
        Fragment::Line(b"A1 SEARCH CHARSET UTF-8 SUBJECT {7}\r\n".to_vec())
    );
    let utf8 = EncodeOptions {
        utf8: true,
        ..Default::default()
    };
    assert_eq!(
        wire_with(&search, &utf8),
        "A1 SEARCH CHARSET UTF-8 SUBJECT \"Grüße\"\r\n"
    );
}

/// Splits the fragments into what the server sees: the line text outside literals must end
/// in exactly one CRLF, and literal headers must announce their fragment's length.
fn check_no_breakout(frags: &[Fragment]) -> Result<(), TestCaseError> {
    let mut expect: Option<usize> = None;
    for (i, f) in frags.iter().enumerate() {
        match f {
            Fragment::Line(l) => {
                prop_assert!(expect.is_none(), "a literal was announced but a line came");
                prop_assert!(l.ends_with(b"\r\n"));
                let body = &l[..l.len() - 2];
                prop_assert!(
                    !body.contains(&b'\n') && !body.contains(&b'\r') && !body.contains(&0),
                    "line {} holds a line break: {:?}",
                    i,
                    String::from_utf8_lossy(l)
                );
                if i + 1 < frags.len() {
                    let open = body.iter().rposition(|&b| b == b'{').unwrap_or(0);
                    let digits: String = body[open + 1..]
                        .iter()
                        .map(|&b| b as char)
                        .filter(char::is_ascii_digit)
                        .collect();
                    expect = digits.parse().ok();
                }
            }
            Fragment::Literal { data, .. } => {
                prop_assert_eq!(Some(data.len()), expect.take());
            }
            Fragment::Deferred { len, .. } => {
                prop_assert_eq!(Some(*len as usize), expect.take());
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn no_value_breaks_out(user in "\\PC*|[\r\n\"\\\\ a-z{}]*", pass in proptest::collection::vec(any::<u8>(), 0..40), mbox in "\\PC*|[\r\n\"\\\\ a-z{}&]*", lp in any::<bool>(), u8m in any::<bool>()) {
        let o = EncodeOptions { literal_plus: lp, utf8: u8m, ..Default::default() };
        let pass = String::from_utf8_lossy(&pass).into_owned();
        for c in [
            Command::Login { username: user.clone(), password: Secret::new(pass.clone()) },
            Command::Select { mailbox: MailboxName::new(mbox.clone()), params: vec![] },
            Command::Search { uid: false, charset: None, criteria: vec![SearchKey::Header(user.clone(), pass.clone()), SearchKey::Text(mbox.clone())], returns: None },
            Command::List { reference: MailboxName::new(user.clone()), patterns: vec![mbox.clone()], selection: vec![], returns: vec![] },
            Command::Id(Some(vec![(user.clone(), Some(pass.clone()))])),
        ] {
            match encode(&Tag::new("T").unwrap(), &c, &o) {
                Ok(frags) => check_no_breakout(&frags)?,
                Err(EncodeError::Nul { .. }) => prop_assert!(user.contains('\0') || pass.contains('\0') || mbox.contains('\0')),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
