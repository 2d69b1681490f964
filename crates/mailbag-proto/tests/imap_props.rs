//! Property tests: encode-then-parse round trips, and the parser fed arbitrary bytes.

mod imap_common;

use mailbag_proto::imap::parse::{Limits, ResponseParser};
use mailbag_proto::imap::types::{SequenceSet, Uid};
use mailbag_proto::imap::utf7;
use proptest::prelude::*;

proptest! {
    #[test]
    fn sequence_set_round_trip(nums in proptest::collection::vec(1u32..5000, 1..200)) {
        let set: SequenceSet<Uid> = nums.iter().filter_map(|&n| Uid::new(n)).collect();
        let text = set.to_string();
        let back: SequenceSet<Uid> = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&back, &set);
        let largest = Uid::new(5000).unwrap_or_else(|| unreachable!());
        let mut want: Vec<u32> = nums.clone();
        want.sort_unstable();
        want.dedup();
        let got: Vec<u32> = back.iter(largest).map(Uid::get).collect();
        prop_assert_eq!(got, want);
        for n in 1..60u32 {
            let u = Uid::new(n).unwrap_or(largest);
            prop_assert_eq!(back.contains(u, largest), nums.contains(&n));
        }
    }

    #[test]
    fn utf7_round_trip(name in "\\PC*") {
        let enc = utf7::encode(&name);
        prop_assert!(enc.bytes().all(|b| (0x20..0x7f).contains(&b)));
        prop_assert_eq!(utf7::decode(enc.as_bytes()).ok(), Some(name));
    }

    #[test]
    fn utf7_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = utf7::decode(&bytes);
    }

    #[test]
    fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), split in 1usize..64) {
        let limits = Limits { max_line_len: 256, max_literal_size: 64, stream_threshold: 16, max_depth: 8, max_items: 32, ..Limits::default() };
        let mut p = ResponseParser::with_limits(limits);
        for chunk in bytes.chunks(split) {
            p.feed(chunk);
            while p.next_event().is_some() {}
        }
    }

    #[test]
    fn feed_bytes_agrees_with_feed(bytes in proptest::collection::vec(any::<u8>(), 0..512), split in 1usize..64) {
        // Arbitrary bytes with small limits (so errors, skips and streaming all happen):
        // handing them over as `Bytes`, or mixed, gives what copying them gives.
        let limits = Limits { max_line_len: 256, max_literal_size: 64, stream_threshold: 16, max_depth: 8, max_items: 32, ..Limits::default() };
        let chunks: Vec<&[u8]> = bytes.chunks(split).collect();
        for greeting in [false, true] {
            let copied = imap_common::run_fed(&chunks, greeting, &limits, imap_common::Feed::Copy);
            prop_assert_eq!(&imap_common::run_fed(&chunks, greeting, &limits, imap_common::Feed::Shared), &copied);
            prop_assert_eq!(&imap_common::run_fed(&chunks, greeting, &limits, imap_common::Feed::Mixed), &copied);
        }
    }

    #[test]
    fn parser_survives_mutated_responses(pos in 0usize..400, byte in any::<u8>(), which in 0usize..6) {
        // Responses from the corpus's shapes with one byte changed: no panic, and byte-by-byte
        // feeding agrees with whole feeding.
        let samples: [&[u8]; 6] = [
            b"* 1 FETCH (UID 3 FLAGS (\\Seen) BODY[] {5}\r\nhello MODSEQ (4))\r\n",
            b"* LIST (\\HasNoChildren) \"/\" \"INBOX/Sub\"\r\n",
            b"* OK [PERMANENTFLAGS (\\Seen \\*)] Flags\r\nA1 OK done\r\n",
            b"* 2 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)(\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 9) \"MIXED\"))\r\n",
            b"* ESEARCH (TAG \"A1\") UID ALL 1:3,5 COUNT 4\r\n",
            b"* 3 FETCH (ENVELOPE (\"d\" \"s\" ((\"n\" NIL \"m\" \"h\")) NIL NIL NIL NIL NIL NIL \"<id>\"))\r\n",
        ];
        let mut input = samples[which].to_vec();
        if let Some(b) = input.get_mut(pos % samples[which].len()) {
            *b = byte;
        }
        imap_common::parse_all_ways(&input, false);
        // Again with every body literal over 2 bytes streamed.
        let limits = Limits { stream_threshold: 2, ..Limits::default() };
        imap_common::parse_all_ways_with(&input, false, &limits);
    }
}
