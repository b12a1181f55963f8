//! W3C Baggage (rules in the module docs of [`crate::propagation`]).

use super::{trim_ows, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_ENTRIES};
use std::sync::Arc;

/// Percent-encoding writes uppercase hex (RFC 3986 §2.1).
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// One W3C baggage list member: a key, its (decoded) value and its properties.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BaggageEntry {
    /// The key (an RFC 7230 token on the wire; case-sensitive).
    pub key: String,
    /// The value, percent-decoded (any UTF-8 string).
    pub value: String,
    /// The properties after the value, `;`-separated (`p1;p2=v`), kept opaque and undecoded as
    /// OpenTelemetry's baggage entry metadata. Empty when there are none.
    pub metadata: String,
}

/// W3C baggage: user key/value pairs that travel with a request.
///
/// Immutable and `Arc`-shared like [`TraceState`](super::TraceState), so cloning it into every context is cheap,
/// and free when empty. Keys are unique: [`with`](Self::with) replaces an existing key in place.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Baggage(pub(super) Option<Arc<Vec<BaggageEntry>>>);

impl Baggage {
    fn from_vec(entries: Vec<BaggageEntry>) -> Baggage {
        if entries.is_empty() {
            Baggage(None)
        } else {
            Baggage(Some(Arc::new(entries)))
        }
    }

    /// The entries in propagation order.
    pub fn entries(&self) -> &[BaggageEntry] {
        self.0.as_deref().map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// True when there are no entries (then `baggage` is not injected).
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries()
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }

    /// A copy with `key` set to `value` and `metadata` (replacing an existing entry in place,
    /// else appending). Nothing is validated here, so a host's baggage API never fails; on
    /// inject an entry whose key is not a token is skipped and invalid metadata is left out.
    pub fn with(&self, key: &str, value: &str, metadata: &str) -> Baggage {
        let mut entries = self.entries().to_vec();
        match entries.iter_mut().find(|e| e.key == key) {
            Some(e) => {
                value.clone_into(&mut e.value);
                metadata.clone_into(&mut e.metadata);
            }
            None => entries.push(BaggageEntry {
                key: key.to_owned(),
                value: value.to_owned(),
                metadata: metadata.to_owned(),
            }),
        }
        Baggage::from_vec(entries)
    }

    /// A copy without `key` (an equal, shared baggage when `key` is absent).
    pub fn without(&self, key: &str) -> Baggage {
        if self.get(key).is_none() {
            return self.clone();
        }
        Baggage::from_vec(
            self.entries()
                .iter()
                .filter(|e| e.key != key)
                .cloned()
                .collect(),
        )
    }

    /// The `baggage` header value: `k=v;props,k2=v2` with values percent-encoded (every byte
    /// outside `baggage-octet`, and `%`, as `%XX`). Entries whose key is not a token are
    /// skipped, invalid metadata is left out, and entries are dropped (never cut) once the
    /// header would exceed [`MAX_BAGGAGE_ENTRIES`] entries or [`MAX_BAGGAGE_BYTES`] bytes.
    pub fn header(&self) -> String {
        let mut out = String::new();
        let mut count = 0;
        for e in self.entries() {
            if count == MAX_BAGGAGE_ENTRIES {
                break;
            }
            if !is_token(&e.key) {
                continue;
            }
            let start = out.len();
            if start > 0 {
                out.push(',');
            }
            out.push_str(&e.key);
            out.push('=');
            push_percent_encoded(&e.value, &mut out);
            if !e.metadata.is_empty() {
                let before = out.len();
                out.push(';');
                if !push_properties(&e.metadata, &mut out) || out.len() == before + 1 {
                    out.truncate(before);
                }
            }
            if out.len() > MAX_BAGGAGE_BYTES {
                out.truncate(start);
                continue;
            }
            count += 1;
        }
        out
    }

