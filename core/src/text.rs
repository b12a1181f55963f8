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

    /// splitmix64, so the random cases below are the same on every run.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn random_bytes_without_encoded_surrogates_repair_as_from_utf8_lossy() {
        let mut state = 1;
        for _ in 0..20_000 {
            let len = (next(&mut state) % 24) as usize;
            // Bytes around the interesting ones: ASCII, continuations, leads, ED, F4, FF.
            const POOL: [u8; 12] = [
                b'a', 0x80, 0x9F, 0xA0, 0xBF, 0xC2, 0xE2, 0xED, 0xF0, 0xF4, 0xC0, 0xFF,
            ];
            let bytes: Vec<u8> = (0..len)
                .map(|_| POOL[(next(&mut state) % POOL.len() as u64) as usize])
                .collect();
            if bytes.windows(3).any(encoded_surrogate) {
                continue;
            }
            assert_eq!(
                lossy_utf8(&bytes),
                String::from_utf8_lossy(&bytes),
                "{bytes:x?}"
            );
        }
    }

    #[test]
    fn random_utf16_written_as_wtf8_repairs_as_the_utf16() {
        let mut state = 2;
        for _ in 0..20_000 {
            let len = (next(&mut state) % 12) as usize;
            // ASCII, BMP letters, high and low surrogates, in any order.
            const POOL: [u16; 8] = [0x61, 0xE9, 0x65E5, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xD83D];
            let units: Vec<u16> = (0..len)
                .map(|_| POOL[(next(&mut state) % POOL.len() as u64) as usize])
                .collect();
            // Each unit as UTF-8 would write its code point (a surrogate's in three bytes):
            // WTF-8 without joining pairs, i.e. CESU-8 / Python's surrogatepass per unit.
            let mut bytes = Vec::new();
            for &u in &units {
                let n = u32::from(u);
                match char::from_u32(n) {
                    Some(c) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    None => bytes.extend_from_slice(&[
                        0xE0 | (n >> 12) as u8,
                        0x80 | ((n >> 6) & 0x3F) as u8,
                        0x80 | (n & 0x3F) as u8,
                    ]),
                }
            }
            // A surrogate pair written unit by unit is two replacements in UTF-8 form (CESU-8
            // is not UTF-8), one character in UTF-16: compare with the units decoded alone.
            let alone: String = units
                .iter()
                .map(|&u| char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            assert_eq!(lossy_utf8(&bytes), alone, "{units:x?}");
            if !units
                .windows(2)
                .any(|w| (0xD800..0xDC00).contains(&w[0]) && (0xDC00..0xE000).contains(&w[1]))
            {
                assert_eq!(lossy_utf16(units.iter().copied()), alone, "{units:x?}");
            }
        }
    }

    #[test]
    fn a_lone_utf16_surrogate_is_one_replacement() {
        assert_eq!(lossy_utf16([0x61, 0xD800, 0x62]), "a\u{fffd}b");
        assert_eq!(lossy_utf16([0xDC00, 0xD800]), "\u{fffd}\u{fffd}");
        assert_eq!(lossy_utf16([0xD83D, 0xDE00]), "😀");
    }
}
