//! The IMAP commands: capabilities, login, folders, examine, subjects, show, search, flags,
//! delete, expunge, mkdir, rmdir, rename, append and watch.

use std::path::PathBuf;

use mailbag::imap::{
    Capability, ConnectOptions, FetchAttribute, FetchEvent, Flag, ImapClient, MailboxAttribute,
    Message, MessageSet, SequenceSet, StoreKind, Uid, WatchEvent, WatchLogin, WatchOptions,
    Watcher,
};
use mailbag::proto::imap::types::{Section, SectionText};
use mailbag::proto::sasl::Credentials;
use serde_json::json;

use super::context::Target;
use crate::error::CliError;
use crate::output::Output;
use crate::source::Protocol;
use crate::Result;

/// Message bodies larger than this are streamed (see [`connect_options`]).
const STREAM_THRESHOLD: u64 = 16 << 10;

/// The connection options from the command line: host, port, TLS mode, CA file, time limits
/// and `--compress`.
fn connect_options(target: &Target) -> Result<ConnectOptions> {
    target.expect(Protocol::Imap, "this command")?;
    let mut options = ConnectOptions::new(target.source.host.clone(), target.security())
        .port(target.source.port)
        .allow_plaintext_login(target.tls == crate::cli::TlsMode::None)
        .compress(target.compress);
    if let Some(ca) = &target.ca_file {
        options = options.ca_file(ca);
    }
    options.timeouts = target.timeouts;
    // Bodies over 16 KiB come as chunks of the reads themselves, written to their files as
    // they are: buffered whole, the one in five that a read cut was copied into one piece
    // first (issue 8: 4,000 x 50 KB took 66 M user-space instructions instead of 96 M).
    options.limits.stream_threshold = STREAM_THRESHOLD;
    Ok(options)
}

/// Connects without logging in.
pub async fn connect(target: &Target) -> Result<ImapClient> {
    ImapClient::connect(connect_options(target)?)
        .await
        .map_err(|e| target.error(e))
}

/// Connects and logs in.
pub async fn login(target: &Target) -> Result<ImapClient> {
    let user = target.user()?;
    let password = target.password()?;
    let client = connect(target).await?;
    client
        .login(&user, password.expose())
        .await
        .map_err(|e| target.error(e))?;
    Ok(client)
}

/// Selects (or examines) the target's folder, with a message that names the folder.
async fn open(target: &Target, client: &ImapClient, write: bool) -> Result<String> {
    let folder = target.folder()?;
    let result = if write {
        client.select(&folder).await
    } else {
        client.examine(&folder).await
    };
    result.map_err(|e| folder_error(target, &folder, e))?;
    Ok(folder)
}

fn folder_error(target: &Target, folder: &str, e: mailbag::Error) -> CliError {
    match e {
        mailbag::Error::No { code, text, .. } => CliError::failed(format!(
            "folder {folder:?} cannot be opened (server: NO {}{text})",
            code.map(|c| format!("[{c}] ")).unwrap_or_default()
        ))
        .hint("\"mailbag folders SOURCE\" lists them"),
        e => target.error(e),
    }
}

fn caps_text(caps: &[Capability]) -> Vec<String> {
    caps.iter().map(|c| c.to_string()).collect()
}

/// `mailbag capabilities`: before login, and after where they differ.
pub async fn capabilities(target: &Target, out: Output) -> Result<()> {
    let client = connect(target).await?;
    let before = caps_text(&client.capabilities());
    let user = target.user()?;
    let password = target.password()?;
    client
        .login(&user, password.expose())
        .await
        .map_err(|e| target.error(e))?;
    let after = caps_text(
        &client
            .refresh_capabilities()
            .await
            .map_err(|e| target.error(e))?,
    );
    out.emit(
        || format!("before login: {}", before.join(" ")),
        || json!({ "stage": "before_login", "capabilities": before }),
    )?;
    if after != before {
        out.emit(
            || format!("after login: {}", after.join(" ")),
            || json!({ "stage": "after_login", "capabilities": after }),
        )?;
    }
    client.disconnect().await;
    Ok(())
}

