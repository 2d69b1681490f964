//! IDLE on INBOX, printing the UID and subject of each new message as it arrives.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

mod common;

use mailbag::imap::{FetchAttribute, ImapEvent, MessageSet, Notification, SequenceSet, Uid};
use mailbag::Error;

use common::login;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let c = login().await?;
    let mut events = c.notifications().ok_or_else(|| Error::misuse("taken"))?;
    let s = c.select("INBOX").await?;
    let mut next = s
        .uid_next
        .map(|u| u32::from(std::num::NonZeroU32::from(u)))
        .unwrap_or(1);
    c.idle(true).await?;
    while let Some(event) = events.next().await {
        match event {
            ImapEvent::Server(Notification::Exists(_)) => {
                let Ok(first) = Uid::try_from(next) else {
                    continue;
                };
                let set = MessageSet::Uid(SequenceSet::from_to_end(first));
                for m in c
                    .fetch_collect(set, vec![FetchAttribute::Uid, FetchAttribute::Envelope])
                    .await?
                {
                    let Some(uid) = m.uid().filter(|u| *u >= first) else {
                        continue;
                    };
                    let subject = m.envelope().and_then(|e| e.subject()).unwrap_or_default();
                    println!("{uid} {}", String::from_utf8_lossy(subject));
                    next = u32::from(std::num::NonZeroU32::from(uid)).saturating_add(1);
                }
            }
            ImapEvent::ConnectionLost { detail } => return Err(Error::ConnectionLost { detail }),
            _ => {}
        }
    }
    Ok(())
}
