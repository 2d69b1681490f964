//! A small program on async-imap (tokio): logs in, selects, `UID FETCH 1:* BODY.PEEK[]`
//! and writes every body to DEST/UID.eml as it arrives.
//!
//! async-imap-fetch plain|tls PORT USER FOLDER DEST [CA_FILE]
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args[1].parse().unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    match args[0].as_str() {
        "plain" => run(tcp, &args).await,
        "tls" => {
            let config = mailbag_bench_peers::tls_config(&args[5]);
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .unwrap();
            run(tls, &args).await
        }
        _ => panic!("mode must be plain or tls"),
    }
}

async fn run<S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send>(
    stream: S,
    args: &[String],
) {
    let (user, folder, dest) = (&args[2], &args[3], std::path::Path::new(&args[4]));
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.unwrap().expect("greeting");
    let mut session = client
        .login(user, mailbag_bench_peers::password())
        .await
        .map_err(|e| e.0)
        .unwrap();
    session.select(folder).await.unwrap();
    let (mut messages, mut bytes) = (0u64, 0u64);
    {
        let mut fetches = session.uid_fetch("1:*", "BODY.PEEK[]").await.unwrap();
        while let Some(f) = fetches.next().await {
            let f = f.unwrap();
            if let Some(body) = f.body() {
                let uid = f.uid.unwrap();
                std::fs::write(dest.join(format!("{uid}.eml")), body).unwrap();
                messages += 1;
                bytes += body.len() as u64;
            }
        }
    }
    session.logout().await.unwrap();
    println!("messages={messages} bytes={bytes}");
}
