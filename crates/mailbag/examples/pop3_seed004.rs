//! Seed 004's poplib program in Rust: log in, STAT, the headers (TOP n 0) of every message,
//! LIST, RETR of the first message, QUIT, over implicit TLS.
//!
//! ```text
//! MAILBAG_PASSWORD=secret cargo run --example pop3_seed004 -- HOST PORT USER [--ca-file FILE]
//! ```
//!
//! Exit codes: 0 success (also when the output pipe closes early), 1 a mail or network
//! error (printed once), 2 bad arguments.

use std::io::Write as _;
use std::process::ExitCode;

use mailbag::pop3::{ConnectOptions, LoginMethod, Pop3Client, RetrEvent};
use mailbag::proto::Secret;
use mailbag::Security;

struct Args {
    host: String,
    port: u16,
    user: String,
    ca_file: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut ca_file = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--ca-file" => ca_file = Some(it.next().ok_or("--ca-file needs a path")?),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => positional.push(a),
        }
    }
    let [host, port, user] = <[String; 3]>::try_from(positional)
        .map_err(|_| "usage: pop3_seed004 HOST PORT USER [--ca-file FILE]".to_owned())?;
    let port = port.parse().map_err(|_| format!("bad port {port}"))?;
    Ok(Args {
        host,
        port,
        user,
        ca_file,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let Ok(password) = std::env::var("MAILBAG_PASSWORD") else {
        eprintln!("set MAILBAG_PASSWORD to the password");
        return ExitCode::from(2);
    };
    match run(args, Secret::new(password)).await {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error.
        Err(mailbag::Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args, password: Secret<String>) -> Result<(), mailbag::Error> {
    let mut options = ConnectOptions::new(args.host, Security::Implicit).port(args.port);
    options.ca_file = args.ca_file.map(Into::into);
    let mut out = std::io::stdout().lock();
    let mut pop = Pop3Client::connect(options).await?;
    if let Some(g) = pop.greeting() {
        writeln!(out, "greeting: {}", g.text)?;
    }
    pop.login(&args.user, &password, LoginMethod::Auto).await?;

    // pp.stat(): number of messages and total size.
    let stat = pop.stat().await?;
    writeln!(out, "({}, {})", stat.count, stat.size)?;

    // The headers of every message: TOP n 0 gives the header and the blank line after it.
    // One batch: with PIPELINING the whole maildrop's headers take one round trip.
    let numbers: Vec<u32> = (1..=stat.count).collect();
    let mut lines = 0usize;
    let mut report = Vec::new();
    pop.top_many(&numbers, 0, |event| {
        match event {
            RetrEvent::Chunk(_, bytes) => lines += bytes.iter().filter(|&&b| b == b'\n').count(),
            RetrEvent::End(n) => {
                report.push(format!(
                    "message {n}: {} header lines",
                    lines.saturating_sub(1)
                ));
                lines = 0;
            }
            RetrEvent::Refused(n, e) => report.push(format!("message {n}: {e}")),
        }
        Ok(())
    })
    .await?;
    for line in report {
        writeln!(out, "{line}")?;
    }

    // pp.list(): number and size of each message.
    for entry in pop.list().await? {
        writeln!(out, "{} {}", entry.number, entry.size)?;
    }

    // pp.retr(1): the whole first message, printed line by line.
    if stat.count > 0 {
        let message = pop.retr_to_vec(1).await?;
        let lines: Vec<&[u8]> = message.split(|&b| b == b'\n').collect();
        writeln!(out, "lines: {}", lines.len().saturating_sub(1))?;
        for line in lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            writeln!(out, "{}", String::from_utf8_lossy(line))?;
        }
    }

    pop.quit().await?;
    Ok(())
}
