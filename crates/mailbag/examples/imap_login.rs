//! Logs in, asking for the password again (on stdin) while the server says it is wrong.
//! Usage: cargo run --example NAME -- HOST[:PORT] USER [--ca-file PATH] [--starttls]
//! (password from the environment variable MAILBAG_PASSWORD).

mod common;

use mailbag::Error;

use common::connect;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (c, user) = connect().await?;
    let mut password = std::env::var("MAILBAG_PASSWORD").unwrap_or_default();
    loop {
        match c.login(&user, &password).await {
            Ok(()) => break,
            Err(Error::Auth { text, .. }) => {
                eprintln!("login failed: {text}; password for {user}:");
                // A blocking read is fine here: nothing else runs meanwhile.
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                password = line.trim_end().to_owned();
            }
            Err(e) => return Err(e),
        }
    }
    println!("logged in as {user}");
    c.logout().await
}
