//! Maildir layout, file names, and reconciliation of a Maildir with its state.
//!
//! A message is written to `tmp/<base>`, fsync'd, then renamed to `new/<base>`, or to
//! `cur/<base>:2,<flags>` when it has flags to record (the letters `D F R S T`, in that ASCII
//! order, for `\Draft \Flagged \Answered \Seen \Deleted`).
//!
//! `<base>` follows the usual unique-name rule, time then process then a counter then the host,
//! and carries the message's key so a file that reached `new/` or `cur/` before its record
//! reached the state can be recognised and adopted after a crash:
//!
//! ```text
//! 1763780167.M123456P4242Q7V1700000000U4711.host     IMAP: V<UIDVALIDITY>U<UID>
//! 1763780167.M123456P4242Q8L6162632d31.host          POP3: L<UIDL in lower-case hex>
//! ```
//!
//! Hex keeps any UIDL (RFC 1939 allows `/`, `:` and `.`) out of the name's syntax and bounds
//! the name at about 220 bytes. The host has `/` and `:` written `\057` and `\072`. The counter
//! is per process, so folders written in parallel threads never share a name.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{IoContext, Result};
use crate::fsutil;
use crate::meta::{Flags, MessageKey, Uidl};
use crate::state::State;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates the Maildir and its `cur`, `new` and `tmp` directories (0700) where missing.
pub(crate) fn create_layout(dir: &Path) -> Result<()> {
    for sub in ["cur", "new", "tmp"] {
        fsutil::create_dir(&dir.join(sub))?;
    }
    Ok(())
}

/// A fresh unique base name for a message with `key`, written into one allocation with room
/// for the `:2,<flags>` that [`delivered_name`] may add. Numbers are written with `itoa`, not
/// `core::fmt` (issue 8: formatting the name was 9 % of the client's instructions in a
/// 10,000-message download).
pub(crate) fn unique_base(key: &MessageKey, uid_validity: Option<u32>) -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    // The process id, read once (a getpid(2) per message otherwise).
    static PID: OnceLock<u32> = OnceLock::new();
    let host = HOST.get_or_init(fsutil::maildir_hostname);
    let pid = *PID.get_or_init(std::process::id);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let key_len = match key {
        MessageKey::Uid(_) => 22,
        MessageKey::Uidl(uidl) => 1 + 2 * uidl.as_str().len(),
    };
    let mut name = String::with_capacity(64 + key_len + host.len());
    let mut digits = itoa::Buffer::new();
    name.push_str(digits.format(now.as_secs()));
    name.push_str(".M");
    name.push_str(digits.format(now.subsec_micros()));
    name.push('P');
    name.push_str(digits.format(pid));
    name.push('Q');
    name.push_str(digits.format(counter));
    match key {
        MessageKey::Uid(uid) => {
            name.push('V');
            name.push_str(digits.format(uid_validity.unwrap_or(0)));
            name.push('U');
            name.push_str(digits.format(*uid));
        }
        MessageKey::Uidl(uidl) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            name.push('L');
            for b in uidl.as_str().bytes() {
                name.push(char::from(HEX[usize::from(b >> 4)]));
                name.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    name.push('.');
    name.push_str(host);
    name
}

/// The directory (`new` or `cur`) and file name a message with `flags` is delivered under:
/// `base` itself, or `base:2,<flags>`.
pub(crate) fn delivered_name(mut base: String, flags: Flags) -> (&'static str, String) {
    // Every flag Maildir records has a letter: no flag, no info.
    if flags == Flags::default() {
        ("new", base)
    } else {
        base.push_str(":2,");
        flags.push_maildir_letters(&mut base);
        ("cur", base)
    }
}

/// The UIDVALIDITY (IMAP) and key encoded in a file name mailbag wrote; `None` for any other
/// file, which mailbag then leaves alone.
pub(crate) fn parse_name(name: &str) -> Option<(Option<u32>, MessageKey)> {
    // The host is escaped, so the first `:` starts the info; the first two `.`-separated
    // fields (time, then M..P..Q..key) are all digits and letters.
    let base = name.split(':').next()?;
    let mut fields = base.splitn(3, '.');
    let secs = fields.next()?;
    let middle = fields.next()?;
    fields.next()?;
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || !middle.starts_with('M') {
        return None;
    }
    let key_at = middle.find(['V', 'L'])?;
    let (unique, key) = middle.split_at(key_at);
    if !unique[1..]
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'P' || b == b'Q')
    {
        return None;
    }
    if let Some(hex) = key.strip_prefix('L') {
        if hex.len() % 2 != 0 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect();
        let uidl = Uidl::new(String::from_utf8(bytes?).ok()?).ok()?;
        return Some((None, MessageKey::Uidl(uidl)));
    }
    let (validity, uid) = key.strip_prefix('V')?.split_once('U')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(validity) || !digits(uid) {
        return None;
    }
    let uid: u32 = uid.parse().ok().filter(|&uid| uid > 0)?;
    Some((Some(validity.parse().ok()?), MessageKey::Uid(uid)))
}

