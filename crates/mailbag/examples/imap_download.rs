//! Downloads a folder (3rd argument, default INBOX) to an mbox file (4th, default out.mbox)
//! without marking anything seen (EXAMINE and BODY.PEEK), streaming each message.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

mod common;

use mailbag::imap::{FetchAttribute, FetchEvent, MessageSet, SequenceSet, Uid};
use mailbag::Error;
use tokio::io::AsyncWriteExt;

use common::login;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let c = login().await?;
    let rest: Vec<String> = std::env::args()
        .skip(3)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let folder = rest.first().cloned().unwrap_or_else(|| "INBOX".into());
    let path = rest.get(1).cloned().unwrap_or_else(|| "out.mbox".into());
    c.examine(&folder).await?;
    let mut out = tokio::io::BufWriter::new(tokio::fs::File::create(&path).await?);
    let all = MessageSet::Uid(SequenceSet::from_to_end(
        Uid::try_from(1).map_err(|_| Error::misuse("uid"))?,
    ));
    let peek = FetchAttribute::whole_message();
    let mut fetch = c.fetch(all, vec![FetchAttribute::Uid, peek]).await?;
    let mut count = 0;
    while let Some(event) = fetch.next().await {
        // mboxrd quoting is left out to keep the example short (mailbag-store does it).
        out.write_all(b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n")
            .await?;
        match event? {
            FetchEvent::Message(m) => {
                out.write_all(m.body().map(|b| b.as_ref()).unwrap_or_default())
                    .await?
            }
            FetchEvent::BodyStart { .. } => {
                fetch.copy_body_to(&mut out).await?;
            }
            _ => {}
        }
        out.write_all(b"\n").await?;
        count += 1;
    }
    out.flush().await?;
    println!("{count} messages written to {path}");
    c.logout().await
}
