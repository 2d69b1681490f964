//! Lists the attachments of every message in a folder from the messages' BODYSTRUCTURE (no
//! message is downloaded for it); with `--save DIR`, saves each one there as
//! `UID-SECTION-NAME`, fetched alone and decoded by the server (BINARY.PEEK, RFC 3516) when it
//! offers BINARY, else as sent (still in its transfer encoding). Folder: 3rd argument or INBOX.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [FOLDER] [--save DIR] [--ca-file PATH]
//! [--starttls] (password from the environment variable MAILBAG_PASSWORD).

mod common;

use std::path::PathBuf;

use mailbag::imap::{Capability, FetchAttribute, MessageSet, Part, SequenceSet, Uid};
use mailbag::proto::imap::types::Section;
use mailbag::Error;

use common::login;

/// The attachment's name: the disposition's `filename`, else the type's `name`.
fn name_of(part: &Part) -> Option<String> {
    let name = part
        .disposition()
        .and_then(|d| d.param("filename"))
        .or_else(|| part.param("name"))?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// Whether the part is an attachment: a single part with `Content-Disposition: attachment`
/// or a name.
fn is_attachment(part: &Part) -> bool {
    !part.is_multipart()
        && (part
            .disposition()
            .is_some_and(|d| d.kind.eq_ignore_ascii_case("attachment"))
            || name_of(part).is_some())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let c = login().await?;
    let args: Vec<String> = std::env::args().collect();
    let folder = args
        .get(3)
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "INBOX".into());
    let save: Option<PathBuf> = args
        .iter()
        .position(|a| a == "--save")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let binary = c.capabilities().contains(&Capability::Binary);
    c.examine(&folder).await?;
    let all = MessageSet::Uid(SequenceSet::from_to_end(
        Uid::try_from(1).map_err(|_| Error::misuse("uid"))?,
    ));
    let messages = c
        .fetch_collect(
            all,
            vec![FetchAttribute::Uid, FetchAttribute::BodyStructure],
        )
        .await?;
    for m in &messages {
        let (Some(uid), Some(structure)) = (m.uid(), m.body_structure()) else {
            continue;
        };
        for (section, part) in structure.sections() {
            if section.is_empty() || !is_attachment(&part) {
                continue;
            }
            let number: Vec<String> = section.iter().map(u32::to_string).collect();
            let number = number.join(".");
            let name = name_of(&part).unwrap_or_else(|| "unnamed".into());
            println!(
                "{uid} {number} {}/{} {} bytes {name}",
                part.media_type().to_ascii_lowercase(),
                part.subtype().to_ascii_lowercase(),
                part.size()
            );
            let Some(dir) = &save else { continue };
            // Only this part is fetched. The name comes from the server: keep its last
            // path component only.
            let safe = name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("unnamed")
                .to_owned();
            let path = dir.join(format!("{uid}-{number}-{safe}"));
            let one = MessageSet::Uid(SequenceSet::from_numbers([uid]));
            let item = if binary {
                FetchAttribute::Binary {
                    part: section.clone(),
                    partial: None,
                    peek: true,
                }
            } else {
                FetchAttribute::BodySection {
                    section: Section {
                        part: section.clone(),
                        text: None,
                    },
                    partial: None,
                    peek: true,
                }
            };
            let got = c
                .fetch_collect(one, vec![FetchAttribute::Uid, item])
                .await?;
            let data = got.iter().find_map(|m| {
                if binary {
                    m.binary(&section)
                } else {
                    m.section(&Section {
                        part: section.clone(),
                        text: None,
                    })
                }
            });
            let data = data.map(|d| d.as_ref()).unwrap_or_default();
            std::fs::write(&path, data)?;
            println!("saved {} ({} bytes)", path.display(), data.len());
        }
    }
    c.logout().await
}
