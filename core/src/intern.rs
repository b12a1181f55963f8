//! Interning of short strings, so a binding's hot path does not allocate for keys, span names
//! and repeated short values.
//!
//! The core stores keys, names and string values as `Cow<'static, str>`: a Rust caller passing
//! literals allocates nothing per attribute. A binding's strings (C, Python, Node) are only
//! borrowed for the call, so they must be copied, which would cost one allocation per key and
//! value, freed later on the export thread. Instead, a string that fits is copied once into a
//! table and then shared as `&'static str` by every later span.
//!
//! Two fixed tables ([`KEYS`] for keys and names; [`VALUES`]) of open-addressing slots,
//! insert-only: a lookup is a hash and one or a few atomic loads, with no lock and no write, so
//! threads do not contend. Memory is bounded: at most [`MAX_ENTRIES`] strings of at most
//! `max_len` bytes per table; once full, strings are copied per call as before.
//! High-cardinality values (ids, URLs) can fill the values table, which only means later values
//! are copied; keys and names have their own table. Interned strings live until the process
//! exits (reachable from the tables).

use std::borrow::Cow;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicPtr, AtomicUsize};

const SLOTS: usize = 4096;
/// Most strings one table keeps (half its slots, so probes stay short).
pub const MAX_ENTRIES: usize = SLOTS / 2;
const MAX_PROBES: usize = 16;
const RECENT: usize = 1024;

#[inline]
fn recent_index(ptr: *const u8, len: usize) -> usize {
    let p = ptr as usize;
    ((p >> 3) ^ (p >> 13) ^ len.wrapping_mul(0x9e37_79b9)) % RECENT
}

struct Entry {
    hash: u64,
    text: &'static str,
}

/// A bounded, insert-only table of interned strings (see the module docs).
pub struct Table {
    slots: [AtomicPtr<Entry>; SLOTS],
    /// A cache in front of the table, indexed by the caller's pointer and length: callers
    /// pass the same literal (same address) again and again, so a hit costs one load and one
    /// byte comparison, with no hashing of the text and no UTF-8 check (bytes equal to an
    /// interned string are valid UTF-8). Entries are only ever replaced, never freed.
    recent: [AtomicPtr<Entry>; RECENT],
    count: AtomicUsize,
    max_len: usize,
}

/// The longest string [`KEYS`] interns, in bytes.
pub const KEY_MAX_LEN: usize = 128;
/// The longest string [`VALUES`] interns, in bytes.
pub const VALUE_MAX_LEN: usize = 64;

/// Attribute keys, span names, event names.
pub static KEYS: Table = Table::new(KEY_MAX_LEN);
/// Short string attribute values.
pub static VALUES: Table = Table::new(VALUE_MAX_LEN);

/// Equality of short byte strings without a call to `memcmp` (keys are mostly 4–32 bytes):
/// 8-byte words, the last one overlapping; two words for 8 to 16 bytes, two overlapping 4-byte
/// words for 4 to 7, and the first, middle and last byte (which are all of them) for 1 to 3.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n > 16 {
        return same_long(a, b);
    }
    if n >= 8 {
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if n >= 4 {
        let half = |s: &[u8], at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&s[at..at + 4]);
            u32::from_ne_bytes(w)
        };
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    if n == 0 {
        return true;
    }
    a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]
}

/// The 8 bytes of `s` at `at` as a word.
#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[at..at + 8]);
    u64::from_ne_bytes(w)
}

/// [`same_bytes`] for more than 16 bytes of equal length (out of line: a loop).
#[inline(never)]
fn same_long(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    a.len() == b.len() && n >= 8 && word(a, n - 8) == word(b, n - 8)
}

#[inline]
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

impl Table {
    pub const fn new(max_len: usize) -> Table {
        Table {
            slots: [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS],
            recent: [const { AtomicPtr::new(std::ptr::null_mut()) }; RECENT],
            count: AtomicUsize::new(0),
            max_len,
        }
    }

    /// The fast path: the interned copy of `bytes` if the same pointer and length were
    /// interned recently (the bytes are compared: a caller may have changed the text at that
    /// address). `None` means "take the slow path", not "absent". Any length may be asked: a
    /// string longer than the table's limit is never in it (callers that know their limit
    /// check it first, without a load of the table's).
    #[inline(always)]
    pub fn recent(&self, bytes: &[u8]) -> Option<&'static str> {
        let p = self.recent[recent_index(bytes.as_ptr(), bytes.len())].load(Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: published entries are never freed.
        let e = unsafe { &*p };
        same_bytes(e.text.as_bytes(), bytes).then_some(e.text)
    }

