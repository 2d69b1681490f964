//! `mailbag download --all-folders --jobs N`: the folders shared out over N IMAP
//! connections.
//!
//! Each folder is still downloaded by [`super::download::imap_folder`] alone, under its own
//! lock and sync state, so parallelism changes nothing about exactly-once: a folder never
//! meets another folder's files. Workers take the next folder from one queue (a big folder
//! does not hold up the small ones behind it). The first worker uses the connection that
//! listed the folders; the others log in themselves, and one that cannot only leaves its
//! share to the rest.
//!
//! Folders are taken, and their results printed, in name order (servers such as Dovecot
//! list them in no stable order); a result is printed as soon as the folders before it are
//! done, so the output is the same whatever the timing. A failed folder is reported
//! on standard error with its name, the other folders go on, and the command fails at the
//! end. After a failure the worker logs in afresh for its next folder: whatever broke the
//! folder (a lost connection, a timeout in the middle of a FETCH) stays behind with the old
//! connection.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use indicatif::MultiProgress;
use mailbag::imap::ImapClient;
use mailbag_store::Store;
use tokio::sync::mpsc;

use super::context::Target;
use super::download::{imap_folder, summary, Tally};
use crate::error::{CliError, Exit};
use crate::output::Output;
use crate::Result;

/// One folder to download: its name and hierarchy delimiter.
pub type FolderEntry = (String, Option<char>);

/// What the workers share.
struct Shared {
    target: Target,
    store: Store,
    dest: PathBuf,
    delete_after: bool,
    out: Output,
    bars: MultiProgress,
    /// Folders not taken yet, with their place in the list.
    queue: Mutex<VecDeque<(usize, FolderEntry)>>,
}

/// A folder's outcome, by its place in the list.
type Done = (usize, Result<(PathBuf, Tally)>);

/// Downloads `folders` over up to `jobs` connections, `first` being one of them.
#[allow(clippy::too_many_arguments)]
pub async fn download_folders(
    target: &Target,
    first: ImapClient,
    mut folders: Vec<FolderEntry>,
    jobs: usize,
    store: Store,
    dest: PathBuf,
    delete_after: bool,
    out: Output,
    bars: MultiProgress,
) -> Result<()> {
    folders.sort();
    let total = folders.len();
    let names: Vec<String> = folders.iter().map(|(name, _)| name.clone()).collect();
    let shared = Arc::new(Shared {
        target: target.clone(),
        store,
        dest,
        delete_after,
        out,
        bars,
        queue: Mutex::new(folders.into_iter().enumerate().collect()),
    });
    let workers = jobs.clamp(1, total.max(1));
    let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
    let mut handles = Vec::with_capacity(workers);
    let mut first = Some(first);
    for number in 0..workers {
        let shared = Arc::clone(&shared);
        let tx = tx.clone();
        let client = first.take();
        handles.push(tokio::spawn(worker(number, shared, client, tx)));
    }
    drop(tx);

    // Print in list order: results wait here until every folder before them is printed.
    let mut results: Vec<Option<Result<(PathBuf, Tally)>>> = (0..total).map(|_| None).collect();
    let mut next = 0;
    let mut failed: Vec<(String, Exit)> = Vec::new();
    let mut print_error: Option<CliError> = None;
    while let Some((index, result)) = rx.recv().await {
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(result);
        }
        while let Some(ready) = results.get_mut(next).and_then(Option::take) {
            let name = names.get(next).map(String::as_str).unwrap_or("?");
            match ready {
                Ok((path, tally)) => {
                    if let Err(e) = summary(shared.out, name, &path, tally) {
                        // A closed stdout: keep downloading, report it at the end.
                        print_error.get_or_insert(e);
                    }
                }
                Err(e) => {
                    eprintln!("mailbag: {name}: {e}");
                    failed.push((name.to_owned(), e.exit));
                }
            }
            next += 1;
        }
    }
    for handle in handles {
        if let Err(e) = handle.await {
            return Err(CliError::failed(format!("a download worker stopped: {e}")));
        }
    }
    // Folders no worker could take: every connection but the first failed to log in, and
    // then the first was lost too.
    let left: Vec<(usize, FolderEntry)> = shared
        .queue
        .lock()
        .map(|mut q| q.drain(..).collect())
        .unwrap_or_default();
    for (_, (name, _)) in left {
        eprintln!("mailbag: {name}: not downloaded: no connection to the server was left");
        failed.push((name, Exit::Connect));
    }
    if let Some(e) = print_error {
        return Err(e);
    }
    if failed.is_empty() {
        return Ok(());
    }
    let exit = match failed.first() {
        Some((_, first)) if failed.iter().all(|(_, e)| e == first) => *first,
        _ => Exit::Failed,
    };
    let list: Vec<&str> = failed.iter().map(|(name, _)| name.as_str()).collect();
    Err(CliError {
        exit,
        message: format!(
            "{} of {total} folders failed: {}",
            failed.len(),
            list.join(", ")
        ),
        hint: Some(
            "the other folders were downloaded; once the cause above is dealt with, run the command again (downloads resume where they stopped)"
                .into(),
        ),
    })
}

async fn worker(
    number: usize,
    shared: Arc<Shared>,
    mut client: Option<ImapClient>,
    tx: mpsc::UnboundedSender<Done>,
) {
    loop {
        let connection = match client.take() {
            Some(c) => c,
            None => match super::imap::login(&shared.target).await {
                Ok(c) => c,
                Err(e) => {
                    // The folders stay in the queue for the workers that are connected.
                    shared.out.note(&format!(
                        "--jobs: connection {} could not log in ({e}); the other connections go on",
                        number + 1
                    ));
                    return;
                }
            },
        };
        let next = shared.queue.lock().ok().and_then(|mut q| q.pop_front());
        let Some((index, (folder, delimiter))) = next else {
            connection.disconnect().await;
            return;
        };
        let result = imap_folder(
            &shared.target,
            &connection,
            &shared.store,
            &shared.dest,
            &folder,
            delimiter,
            shared.delete_after,
            None,
            shared.out,
            &shared.bars,
        )
        .await;
        if result.is_ok() {
            client = Some(connection);
        }
        if tx.send((index, result)).is_err() {
            return;
        }
    }
}
