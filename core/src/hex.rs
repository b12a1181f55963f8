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
/// lowercase). One table look-up per character and one test at the end, not a branch per
/// character (ids are decoded on every extract).
#[inline]
pub fn decode_lower<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut invalid = 0u8;
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let hi = LOWER_NIBBLE[pair[0] as usize];
        let lo = LOWER_NIBBLE[pair[1] as usize];
        invalid |= hi | lo;
        *o = (hi << 4) | lo;
    }
    // A digit is at most 0x0f; only the 0xff of a non-digit sets a high bit.
    (invalid & 0xf0 == 0).then_some(out)
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
