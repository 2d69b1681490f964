//! `mailbag download`: only what is new, each message exactly once, bodies streamed from
//! the socket to the file.
//!
//! The store (`mailbag-store`) owns exactly-once: a message counts as stored only after
//! `Folder::sync` made it durable, and a run after a crash reconciles the output with the
//! state. This engine only decides what to fetch (UIDs or UIDLs not yet stored), streams
//! each body into a writer, syncs every [`SYNC_EVERY`] messages, and with `--delete-after`
//! deletes on the server only what a sync returned as durable.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailbag::pop3::RetrPiece;
use mailbag_store::{Folder, FolderName, Format, MessageKey, MessageMeta, Source, Store, Uidl};
use serde_json::json;

use super::context::Target;
use super::pop;
use crate::cli;
use crate::error::CliError;
use crate::output::Output;
use crate::Result;

mod held_body;

/// Messages written between two syncs: each sync costs an fsync of the output and of the
/// state, and a crash loses at most this many downloads (they are fetched again).
pub const SYNC_EVERY: usize = 256;

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Messages written in this run.
    pub new: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Messages already stored by an earlier run.
    pub skipped: u64,
    /// Messages the server refused to send.
    pub refused: u64,
    /// IMAP: messages the search listed that the FETCH did not return (expunged meanwhile,
    /// or a response that could not be read); the next run asks again.
    pub missing: u64,
    /// Messages deleted on the server (`--delete-after`).
    pub deleted: u64,
}

pub fn store_format(f: cli::Format) -> Format {
    match f {
        cli::Format::Mbox => Format::Mbox,
        cli::Format::Maildir => Format::Maildir,
    }
}

pub fn store_error(dest: &Path, e: mailbag_store::Error) -> CliError {
    match e {
        mailbag_store::Error::Locked { .. } => CliError::failed(format!(
            "{} is being written by another mailbag run",
            dest.display()
        ))
        .hint("wait for it to finish"),
        other => CliError::failed(format!("cannot store mail in {}: {other}", dest.display())),
    }
}

/// Whether progress bars are drawn: on a terminal, unless the output is quiet or JSON.
fn bars_drawn(out: Output) -> bool {
    !out.quiet && !out.json && std::io::stderr().is_terminal()
}

/// A progress bar on a terminal, nothing otherwise.
pub fn progress(out: Output, total_messages: u64, label: &str) -> ProgressBar {
    if !bars_drawn(out) {
        return ProgressBar::with_draw_target(Some(total_messages), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total_messages);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} messages, {msg} ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar
}

pub fn summary(out: Output, folder: &str, output_path: &Path, t: Tally) -> Result<()> {
    out.emit(
        || {
            let mut line = format!(
                "{folder}: {} new message{} ({} bytes) in {}; {} already there",
                t.new,
                if t.new == 1 { "" } else { "s" },
                t.bytes,
                output_path.display(),
                t.skipped
            );
            if t.refused > 0 {
                line.push_str(&format!("; {} refused by the server", t.refused));
            }
            if t.missing > 0 {
                line.push_str(&format!(
                    "; {} listed but not sent by the server (expunged meanwhile?), asked again next run",
                    t.missing
                ));
            }
            if t.deleted > 0 {
                line.push_str(&format!("; {} deleted on the server", t.deleted));
            }
            line
        },
        || {
            json!({
                "folder": folder,
                "output": output_path.display().to_string(),
                "new": t.new,
                "bytes": t.bytes,
                "skipped": t.skipped,
                "refused": t.refused,
                "missing": t.missing,
                "deleted": t.deleted,
            })
        },
    )
}

