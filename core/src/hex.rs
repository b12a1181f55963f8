//! Lowercase hex, the one encoding of ids on the wire (W3C `traceparent`, OTLP/JSON, the
//! bindings' hex ids). Works on bytes, so no input can make it panic on a UTF-8 boundary.

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Each byte's value as a lowercase hex digit, or `0xff` when it is not one.
const LOWER_NIBBLE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 16 {
        t[HEX_LOWER[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Decodes exactly `2 * N` lowercase hex characters; uppercase is rejected (W3C requires
/// lowercase). Ids (8 and 16 bytes, decoded on every extract) go eight characters at a time
/// ([`decode8`]); other lengths by table.
#[inline]
pub fn decode_lower<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    if N % 4 == 0 {
        for (o, c) in out.chunks_exact_mut(4).zip(b.chunks_exact(8)) {
            o.copy_from_slice(&decode8(c.try_into().ok()?)?);
        }
        return Some(out);
    }
    decode_table(b, &mut out).then_some(out)
}

/// Decodes `b` into `out` (half its length) by one table look-up per character and one test at
/// the end; false when a character is not a lowercase hex digit.
#[inline]
fn decode_table(b: &[u8], out: &mut [u8]) -> bool {
    let mut invalid = 0u8;
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let hi = LOWER_NIBBLE[pair[0] as usize];
        let lo = LOWER_NIBBLE[pair[1] as usize];
        invalid |= hi | lo;
        *o = (hi << 4) | lo;
    }
    // A digit is at most 0x0f; only the 0xff of a non-digit sets a high bit.
    invalid & 0xf0 == 0
}

/// Eight lowercase hex characters as four bytes, all eight at once in a `u64`: the range tests
/// and the nibble packing are word arithmetic with no carry between bytes (every byte is below
/// 0x80 once the first test passed, and no sum below leaves its byte).
#[inline]
fn decode8(c: &[u8; 8]) -> Option<[u8; 4]> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const EVEN: u64 = 0x00ff_00ff_00ff_00ff;
    let x = u64::from_le_bytes(*c);
    // The high bit of each byte at least `lo`, or above `hi` (for bytes below 0x80).
    let at_least = |lo: u8| x.wrapping_add(u64::from(0x80 - lo) * ONES) & HIGH;
    let above = |hi: u8| x.wrapping_add(u64::from(0x7f - hi) * ONES) & HIGH;
    let digit = at_least(b'0') & !above(b'9');
    let letter = at_least(b'a') & !above(b'f');
    if x & HIGH != 0 || digit | letter != HIGH {
        return None;
    }
    // '0'..'9' are 0x30..0x39 and 'a'..'f' are 0x61..0x66: the low nibble, plus 9 for letters.
    let nibbles = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Little-endian: the first character of a pair is the even byte, the high nibble.
    let pairs = ((nibbles & EVEN) << 4) | ((nibbles >> 8) & EVEN);
    let quads = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    Some(((quads | (quads >> 16)) as u32).to_le_bytes())
}

/// Writes `bytes` as lowercase hex into `out` (which holds `2 * bytes.len()`).
#[inline]
pub fn encode_lower(bytes: &[u8], out: &mut [u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_LOWER[(b >> 4) as usize];
        pair[1] = HEX_LOWER[(b & 0x0f) as usize];
    }
}

/// `bytes` as a lowercase hex string.
pub fn to_lower(bytes: &[u8]) -> String {
    let mut out = vec![0u8; 2 * bytes.len()];
    encode_lower(bytes, &mut out);
    // Every byte written is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table decoder, the reference for the word one.
    fn by_table<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        (b.len() == 2 * N && decode_table(b, &mut out)).then_some(out)
    }

    #[test]
    fn eight_at_a_time_matches_the_table_for_every_byte_anywhere() {
        let valid = b"0123456789abcdef0f1e2d3c4b5a6978";
        for at in 0..valid.len() {
            for c in 0..=255u8 {
                let mut s = *valid;
                s[at] = c;
                assert_eq!(decode_lower::<16>(&s), by_table::<16>(&s), "{c} at {at}");
                assert_eq!(decode_lower::<8>(&s[..16]), by_table::<8>(&s[..16]));
            }
        }
        // Pseudo-random words, mostly valid, some not (a fixed LCG: repeatable).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            let mut s = [0u8; 16];
            for b in &mut s {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = (state >> 33) as u8;
                *b = if r & 0xe0 == 0 {
                    r
                } else {
                    HEX_LOWER[(r & 0x0f) as usize]
                };
            }
            assert_eq!(decode_lower::<8>(&s), by_table::<8>(&s), "{s:?}");
        }
    }

    #[test]
    fn round_trip_and_case() {
        assert_eq!(to_lower(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode_lower::<3>(b"00abff"), Some([0x00, 0xab, 0xff]));
        assert_eq!(decode_lower::<3>(b"00ABFF"), None);
        assert_eq!(decode_lower::<3>(b"00abf"), None);
        assert_eq!(decode_lower::<1>("é".as_bytes()), None);
        for c in 0..=255u8 {
            let valid = c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
            assert_eq!(decode_lower::<1>(&[c, b'0']).is_some(), valid, "{c}");
            assert_eq!(decode_lower::<1>(&[b'0', c]).is_some(), valid, "{c}");
        }
        assert_eq!(decode_lower::<2>(b"0f9a"), Some([0x0f, 0x9a]));
    }
}
