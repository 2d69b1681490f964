//! IDLE on INBOX, printing the UID and subject of each new message as it arrives.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

use mailbag::imap::{ConnectOptions, ImapClient};
use mailbag::{Error, Security};

/// Parses the arguments and connects.
async fn connect() -> Result<(ImapClient, String), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args.first().cloned().unwrap_or_else(|| "localhost".into());
    let user = args.get(1).cloned().unwrap_or_default();
    let starttls = args.iter().any(|a| a == "--starttls");
    let security = if starttls {
        Security::StartTls
    } else {
        Security::Implicit
    };
    let (host, port) = match target.rsplit_once(":") {
        Some((h, p)) => (h.to_owned(), p.parse().ok()),
        None => (target.clone(), None),
    };
    let mut o = ConnectOptions::new(host, security);
    if let Some(p) = port {
        o = o.port(p);
    }
    if let Some(i) = args.iter().position(|a| a == "--ca-file") {
        if let Some(path) = args.get(i + 1) {
            o = o.ca_file(path);
        }
    }
    Ok((ImapClient::connect(o).await?, user))
}

async fn login() -> Result<ImapClient, Error> {
    let (c, user) = connect().await?;
    let password = std::env::var("MAILBAG_PASSWORD").unwrap_or_default();
    c.login(&user, &password).await?;
    Ok(c)
}

use mailbag::imap::{FetchAttribute, ImapEvent, MessageSet, Notification, SequenceSet, Uid};

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