/// Downloads a POP3 maildrop into the folder `INBOX` of `dest`.
pub async fn pop3(
    target: &Target,
    dest: &Path,
    format: cli::Format,
    delete_after: bool,
    out: Output,
) -> Result<()> {
    let err = |e| target.error(e);
    let serr = |e| store_error(dest, e);
    let mut client = pop::login(target).await?;
    // LIST only feeds the progress bar's byte count: without a bar, the 10,000-line answer
    // is not asked for (issue 8: about 5 ms of a 10,000-message download).
    let listed = if bars_drawn(out) {
        client.uidl_and_list().await.map(|(u, l)| (u, Some(l)))
    } else {
        client.uidl().await.map(|u| (u, None))
    };
    let (uidls, sizes) = listed.map_err(|e| match e {
        mailbag::Error::No { text, .. } => CliError::failed(format!(
            "{} does not give unique ids (UIDL: {text}), so mailbag cannot tell new mail from old",
            target.server()
        )),
        e => err(e),
    })?;
    let store = Store::new(dest, store_format(format), target.source.account_key());
    let name = FolderName::new("INBOX", None).map_err(serr)?;
    let (mut folder, _report) = store.open_folder(&name, Source::Pop3).map_err(serr)?;

    let mut tally = Tally::default();
    let mut todo = Vec::new();
    for entry in &uidls {
        let uidl = Uidl::new(entry.uid.clone())
            .map_err(|e| CliError::failed(format!("{}: bad unique id: {e}", target.server())))?;
        if folder.is_stored(&MessageKey::Uidl(uidl.clone())) {
            tally.skipped += 1;
        } else {
            todo.push((entry.number, uidl));
        }
    }
    let bar = progress(out, todo.len() as u64, "INBOX");
    if let Some(sizes) = sizes {
        let wanted: std::collections::HashSet<u32> = todo.iter().map(|(n, _)| *n).collect();
        let total_bytes: u64 = sizes
            .iter()
            .filter(|s| wanted.contains(&s.number))
            .map(|s| s.size)
            .sum();
        bar.set_message(format!("0 of {total_bytes} bytes"));
    }

    let numbers: Vec<u32> = todo.iter().map(|(n, _)| *n).collect();
    let mut durable: Vec<MessageKey> = Vec::new();
    let result = fetch_all(
        &mut client,
        &mut folder,
        &todo,
        &numbers,
        &mut tally,
        &mut durable,
        &bar,
    )
    .await;
    // Whatever happened, what was written whole is made durable, so a rerun resumes.
    let synced = folder.sync();
    bar.finish_and_clear();
    if let Ok(keys) = &synced {
        durable.extend(keys.iter().cloned());
    }
    result.map_err(|e| match e {
        Failure::Net(e) => err(e),
        Failure::Store(e) => serr(e),
    })?;
    synced.map_err(serr)?;

    if delete_after && !durable.is_empty() {
        let durable: std::collections::HashSet<&MessageKey> = durable.iter().collect();
        for (n, uidl) in &todo {
            if durable.contains(&MessageKey::Uidl(uidl.clone())) {
                client.dele(*n).await.map_err(err)?;
                tally.deleted += 1;
            }
        }
    }
    // Deletions happen at QUIT, whose answer is then awaited; without --delete-after nothing
    // changes on the server, and QUIT goes out without waiting for the answer.
    client.disconnect().await.map_err(err)?;
    summary(out, "INBOX", folder.output_path(), tally)
}

enum Failure {
    Net(mailbag::Error),
    Store(mailbag_store::Error),
}

