//! W3C `tracestate`: the vendor entries that travel with a trace (rules in the module docs of
//! [`crate::propagation`]). Depends on nothing else of the core, so the plain
//! [`SpanContext`](crate::types::SpanContext) can carry it.

use super::{trim_ows, MAX_TRACESTATE_ENTRIES, MAX_TRACESTATE_KEY_LEN, MAX_TRACESTATE_VALUE_LEN};
use crate::error::{Error, Result};
use std::sync::Arc;

/// W3C `tracestate`: the ordered vendor entries that travel with a trace, most recent (the
/// vendor that wrote `traceparent`) first.
///
/// It is cloned into every child span, so it is an `Arc`-shared immutable list and the empty
/// state holds no allocation at all. Mutations ([`insert`](Self::insert),
/// [`delete`](Self::delete)) return a new state, following the W3C mutation rules. Every
/// instance is valid: at most 32 entries, unique keys, keys and values that match the grammar.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TraceState(pub(super) Option<Arc<Vec<(String, String)>>>);

impl TraceState {
    /// Wraps entries, keeping the invariant that the empty state holds no allocation (and so
    /// compares equal to the default).
    fn from_vec(entries: Vec<(String, String)>) -> TraceState {
        if entries.is_empty() {
            TraceState(None)
        } else {
            TraceState(Some(Arc::new(entries)))
        }
    }

    /// The entries as `(key, value)`, most recent first (the order they are propagated in).
    pub fn entries(&self) -> &[(String, String)] {
        self.0.as_deref().map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// True when there are no entries (then `tracestate` is not injected).
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The value of `key`, if present. Keys are case-sensitive (they are lowercase by grammar).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Adds or updates `key`, moving it to the front as the W3C mutation rules require ("Modified
    /// keys MUST be moved to the beginning"). When that makes more than 32 entries, the oldest
    /// (rightmost) entries are dropped, the truncation order the spec recommends.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when `key` or `value`
    /// does not match the W3C grammar: a vendor must not be able to produce a `tracestate` that
    /// the next service would have to discard entirely.
    pub fn insert(&self, key: &str, value: &str) -> Result<TraceState> {
        check_entry(key, value)?;
        let old = self.entries();
        let mut entries = Vec::with_capacity((old.len() + 1).min(MAX_TRACESTATE_ENTRIES));
        entries.push((key.to_owned(), value.to_owned()));
        entries.extend(
            old.iter()
                .filter(|(k, _)| k != key)
                .take(MAX_TRACESTATE_ENTRIES - 1)
                .cloned(),
        );
        Ok(TraceState::from_vec(entries))
    }

    /// Removes `key` (W3C "Delete a key/value pair"); the other entries keep their order.
    /// Returns an equal (shared) state when `key` is absent.
    pub fn delete(&self, key: &str) -> TraceState {
        if self.get(key).is_none() {
            return self.clone();
        }
        TraceState::from_vec(
            self.entries()
                .iter()
                .filter(|(k, _)| k != key)
                .cloned()
                .collect(),
        )
    }

    /// The header value: `k1=v1,k2=v2`, without optional whitespace. Empty when there are no
    /// entries.
    pub fn header(&self) -> String {
        let entries = self.entries();
        let len = entries
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2)
            .sum::<usize>();
        let mut out = String::with_capacity(len);
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }

    /// Parses a (combined) `tracestate` header value. Returns `None` when the W3C rules say the
    /// whole header must be discarded: an invalid list member or more than 32 members (counted
    /// as received). A key seen again is dropped, the first (leftmost, most recent) entry kept.
    /// Empty and whitespace-only members are skipped, so `""` gives an empty state.
    pub fn parse(header: &str) -> Option<TraceState> {
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut members = 0usize;
        for member in header.split(',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            if members == MAX_TRACESTATE_ENTRIES {
                return None;
            }
            members += 1;
            let (key, value) = member.split_once('=')?;
            if !is_valid_tracestate_key(key) || !is_valid_tracestate_value(value) {
                return None;
            }
            if entries.iter().all(|(k, _)| k != key) {
                entries.push((key.to_owned(), value.to_owned()));
            }
        }
        Some(TraceState::from_vec(entries))
    }

    /// Builds a state from entries given most recent first (for bindings converting a host
    /// language's trace state).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for an invalid key or
    /// value or more than 32 entries (what makes a received header invalid), and for a
    /// duplicated key, which a sender must not produce ("Adding a key/value pair MUST NOT result
    /// in the same key being present multiple times").
    pub fn from_entries(entries: Vec<(String, String)>) -> Result<TraceState> {
        if entries.len() > MAX_TRACESTATE_ENTRIES {
            return Err(Error::invalid_argument(format!(
                "tracestate has {} entries, at most {MAX_TRACESTATE_ENTRIES} are allowed",
                entries.len()
            )));
        }
        for (i, (key, value)) in entries.iter().enumerate() {
            check_entry(key, value)?;
            if entries[..i].iter().any(|(k, _)| k == key) {
                return Err(Error::invalid_argument(format!(
                    "tracestate key {key:?} appears more than once"
                )));
            }
        }
        Ok(TraceState::from_vec(entries))
    }
}

/// Validates one entry for the mutation APIs, with a message saying what is wrong.
fn check_entry(key: &str, value: &str) -> Result<()> {
    if !is_valid_tracestate_key(key) {
        return Err(Error::invalid_argument(format!(
            "invalid tracestate key {key:?}: expected 1 to 256 characters, the first a lowercase \
             letter or a digit, the others lowercase letters, digits, '_', '-', '*', '/' or '@'"
        )));
    }
    if !is_valid_tracestate_value(value) {
        return Err(Error::invalid_argument(format!(
            "invalid tracestate value {value:?}: expected 1 to 256 printable ASCII characters \
             other than ',' and '=', not ending in a space"
        )));
    }
    Ok(())
}

/// The W3C Trace Context Level 2 key grammar: `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`,
/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`.
fn is_valid_tracestate_key(key: &str) -> bool {
    match key.as_bytes().split_first() {
        Some((&first, rest)) => {
            key.len() <= MAX_TRACESTATE_KEY_LEN
                && (first.is_ascii_lowercase() || first.is_ascii_digit())
                && rest.iter().all(|&c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@')
                })
        }
        None => false,
    }
}

/// `value = 0*255(chr) nblk-chr`: 1–256 printable ASCII characters except `,` and `=`, the last
/// not a space.
fn is_valid_tracestate_value(value: &str) -> bool {
    let b = value.as_bytes();
    match b.last() {
        Some(&last) => {
            b.len() <= MAX_TRACESTATE_VALUE_LEN
                && last != b' '
                && b.iter()
                    .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        }
        None => false,
    }
}
