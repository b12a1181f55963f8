//! Runs the text vectors (`tests/vectors/text.json`) through the core's own repair functions:
//! each case's `utf8` bytes through [`text::lossy_utf8`] and its `utf16` code units through
//! [`text::lossy_utf16`] must give `text`. The bindings run the same file through their APIs
//! (span names, attribute keys and values, event names, status messages).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use polytrace_core::text;
use serde_json::Value as Json;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/vectors/text.json"
));

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn text_vectors() {
    let v: Json = serde_json::from_str(VECTORS).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let (mut utf8, mut utf16) = (0, 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let want = c["text"].as_str().unwrap();
        let bytes = unhex(c["utf8"].as_str().unwrap());
        assert_eq!(text::lossy_utf8(&bytes), want, "utf8: {name}");
        utf8 += 1;
        if let Some(units) = c.get("utf16") {
            let units = units
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u16::try_from(u.as_u64().unwrap()).unwrap());
            assert_eq!(text::lossy_utf16(units), want, "utf16: {name}");
            utf16 += 1;
        }
    }
    assert_eq!(utf8, cases.len());
    assert!(utf16 >= 7, "{utf16} UTF-16 cases");
}

/// The environment is text from outside too: `OTEL_*` values that are not UTF-8 are repaired
/// by the same rule before their parsers see them (`config::env_var`, used by
/// `Config::from_env` and by bindings that look elsewhere first).
#[test]
fn environment_values_follow_the_text_rule() {
    use std::os::unix::ffi::OsStrExt;
    let name = "POLYTRACE_TEXT_VECTORS_TEST_VALUE";
    std::env::set_var(name, std::ffi::OsStr::from_bytes(b"a\xed\xa0\x80b\xff"));
    assert_eq!(
        polytrace_core::config::env_var(name).as_deref(),
        Some("a\u{fffd}b\u{fffd}")
    );
    std::env::remove_var(name);
    assert_eq!(polytrace_core::config::env_var(name), None);
}
