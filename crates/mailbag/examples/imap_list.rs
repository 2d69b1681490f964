//! Lists the folders with their attributes.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

mod common;

use mailbag::Error;

use common::login;

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
