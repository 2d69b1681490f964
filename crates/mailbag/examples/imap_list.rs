//! Lists the folders with their attributes.
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

#[tokio::main]
async fn main() -> Result<(), Error> {
    let c = login().await?;
    for item in c.list("", "*").await? {
        println!(
            "{:?} {:?} {}",
            item.attributes,
            item.delimiter,
            item.mailbox.name()
        );
    }
    c.logout().await
}
