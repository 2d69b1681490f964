//! The MIME part tree that `mailbag show` prints (RFC 2045, 2046; part numbers as IMAP's
//! section numbers, RFC 9051 6.4.5, so `1.2` can be fetched as `BODY[1.2]`).
//!
//! Built from mail-parser's flat part list, where a multipart holds the indices of its
//! sub-parts and a `message/rfc822` part holds the parsed inner message. A multipart at the
//! top of a message (or of an inner message) has no number of its own, like in IMAP.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use serde_json::{json, Value};

/// Deeper nesting than this is not shown (a hostile message can nest without end).
const MAX_DEPTH: usize = 32;

/// One MIME part and the parts inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// IMAP section number (`2.1`); `None` for a multipart at the top of a message.
    pub number: Option<String>,
    /// `type/subtype`, lower case; `text/plain` when the part has no Content-Type.
    pub content_type: String,
    /// The `charset` parameter.
    pub charset: Option<String>,
    /// The Content-Type `name` parameter.
    pub name: Option<String>,
    /// The Content-Disposition `filename` parameter.
    pub filename: Option<String>,
    /// Bytes of the part's body as it is in the message (still encoded).
    pub size: u64,
    /// The parts inside: a multipart's sub-parts, or a `message/rfc822`'s message.
    pub parts: Vec<Part>,
}

/// The tree of `message`.
pub fn tree(message: &Message<'_>) -> Option<Part> {
    let root = message.parts.first()?;
    if matches!(root.body, PartType::Multipart(_)) {
        node(message, 0, String::new(), false, 0)
    } else {
        node(message, 0, "1".to_owned(), true, 0)
    }
}

fn join(prefix: &str, n: usize) -> String {
    if prefix.is_empty() {
        n.to_string()
    } else {
        format!("{prefix}.{n}")
    }
}

fn node(
    message: &Message<'_>,
    id: usize,
    section: String,
    numbered: bool,
    depth: usize,
) -> Option<Part> {
    let part = message.parts.get(id)?;
    let mut parts = Vec::new();
    if depth < MAX_DEPTH {
        match &part.body {
            PartType::Multipart(children) => {
                for (i, child) in children.iter().enumerate() {
                    let number = join(&section, i.saturating_add(1));
                    let child = usize::try_from(*child).ok();
                    if let Some(p) = child.and_then(|c| node(message, c, number, true, depth + 1)) {
                        parts.push(p);
                    }
                }
            }
            PartType::Message(inner) => {
                let inner_root = inner.parts.first();
                let sub = if inner_root.is_some_and(|r| matches!(r.body, PartType::Multipart(_))) {
                    node(inner, 0, section.clone(), false, depth + 1)
                } else {
                    node(inner, 0, join(&section, 1), true, depth + 1)
                };
                parts.extend(sub);
            }
            _ => {}
        }
    }
    Some(Part {
        number: numbered.then_some(section),
        content_type: content_type(part),
        charset: part
            .content_type()
            .and_then(|c| c.attribute("charset"))
            .map(str::to_owned),
        name: part
            .content_type()
            .and_then(|c| c.attribute("name"))
            .map(str::to_owned),
        filename: part
            .content_disposition()
            .and_then(|c| c.attribute("filename"))
            .map(str::to_owned),
        size: u64::from(part.offset_end.saturating_sub(part.offset_body)),
        parts,
    })
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(c) => match c.subtype() {
            Some(sub) => format!("{}/{}", c.ctype(), sub).to_ascii_lowercase(),
            None => c.ctype().to_ascii_lowercase(),
        },
        None => "text/plain".to_owned(),
    }
}

impl Part {
    /// Text lines, two spaces of indent per level:
    /// `1.2 application/pdf; name="a.pdf"; filename="a.pdf" (4032 bytes)`.
    pub fn lines(&self, depth: usize, out: &mut Vec<String>) {
        let mut line = "  ".repeat(depth);
        if let Some(n) = &self.number {
            line.push_str(n);
            line.push(' ');
        }
        line.push_str(&self.content_type);
        for (key, value) in [
            ("charset", &self.charset),
            ("name", &self.name),
            ("filename", &self.filename),
        ] {
            if let Some(v) = value {
                // Debug quoting: a name cannot break the line or fake another part.
                line.push_str(&format!("; {key}={v:?}"));
            }
        }
        line.push_str(&format!(" ({} bytes)", self.size));
        out.push(line);
        for p in &self.parts {
            p.lines(depth + 1, out);
        }
    }

    /// The JSON object: `part` (null for a top multipart), `type`, `charset`, `name`,
    /// `filename` (null when absent), `size`, `parts` (the nested parts).
    pub fn json(&self) -> Value {
        json!({
            "part": self.number,
            "type": self.content_type,
            "charset": self.charset,
            "name": self.name,
            "filename": self.filename,
            "size": self.size,
            "parts": self.parts.iter().map(Part::json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = "From: a@example.org\r\n\
        Subject: nested\r\n\
        Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
        --outer\r\n\
        Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n\
        --inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n\
        --inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hello</p>\r\n\
        --inner--\r\n\
        --outer\r\n\
        Content-Type: message/rfc822\r\n\r\n\
        Subject: inside\r\nContent-Type: text/plain\r\n\r\ninner body\r\n\
        --outer\r\n\
        Content-Type: application/pdf; name=\"a.pdf\"\r\n\
        Content-Disposition: attachment; filename=\"a.pdf\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n\
        --outer--\r\n";

    #[test]
    fn nested_parts_get_imap_numbers() {
        let message = mail_parser::MessageParser::default()
            .parse(NESTED.as_bytes())
            .unwrap();
        let root = tree(&message).unwrap();
        let mut lines = Vec::new();
        root.lines(0, &mut lines);
        let shape: Vec<String> = lines
            .iter()
            .map(|l| l.split(" (").next().unwrap().to_owned())
            .collect();
        assert_eq!(
            shape,
            [
                "multipart/mixed",
                "  1 multipart/alternative",
                "    1.1 text/plain; charset=\"utf-8\"",
                "    1.2 text/html; charset=\"utf-8\"",
                "  2 message/rfc822",
                "    2.1 text/plain",
                "  3 application/pdf; name=\"a.pdf\"; filename=\"a.pdf\"",
            ]
        );
        assert_eq!(root.json()["parts"][0]["parts"][1]["part"], "1.2");
    }

    #[test]
    fn a_single_part_message_is_part_1() {
        let message = mail_parser::MessageParser::default()
            .parse(b"Subject: x\r\n\r\nbody\r\n".as_slice())
            .unwrap();
        let root = tree(&message).unwrap();
        assert_eq!(root.number.as_deref(), Some("1"));
        assert!(root.parts.is_empty());
    }
}
