//! Prints the server's capabilities, before and after login.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

mod common;

use mailbag::Error;

use common::connect;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (c, user) = connect().await?;
    println!("before login: {:?}", c.capabilities());
    let password = std::env::var("MAILBAG_PASSWORD").unwrap_or_default();
    c.login(&user, &password).await?;
    println!("after login: {:?}", c.capabilities());
    c.logout().await
}