async fn fetch_all(
    client: &mut mailbag::pop3::Pop3Client,
    folder: &mut Folder,
    todo: &[(u32, Uidl)],
    numbers: &[u32],
    tally: &mut Tally,
    durable: &mut Vec<MessageKey>,
    bar: &ProgressBar,
) -> std::result::Result<(), Failure> {
    let mut batch = client.retr_batch(numbers).map_err(Failure::Net)?;
    for (n, uidl) in todo {
        debug_assert_eq!(batch.current(), Some(*n));
        let meta = MessageMeta::new(MessageKey::Uidl(uidl.clone()));
        let mut writer = folder.begin_message(&meta).map_err(Failure::Store)?;
        loop {
            match batch.next().await.map_err(Failure::Net)? {
                Some(RetrPiece::Chunk(chunk)) => {
                    writer.write_chunk(&chunk).map_err(Failure::Store)?;
                }
                Some(RetrPiece::End) => {
                    let size = writer.commit().map_err(Failure::Store)?;
                    tally.new += 1;
                    tally.bytes += size;
                    break;
                }
                Some(RetrPiece::Refused(e)) => {
                    writer.abort().map_err(Failure::Store)?;
                    tracing::warn!(message = n, error = %e, "server refused RETR");
                    tally.refused += 1;
                    break;
                }
                None => {
                    return Err(Failure::Net(mailbag::Error::protocol(
                        "RETR batch ended early",
                        &[],
                    )))
                }
            }
        }
        bar.inc(1);
        if !bar.is_hidden() {
            bar.set_message(format!("{} bytes", tally.bytes));
        }
        if folder.pending() >= SYNC_EVERY {
            durable.extend(folder.sync().map_err(Failure::Store)?);
        }
    }
    Ok(())
}

/// UIDs per UID FETCH: enough to keep the pipe full, few enough that a batch's sync cadence
/// and memory for the UID list stay small.
const FETCH_BATCH: usize = 1000;

/// Progress bars of folders downloaded side by side (`--jobs`); drawn only where
/// [`progress`] would draw one.
pub fn progress_group(out: Output) -> MultiProgress {
    if !bars_drawn(out) {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    }
}

/// Downloads IMAP folders (the target's, or all with `--all-folders` over `jobs`
/// connections; see [`super::parallel`]).
pub async fn imap(
    target: &Target,
    dest: &Path,
    format: cli::Format,
    all_folders: bool,
    jobs: usize,
    delete_after: bool,
    out: Output,
) -> Result<()> {
    // One folder, read-only, whose name has no level to split (so no LIST): LOGIN and
    // EXAMINE go out together, one round trip for both.
    let pipelined = !all_folders
        && !delete_after
        && !target
            .folder_or_inbox()
            .chars()
            .any(|c| c.is_ascii_punctuation());
    let (client, mut opened) = if pipelined {
        let user = target.user()?;
        let password = target.password()?;
        let client = super::imap::connect(target).await?;
        let folder = target.folder_or_inbox();
        let (logged_in, examined) = tokio::join!(
            client.login(&user, password.expose()),
            client.examine(&folder)
        );
        logged_in.map_err(|e| target.error(e))?;
        (client, Some(examined))
    } else {
        (super::imap::login(target).await?, None)
    };
    let folders: Vec<(String, Option<char>)> = if all_folders {
        let items = client.list("", "*").await.map_err(|e| target.error(e))?;
        items
            .into_iter()
            .filter(|i| {
                !i.attributes.iter().any(|a| {
                    matches!(
                        a,
                        mailbag::imap::MailboxAttribute::NoSelect
                            | mailbag::imap::MailboxAttribute::NonExistent
                    )
                })
            })
            .map(|i| (i.mailbox.name().to_owned(), i.delimiter))
            .collect()
    } else {
        let folder = target.folder_or_inbox();
        // The delimiter only splits the name into levels for the file name: a name with no
        // ASCII punctuation (INBOX, Archive) has none to split, whatever the delimiter is,
        // and needs no LIST round trip.
        let delimiter = if folder.chars().any(|c| c.is_ascii_punctuation()) {
            client
                .list("", &folder)
                .await
                .ok()
                .and_then(|v| v.first().and_then(|i| i.delimiter))
        } else {
            None
        };
        vec![(folder, delimiter)]
    };
    let store = Store::new(dest, store_format(format), target.source.account_key());
    let bars = progress_group(out);
    if all_folders {
        return super::parallel::download_folders(
            target,
            client,
            folders,
            jobs,
            store,
            dest.to_path_buf(),
            delete_after,
            out,
            bars,
        )
        .await;
    }
    for (folder, delimiter) in folders {
        let (path, tally) = imap_folder(
            target,
            &client,
            &store,
            dest,
            &folder,
            delimiter,
            delete_after,
            opened.take(),
            out,
            &bars,
        )
        .await?;
        summary(out, &folder, &path, tally)?;
    }
    client.disconnect().await;
    Ok(())
}