/// `mailbag login` for IMAP.
pub async fn check_login(target: &Target, out: Output) -> Result<()> {
    let client = login(target).await?;
    client.disconnect().await;
    out.emit(|| "ok".to_owned(), || json!({ "login": "ok" }))
}

fn attribute_name(a: &MailboxAttribute) -> String {
    match a {
        MailboxAttribute::Other(s) => s.clone(),
        other => format!("\\{other:?}"),
    }
}

fn special_use(attrs: &[MailboxAttribute]) -> Option<String> {
    use MailboxAttribute::*;
    attrs
        .iter()
        .find(|a| {
            matches!(
                a,
                All | Archive | Drafts | Flagged | Junk | Sent | Trash | Important
            )
        })
        .map(attribute_name)
}

/// `mailbag folders`.
pub async fn folders(target: &Target, out: Output) -> Result<()> {
    let client = login(target).await?;
    let items = client.list("", "*").await.map_err(|e| target.error(e))?;
    for item in items {
        let attrs: Vec<String> = item.attributes.iter().map(attribute_name).collect();
        let delim = item
            .delimiter
            .map(String::from)
            .unwrap_or_else(|| "NIL".into());
        let name = item.mailbox.name().to_owned();
        let special = special_use(&item.attributes);
        out.emit(
            || {
                format!(
                    "({}) {:?} {}{}",
                    attrs.join(" "),
                    delim,
                    name,
                    special.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default()
                )
            },
            || json!({ "name": name, "delimiter": item.delimiter.map(String::from), "attributes": attrs, "special_use": special }),
        )?;
    }
    client.disconnect().await;
    Ok(())
}

/// `mailbag examine`.
pub async fn examine(target: &Target, out: Output) -> Result<()> {
    let client = login(target).await?;
    let folder = target.folder()?;
    // Servers send HIGHESTMODSEQ only once CONDSTORE is in use (RFC 7162 3.1.8); ENABLE
    // turns it on without changing anything in the folder.
    if client.has_capability(&Capability::CondStore) {
        client
            .enable(&[Capability::CondStore])
            .await
            .map_err(|e| target.error(e))?;
    }
    let s = client
        .examine(&folder)
        .await
        .map_err(|e| folder_error(target, &folder, e))?;
    let flags: Vec<String> = s.flags.iter().map(|f| f.to_string()).collect();
    let pflags: Vec<String> = s.permanent_flags.iter().map(|f| f.to_string()).collect();
    let unseen = client
        .search_raw("UNSEEN")
        .await
        .map(|v| v.len())
        .map_err(|e| target.error(e))?;
    let text = format!(
        "folder: {folder}\nexists: {}\nrecent: {}\nunseen: {unseen}\nuidvalidity: {}\nuidnext: {}\nhighestmodseq: {}\nflags: {}\npermanentflags: {}\naccess: {}",
        s.exists,
        s.recent,
        s.uid_validity.map(|v| v.to_string()).unwrap_or_default(),
        s.uid_next.map(|v| v.to_string()).unwrap_or_default(),
        s.highest_modseq.map(|v| v.to_string()).unwrap_or_default(),
        flags.join(" "),
        pflags.join(" "),
        if s.read_write { "read-write" } else { "read-only" },
    );
    out.emit(
        || text.clone(),
        || {
            json!({
                "folder": folder, "exists": s.exists, "recent": s.recent, "unseen": unseen,
                "uidvalidity": s.uid_validity.map(|v| v.get()),
                "uidnext": s.uid_next.map(|v| v.get()),
                "highestmodseq": s.highest_modseq.map(|v| v.get()),
                "flags": flags, "permanentflags": pflags,
                "read_only": !s.read_write,
            })
        },
    )?;
    client.disconnect().await;
    Ok(())
}

fn header_fields() -> FetchAttribute {
    let section = Section {
        part: Vec::new(),
        text: Some(SectionText::HeaderFields {
            not: false,
            fields: vec!["FROM".into(), "SUBJECT".into(), "DATE".into()],
        }),
    };
    FetchAttribute::BodySection {
        section,
        partial: None,
        peek: true,
    }
}

