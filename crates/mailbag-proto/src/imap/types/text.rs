//! [`Text`]: a short string from the server (a media type, a parameter name, a keyword) that
//! costs no allocation when it is short, as nearly all of them are.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// How many bytes a [`Text`] holds without allocating.
const INLINE: usize = 22;

/// An immutable string, used for the tokens servers send in BODYSTRUCTURE and flags
/// (`TEXT`, `PLAIN`, `BASE64`, `CHARSET`, `attachment`, `$Label1`, ...).
///
/// It reads like a `&str` ([`Deref`], [`as_str`](Self::as_str), `==` with `str`, `&str` and
/// `String`, [`Display`](fmt::Display), and [`Debug`](fmt::Debug) as a quoted string), and is
/// made from one with `From`/`into()`. Up to 22 bytes are kept inline, so the parser fills
/// these fields without a heap allocation; longer text is kept in a `Box<str>`. Equality,
/// ordering and hashing are those of the string, however it is stored.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// `buf[..len]`, always valid UTF-8 (only ever copied from a `&str`).
    Inline {
        len: u8,
        buf: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl Text {
    /// The empty string.
    pub const fn new() -> Self {
        Text(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // The bytes were copied from a `str` at a character boundary, so this always
            // succeeds; the check is the price of not using `unsafe`.
            Repr::Inline { len, buf } => buf
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }

    /// The text's bytes (cheaper than [`as_str`](Self::as_str) for byte-wise comparisons).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// Server bytes as text: valid UTF-8 (nearly always, and ASCII) as is, anything else
    /// decoded lossily.
    pub(crate) fn from_wire(b: &[u8]) -> Self {
        // The usual case, a short ASCII token, is copied without the full UTF-8 check.
        let mut buf = [0u8; INLINE];
        if let (Some(dst), Ok(len)) = (buf.get_mut(..b.len()), u8::try_from(b.len())) {
            if b.is_ascii() {
                dst.copy_from_slice(b);
                return Text(Repr::Inline { len, buf });
            }
        }
        match std::str::from_utf8(b) {
            Ok(s) => Text::from(s),
            Err(_) => Text::from(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::new()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        let mut buf = [0u8; INLINE];
        match (buf.get_mut(..s.len()), u8::try_from(s.len())) {
            (Some(b), Ok(len)) => {
                b.copy_from_slice(s.as_bytes());
                Text(Repr::Inline { len, buf })
            }
            _ => Text(Repr::Heap(s.into())),
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            Text::from(s.as_str())
        } else {
            Text(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::from(s.as_str())
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Self {
        if s.len() <= INLINE {
            Text::from(&*s)
        } else {
            Text(Repr::Heap(s))
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        match t.0 {
            Repr::Heap(s) => s.into_string(),
            Repr::Inline { .. } => t.as_str().to_owned(),
        }
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // UTF-8 orders as its bytes do.
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_agree() {
        let short = Text::from("QUOTED-PRINTABLE");
        assert!(matches!(short.0, Repr::Inline { .. }));
        assert_eq!(short, "QUOTED-PRINTABLE");
        let long_str = "a-parameter-name-longer-than-inline";
        let long = Text::from(long_str);
        assert!(matches!(long.0, Repr::Heap(_)));
        assert_eq!(long.as_str(), long_str);
        let edge = "x".repeat(INLINE);
        assert!(matches!(Text::from(edge.as_str()).0, Repr::Inline { .. }));
        assert!(matches!(
            Text::from("x".repeat(INLINE + 1)).0,
            Repr::Heap(_)
        ));
        // The same string stored two ways is equal, and hashes alike.
        let a = Text::from("abc");
        let b = Text(Repr::Heap("abc".into()));
        assert_eq!(a, b);
        let h = |t: &Text| {
            let mut s = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&a), h(&b));
        assert_eq!(format!("{a:?}"), "\"abc\"");
        assert_eq!(a.to_string(), "abc");
        assert_eq!(Text::default(), "");
        assert_eq!(String::from(long), long_str);
    }

    #[test]
    fn from_wire() {
        assert_eq!(Text::from_wire(b"TEXT"), "TEXT");
        assert_eq!(Text::from_wire("grüße".as_bytes()), "grüße");
        assert_eq!(Text::from_wire(b"a\xffb"), "a\u{fffd}b");
        // A multi-byte character that ends exactly at the inline limit.
        let s = format!("{}é", "x".repeat(INLINE - 2));
        assert_eq!(Text::from_wire(s.as_bytes()), s.as_str());
    }
}
