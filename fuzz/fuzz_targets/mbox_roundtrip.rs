//! mboxrd round trip: messages (the input split at 0xFF bytes) written as the store writes
//! them (`from_line`, the message through `Quoter` in chunks cut anywhere, then `\n`) and
//! read back with `Reader` (through a small read buffer) give back each separator line and
//! each message's exact bytes; quoting is the same however the message is cut.
#![no_main]

use std::io::BufReader;
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use mailbag_fuzz::{random_split, Rng};
use mailbag_store::mboxrd::{from_line, Quoter, Reader};

fn quote(chunks: &[&[u8]], quoter: &mut Quoter) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        quoter.push(c, &mut out);
    }
    quoter.finish(&mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let messages: Vec<&[u8]> = data.split(|&b| b == 0xff).take(32).collect();
    let mut rng = Rng::from_input(data, 7);
    let mut file = Vec::new();
    let mut separators = Vec::new();
    // One quoter for the whole file, as the store keeps one per folder.
    let mut quoter = Quoter::new();
    for (i, msg) in messages.iter().enumerate() {
        // Senders: none, a plain address, or bytes of the message (spaces, controls, UTF-8).
        let sender = match rng.below(3) {
            0 => None,
            1 => Some("ann@example.org".to_string()),
            _ => Some(String::from_utf8_lossy(&msg[..msg.len().min(24)]).into_owned()),
        };
        let date = UNIX_EPOCH + Duration::from_secs(rng.next() % 8_000_000_000);
        let line = from_line(sender.as_deref(), date);
        assert!(line.starts_with(b"From ") && line.ends_with(b"\n"));
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1, "{line:?}");
        separators.push(line[..line.len() - 1].to_vec());
        file.extend_from_slice(&line);

        let whole = quote(&[msg], &mut Quoter::new());
        let chunks = random_split(msg, i as u64 + 3);
        let quoted = quote(&chunks, &mut quoter);
        assert_eq!(quoted, whole, "quoting depends on the chunking");
        let bytewise: Vec<&[u8]> = msg.chunks(1).collect();
        assert_eq!(quote(&bytewise, &mut Quoter::new()), whole);
        file.extend_from_slice(&quoted);
        file.push(b'\n');
    }

    let capacity = 1 + rng.below(64);
    let mut reader = Reader::new(BufReader::with_capacity(capacity, &file[..]));
    for (i, msg) in messages.iter().enumerate() {
        let (sep, body) = reader
            .read_message()
            .unwrap_or_else(|e| panic!("message {i}: {e}"))
            .unwrap_or_else(|| panic!("message {i} missing"));
        assert_eq!(sep, separators[i], "separator of message {i}");
        assert_eq!(&body[..], *msg, "message {i} changed");
    }
    assert!(reader.read_message().expect("clean end").is_none());

    // Reading arbitrary bytes as an mbox file must not panic.
    let mut reader = Reader::new(data);
    for _ in 0..64 {
        match reader.read_message() {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
});