/// Downloads one folder; returns its output and counts for the summary line.
#[allow(clippy::too_many_arguments)]
pub async fn imap_folder(
    target: &Target,
    client: &mailbag::imap::ImapClient,
    store: &Store,
    dest: &Path,
    folder: &str,
    delimiter: Option<char>,
    delete_after: bool,
    opened: Option<std::result::Result<mailbag::imap::MailboxSummary, mailbag::Error>>,
    out: Output,
    bars: &MultiProgress,
) -> Result<(PathBuf, Tally)> {
    use mailbag::imap::{FetchAttribute, MessageSet, SequenceSet, Uid};
    use mailbag::proto::imap::types::FetchItem;

    let err = |e| target.error(e);
    let serr = |e| store_error(dest, e);
    // EXAMINE keeps the folder read-only: downloading marks nothing \Seen.
    let summary = match opened {
        Some(examined) => examined,
        None if delete_after => client.select(folder).await,
        None => client.examine(folder).await,
    }
    .map_err(|e| match e {
        mailbag::Error::No { text, .. } => CliError::failed(format!(
            "folder {folder:?} cannot be opened (server: NO {text})"
        ))
        .hint("\"mailbag folders SOURCE\" lists them"),
        e => err(e),
    })?;
    let uid_validity = summary
        .uid_validity
        .map(|v| v.get())
        .ok_or_else(|| CliError::failed(format!("{folder}: the server gives no UIDVALIDITY")))?;
    let name = FolderName::new(folder, delimiter).map_err(serr)?;
    // UIDs only grow: while UIDNEXT (same UIDVALIDITY) is what the state recorded after a
    // complete run, nothing arrived since, and EXAMINE was the only round trip needed; the
    // state's header line is all that is read (not its records, not the output).
    let uid_next = summary.uid_next.map(|u| u.get());
    if !delete_after
        && uid_next.is_some()
        && store.recorded_uid_next(&name, uid_validity) == uid_next
    {
        let tally = Tally {
            skipped: u64::from(summary.exists),
            ..Tally::default()
        };
        return Ok((store.output_of(&name), tally));
    }
    let (mut store_folder, report) = store
        .open_folder(&name, Source::Imap { uid_validity })
        .map_err(serr)?;
    held_body::remove_stale(&store_folder, store.format()).map_err(serr)?;
    if let Some(change) = &report.uid_validity_change {
        out.note(&format!(
            "{folder}: UIDVALIDITY changed from {} to {}: the earlier download was kept as {} and this one starts afresh",
            change.old,
            change.new,
            change.archived_output.display()
        ));
    }
    let mut tally = Tally::default();
    let mut todo: Vec<Uid> = Vec::new();
    // The same check on the opened state (with --delete-after, which needs it open).
    let unchanged = uid_next.is_some() && store_folder.uid_next() == uid_next;
    if unchanged {
        // Every message there has a UID below UIDNEXT, and all of those are stored.
        tally.skipped = u64::from(summary.exists);
    } else if summary.exists > 0 {
        // By UID, never by counting: what the server has that the state does not.
        for uid in client.search_raw("ALL").await.map_err(err)? {
            if store_folder.is_stored(&MessageKey::Uid(uid.get())) {
                tally.skipped += 1;
            } else {
                todo.push(uid);
            }
        }
    }
    let bar = bars.add(progress(out, todo.len() as u64, folder));
    let mut durable: Vec<MessageKey> = Vec::new();
    let peek = FetchAttribute::whole_message();
    let mut result: std::result::Result<(), Failure> = Ok(());
    let start = |batch: &[Uid]| {
        let set = MessageSet::Uid(SequenceSet::from_numbers(batch.iter().copied()));
        client.fetch(
            set,
            vec![FetchAttribute::Uid, FetchAttribute::Flags, peek.clone()],
        )
    };
    let mut batches = todo.chunks(FETCH_BATCH);
    let mut next = match batches.next() {
        Some(batch) => Some(start(batch).await),
        None => None,
    };
    'batches: while let Some(started) = next.take() {
        let mut fetch = match started {
            Ok(f) => f,
            Err(e) => {
                result = Err(Failure::Net(e));
                break;
            }
        };
        // Two batches in flight: the next UID FETCH is queued at the server before this one
        // is read, so the server goes on without waiting a round trip between batches.
        next = match batches.next() {
            Some(batch) => Some(start(batch).await),
            None => None,
        };
        'events: loop {
            let event = match fetch.next().await {
                None => break,
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    result = Err(Failure::Net(e));
                    break 'batches;
                }
            };
            let step = match event {
                mailbag::imap::FetchEvent::Message(m) => {
                    let (Some(uid), Some(body)) = (m.uid(), m.body()) else {
                        continue;
                    };
                    let flags = m.flags().unwrap_or_default();
                    match store_one(&mut store_folder, uid.get(), flags, |w| w.write_chunk(body)) {
                        // The same message twice (a server's repeat): stored once.
                        Err(mailbag_store::Error::AlreadyStored(_)) => {
                            tracing::warn!(uid = uid.get(), "message sent twice; kept once");
                            continue;
                        }
                        other => other,
                    }
                }
                mailbag::imap::FetchEvent::BodyStart { items, .. } => 'message: {
                    let uid = items.iter().find_map(|i| match i {
                        FetchItem::Uid(u) => Some(u.get()),
                        _ => None,
                    });
                    let flags: Vec<mailbag::imap::Flag> = items
                        .iter()
                        .find_map(|i| match i {
                            FetchItem::Flags(f) => Some(f.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    let Some(uid) = uid else {
                        let format = store.format();
                        match held_body::receive(&mut store_folder, format, &flags, &mut fetch)
                            .await
                        {
                            Ok(stored) => break 'message Ok(stored),
                            Err(e) => {
                                result = Err(e);
                                break 'batches;
                            }
                        }
                    };
                    let meta = MessageMeta {
                        flags: store_flags(&flags),
                        ..MessageMeta::new(MessageKey::Uid(uid))
                    };
                    let mut writer = match store_folder.begin_message(&meta) {
                        Ok(w) => w,
                        // The same message twice (a server's repeat): its body is read past.
                        Err(mailbag_store::Error::AlreadyStored(_)) => {
                            tracing::warn!(uid, "message sent twice; kept once");
                            loop {
                                match fetch.next().await {
                                    Some(Ok(mailbag::imap::FetchEvent::BodyEnd { .. })) => break,
                                    Some(Ok(_)) => {}
                                    Some(Err(e)) => {
                                        result = Err(Failure::Net(e));
                                        break 'batches;
                                    }
                                    None => break,
                                }
                            }
                            continue 'events;
                        }
                        Err(e) => {
                            result = Err(Failure::Store(e));
                            break 'batches;
                        }
                    };
                    loop {
                        match fetch.next().await {
                            Some(Ok(mailbag::imap::FetchEvent::BodyChunk(c))) => {
                                if let Err(e) = writer.write_chunk(&c) {
                                    result = Err(Failure::Store(e));
                                    break 'batches;
                                }
                            }
                            Some(Ok(mailbag::imap::FetchEvent::BodyEnd { .. })) => break,
                            Some(Ok(_)) => {}
                            Some(Err(e)) => {
                                result = Err(Failure::Net(e));
                                break 'batches;
                            }
                            None => {
                                result = Err(Failure::Net(mailbag::Error::ConnectionLost {
                                    detail: "FETCH ended inside a message".into(),
                                }));
                                break 'batches;
                            }
                        }
                    }
                    writer.commit()
                }
                _ => continue,
            };
            match step {
                Ok(size) => {
                    tally.new += 1;
                    tally.bytes += size;
                    bar.inc(1);
                    if tally.new % 64 == 0 {
                        bar.set_message(format!("{} bytes", tally.bytes));
                    }
                }
                Err(e) => {
                    result = Err(Failure::Store(e));
                    break 'batches;
                }
            }
            if store_folder.pending() >= SYNC_EVERY {
                match store_folder.sync() {
                    Ok(keys) => durable.extend(keys),
                    Err(e) => {
                        result = Err(Failure::Store(e));
                        break 'batches;
                    }
                }
            }
        }
    }
    // Whatever happened, what was written whole is made durable, so a rerun resumes.
    let synced = store_folder.sync();
    bar.finish_and_clear();
    bars.remove(&bar);
    if let Ok(keys) = &synced {
        durable.extend(keys.iter().cloned());
    }
    result.map_err(|e| match e {
        Failure::Net(e) => err(e),
        Failure::Store(e) => serr(e),
    })?;
    synced.map_err(serr)?;
    // Every message received is stored now (a failure returned above): what the server
    // listed and is not stored did not come.
    tally.missing = todo
        .iter()
        .filter(|u| !store_folder.is_stored(&MessageKey::Uid(u.get())))
        .count() as u64;
    // Everything the server listed below UIDNEXT is stored: the next run can stop after
    // EXAMINE if UIDNEXT has not moved.
    if let Some(uid_next) = uid_next {
        if tally.new == todo.len() as u64 {
            store_folder.record_uid_next(uid_next).map_err(serr)?;
        }
    }

    if delete_after && !durable.is_empty() {
        let uids: Vec<Uid> = durable
            .iter()
            .filter_map(|k| match k {
                MessageKey::Uid(u) => Uid::try_from(*u).ok(),
                _ => None,
            })
            .collect();
        let set = SequenceSet::from_numbers(uids.iter().copied());
        client
            .store(
                set.clone(),
                mailbag::imap::StoreKind::Add,
                vec![mailbag::imap::Flag::Deleted],
                None,
            )
            .await
            .map_err(err)?;
        // Only the UIDs saved: UID EXPUNGE (UIDPLUS) never removes another's \Deleted mail.
        if client.has_capability(&mailbag::imap::Capability::UidPlus) {
            client.uid_expunge(set).await.map_err(err)?;
        } else {
            client.expunge().await.map_err(err)?;
        }
        tally.deleted = uids.len() as u64;
    }
    Ok((store_folder.output_path().to_path_buf(), tally))
}