/// `mailbag subjects`.
pub async fn subjects(target: &Target, last: Option<u32>, out: Output) -> Result<()> {
    let client = login(target).await?;
    let folder = target.folder()?;
    let summary = client
        .examine(&folder)
        .await
        .map_err(|e| folder_error(target, &folder, e))?;
    if summary.exists == 0 {
        return Ok(());
    }
    let first = match last {
        Some(n) => summary.exists.saturating_sub(n).saturating_add(1).max(1),
        None => 1,
    };
    let set = MessageSet::Seq(SequenceSet::from_to_end(
        mailbag::imap::SeqNum::try_from(first).map_err(|_| CliError::failed("bad number"))?,
    ));
    let messages = client
        .fetch_collect(
            set,
            vec![
                FetchAttribute::Uid,
                FetchAttribute::Rfc822Size,
                header_fields(),
            ],
        )
        .await
        .map_err(|e| target.error(e))?;
    for m in messages {
        let uid = m.uid().map(|u| u.get()).unwrap_or(0);
        let size = m.size().unwrap_or(0);
        let header = m.header().cloned().unwrap_or_default();
        let parsed = mail_parser::MessageParser::default().parse(header.as_ref());
        let subject = parsed
            .as_ref()
            .and_then(|p| p.subject())
            .unwrap_or("")
            .to_owned();
        let from = parsed
            .as_ref()
            .and_then(|p| p.from())
            .and_then(|a| a.first())
            .map(|a| match (&a.name, &a.address) {
                (Some(n), Some(e)) => format!("{n} <{e}>"),
                (None, Some(e)) => e.to_string(),
                (Some(n), None) => n.to_string(),
                _ => String::new(),
            })
            .unwrap_or_default();
        let date = parsed
            .as_ref()
            .and_then(|p| p.date())
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        out.emit(
            || format!("{uid}\t{date}\t{from}\t{subject}\t{size}"),
            || json!({ "uid": uid, "date": date, "from": from, "subject": subject, "size": size }),
        )?;
    }
    client.disconnect().await;
    Ok(())
}

fn uid_set(text: &str) -> Result<SequenceSet<Uid>> {
    text.parse()
        .map_err(|_| CliError::usage(format!("{text:?} is not a UID set (like 1:5,9)")))
}

/// `mailbag show UID [--raw]`.
pub async fn show(target: &Target, uid: u32, raw: bool, out: Output) -> Result<()> {
    let client = login(target).await?;
    open(target, &client, false).await?;
    let set = MessageSet::Uid(uid_set(&uid.to_string())?);
    let attrs = vec![FetchAttribute::Uid, FetchAttribute::whole_message()];
    let mut fetch = client
        .fetch(set, attrs)
        .await
        .map_err(|e| target.error(e))?;
    let mut body: Vec<u8> = Vec::new();
    let mut found = false;
    while let Some(event) = fetch.next().await {
        match event.map_err(|e| target.error(e))? {
            FetchEvent::Message(m) => {
                found = true;
                body = m.body().map(|b| b.to_vec()).unwrap_or_default();
            }
            FetchEvent::BodyStart { .. } => found = true,
            FetchEvent::BodyChunk(c) => {
                if raw {
                    out.raw(&c)?;
                } else {
                    body.extend_from_slice(&c);
                }
            }
            _ => {}
        }
    }
    if !found {
        return Err(CliError::failed(format!(
            "no message with UID {uid} in this folder"
        )));
    }
    if raw {
        if !body.is_empty() {
            out.raw(&body)?;
        }
    } else {
        let parsed = mail_parser::MessageParser::default()
            .parse(&body)
            .ok_or_else(|| CliError::failed("the message cannot be parsed"))?;
        let addr = |a: Option<&mail_parser::Address>| {
            a.and_then(|a| a.first())
                .map(|a| match (&a.name, &a.address) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    (_, Some(e)) => e.to_string(),
                    (Some(n), None) => n.to_string(),
                    _ => String::new(),
                })
                .unwrap_or_default()
        };
        let mut lines = vec![
            format!("From: {}", addr(parsed.from())),
            format!("To: {}", addr(parsed.to())),
            format!(
                "Date: {}",
                parsed.date().map(|d| d.to_rfc3339()).unwrap_or_default()
            ),
            format!("Subject: {}", parsed.subject().unwrap_or("")),
        ];
        let date = parsed.date().map(|d| d.to_rfc3339()).unwrap_or_default();
        let tree = super::mime_tree::tree(&parsed);
        lines.push("Parts:".to_owned());
        if let Some(root) = &tree {
            root.lines(1, &mut lines);
        }
        out.emit(
            || lines.join("\n"),
            || {
                json!({
                    "uid": uid,
                    "from": addr(parsed.from()),
                    "to": addr(parsed.to()),
                    "date": date,
                    "subject": parsed.subject(),
                    "parts": tree.iter().map(super::mime_tree::Part::json).collect::<Vec<_>>(),
                })
            },
        )?;
    }
    client.disconnect().await;
    Ok(())
}

