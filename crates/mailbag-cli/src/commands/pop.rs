//! The POP3 commands: `mailbag pop stat|list|uidl|top|retr|dele`, and `capabilities` and
//! `login` for POP3 sources.

use mailbag::pop3::{ConnectOptions, LoginMethod, Mechanism, MessageNumber, Pop3Client};
use serde_json::json;

use super::context::Target;
use crate::cli::PopCommand;
use crate::error::CliError;
use crate::output::Output;
use crate::source::Protocol;
use crate::Result;

/// Connects (TLS as the target says) without logging in.
pub async fn connect(target: &Target) -> Result<Pop3Client> {
    target.expect(Protocol::Pop3, "pop")?;
    let mut options = ConnectOptions::new(target.source.host.clone(), target.security());
    options.port = target.source.port;
    options.ca_file = target.ca_file.clone();
    options.timeouts = target.timeouts;
    Pop3Client::connect(options)
        .await
        .map_err(|e| target.error(e))
}

/// Connects and logs in (with the mechanism the URL names, or the best one offered).
pub async fn login(target: &Target) -> Result<Pop3Client> {
    let user = target.user()?;
    let password = target.password()?;
    let mut client = connect(target).await?;
    let method = match target.source.auth.as_deref() {
        None | Some("*") => LoginMethod::Auto,
        Some("+APOP") | Some("APOP") => LoginMethod::Apop,
        Some("USER") => LoginMethod::UserPass,
        Some(name) => match Mechanism::from_name(name) {
            Some(m) => LoginMethod::Sasl(m),
            None => {
                return Err(CliError::usage(format!(
                    "unknown authentication mechanism {name:?} in the URL"
                )))
            }
        },
    };
    client
        .login(&user, &password, method)
        .await
        .map_err(|e| target.error(e))?;
    Ok(client)
}

/// `mailbag capabilities` for POP3: the CAPA list.
pub async fn capabilities(target: &Target, out: Output) -> Result<()> {
    let client = connect(target).await?;
    let lines: Vec<String> = match client.capabilities() {
        Some(caps) => caps
            .entries
            .iter()
            .map(|(tag, args)| {
                std::iter::once(tag.as_str())
                    .chain(args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
        None => Vec::new(),
    };
    if lines.is_empty() {
        out.note("the server does not answer CAPA (RFC 2449)");
    }
    for line in &lines {
        out.emit(|| line.clone(), || json!({ "capability": line }))?;
    }
    client.disconnect().await.map_err(|e| target.error(e))
}

/// `mailbag login` for POP3.
pub async fn check_login(target: &Target, out: Output) -> Result<()> {
    let client = login(target).await?;
    client.disconnect().await.map_err(|e| target.error(e))?;
    out.emit(|| "ok".to_owned(), || json!({ "login": "ok" }))
}

fn number(n: u32) -> Result<MessageNumber> {
    if n == 0 {
        return Err(CliError::usage("message numbers start at 1"));
    }
    Ok(n)
}

/// `mailbag pop ...`.
pub async fn run(target: &Target, command: &PopCommand, out: Output) -> Result<()> {
    let mut client = login(target).await?;
    let err = |e| target.error(e);
    match command {
        PopCommand::Stat { .. } => {
            let stat = client.stat().await.map_err(err)?;
            out.emit(
                || format!("{} messages, {} bytes", stat.count, stat.size),
                || json!({ "count": stat.count, "size": stat.size }),
            )?;
        }
        PopCommand::List { .. } => {
            for e in client.list().await.map_err(err)? {
                out.emit(
                    || format!("{} {}", e.number, e.size),
                    || json!({ "number": e.number, "size": e.size }),
                )?;
            }
        }
        PopCommand::Uidl { .. } => {
            for e in client.uidl().await.map_err(err)? {
                out.emit(
                    || format!("{} {}", e.number, e.uid),
                    || json!({ "number": e.number, "uidl": e.uid }),
                )?;
            }
        }
        PopCommand::Top { n, lines, .. } => {
            let bytes = client.top_to_vec(number(*n)?, *lines).await.map_err(err)?;
            out.raw(&bytes)?;
        }
        PopCommand::Retr { n, .. } => {
            let mut reader = client.retr(number(*n)?).await.map_err(err)?;
            while let Some(chunk) = reader.next_chunk().await.map_err(err)? {
                out.raw(&chunk)?;
            }
        }
        PopCommand::Dele { n, .. } => {
            for &k in n {
                client.dele(number(k)?).await.map_err(err)?;
            }
            // Deletion happens at QUIT: report only once the server confirmed it.
            client.quit().await.map_err(err)?;
            for &k in n {
                out.emit(
                    || format!("deleted {k}"),
                    || json!({ "number": k, "deleted": true }),
                )?;
            }
            return Ok(());
        }
    }
    client.disconnect().await.map_err(err)?;
    Ok(())
}
