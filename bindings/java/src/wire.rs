//! The byte form of the propagation calls' arguments and results: one buffer each way instead
//! of arrays of strings, whose JNI conversions (class lookups, modified UTF-8) cost
//! microseconds per call. The buffers are the calling thread's direct `ByteBuffer`s, which
//! `crate::raw` reads and writes in place. `Wire.java` is the Java side.
//!
//! A string is a little-endian `u32` header, its length `n` shifted left by one with the low
//! bit telling what follows: `0` `n` bytes of UTF-8, `1` `n` UTF-16LE code units. Java writes
//! ASCII as bytes and any other string as its code units, so the core's rule for text that is
//! not valid Unicode (`polytrace_core::text`) decides what a lone surrogate becomes, not Java's
//! encoder (which writes `?`); the core's answers are valid Unicode and always UTF-8. An index
//! is a `u8`; a count a `u32`.

use polytrace_core::text::{lossy_utf16, lossy_utf8};
use polytrace_core::Error;
use std::borrow::Cow;

/// Reads the form.
pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

fn short() -> Error {
    Error::internal("a propagation argument is truncated")
}

impl<'a> Reader<'a> {
    /// A reader over `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }

    /// True when every byte is read.
    pub fn done(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// A `u8`.
    pub fn u8(&mut self) -> Result<u8, Error> {
        let v = *self.b.get(self.pos).ok_or_else(short)?;
        self.pos += 1;
        Ok(v)
    }

    /// A little-endian `u32`.
    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or_else(short)?;
        let s = self.b.get(self.pos..end).ok_or_else(short)?;
        self.pos = end;
        Ok(s)
    }

    /// A little-endian `i64`.
    pub fn i64(&mut self) -> Result<i64, Error> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    /// A string (empty at the end of the input), decoded by `polytrace_core::text`: borrowed
    /// from the input when it is UTF-8 (what Java sends for ASCII).
    pub fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.done() {
            return Ok(Cow::Borrowed(""));
        }
        let header = self.u32()?;
        let n = (header >> 1) as usize;
        if header & 1 == 0 {
            return Ok(lossy_utf8(self.take(n)?));
        }
        let units = self.take(n.checked_mul(2).ok_or_else(short)?)?;
        Ok(Cow::Owned(lossy_utf16(
            units
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]])),
        )))
    }
}

/// Writes the form into a caller's buffer. What does not fit is counted, not written, so
/// that the caller can ask again with a buffer of [`needed`](Self::needed) bytes.
pub struct Writer<'a> {
    b: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `b`.
    pub fn new(b: &'a mut [u8]) -> Self {
        Writer { b, len: 0 }
    }

    fn bytes(&mut self, v: &[u8]) {
        let end = self.len.saturating_add(v.len());
        if let Some(dst) = self.b.get_mut(self.len..end) {
            dst.copy_from_slice(v);
        }
        self.len = end;
    }

    /// A `u8`.
    pub fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    /// A `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    /// An `i64`.
    pub fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }

    /// A string, as UTF-8.
    pub fn string(&mut self, s: &str) {
        self.u32((s.len() as u32) << 1);
        self.bytes(s.as_bytes());
    }

    /// How many bytes the form needs (more than the buffer holds when it did not fit).
    pub fn needed(&self) -> usize {
        self.len
    }

    /// True when everything written fitted.
    pub fn fits(&self) -> bool {
        self.len <= self.b.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_truncation_is_an_error() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.u8(2);
        w.string("héllo");
        w.string("");
        w.i64(-3);
        assert!(w.fits());
        let n = w.needed();
        let mut r = Reader::new(&buf[..n]);
        assert_eq!(r.u8().unwrap(), 2);
        assert!(matches!(r.string().unwrap(), Cow::Borrowed("héllo")));
        assert_eq!(r.string().unwrap(), "");
        assert_eq!(r.i64().unwrap(), -3);
        assert!(r.done());
        assert_eq!(r.string().unwrap(), "");
        let mut bad = Reader::new(&[5 << 1, 0, 0, 0, b'a']);
        assert!(bad.string().is_err());
        let mut odd = Reader::new(&[(2 << 1) | 1, 0, 0, 0, b'a', 0, b'b']);
        assert!(odd.string().is_err(), "two code units need four bytes");
    }

    #[test]
    fn a_short_buffer_counts_what_it_needs() {
        let mut buf = [0xAAu8; 6];
        let mut w = Writer::new(&mut buf);
        w.string("ab");
        assert!(w.fits());
        w.string("cde");
        w.u8(1);
        assert!(!w.fits());
        assert_eq!(w.needed(), 4 + 2 + 4 + 3 + 1);
        // What fitted is written; what did not left the rest of the buffer alone.
        assert_eq!(buf, [4, 0, 0, 0, b'a', b'b']);
    }

    #[test]
    fn code_units_are_decoded_by_the_core_rule() {
        // What Wire.java writes for "a\uD800😀" (not ASCII: its UTF-16LE code units).
        let units: [u16; 4] = [0x61, 0xD800, 0xD83D, 0xDE00];
        let mut b = vec![(4 << 1) | 1, 0, 0, 0];
        for u in units {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(Reader::new(&b).string().unwrap(), "a\u{fffd}😀");
        // Bytes that are not UTF-8 (Java never writes them): one U+FFFD for an encoded
        // surrogate, as the core decides.
        let b = [4 << 1, 0, 0, 0, b'a', 0xED, 0xA0, 0x80];
        assert_eq!(Reader::new(&b).string().unwrap(), "a\u{fffd}");
    }
}