    /// The shared copy of `s`, or `None` when it is too long or the table is full.
    #[inline]
    pub fn get(&self, s: &str) -> Option<&'static str> {
        self.intern(s).map(|(_, text, _)| text)
    }

    /// `s` as the core keeps it: the shared copy when it fits, else an owned copy (too long,
    /// or the table is full).
    #[inline]
    pub fn share(&self, s: &str) -> Cow<'static, str> {
        match self.get(s) {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(s.to_owned()),
        }
    }

    /// [`share`](Self::share), asking the pointer cache ([`recent`](Self::recent)) first: a
    /// caller that passes the same string object again (a literal key in a loop) gets its
    /// shared copy with one load and a short comparison, and the rest goes out of line.
    #[inline(always)]
    pub fn share_cached(&self, s: &str) -> Cow<'static, str> {
        if s.len() > self.max_len {
            return self.share_uncached(s);
        }
        match self.recent(s.as_bytes()) {
            Some(t) => Cow::Borrowed(t),
            None => self.share_uncached(s),
        }
    }

    #[inline(never)]
    fn share_uncached(&self, s: &str) -> Cow<'static, str> {
        self.share(s)
    }

    /// Interns `s`: its slot (stable for the life of the process), its shared copy and its
    /// hash. `None` when it is too long or the table is full.
    pub fn intern(&self, s: &str) -> Option<(usize, &'static str, u64)> {
        if s.len() > self.max_len {
            return None;
        }
        let (index, found) = self.get_entry(s)?;
        self.recent[recent_index(s.as_ptr(), s.len())].store(found, Release);
        // SAFETY: published entries are never freed.
        let e = unsafe { &*found };
        Some((index, e.text, e.hash))
    }

    /// The string interned in slot `index` if its hash matches `hash` in the bits `mask`
    /// selects (a check that the caller's index is one [`intern`](Self::intern) gave out).
    #[inline(always)]
    pub fn at(&self, index: usize, hash: u64, mask: u64) -> Option<&'static str> {
        let p = self.slots.get(index)?.load(Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: published entries are never freed.
        let e = unsafe { &*p };
        (e.hash & mask == hash & mask).then_some(e.text)
    }

    fn get_entry(&self, s: &str) -> Option<(usize, *mut Entry)> {
        let h = hash(s.as_bytes());
        let mut ours: Option<Box<Entry>> = None;
        let found = self.probe(s, h, &mut ours);
        if let Some(e) = ours {
            // Counted and copied but not stored (another thread stored the same text, or no
            // free slot within reach): give the text and the count back.
            // SAFETY: the text was leaked below from a fresh Box and never shared.
            drop(unsafe { Box::from_raw(e.text as *const str as *mut str) });
            self.count.fetch_sub(1, Relaxed);
        }
        found
    }

    fn probe(&self, s: &str, h: u64, ours: &mut Option<Box<Entry>>) -> Option<(usize, *mut Entry)> {
        let mut i = h as usize % SLOTS;
        for _ in 0..MAX_PROBES {
            let mut p = self.slots[i].load(Acquire);
            if p.is_null() {
                let entry = match ours.take() {
                    Some(e) => e,
                    None => {
                        // A full table (the common case once it is) costs a plain load, not
                        // two writes to a counter every thread shares.
                        if self.count.load(Relaxed) >= MAX_ENTRIES {
                            return None;
                        }
                        if self.count.fetch_add(1, Relaxed) >= MAX_ENTRIES {
                            self.count.fetch_sub(1, Relaxed);
                            return None;
                        }
                        Box::new(Entry {
                            hash: h,
                            text: Box::leak(s.to_owned().into_boxed_str()),
                        })
                    }
                };
                let raw = Box::into_raw(entry);
                match self.slots[i].compare_exchange(std::ptr::null_mut(), raw, AcqRel, Acquire) {
                    Ok(_) => return Some((i, raw)),
                    Err(other) => {
                        // SAFETY: `raw` was not published; take it back.
                        *ours = Some(unsafe { Box::from_raw(raw) });
                        p = other;
                    }
                }
            }
            // SAFETY: published entries are never freed.
            let e = unsafe { &*p };
            if e.hash == h && e.text == s {
                return Some((i, p));
            }
            i = (i + 1) % SLOTS;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_matches_slice_equality() {
        let texts = [
            "",
            "a",
            "ab",
            "ac",
            "GET",
            "GEX",
            "abcd",
            "abce",
            "xbcd",
            "abcdefg",
            "abcdeff",
            "abcdefh",
            "abcdefgh",
            "abcdefghi",
            "http.status_code",
            "http.status_codf",
            "http.status_codes",
            "http.status_codet",
            "xttp.status_codes",
            "http.request.method.original",
            "http.request.method.originam",
            "http.request.methox.original",
            "a.b",
            "a.c",
            "x.b",
            "axb",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same_bytes(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
            }
        }
    }

    #[test]
    fn same_text_same_pointer_and_bounds() {
        let t = Table::new(8);
        let a = t.get("http.x");
        let b = t.get(&String::from("http.x"));
        assert!(a.is_some());
        assert_eq!(a.map(|s| s.as_ptr()), b.map(|s| s.as_ptr()));
        assert_eq!(t.get("longer than eight"), None);
        for i in 0..MAX_ENTRIES * 2 {
            let _ = t.get(&format!("k{i}"));
        }
        assert!(t.count.load(Relaxed) <= MAX_ENTRIES);
    }

    #[test]
    fn share_borrows_what_fits_and_copies_the_rest() {
        static T: Table = Table::new(8);
        let a = T.share_cached("op");
        let b = T.share(&String::from("op"));
        assert!(
            matches!((&a, &b), (Cow::Borrowed(x), Cow::Borrowed(y)) if x.as_ptr() == y.as_ptr())
        );
        assert!(
            matches!(T.share_cached("longer than eight"), Cow::Owned(s) if s == "longer than eight")
        );
    }

    #[test]
    fn intern_gives_a_stable_slot() {
        let t = Table::new(16);
        let (i, text, h) = t.intern("db.system").unwrap();
        assert_eq!(text, "db.system");
        assert_eq!(t.intern(&String::from("db.system")).map(|x| x.0), Some(i));
        assert_eq!(t.at(i, h, 0xff_ffff), Some(text));
        assert_eq!(
            t.at(i, h ^ 1, 0xff_ffff),
            None,
            "a wrong check value is rejected"
        );
        assert_eq!(t.at(SLOTS, h, 0xff_ffff), None, "out of range");
        let empty = (0..SLOTS)
            .find(|&j| t.slots[j].load(Acquire).is_null())
            .unwrap();
        assert_eq!(t.at(empty, 0, 0), None, "an empty slot is rejected");
    }
}
