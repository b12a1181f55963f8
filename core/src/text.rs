//! Text that is not valid Unicode, repaired one way for every binding.
//!
//! Span names, attribute keys and values, event names and status messages reach the core as
//! UTF-8 bytes (Python's `surrogatepass` form, Erlang binaries, C buffers, the finished-span
//! format's kind 1) or as UTF-16 code units (Node and Java strings, kind 3). Neither is
//! guaranteed to be valid: a JavaScript, Java or Python string may hold a lone surrogate, and a
//! byte buffer anything. The rule, the same in every language: the text is kept, and each
//! invalid part becomes one U+FFFD — a lone surrogate is one, whether it comes as a UTF-16 code
//! unit or as the three bytes WTF-8 / CESU-8 / `surrogatepass` write for it; any other invalid
//! UTF-8 is one per maximal subpart (Unicode's recommended substitution, as
//! `String::from_utf8_lossy`). The cases are `tests/vectors/text.json`, run by every binding.

use std::borrow::Cow;

/// `bytes` as text: borrowed when valid UTF-8, else repaired as the module says.
pub fn lossy_utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(repair(bytes)),
    }
}

/// UTF-16 code units as text, each lone surrogate one U+FFFD.
pub fn lossy_utf16(units: impl IntoIterator<Item = u16>) -> String {
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

#[cold]
fn repair(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                // SAFETY: `valid_up_to` is the length of the valid prefix.
                out.push_str(unsafe { std::str::from_utf8_unchecked(valid) });
                out.push(char::REPLACEMENT_CHARACTER);
                let skip = if encoded_surrogate(bad) {
                    3
                } else {
                    // `None`: a sequence cut short by the end, one U+FFFD for all of it.
                    e.error_len().unwrap_or(bad.len())
                };
                rest = &bad[skip..];
            }
        }
    }
}

/// The three bytes of a surrogate code point (U+D800–U+DFFF) in UTF-8's shape.
fn encoded_surrogate(b: &[u8]) -> bool {
    matches!(b, [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_borrowed() {
        assert!(matches!(
            lossy_utf8("héllo 😀".as_bytes()),
            Cow::Borrowed("héllo 😀")
        ));
        assert!(matches!(lossy_utf8(b""), Cow::Borrowed("")));
    }

    #[test]
    fn an_encoded_surrogate_is_one_replacement_other_bytes_one_per_maximal_subpart() {
        // Python's "a\ud800b".encode("utf-8", "surrogatepass")
        assert_eq!(lossy_utf8(b"a\xed\xa0\x80b"), "a\u{fffd}b");
        // a pair written as two surrogates (CESU-8): two, not the character
        assert_eq!(lossy_utf8(b"\xed\xa0\xbd\xed\xb8\x80"), "\u{fffd}\u{fffd}");
        // as String::from_utf8_lossy: a truncated sequence is one, stray bytes one each
        assert_eq!(lossy_utf8(b"x\xe2\x82"), "x\u{fffd}");
        assert_eq!(lossy_utf8(b"\xff\xfe"), "\u{fffd}\u{fffd}");
        assert_eq!(lossy_utf8(b"\xc0\x80"), "\u{fffd}\u{fffd}");
        assert_eq!(lossy_utf8(b"\xf4\x90\x80\x80"), "\u{fffd}".repeat(4));
        // an encoded surrogate cut short: ordinary invalid bytes
        assert_eq!(lossy_utf8(b"\xed\xa0"), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn a_lone_utf16_surrogate_is_one_replacement() {
        assert_eq!(lossy_utf16([0x61, 0xD800, 0x62]), "a\u{fffd}b");
        assert_eq!(lossy_utf16([0xDC00, 0xD800]), "\u{fffd}\u{fffd}");
        assert_eq!(lossy_utf16([0xD83D, 0xDE00]), "😀");
    }
}
