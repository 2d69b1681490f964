//! Downloads a folder (3rd argument, default INBOX) to an mbox file (4th, default out.mbox)
//! without marking anything seen (EXAMINE and BODY.PEEK), streaming each message.
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

use mailbag::imap::{FetchAttribute, FetchEvent, MessageSet, SequenceSet, Uid};
use tokio::io::AsyncWriteExt;

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