/// What reconciling a Maildir found.
#[derive(Debug, Default)]
pub(crate) struct Reconciled {
    /// Unfinished messages removed from `tmp/`.
    pub removed_tmp: usize,
    /// Delivered messages the state did not record, to be recorded now.
    pub adopt: Vec<MessageKey>,
}

/// Compares the Maildir with the state: mailbag's files in `tmp/` were never confirmed and go;
/// mailbag's files in `new/` and `cur/` are whole (fsync'd before the rename), so any the
/// state lacks are adopted. Other programs' files are left alone.
pub(crate) fn reconcile(dir: &Path, state: &State) -> Result<Reconciled> {
    let uid_validity = state.header.uid_validity;
    let ours = |name: &str| {
        parse_name(name).filter(|(validity, key)| match key {
            MessageKey::Uid(_) => *validity == uid_validity,
            MessageKey::Uidl(_) => uid_validity.is_none(),
        })
    };
    let mut found = Reconciled::default();
    let tmp = dir.join("tmp");
    for name in list(&tmp)? {
        if ours(&name).is_some() {
            let path = tmp.join(&name);
            fs::remove_file(&path).ctx("remove", &path)?;
            found.removed_tmp += 1;
        }
    }
    if found.removed_tmp > 0 {
        fsutil::sync_dir(&tmp)?;
    }
    for sub in ["new", "cur"] {
        for name in list(&dir.join(sub))? {
            if let Some((_, key)) = ours(&name) {
                if !state.contains(&key) && !found.adopt.contains(&key) {
                    found.adopt.push(key);
                }
            }
        }
    }
    Ok(found)
}

fn list(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).ctx("read directory", dir)? {
        let entry = entry.ctx("read directory", dir)?;
        // mailbag's names are ASCII; anything else is another program's file.
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_key() {
        let key = MessageKey::Uid(4711);
        let base = unique_base(&key, Some(1_700_000_000));
        assert_eq!(parse_name(&base), Some((Some(1_700_000_000), key.clone())));
        // time.M<micros>P<pid>Q<counter>V<validity>U<uid>.host
        let (secs, rest) = base.split_once(".M").unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_700_000_000, "{base}");
        assert!(
            rest.contains(&format!("P{}Q", std::process::id())),
            "{base}"
        );
        assert!(
            rest.contains(&format!("V1700000000U4711.{}", fsutil::maildir_hostname())),
            "{base}"
        );
        let (dir, name) = delivered_name(
            base.clone(),
            Flags {
                seen: true,
                ..Flags::default()
            },
        );
        assert_eq!(dir, "cur");
        assert_eq!(name, format!("{base}:2,S"));
        assert_eq!(
            delivered_name(base.clone(), Flags::default()),
            ("new", base)
        );
        assert_eq!(parse_name(&name), Some((Some(1_700_000_000), key)));
    }

    #[test]
    fn uidl_names_survive_any_allowed_uidl() {
        let uidl = Uidl::new("a/b:c.d%~!\"".repeat(6) + "0123").unwrap();
        let key = MessageKey::Uidl(uidl);
        let base = unique_base(&key, None);
        assert!(!base.contains('/') && !base.contains(':'));
        assert!(base.len() + ":2,DFRST".len() < 255);
        assert_eq!(parse_name(&base), Some((None, key)));
    }

    #[test]
    fn names_are_unique() {
        let key = MessageKey::Uid(1);
        let names: std::collections::HashSet<_> =
            (0..1000).map(|_| unique_base(&key, Some(1))).collect();
        assert_eq!(names.len(), 1000);
    }

    #[test]
    fn foreign_names_are_not_ours() {
        for name in [
            "1234.M1P2Q3.host",
            "x.MV1U2.h",
            "1.M1V1U0.h",
            "1.M1L6.h",
            "1.M1V1U2",
            "",
            "cur",
        ] {
            assert_eq!(parse_name(name), None, "{name}");
        }
    }
}