fn store_one(
    folder: &mut Folder,
    uid: u32,
    flags: &[mailbag::imap::Flag],
    write: impl FnOnce(&mut mailbag_store::MessageWriter<'_>) -> mailbag_store::Result<()>,
) -> mailbag_store::Result<u64> {
    let meta = MessageMeta {
        flags: store_flags(flags),
        ..MessageMeta::new(MessageKey::Uid(uid))
    };
    let mut writer = folder.begin_message(&meta)?;
    write(&mut writer)?;
    writer.commit()
}

/// The system flags the store records, picked out of a message's IMAP flags (the store's
/// `Flags::from_imap` decides which; the names are static, nothing is allocated).
pub fn store_flags(flags: &[mailbag::imap::Flag]) -> mailbag_store::Flags {
    mailbag_store::Flags::from_imap(flags.iter().filter_map(mailbag::imap::Flag::system_name))
}

#[cfg(test)]
mod tests {
    use mailbag::imap::Flag;

    #[test]
    fn store_flags_keep_the_system_flags_maildir_records() {
        let flags = super::store_flags(&[
            Flag::Seen,
            Flag::Keyword("$Junk".into()),
            Flag::Flagged,
            Flag::Recent,
            Flag::Extension("X-Other".into()),
        ]);
        assert_eq!(
            flags,
            mailbag_store::Flags {
                seen: true,
                flagged: true,
                ..Default::default()
            }
        );
        let all = super::store_flags(&[
            Flag::Draft,
            Flag::Deleted,
            Flag::Answered,
            Flag::Seen,
            Flag::Flagged,
        ]);
        assert_eq!(
            all,
            mailbag_store::Flags {
                seen: true,
                answered: true,
                flagged: true,
                deleted: true,
                draft: true,
            }
        );
    }
}
