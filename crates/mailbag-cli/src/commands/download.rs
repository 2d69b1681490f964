//! `mailbag download`: only what is new, each message exactly once, bodies streamed from
//! the socket to the file.
//!
//! The store (`mailbag-store`) owns exactly-once: a message counts as stored only after
//! `Folder::sync` made it durable, and a run after a crash reconciles the output with the
//! state. This engine only decides what to fetch (UIDs or UIDLs not yet stored), streams
//! each body into a writer, syncs every [`SYNC_EVERY`] messages, and with `--delete-after`
//! deletes on the server only what a sync returned as durable.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailbag::pop3::RetrPiece;
use mailbag_store::{Folder, FolderName, Format, MessageKey, MessageMeta, Source, Store, Uidl};
use serde_json::json;

use super::context::Target;
use super::pop;
use crate::cli;
use crate::error::CliError;
use crate::output::Output;
use crate::Result;

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

/// A progress bar on a terminal, nothing otherwise.
pub fn progress(out: Output, total_messages: u64, label: &str) -> ProgressBar {
    if out.quiet || out.json || !std::io::stderr().is_terminal() {
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
    let (uidls, sizes) = client.uidl_and_list().await.map_err(|e| match e {
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
    let total_bytes: u64 = sizes
        .iter()
        .filter(|s| todo.iter().any(|(n, _)| *n == s.number))
        .map(|s| s.size)
        .sum();
    let bar = progress(out, todo.len() as u64, "INBOX");
    bar.set_message(format!("0 of {total_bytes} bytes"));

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
        for (n, uidl) in &todo {
            if durable.contains(&MessageKey::Uidl(uidl.clone())) {
                client.dele(*n).await.map_err(err)?;
                tally.deleted += 1;
            }
        }
    }
    // Deletions happen at QUIT; without --delete-after nothing changes on the server.
    client.quit().await.map_err(err)?;
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
        let mut size = 0u64;
        loop {
            match batch.next().await.map_err(Failure::Net)? {
                Some(RetrPiece::Chunk(chunk)) => {
                    size += chunk.len() as u64;
                    writer.write_chunk(&chunk).map_err(Failure::Store)?;
                }
                Some(RetrPiece::End) => {
                    writer.commit().map_err(Failure::Store)?;
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
        bar.set_message(format!("{} bytes", tally.bytes));
        if folder.pending() >= SYNC_EVERY {
            durable.extend(folder.sync().map_err(Failure::Store)?);
        }
    }
    Ok(())
}
