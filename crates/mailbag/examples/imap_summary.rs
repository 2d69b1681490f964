//! Prints a folder's summary (EXAMINE: nothing changes). Folder: 3rd argument or INBOX.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

mod common;

use mailbag::Error;

use common::login;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let c = login().await?;
    let folder = std::env::args()
        .nth(3)
        .filter(|a| !a.starts_with("--"))
        .unwrap_or_else(|| "INBOX".into());
    let s = c.examine(&folder).await?;
    println!(
        "{folder}: {} messages, {} recent, UIDVALIDITY {:?}, UIDNEXT {:?}",
        s.exists, s.recent, s.uid_validity, s.uid_next
    );
    println!(
        "flags {:?}; permanent {:?}; first unseen {:?}",
        s.flags, s.permanent_flags, s.first_unseen
    );
    c.logout().await
}
