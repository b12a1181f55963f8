//! Lowercase hex, the one encoding of ids on the wire (W3C `traceparent`, OTLP/JSON, the
//! bindings' hex ids). Works on bytes, so no input can make it panic on a UTF-8 boundary.

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

#[inline]
fn lower_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes exactly `2 * N` lowercase hex characters; uppercase is rejected (W3C requires
/// lowercase).
#[inline]
pub fn decode_lower<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = (lower_nibble(pair[0])? << 4) | lower_nibble(pair[1])?;
    }
    Some(out)
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
    }
}
