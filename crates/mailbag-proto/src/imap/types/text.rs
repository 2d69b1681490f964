//! [`Text`]: a short string from the server (a media type, a parameter name, a keyword) that
//! costs no allocation when it is short, as nearly all of them are.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::ops::Deref;

use compact_str::CompactString;

/// An immutable string, used for the tokens servers send in BODYSTRUCTURE and flags
/// (`TEXT`, `PLAIN`, `BASE64`, `CHARSET`, `attachment`, `$Label1`, ...).
///
/// It reads like a `&str` ([`Deref`], [`as_str`](Self::as_str), `==` with `str`, `&str` and
/// `String`, [`Display`](fmt::Display), and [`Debug`](fmt::Debug) as a quoted string), and is
/// made from one with `From`/`into()`. It is a [`CompactString`] (the `compact_str` crate):
/// up to 24 bytes are kept inline, so the parser fills these fields without a heap
/// allocation. Equality, ordering and hashing are those of the string.
// `CompactString` compares, orders and hashes as its `str` does (which `Borrow<str>` needs).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(CompactString);

impl Text {
    /// The empty string.
    pub const fn new() -> Self {
        Text(CompactString::const_new(""))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Server bytes as text: valid UTF-8 (nearly always, and ASCII) as is, anything else
    /// decoded lossily.
    pub(crate) fn from_wire(b: &[u8]) -> Self {
        // The common case first: compact_str's own `from_utf8_lossy` made the whole parse
        // about 30 % slower on the B7 stream.
        match std::str::from_utf8(b) {
            Ok(s) => Text(CompactString::new(s)),
            Err(_) => Text(CompactString::from_utf8_lossy(b)),
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(CompactString::new(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::from(s.as_str())
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.0.into_string()
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
    use std::hash::Hasher;

    #[test]
    fn reads_like_a_string() {
        let short = Text::from("QUOTED-PRINTABLE");
        assert_eq!(short, "QUOTED-PRINTABLE");
        let long_str = "a-parameter-name-longer-than-inline";
        let long = Text::from(long_str);
        assert_eq!(long.as_str(), long_str);
        let a = Text::from("abc");
        let b = Text::from(String::from("abc"));
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
        assert_eq!(Text::new(), "");
        assert_eq!(String::from(long), long_str);
        assert!(Text::from("a").cmp(&Text::from(String::from("b"))).is_lt());
    }

    #[test]
    fn from_wire() {
        assert_eq!(Text::from_wire(b"TEXT"), "TEXT");
        assert_eq!(Text::from_wire("grüße".as_bytes()), "grüße");
        assert_eq!(Text::from_wire(b"a\xffb"), "a\u{fffd}b");
        let s = format!("{}é", "x".repeat(22));
        assert_eq!(Text::from_wire(s.as_bytes()), s.as_str());
    }
}
