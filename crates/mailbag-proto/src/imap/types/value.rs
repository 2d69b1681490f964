//! A generic value for the parts of responses whose grammar is open (extension data in
//! BODYSTRUCTURE, unknown FETCH items, unknown untagged responses).

use bytes::Bytes;

/// A value as the IMAP grammar writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `NIL`
    Nil,
    /// A number.
    Number(u64),
    /// An atom (or any other bare token).
    Atom(String),
    /// A quoted string or a literal.
    String(Bytes),
    /// A parenthesised list.
    List(Vec<Value>),
}

impl Value {
    /// The value as text, when it is an atom, number or string.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Atom(a) => Some(a.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(String::from_utf8_lossy(s).into_owned()),
            Value::Nil | Value::List(_) => None,
        }
    }
}
