//! Sequence sets (RFC 9051 `sequence-set`): parsing arbitrary text never panics; what parses
//! reads back the same from its display; normalising is idempotent, keeps every number, and
//! leaves sorted, disjoint, non-touching ranges.
#![no_main]

use std::num::NonZeroU32;

use libfuzzer_sys::fuzz_target;
use mailbag_proto::imap::types::Bound;
use mailbag_proto::imap::{SequenceSet, Uid};

fn key(b: Bound<Uid>) -> u64 {
    match b {
        Bound::Value(v) => u64::from(v.get()),
        Bound::Star => u64::from(u32::MAX) + 1,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = text.parse::<SequenceSet<Uid>>() else {
        return;
    };
    assert!(!set.is_empty());
    let shown = set.to_string();
    let again: SequenceSet<Uid> = shown.parse().expect("display of a parsed set must parse");
    assert_eq!(again, set, "{text:?} -> {shown:?}");

    let mut norm = set.clone();
    norm.normalize();
    let mut twice = norm.clone();
    twice.normalize();
    assert_eq!(twice, norm, "normalize not idempotent for {text:?}");
    let reparsed: SequenceSet<Uid> = norm.to_string().parse().expect("normalised set parses");
    assert_eq!(reparsed, norm);
    for w in norm.ranges().windows(2) {
        assert!(key(w[0].last) + 1 < key(w[1].first), "{norm:?} not merged");
    }
    for r in norm.ranges().iter().chain(set.ranges()) {
        assert!(key(r.first) <= key(r.last));
    }

    // Same membership before and after normalising, with `*` at least every number the set
    // names (normalising takes `*` as the largest number, as `SequenceSet::normalize` says).
    let mut probes: Vec<u32> = vec![1, 2, u32::MAX - 1, u32::MAX];
    let mut top = 1u32;
    for r in set.ranges() {
        for b in [r.first, r.last] {
            if let Bound::Value(v) = b {
                let v = v.get();
                top = top.max(v);
                probes.extend([v.saturating_sub(1), v, v.saturating_add(1)]);
            }
        }
    }
    probes.truncate(64);
    for largest in [top, top.saturating_add(1), u32::MAX] {
        let largest = Uid::from(NonZeroU32::new(largest).unwrap());
        for &p in &probes {
            let Some(n) = NonZeroU32::new(p) else {
                continue;
            };
            let n = Uid::from(n);
            assert_eq!(
                set.contains(n, largest),
                norm.contains(n, largest),
                "{p} in {set:?} vs {norm:?} (largest {largest:?})"
            );
        }
    }
});