    /// Parses a (combined) `baggage` header value. Invalid list members are skipped; a key
    /// seen again keeps its first position and takes the later value; limits as in the
    /// module docs. Never fails: the worst input gives an empty baggage.
    pub fn parse(header: &str) -> Baggage {
        let mut entries: Vec<BaggageEntry> = Vec::new();
        let mut metadata = String::new();
        for member in header.split(',') {
            let member = trim_ows(member);
            if member.is_empty() || member.len() > MAX_BAGGAGE_BYTES {
                continue;
            }
            let (pair, properties) = member.split_once(';').unwrap_or((member, ""));
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let (key, value) = (trim_ows(key), trim_ows(value));
            if !is_token(key) || !value.bytes().all(is_baggage_octet) {
                continue;
            }
            metadata.clear();
            if !push_properties(properties, &mut metadata) {
                continue;
            }
            let existing = entries.iter().position(|e| e.key == key);
            if existing.is_none() && entries.len() == MAX_BAGGAGE_ENTRIES {
                continue;
            }
            let entry = BaggageEntry {
                key: key.to_owned(),
                value: percent_decode(value),
                metadata: metadata.clone(),
            };
            match existing.and_then(|i| entries.get_mut(i)) {
                Some(slot) => *slot = entry,
                None => entries.push(entry),
            }
        }
        // Byte limit: keep, in order, the entries that still fit.
        let mut total = 0usize;
        entries.retain(|e| {
            let len = serialized_len(e) + usize::from(total > 0);
            if total + len > MAX_BAGGAGE_BYTES {
                false
            } else {
                total += len;
                true
            }
        });
        Baggage::from_vec(entries)
    }
}

/// Length of an entry as [`Baggage::header`] writes it (metadata already normalized).
fn serialized_len(e: &BaggageEntry) -> usize {
    let encoded = e
        .value
        .bytes()
        .map(|b| if needs_encoding(b) { 3 } else { 1 })
        .sum::<usize>();
    let metadata = if e.metadata.is_empty() {
        0
    } else {
        e.metadata.len() + 1
    };
    e.key.len() + 1 + encoded + metadata
}

/// `tchar` of RFC 7230 §3.2.6.
#[inline]
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// `token = 1*tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// `baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`: printable ASCII except
/// space, `"`, `,`, `;` and `\`.
#[inline]
fn is_baggage_octet(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// Whether a value byte must be percent-encoded: outside `baggage-octet`, or `%` itself (the
/// spec: "The percent code point MUST be percent-encoded").
#[inline]
fn needs_encoding(c: u8) -> bool {
    c == b'%' || !is_baggage_octet(c)
}

fn push_percent_encoded(value: &str, out: &mut String) {
    for b in value.bytes() {
        if needs_encoding(b) {
            out.push('%');
            out.push(HEX_UPPER[(b >> 4) as usize] as char);
            out.push(HEX_UPPER[(b & 0x0f) as usize] as char);
        } else {
            out.push(b as char);
        }
    }
}

#[inline]
fn any_hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes (RFC 3986 §2.1). A `%` not followed by two hex digits is kept as is (as the
/// WHATWG URL decoder does); decoded bytes that are not UTF-8 become U+FFFD (W3C Baggage).
fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_owned();
    }
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = b.get(i + 1).copied().and_then(any_hex_nibble);
            let lo = b.get(i + 2).copied().and_then(any_hex_nibble);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    crate::text::lossy_utf8(&out).into_owned()
}

/// Validates a `;`-separated property list (`key` or `key OWS "=" OWS value`) and appends it
/// to `out` without the optional whitespace, skipping empty properties. Returns false (with
/// `out` possibly partly written) when a property is invalid.
fn push_properties(raw: &str, out: &mut String) -> bool {
    let mut first = true;
    for property in raw.split(';') {
        let property = trim_ows(property);
        if property.is_empty() {
            continue;
        }
        let (key, value) = match property.split_once('=') {
            Some((k, v)) => (trim_ows(k), Some(trim_ows(v))),
            None => (property, None),
        };
        if !is_token(key) || !value.is_none_or(|v| v.bytes().all(is_baggage_octet)) {
            return false;
        }
        if !first {
            out.push(';');
        }
        first = false;
        out.push_str(key);
        if let Some(v) = value {
            out.push('=');
            out.push_str(v);
        }
    }
    true
}
