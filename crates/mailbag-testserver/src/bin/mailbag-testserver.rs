//! `mailbag-testserver`: runs the private test Dovecot for scripts (the demo, benchmarks).
//!
//! ```text
//! mailbag-testserver [--messages N] [--size BYTES] [--user NAME] [--password PW]
//! ```
//! Starts the server, creates the user, fills INBOX with N generated messages, then prints
//! `KEY=VALUE` lines (IMAP_PORT, IMAPS_PORT, POP3_PORT, POP3S_PORT, CA_FILE, DIR, USER,
//! PASSWORD) and a line `READY`. It then reads commands on standard input, one per line:
//! `deliver [FOLDER]` delivers one generated message (answers `delivered`), `fill FOLDER N
//! SIZE` writes N messages, `quit` (or end of input) stops the server and removes its
//! directory.
#![forbid(unsafe_code)]

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use mailbag_testserver::{messages, Dovecot};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailbag-testserver: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut count = 0usize;
    let mut size = 4_000usize;
    let mut user = String::from("demo");
    let mut password = String::from("demo-password");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--messages" => count = value()?.parse()?,
            "--size" => size = value()?.parse()?,
            "--user" => user = value()?,
            "--password" => password = value()?,
            "-h" | "--help" => {
                println!(
                    "usage: mailbag-testserver [--messages N] [--size BYTES] [--user NAME] [--password PW]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let server = Dovecot::start()?;
    let user = server.add_user(&user, &password)?;
    server.fill(&user, "INBOX", &messages::generate(count, size))?;

    let ports = server.ports();
    let mut out = io::stdout().lock();
    writeln!(out, "IMAP_PORT={}", ports.imap)?;
    writeln!(out, "IMAPS_PORT={}", ports.imaps)?;
    writeln!(out, "POP3_PORT={}", ports.pop3)?;
    writeln!(out, "POP3S_PORT={}", ports.pop3s)?;
    writeln!(out, "CA_FILE={}", server.ca_file().display())?;
    writeln!(out, "DIR={}", server.dir().display())?;
    writeln!(out, "USER={}", user.name)?;
    writeln!(out, "PASSWORD={}", user.password)?;
    writeln!(out, "READY")?;
    out.flush()?;
    drop(out);

    let mut delivered = count;
    for line in io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["deliver"] | ["deliver", _] => {
                let folder = words.get(1).copied().unwrap_or("INBOX");
                server.deliver(&user, folder, &messages::message(delivered, size))?;
                delivered += 1;
                println!("delivered");
            }
            ["fill", folder, n, bytes] => {
                let n: usize = n.parse()?;
                let bytes: usize = bytes.parse()?;
                let batch: Vec<Vec<u8>> = (delivered..delivered + n)
                    .map(|i| messages::message(i, bytes))
                    .collect();
                server.fill(&user, folder, &batch)?;
                delivered += n;
                println!("filled");
            }
            ["quit"] => break,
            [] => {}
            _ => eprintln!("mailbag-testserver: unknown command {line:?}"),
        }
        io::stdout().flush()?;
    }
    drop(server);
    Ok(())
}