/// `mailbag search CRITERIA...`.
pub async fn search(target: &Target, criteria: &[String], out: Output) -> Result<()> {
    let client = login(target).await?;
    open(target, &client, false).await?;
    // The shell took the user's quotes away: an argument with spaces becomes one quoted
    // IMAP string again (`SUBJECT "hello world"`).
    let text = criteria
        .iter()
        .map(|c| {
            if c.is_empty() || c.contains([' ', '"', '\\']) && !c.starts_with('(') {
                format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if text.contains(['\r', '\n', '\0']) {
        return Err(CliError::usage(
            "search criteria cannot hold line breaks or NUL",
        ));
    }
    let uids = client
        .search_raw(&text)
        .await
        .map_err(|e| target.error(e))?;
    let list: Vec<u32> = uids.iter().map(|u| u.get()).collect();
    out.emit(
        || {
            list.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        },
        || json!({ "uids": list }),
    )?;
    client.disconnect().await;
    Ok(())
}

fn parse_flags(names: &[String]) -> Result<Vec<Flag>> {
    names
        .iter()
        .map(|n| {
            if n.is_empty()
                || n.contains(|c: char| c.is_control() || c == ' ' || c == '(' || c == ')')
            {
                Err(CliError::usage(format!("{n:?} is not a flag")))
            } else {
                Ok(Flag::from_wire(n))
            }
        })
        .collect()
}

/// `mailbag flags UIDS [--add F] [--remove F]`: the flags after the change.
pub async fn flags(
    target: &Target,
    uids: &str,
    add: &[String],
    remove: &[String],
    out: Output,
) -> Result<()> {
    let set = uid_set(uids)?;
    let (add, remove) = (parse_flags(add)?, parse_flags(remove)?);
    let client = login(target).await?;
    open(target, &client, !(add.is_empty() && remove.is_empty())).await?;
    let err = |e| target.error(e);
    if !add.is_empty() {
        client
            .store(set.clone(), StoreKind::Add, add, None)
            .await
            .map_err(err)?;
    }
    if !remove.is_empty() {
        client
            .store(set.clone(), StoreKind::Remove, remove, None)
            .await
            .map_err(err)?;
    }
    let messages = client
        .fetch_collect(
            MessageSet::Uid(set),
            vec![FetchAttribute::Uid, FetchAttribute::Flags],
        )
        .await
        .map_err(err)?;
    for m in messages {
        let uid = m.uid().map(|u| u.get()).unwrap_or(0);
        let flags: Vec<String> = m
            .flags()
            .unwrap_or_default()
            .iter()
            .map(|f| f.to_string())
            .collect();
        out.emit(
            || format!("{uid} ({})", flags.join(" ")),
            || json!({ "uid": uid, "flags": flags }),
        )?;
    }
    client.disconnect().await;
    Ok(())
}

/// `mailbag delete UIDS [--expunge]`.
pub async fn delete(target: &Target, uids: &str, expunge: bool, out: Output) -> Result<()> {
    let set = uid_set(uids)?;
    let client = login(target).await?;
    open(target, &client, true).await?;
    let err = |e| target.error(e);
    client
        .store(set.clone(), StoreKind::Add, vec![Flag::Deleted], None)
        .await
        .map_err(err)?;
    if expunge {
        if client.has_capability(&Capability::UidPlus) {
            client.uid_expunge(set.clone()).await.map_err(err)?;
        } else {
            client.expunge().await.map_err(err)?;
        }
    }
    out.emit(
        || {
            format!(
                "{} {set}",
                if expunge {
                    "expunged"
                } else {
                    "marked deleted"
                }
            )
        },
        || json!({ "uids": set.to_string(), "deleted": true, "expunged": expunge }),
    )?;
    client.disconnect().await;
    Ok(())
}

/// `mailbag expunge`.
pub async fn expunge(target: &Target, out: Output) -> Result<()> {
    let client = login(target).await?;
    let folder = open(target, &client, true).await?;
    client.expunge().await.map_err(|e| target.error(e))?;
    out.emit(
        || format!("expunged {folder}"),
        || json!({ "folder": folder, "expunged": true }),
    )?;
    client.disconnect().await;
    Ok(())
}

/// `mailbag mkdir`, `rmdir`, `rename`.
pub async fn folder_op(
    target: &Target,
    op: &str,
    new_name: Option<&str>,
    out: Output,
) -> Result<()> {
    let client = login(target).await?;
    let folder = target.folder()?;
    let result = match (op, new_name) {
        ("mkdir", _) => client.create(&folder).await,
        ("rmdir", _) => client.delete(&folder).await,
        (_, Some(to)) => client.rename(&folder, to).await,
        _ => return Err(CliError::usage("rename needs a new name")),
    };
    result.map_err(|e| match e {
        mailbag::Error::No { code, text, .. } => CliError::failed(format!(
            "{op} {folder:?} refused (server: NO {}{text})",
            code.map(|c| format!("[{c}] ")).unwrap_or_default()
        )),
        e => target.error(e),
    })?;
    out.emit(
        || match new_name {
            Some(to) => format!("renamed {folder} to {to}"),
            None => format!(
                "{} {folder}",
                if op == "mkdir" { "created" } else { "deleted" }
            ),
        },
        || json!({ "op": op, "folder": folder, "new_name": new_name }),
    )?;
    client.disconnect().await;
    Ok(())
}

/// `mailbag append FILE... [--flag F]`: prints the new UIDs.
pub async fn append(
    target: &Target,
    files: &[PathBuf],
    flags: &[String],
    out: Output,
) -> Result<()> {
    let flags = parse_flags(flags)?;
    let client = login(target).await?;
    let folder = target.folder()?;
    for file in files {
        // Streamed from the file: a message of any size is never held whole.
        let unreadable =
            |e: std::io::Error| CliError::usage(format!("cannot read {}: {e}", file.display()));
        let f = tokio::fs::File::open(file).await.map_err(unreadable)?;
        let len = f.metadata().await.map_err(unreadable)?.len();
        let result = client
            .append_stream(&folder, flags.clone(), None, len, f)
            .await
            .map_err(|e| folder_error(target, &folder, e))?;
        let uid = result.map(|r| r.uids.to_string());
        out.emit(
            || format!("{}\t{}", uid.as_deref().unwrap_or("?"), file.display()),
            || json!({ "file": file.display().to_string(), "uid": uid }),
        )?;
    }
    client.disconnect().await;
    Ok(())
}

/// `mailbag watch`: IDLE, one line per event; reconnects by itself after a drop and then
/// reports what arrived meanwhile (the library's [`Watcher`] finds it by UID).
pub async fn watch(target: &Target, exec: Option<&str>, out: Output) -> Result<()> {
    let folder = target.folder()?;
    let mut watcher = Watcher::new(watch_options(target, &folder, exec.is_some())?);
    loop {
        let event = watcher.next().await.map_err(|e| match e {
            e @ mailbag::Error::No { .. } => folder_error(target, &folder, e),
            e => target.error(e),
        })?;
        match event {
            WatchEvent::Connected {
                reconnected,
                summary,
            } => {
                let next = summary.uid_next.map(|u| u.get()).unwrap_or(1);
                if reconnected {
                    if !out.quiet {
                        eprintln!("reconnected; watching {folder} (uidnext {next})");
                    }
                } else {
                    out.note(&format!(
                        "watching {folder} (uidnext {next}); Ctrl-C to stop"
                    ));
                }
            }
            WatchEvent::Disconnected { reason } if !out.quiet => {
                eprintln!("connection lost ({reason}); reconnecting");
            }
            WatchEvent::New { uid, message } => {
                print_new(uid.get(), message.as_ref(), exec, out)?;
            }
            WatchEvent::Expunged { seq, uid } => {
                let uid = uid.map(|u| u.get());
                out.emit(
                    || {
                        format!(
                            "expunged seq {seq}{}",
                            uid.map(|u| format!(" uid {u}")).unwrap_or_default()
                        )
                    },
                    || json!({ "event": "expunged", "seq": seq.get(), "uid": uid }),
                )?;
            }
            WatchEvent::Vanished { uids, .. } => {
                let uids = uids.to_string();
                out.emit(
                    || format!("expunged uids {uids}"),
                    || json!({ "event": "vanished", "uids": uids }),
                )?;
            }
            WatchEvent::FlagsChanged {
                uid, flags, seq, ..
            } => {
                let flags: Vec<String> = flags
                    .unwrap_or_default()
                    .iter()
                    .map(|f| f.to_string())
                    .collect();
                let uid = uid.map(|u| u.get());
                out.emit(
                    || {
                        format!(
                            "flags seq {seq}{} ({})",
                            uid.map(|u| format!(" uid {u}")).unwrap_or_default(),
                            flags.join(" ")
                        )
                    },
                    || json!({ "event": "flags", "seq": seq.get(), "uid": uid, "flags": flags }),
                )?;
            }
            WatchEvent::UidValidityChanged { old, new } => {
                let (old, new) = (old.get(), new.get());
                out.emit(
                    || format!("uidvalidity changed {old} -> {new}: earlier UIDs are void"),
                    || json!({ "event": "uidvalidity", "old": old, "new": new }),
                )?;
            }
            WatchEvent::Alert(text) if !out.quiet => {
                eprintln!("server alert: {text}");
            }
            _ => {}
        }
    }
}

/// The watcher's options from the command line: the connection as for every command, the
/// folder's headers (and whole messages for `--exec`) fetched for each new message.
fn watch_options(target: &Target, folder: &str, bodies: bool) -> Result<WatchOptions> {
    let connect = connect_options(target)?;
    let credentials = Credentials::new(target.user()?, target.password()?.expose().clone());
    let mut options = WatchOptions::new(connect, WatchLogin::Login(credentials), folder);
    options.backoff_max = std::time::Duration::from_secs(60);
    if let Some(t) = target.timeouts.command {
        options.probe_timeout = t;
    }
    options.fetch = vec![header_fields()];
    if bodies {
        options.fetch.push(FetchAttribute::whole_message());
    }
    Ok(options)
}

/// Prints one new message (`new uid N<TAB>from<TAB>subject`) and runs `exec` for it.
fn print_new(uid: u32, message: Option<&Message>, exec: Option<&str>, out: Output) -> Result<()> {
    let header = message
        .and_then(|m| m.header().cloned())
        .unwrap_or_default();
    let parsed = mail_parser::MessageParser::default().parse(header.as_ref());
    let subject = parsed
        .as_ref()
        .and_then(|p| p.subject())
        .unwrap_or("")
        .to_owned();
    let from_addr = parsed
        .as_ref()
        .and_then(|p| p.from())
        .and_then(|a| a.first())
        .and_then(|a| a.address.as_ref().map(|s| s.to_string()))
        .unwrap_or_default();
    out.emit(
        || format!("new uid {uid}\t{from_addr}\t{subject}"),
        || json!({ "event": "new", "uid": uid, "from": from_addr, "subject": subject }),
    )?;
    if let (Some(cmd), Some(body)) = (exec, message.and_then(|m| m.body())) {
        run_exec(cmd, body, uid)?;
    }
    Ok(())
}

fn run_exec(cmd: &str, body: &[u8], uid: u32) -> Result<()> {
    use std::io::Write;
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("MAILBAG_UID", uid.to_string())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| CliError::failed(format!("--exec: cannot run /bin/sh: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(body);
    }
    let status = child.wait()?;
    if !status.success() {
        tracing::warn!(%status, uid, "--exec command failed");
    }
    Ok(())
}
