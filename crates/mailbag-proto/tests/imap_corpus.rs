//! Feeds every recorded server reply of the MailKit corpus (../shared/corpus/mailkit/imap,
//! kept outside the project) to the parser: nothing may panic, and every file must parse
//! without an error event unless it is listed in `ALLOWED` with the reason.

mod imap_common;

use std::path::{Path, PathBuf};

use mailbag_proto::imap::parse::Event;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mailkit"
);

/// Files whose replies break the grammar beyond what mailbag tolerates, with why.
const ALLOWED: &[(&str, &str)] = &[
    // The FETCH's item list goes on after the BODY[HEADER] literal with a line break before
    // its ")". A line end outside a literal ends a response (RFC 9051 4.3), and framing by
    // parenthesis depth would let any unbalanced "(" in status text swallow the session, so
    // the FETCH is delivered whole (as if closed at the line end) and the lone ")" line is
    // reported and skipped.
    (
        "gmail/headers.1+unsolicited-info.txt",
        "line break inside a FETCH list",
    ),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "txt") {
            out.push(p);
        }
    }
}

#[test]
fn corpus_parses() {
    // The corpus sits beside the main checkout; a git worktree one level deeper finds it by
    // walking up, and MAILBAG_CORPUS overrides both.
    let candidates = std::env::var_os("MAILBAG_CORPUS")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::iter::once(PathBuf::from(CORPUS)))
        .chain(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared/corpus/mailkit")),
        )
        .chain(std::iter::once(PathBuf::from(
            "/work/shared/corpus/mailkit",
        )));
    let Some(root) = candidates.map(|c| c.join("imap")).find(|c| c.is_dir()) else {
        eprintln!("corpus not found (looked from {CORPUS}); skipping");
        return;
    };
    let mut all = Vec::new();
    files(&root, &mut all);
    all.sort();
    let (mut clean, mut allowed, mut failed) = (0, 0, Vec::new());
    for path in &all {
        let raw = std::fs::read(path).unwrap_or_default();
        let mut input = Vec::with_capacity(raw.len() + raw.len() / 16);
        for &b in &raw {
            if b == b'\n' {
                input.push(b'\r');
            }
            input.push(b);
        }
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let greeting = rel.contains("greeting");
        let events = imap_common::parse_all_ways(&input, greeting);
        for e in &events {
            let text = format!("{e:?}");
            if std::env::var_os("MAILBAG_CORPUS_VERBOSE").is_some()
                && (text.contains("Other") || text.contains("Rfc5530"))
            {
                eprintln!("{rel}: {}", text.chars().take(300).collect::<String>());
            }
        }
        // The same replies with every body literal over 16 bytes streamed must not fail
        // where the buffered run did not.
        let limits = mailbag_proto::imap::parse::Limits {
            stream_threshold: 16,
            ..Default::default()
        };
        let streamed = imap_common::parse_all_ways_with(&input, greeting, &limits);
        let streamed_errors = streamed
            .iter()
            .filter(|e| matches!(e, Event::Error(_)))
            .count();
        let errors: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Error(e) => Some(e.to_string()),
                _ => None,
            })
            .collect();
        if streamed_errors > errors.len() {
            failed.push(format!(
                "{rel}: {streamed_errors} errors when streaming bodies"
            ));
        } else if errors.is_empty() {
            clean += 1;
        } else if ALLOWED.iter().any(|(f, _)| *f == rel) {
            allowed += 1;
        } else {
            failed.push(format!("{rel}: {}", errors.join(" | ")));
        }
    }
    eprintln!(
        "corpus: {} files, {clean} clean, {allowed} allowed failures",
        all.len()
    );
    assert!(
        failed.is_empty(),
        "{} files failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
