//! The IMAP limit: logs in, selects, sends `UID FETCH 1:* BODY.PEEK[]` (all commands
//! pipelined in one write) and discards every byte, counting literal bytes and messages.
//!
//! raw-imap plain|tls PORT USER FOLDER [CA_FILE] [--check] [--maildir DIR]
//! With --check it only logs in and selects (the "anything new?" floor of case B4) and
//! prints the UIDNEXT it saw.
//! With --maildir it is the limit of a client that stores the mail: each message goes to its
//! own file as mailbag's Maildir writer does it (created in DIR/tmp, written as received; every
//! 256 messages and at the end each file is fsync'd and renamed into DIR/new, and DIR/new is
//! fsync'd), and nothing else: no parsing, no state, no checks.
//! Prints: `messages=N bytes=B round_trips=R`.
use std::io::{Read, Write};
use std::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let maildir = args
        .iter()
        .position(|a| a == "--maildir")
        .map(|i| std::path::PathBuf::from(&args[i + 1]));
    let args: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            *a != "--check" && *a != "--maildir" && (*i == 0 || args[i - 1] != "--maildir")
        })
        .map(|(_, a)| a)
        .collect();
    let mut store = maildir.map(mailbag_bench_peers::MaildirSink::new);
    let (mode, port, user, folder) = (args[0].as_str(), args[1], args[2], args[3]);
    let tcp = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut stream: Box<dyn ReadWrite> = match mode {
        "plain" => Box::new(tcp),
        "tls" => {
            let config = mailbag_bench_peers::tls_config(args[4]);
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(config, name).unwrap();
            Box::new(Tls {
                conn,
                tcp,
                inbuf: vec![0; 1 << 18],
                start: 0,
                end: 0,
            })
        }
        _ => panic!("mode must be plain or tls"),
    };
    let pw = mailbag_bench_peers::password();
    let mut cmds = format!(
        "a LOGIN {} {}\r\nb SELECT {}\r\n",
        mailbag_bench_peers::quote(user),
        mailbag_bench_peers::quote(&pw),
        mailbag_bench_peers::quote(folder)
    );
    if !check {
        cmds.push_str("f UID FETCH 1:* BODY.PEEK[]\r\n");
    }
    cmds.push_str("z LOGOUT\r\n");

    let mut buf = vec![0u8; 1 << 18];
    let (mut start, mut end) = (0usize, 0usize);
    let mut skip: usize = 0;
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut greeted = false;
    let mut uidnext = String::new();
    loop {
        if skip > 0 {
            let take = skip.min(end - start);
            if let Some(st) = store.as_mut() {
                st.write(&buf[start..start + take]);
            }
            start += take;
            skip -= take;
            if skip == 0 {
                if let Some(st) = store.as_mut() {
                    st.finish();
                }
            }
        }
        if skip == 0 {
            if let Some(i) = buf[start..end].iter().position(|&b| b == b'\n') {
                let line = &buf[start..start + i + 1];
                start += i + 1;
                if !greeted {
                    greeted = true;
                    // The greeting is in: send everything at once (one round trip).
                    stream.write_all(cmds.as_bytes()).unwrap();
                    stream.flush().unwrap();
                    continue;
                }
                if line.ends_with(b"}\r\n") && line.starts_with(b"* ") {
                    let open = line.iter().rposition(|&b| b == b'{').unwrap();
                    let n: usize = std::str::from_utf8(&line[open + 1..line.len() - 3])
                        .unwrap()
                        .parse()
                        .unwrap();
                    skip = n;
                    bytes += n as u64;
                    messages += 1;
                    if let Some(st) = store.as_mut() {
                        st.begin();
                        if n == 0 {
                            st.finish();
                        }
                    }
                    continue;
                }
                if let Some(p) = find(line, b"[UIDNEXT ") {
                    let rest = &line[p + 9..];
                    let e = rest.iter().position(|&b| b == b']').unwrap();
                    uidnext = String::from_utf8_lossy(&rest[..e]).into_owned();
                }
                for tag in [&b"a "[..], b"b ", b"f "] {
                    if line.starts_with(tag) && !line[2..].starts_with(b"OK") {
                        panic!("command failed: {}", String::from_utf8_lossy(line));
                    }
                }
                if line.starts_with(b"z ") {
                    break;
                }
                continue;
            }
        } else {
            start = 0;
            end = 0;
        }
        if start == end {
            start = 0;
            end = 0;
        } else if end == buf.len() {
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            } else {
                buf.resize(buf.len() * 2, 0);
            }
        }
        let n = stream.read(&mut buf[end..]).unwrap();
        if n == 0 {
            break;
        }
        end += n;
    }
    if let Some(st) = store.as_mut() {
        st.sync();
    }
    if check {
        println!("messages=0 bytes=0 round_trips=1 uidnext={uidnext}");
    } else {
        println!("messages={messages} bytes={bytes} round_trips=1");
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// rustls driven by hand: one large socket read feeds many TLS records, and each `read`
/// returns as much plaintext as fits (rustls' `StreamOwned` decrypts a few KB per call, which
/// costs a syscall per few KB and made the "limit" slower than async-imap over TLS).
struct Tls {
    conn: rustls::ClientConnection,
    tcp: TcpStream,
    inbuf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Tls {
    fn flush_tls(&mut self) -> std::io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.tcp)?;
        }
        Ok(())
    }
}

impl Read for Tls {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        loop {
            loop {
                if filled == out.len() {
                    return Ok(filled);
                }
                match self.conn.reader().read(&mut out[filled..]) {
                    Ok(0) => return Ok(filled), // close_notify
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if self.start < self.end {
                let mut pending = &self.inbuf[self.start..self.end];
                self.start += self.conn.read_tls(&mut pending)?;
                self.conn
                    .process_new_packets()
                    .map_err(std::io::Error::other)?;
                self.flush_tls()?;
                continue;
            }
            if filled > 0 {
                return Ok(filled);
            }
            self.flush_tls()?;
            let n = self.tcp.read(&mut self.inbuf)?;
            if n == 0 {
                return Ok(0);
            }
            self.start = 0;
            self.end = n;
        }
    }
}

impl Write for Tls {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = self.conn.writer().write(data)?;
        self.flush_tls()?;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_tls()
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}
