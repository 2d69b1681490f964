//! `mailbag show` against the harness Dovecot: headers and the MIME part tree, as text and
//! as nested JSON.

mod common;

use common::*;
use mailbag_testserver::{messages, Dovecot};

/// multipart/mixed holding a multipart/alternative, a forwarded message and a PDF.
const NESTED: &str = "From: Ann Example <ann@example.org>\n\
    To: bob@example.org\n\
    Date: Sat, 13 Jul 2013 10:00:00 +0000\n\
    Subject: Nested parts\n\
    MIME-Version: 1.0\n\
    Content-Type: multipart/mixed; boundary=\"outer\"\n\n\
    --outer\n\
    Content-Type: multipart/alternative; boundary=\"inner\"\n\n\
    --inner\nContent-Type: text/plain; charset=utf-8\n\nhello\n\
    --inner\nContent-Type: text/html; charset=utf-8\n\n<p>hello</p>\n\
    --inner--\n\
    --outer\n\
    Content-Type: message/rfc822\n\n\
    From: carl@example.org\nSubject: inside\nContent-Type: text/plain; charset=us-ascii\n\n\
    inner body\n\
    --outer\n\
    Content-Type: application/pdf; name=\"report.pdf\"\n\
    Content-Disposition: attachment; filename=\"report.pdf\"\n\
    Content-Transfer-Encoding: base64\n\n\
    JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK\n\
    --outer--\n";

/// Each line's text before the size.
fn shape(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| *l != "Parts:")
        .skip(1)
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect()
}

#[test]
fn show_prints_the_mime_tree() {
    let d = Dovecot::shared();
    let user = d.new_user();
    let mut msgs = messages::generate(2, 3000);
    msgs.push(NESTED.as_bytes().to_vec());
    d.fill(&user, "INBOX", &msgs).unwrap();
    let ca = d.ca_file().display().to_string();
    let src = imaps(d, &user, "INBOX");

    // The generator's multipart message with a base64 attachment.
    let out = ok(mailbag(&user, &["show", &src, "2", "--ca-file", &ca]));
    assert!(out.starts_with("From: "), "{out}");
    assert!(out.contains("\nSubject: Test message 1\n"), "{out}");
    assert_eq!(
        shape(&out),
        [
            "  multipart/mixed",
            "    1 text/plain; charset=\"utf-8\"",
            "    2 application/octet-stream; name=\"data1.bin\"; filename=\"data1.bin\"",
        ],
        "{out}"
    );

    let out = ok(mailbag(&user, &["show", &src, "3", "--ca-file", &ca]));
    assert!(
        out.starts_with(
            "From: Ann Example <ann@example.org>\nTo: bob@example.org\n\
             Date: 2013-07-13T10:00:00Z\nSubject: Nested parts\nParts:\n"
        ),
        "{out}"
    );
    assert_eq!(
        shape(&out),
        [
            "  multipart/mixed",
            "    1 multipart/alternative",
            "      1.1 text/plain; charset=\"utf-8\"",
            "      1.2 text/html; charset=\"utf-8\"",
            "    2 message/rfc822",
            "      2.1 text/plain; charset=\"us-ascii\"",
            "    3 application/pdf; name=\"report.pdf\"; filename=\"report.pdf\"",
        ],
        "{out}"
    );
    // Sizes are the bytes of each part's body (the line end before a boundary belongs to
    // the boundary, RFC 2046 5.1.1).
    assert!(
        out.contains("1.1 text/plain; charset=\"utf-8\" (5 bytes)"),
        "{out}"
    );

    let out = ok(mailbag(
        &user,
        &["show", &src, "3", "--ca-file", &ca, "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["subject"], "Nested parts");
    let root = &v["parts"][0];
    assert_eq!(root["type"], "multipart/mixed");
    assert!(root["part"].is_null());
    assert_eq!(root["parts"][0]["parts"][1]["part"], "1.2");
    assert_eq!(root["parts"][0]["parts"][1]["type"], "text/html");
    assert_eq!(root["parts"][1]["parts"][0]["part"], "2.1");
    assert_eq!(root["parts"][2]["filename"], "report.pdf");
    assert_eq!(root["parts"][2]["charset"], serde_json::Value::Null);
}
