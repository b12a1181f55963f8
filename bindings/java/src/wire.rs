//! The byte form of the propagation calls' arguments and results: one `byte[]` each way
//! instead of arrays of strings, whose JNI conversions (class lookups, modified UTF-8) cost
//! microseconds per call. `crate::raw` moves the bytes. A string is a little-endian `u32` byte length and its UTF-8; an
//! index a `u8`; a count a `u32`. `Wire.java` is the Java side.

use polytrace_core::Error;

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

    /// A string (empty at the end of the input); invalid UTF-8 becomes U+FFFD.
    pub fn string(&mut self) -> Result<String, Error> {
        if self.done() {
            return Ok(String::new());
        }
        let len = self.b.get(self.pos..self.pos + 4).ok_or_else(short)?;
        let n = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        self.pos += 4;
        let end = self.pos.checked_add(n).ok_or_else(short)?;
        let s = self.b.get(self.pos..end).ok_or_else(short)?;
        self.pos = end;
        Ok(String::from_utf8_lossy(s).into_owned())
    }
}

/// Writes the form.
#[derive(Default)]
pub struct Writer {
    b: Vec<u8>,
}

impl Writer {
    /// A `u8`.
    pub fn u8(&mut self, v: u8) {
        self.b.push(v);
    }

    /// A `u32`.
    pub fn u32(&mut self, v: u32) {
        self.b.extend_from_slice(&v.to_le_bytes());
    }

    /// A string.
    pub fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.b.extend_from_slice(s.as_bytes());
    }

    /// What was written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_truncation_is_an_error() {
        let mut w = Writer::default();
        w.u8(2);
        w.string("héllo");
        w.string("");
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8().unwrap(), 2);
        assert_eq!(r.string().unwrap(), "héllo");
        assert_eq!(r.string().unwrap(), "");
        assert!(r.done());
        assert_eq!(r.string().unwrap(), "");
        let mut bad = Reader::new(&[5, 0, 0, 0, b'a']);
        assert!(bad.string().is_err());
    }
}
