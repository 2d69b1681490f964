//! Modified UTF-7 (RFC 3501 5.1.3): decoding arbitrary bytes never panics; what decodes
//! encodes back to the same bytes (the decoder accepts one spelling per name); any string
//! survives encode then decode; the encoding is printable ASCII.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailbag_proto::imap::utf7;

fuzz_target!(|data: &[u8]| {
    if let Ok(name) = utf7::decode(data) {
        assert_eq!(
            utf7::encode(&name).as_bytes(),
            data,
            "decode then encode changed {:?}",
            String::from_utf8_lossy(data)
        );
    }
    let s = String::from_utf8_lossy(data);
    let encoded = utf7::encode(&s);
    assert!(
        encoded.bytes().all(|b| (0x20..=0x7e).contains(&b)),
        "{encoded:?}"
    );
    assert_eq!(utf7::decode(encoded.as_bytes()).as_deref(), Ok(&*s));
});
