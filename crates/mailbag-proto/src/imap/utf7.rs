//! Modified UTF-7 for mailbox names (RFC 3501 5.1.3).
//!
//! Printable ASCII stands for itself except `&`, which is written `&-`; any other run of
//! characters is UTF-16BE, base64-encoded with `,` in place of `/` and no padding, between `&`
//! and `-`. The codec is hand-written because the alphabet and the strictness rules (no
//! encoded printable ASCII, no padding, no adjacent encoded runs) differ from base64 and UTF-7.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// The error for bytes that are not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid modified UTF-7 in mailbox name at byte {position}")]
pub struct InvalidUtf7 {
    /// Where the first invalid byte is.
    pub position: usize,
}

/// Encodes a mailbox name as modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

fn flush(units: &mut Vec<u16>, out: &mut String) {
    if units.is_empty() {
        return;
    }
    out.push('&');
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let chars = chunk.len().saturating_add(1);
        for i in 0..chars {
            let shift = 18usize.saturating_sub(i.saturating_mul(6));
            let idx = ((n >> shift) & 63) as usize;
            out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
        }
    }
    out.push('-');
    units.clear();
}

fn sextet(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b.wrapping_sub(b'A'),
        b'a'..=b'z' => b.wrapping_sub(b'a').wrapping_add(26),
        b'0'..=b'9' => b.wrapping_sub(b'0').wrapping_add(52),
        b'+' => 62,
        b',' => 63,
        _ => return None,
    } as u32)
}

/// Decodes a modified UTF-7 mailbox name, refusing anything the RFC does not allow.
pub fn decode(input: &[u8]) -> Result<String, InvalidUtf7> {
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    // Where the last encoded run ended: another may not start right there (`&4AA-&4AA-`
    // would be a second spelling of `&4ADgAA-`).
    let mut after_run = None;
    while let Some(&b) = input.get(i) {
        if b != b'&' {
            if !(0x20..=0x7e).contains(&b) {
                return Err(InvalidUtf7 { position: i });
            }
            out.push(char::from(b));
            i = i.saturating_add(1);
            continue;
        }
        let start = i;
        let end = input
            .get(i.saturating_add(1)..)
            .and_then(|rest| rest.iter().position(|&c| c == b'-'))
            .map(|p| i.saturating_add(1).saturating_add(p))
            .ok_or(InvalidUtf7 { position: start })?;
        let run = input.get(i.saturating_add(1)..end).unwrap_or_default();
        if run.is_empty() {
            out.push('&');
        } else {
            if after_run == Some(start) {
                return Err(InvalidUtf7 { position: start });
            }
            decode_run(run, start, &mut out)?;
            after_run = Some(end.saturating_add(1));
        }
        i = end.saturating_add(1);
    }
    Ok(out)
}

fn decode_run(run: &[u8], start: usize, out: &mut String) -> Result<(), InvalidUtf7> {
    let bad = InvalidUtf7 { position: start };
    let mut bits: u32 = 0;
    let mut nbits = 0u32;
    let mut units = Vec::with_capacity(run.len().saturating_mul(6) / 16);
    for &c in run {
        bits = (bits << 6) | sextet(c).ok_or(bad.clone())?;
        nbits = nbits.saturating_add(6);
        if nbits >= 16 {
            nbits = nbits.saturating_sub(16);
            units.push(((bits >> nbits) & 0xffff) as u16);
            bits &= (1u32 << nbits).wrapping_sub(1);
        }
    }
    // Leftover bits are padding and must be zero and fewer than six.
    if nbits >= 6 || bits != 0 || units.is_empty() {
        return Err(bad);
    }
    for c in char::decode_utf16(units.iter().copied()) {
        let c = c.map_err(|_| bad.clone())?;
        // Printable ASCII must not be encoded: it would give two spellings of one name.
        if (' '..='~').contains(&c) {
            return Err(bad);
        }
        out.push(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples() {
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(
            decode(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-").as_deref(),
            Ok("~peter/mail/台北/日本語")
        );
        assert_eq!(encode("Tom & Jerry"), "Tom &- Jerry");
        assert_eq!(decode(b"Tom &- Jerry").as_deref(), Ok("Tom & Jerry"));
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(encode("😀"), "&2D3eAA-");
        assert_eq!(decode(b"&2D3eAA-").as_deref(), Ok("😀"));
    }

    #[test]
    fn invalid_is_refused() {
        assert!(decode(b"&U,BTFw").is_err());
        assert!(decode(b"&AGE-").is_err()); // encoded "a"
        assert!(decode(b"caf\xc3\xa9").is_err());
        assert!(decode(b"&Jjo!-").is_err());
    }
}
