//! What the IMAP examples share: their first arguments, `HOST[:PORT] USER [--ca-file PATH]
//! [--starttls]`, connecting with them (implicit TLS unless `--starttls`; the port defaults
//! to the protocol's), and logging in with the password from MAILBAG_PASSWORD.

use mailbag::imap::{ConnectOptions, ImapClient};
use mailbag::{Error, Security};

/// Parses the arguments and connects; returns the client (not logged in) and the user name.
pub async fn connect() -> Result<(ImapClient, String), Error> {
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

/// [`connect`], then LOGIN with the password from MAILBAG_PASSWORD.
// Two examples log in their own way (before and after, or asking again).
#[allow(dead_code)]
pub async fn login() -> Result<ImapClient, Error> {
    let (c, user) = connect().await?;
    let password = std::env::var("MAILBAG_PASSWORD").unwrap_or_default();
    c.login(&user, &password).await?;
    Ok(c)
}
