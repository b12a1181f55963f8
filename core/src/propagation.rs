//! W3C Trace Context (Level 1, plus the Level 2 `random` trace flag) and W3C Baggage
//! propagation, as pure inject/extract over lists of `(name, value)` pairs.
//!
//! Every binding calls this module instead of its host language's propagator, so that a
//! malformed header is treated the same way in Python, Node, Erlang, Java and C. Nothing here
//! allocates for a carrier without `tracestate` or `baggage` apart from the injected
//! `traceparent` string, nothing panics on any input, and no regex or map is used.
//!
//! # Rules, and where they come from
//!
//! `traceparent` ([W3C Trace Context], "traceparent Header" and "Versioning of traceparent"):
//! - Header names are matched case-insensitively. Leading/trailing OWS (space, tab) around a
//!   value is ignored, as the official test suite (`test/test.py`, `test_traceparent_ows_handling`)
//!   requires.
//! - More than one `traceparent` field in a carrier is invalid: the trace restarts
//!   (`test_traceparent_duplicated`).
//! - Version `ff` is invalid; version `00` must be exactly 55 characters; a higher version is
//!   parsed by its first 55 characters when it is exactly 55 long or character 55 is `-`.
//! - All fields are lowercase hex (`HEXDIGLC`); all-zero trace id or parent id is invalid.
//! - Flags: the `sampled` (0x01) and Level 2 `random` (0x02) bits are kept; every other bit is
//!   cleared ("Vendors MUST set those to zero"), so they are never re-injected.
//!
//! `tracestate` ("tracestate Header"):
//! - Only parsed when `traceparent` is valid. Several fields are joined with `,` (RFC 7230
//!   §3.2.2); empty and whitespace-only list members are skipped.
//! - Keys follow the Level 1 Recommendation's grammar, `simple-key / tenant-id "@" system-id`
//!   (tenant ≤ 241, system ≤ 14 characters, one `@` at most), which the test suite enforces
//!   (`test_tracestate_key_illegal_vendor_format`, `test_tracestate_key_length_limit`). One
//!   relaxation: a simple key may start with a digit, as the Recommendation's note ("MUST begin
//!   with a lowercase letter or a digit") and the Level 2 grammar allow.
//! - Values: 1–256 printable ASCII characters except `,` and `=`, not ending in a space.
//! - Any invalid member, a duplicated key or more than 32 members discards the whole
//!   `tracestate` (the test suite's strict level), never the `traceparent`.
//! - There is no size limit below 32 × (256 + 1 + 256) bytes: the 32-member limit already
//!   bounds it, and the spec asks for at least 512 characters.
//!
//! `baggage` ([W3C Baggage]):
//! - `key OWS "=" OWS value *( OWS ";" OWS property )`; keys are RFC 7230 tokens, values are
//!   `baggage-octet`s, percent-decoded (an invalid escape such as `%zz` is kept literally;
//!   decoded bytes that are not UTF-8 become U+FFFD, as the spec requires).
//! - An invalid list member is skipped, not the whole header. Empty list members and empty
//!   properties are ignored.
//! - Properties are kept as the entry's opaque `metadata` string, not decoded; only the OWS the
//!   spec says is not part of them is removed (`a ; b = c` becomes `a;b=c`).
//! - A key seen twice keeps its first position and takes the last value (what a map does in
//!   every host language's OpenTelemetry API).
//! - Limits: the spec requires at least 64 members and 8192 bytes. We keep up to
//!   [`MAX_BAGGAGE_ENTRIES`] (180) distinct keys and drop, in order, any member that would make
//!   the serialized header exceed [`MAX_BAGGAGE_BYTES`] (8192); a member is never truncated.
//!   The same limits apply on inject.
//!
//! [W3C Trace Context]: https://www.w3.org/TR/trace-context-2/
//! [W3C Baggage]: https://www.w3.org/TR/baggage/

use crate::config::PropagatorKind;
use crate::error::{Error, Result};
use crate::types::{SpanContext, SpanId, TraceFlags, TraceId};
use std::sync::Arc;

/// Header name of the W3C trace parent (lowercase, as the spec asks senders to write it).
pub const TRACEPARENT: &str = "traceparent";
/// Header name of the W3C vendor trace state.
pub const TRACESTATE: &str = "tracestate";
/// Header name of W3C baggage.
pub const BAGGAGE: &str = "baggage";

/// Most `tracestate` list members allowed; a header with more is discarded (W3C).
pub const MAX_TRACESTATE_ENTRIES: usize = 32;
/// Longest `tracestate` key (W3C).
pub const MAX_TRACESTATE_KEY_LEN: usize = 256;
/// Longest `tracestate` value (W3C).
pub const MAX_TRACESTATE_VALUE_LEN: usize = 256;
/// Most distinct baggage entries kept on extract and written on inject. The spec's minimum is
/// 64; 180 is the maximum of earlier drafts that OpenTelemetry SDKs still use.
pub const MAX_BAGGAGE_ENTRIES: usize = 180;
/// Largest serialized `baggage` header kept on extract and written on inject (the spec's
/// minimum, and what OpenTelemetry SDKs use).
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// The trace-flag bits this implementation knows: `sampled` and Level 2 `random`.
const KNOWN_FLAGS: u8 = TraceFlags::SAMPLED | TraceFlags::RANDOM;
/// Length of a version-00 `traceparent`.
const TRACEPARENT_LEN: usize = 55;
/// Longest tenant id of a multi-tenant `tracestate` key.
const MAX_TENANT_LEN: usize = 241;
/// Longest system id of a multi-tenant `tracestate` key.
const MAX_SYSTEM_LEN: usize = 14;

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Removes HTTP optional whitespace (space and horizontal tab, RFC 7230 §3.2.3) at both ends.
#[inline]
fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

// ---------------------------------------------------------------------------------------------
// traceparent
// ---------------------------------------------------------------------------------------------

#[inline]
fn lower_hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes exactly `2 * N` lowercase hex bytes (works on bytes so that no UTF-8 boundary can
/// make it panic).
#[inline]
fn decode_lower_hex<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = (lower_hex_nibble(pair[0])? << 4) | lower_hex_nibble(pair[1])?;
    }
    Some(out)
}

#[inline]
fn encode_lower_hex(bytes: &[u8], out: &mut [u8]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_LOWER[(b >> 4) as usize];
        pair[1] = HEX_LOWER[(b & 0x0f) as usize];
    }
}

/// Parses a `traceparent` value into a remote [`SpanContext`] (with an empty trace state), or
/// `None` when the W3C rules say the header must be ignored and the trace restarted.
///
/// Accepts version `00` (exactly 55 characters) and, as the spec's versioning rules ask, any
/// higher version except `ff` by its first 55 characters. Only the `sampled` and `random` flag
/// bits are kept. Surrounding spaces and tabs are ignored.
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let b = trim_ows(value).as_bytes();
    if b.len() < TRACEPARENT_LEN {
        return None;
    }
    let [version] = decode_lower_hex::<1>(&b[0..2])?;
    if version == 0xff || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    if b.len() > TRACEPARENT_LEN && (version == 0 || b[TRACEPARENT_LEN] != b'-') {
        return None;
    }
    let trace_id = TraceId(decode_lower_hex::<16>(&b[3..35])?);
    let span_id = SpanId(decode_lower_hex::<8>(&b[36..52])?);
    let [flags] = decode_lower_hex::<1>(&b[53..55])?;
    if !trace_id.is_valid() || !span_id.is_valid() {
        return None;
    }
    Some(SpanContext {
        trace_id,
        span_id,
        trace_flags: TraceFlags(flags & KNOWN_FLAGS),
        trace_state: TraceState::default(),
        is_remote: true,
    })
}

/// Formats `span_context` as a version-00 `traceparent`:
/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. Flag bits other than `sampled` and
/// `random` are written as zero, as the spec requires. Does not check validity: callers that
/// inject use [`Propagators::inject`], which writes nothing for an invalid context.
pub fn format_traceparent(span_context: &SpanContext) -> String {
    let mut buf = [0u8; TRACEPARENT_LEN];
    buf[0] = b'0';
    buf[1] = b'0';
    buf[2] = b'-';
    encode_lower_hex(&span_context.trace_id.0, &mut buf[3..35]);
    buf[35] = b'-';
    encode_lower_hex(&span_context.span_id.0, &mut buf[36..52]);
    buf[52] = b'-';
    encode_lower_hex(
        &[span_context.trace_flags.0 & KNOWN_FLAGS],
        &mut buf[53..55],
    );
    // Every byte is ASCII, so this never falls back to the default.
    String::from_utf8(buf.to_vec()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// tracestate
// ---------------------------------------------------------------------------------------------

/// W3C `tracestate`: the ordered vendor entries that travel with a trace, most recent (the
/// vendor that wrote `traceparent`) first.
///
/// It is cloned into every child span, so it is an `Arc`-shared immutable list and the empty
/// state holds no allocation at all. Mutations ([`insert`](Self::insert),
/// [`delete`](Self::delete)) return a new state, following the W3C mutation rules. Every
/// instance is valid: at most 32 entries, unique keys, keys and values that match the grammar.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TraceState(Option<Arc<Vec<(String, String)>>>);

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
    /// whole header must be discarded: an invalid list member, a duplicated key or more than
    /// 32 members. Empty and whitespace-only members are skipped, so `""` gives an empty state.
    pub fn parse(header: &str) -> Option<TraceState> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for member in header.split(',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            if entries.len() == MAX_TRACESTATE_ENTRIES {
                return None;
            }
            let (key, value) = member.split_once('=')?;
            if !is_valid_tracestate_key(key)
                || !is_valid_tracestate_value(value)
                || entries.iter().any(|(k, _)| k == key)
            {
                return None;
            }
            entries.push((key.to_owned(), value.to_owned()));
        }
        Some(TraceState::from_vec(entries))
    }

    /// Builds a state from entries given most recent first (for bindings converting a host
    /// language's trace state).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for an invalid key or
    /// value, a duplicated key or more than 32 entries: the same things that make a received
    /// header invalid.
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
            "invalid tracestate key {key:?}: expected lowercase letters, digits, '_', '-', '*', \
             '/' (at most 256), or tenant@system (at most 241 and 14)"
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

/// `lcalpha / DIGIT / "_" / "-" / "*" / "/"`: the characters after the first of a key part.
#[inline]
fn is_key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/')
}

/// A key part: `first` then up to `max - 1` key characters.
fn is_key_part(part: &[u8], max: usize, first: fn(u8) -> bool) -> bool {
    match part.split_first() {
        Some((&c, rest)) => part.len() <= max && first(c) && rest.iter().all(|&c| is_key_char(c)),
        None => false,
    }
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// The W3C tracestate key grammar (see the module docs for the one relaxation).
fn is_valid_tracestate_key(key: &str) -> bool {
    let b = key.as_bytes();
    match b.iter().position(|&c| c == b'@') {
        None => is_key_part(b, MAX_TRACESTATE_KEY_LEN, is_lower_alnum),
        Some(at) => {
            let (tenant, system) = (&b[..at], &b[at + 1..]);
            is_key_part(tenant, MAX_TENANT_LEN, is_lower_alnum)
                && is_key_part(system, MAX_SYSTEM_LEN, |c| c.is_ascii_lowercase())
        }
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

// ---------------------------------------------------------------------------------------------
// baggage
// ---------------------------------------------------------------------------------------------

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
/// Immutable and `Arc`-shared like [`TraceState`], so cloning it into every context is cheap,
/// and free when empty. Keys are unique: [`with`](Self::with) replaces an existing key in place.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Baggage(Option<Arc<Vec<BaggageEntry>>>);

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
    String::from_utf8_lossy(&out).into_owned()
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

// ---------------------------------------------------------------------------------------------
// propagators
// ---------------------------------------------------------------------------------------------

/// What [`Propagators::extract`] found in a carrier.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Extracted {
    /// The remote parent (`is_remote = true`), or `None` when there is no valid `traceparent`
    /// (start a new trace). Its trace state is the received `tracestate`, or empty when that was
    /// invalid.
    pub span_context: Option<SpanContext>,
    /// The received baggage (empty when absent or when the baggage propagator is off).
    pub baggage: Baggage,
}

const ORDER_NONE: &[PropagatorKind] = &[];
const ORDER_TC: &[PropagatorKind] = &[PropagatorKind::TraceContext];
const ORDER_BAGGAGE: &[PropagatorKind] = &[PropagatorKind::Baggage];
const ORDER_TC_BAGGAGE: &[PropagatorKind] =
    &[PropagatorKind::TraceContext, PropagatorKind::Baggage];
const ORDER_BAGGAGE_TC: &[PropagatorKind] =
    &[PropagatorKind::Baggage, PropagatorKind::TraceContext];

/// The configured composite propagator (`OTEL_PROPAGATORS`): which W3C formats are injected
/// and extracted, in order. Every binding's propagator delegates to this, so all languages
/// read and write identical headers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Propagators {
    kinds: &'static [PropagatorKind],
}

impl Default for Propagators {
    /// `tracecontext,baggage`, the OpenTelemetry default for `OTEL_PROPAGATORS`.
    fn default() -> Self {
        Propagators {
            kinds: ORDER_TC_BAGGAGE,
        }
    }
}

impl Propagators {
    /// A composite of `kinds`, in order; a repeated kind counts once (at its first position).
    /// An empty list is the no-op propagator (`OTEL_PROPAGATORS=none`).
    pub fn new(kinds: &[PropagatorKind]) -> Propagators {
        let tc = kinds
            .iter()
            .position(|k| *k == PropagatorKind::TraceContext);
        let bg = kinds.iter().position(|k| *k == PropagatorKind::Baggage);
        let kinds = match (tc, bg) {
            (None, None) => ORDER_NONE,
            (Some(_), None) => ORDER_TC,
            (None, Some(_)) => ORDER_BAGGAGE,
            (Some(t), Some(b)) if t < b => ORDER_TC_BAGGAGE,
            (Some(_), Some(_)) => ORDER_BAGGAGE_TC,
        };
        Propagators { kinds }
    }

    /// The formats, in injection order, without repeats.
    pub fn kinds(&self) -> &'static [PropagatorKind] {
        self.kinds
    }

    fn has(&self, kind: PropagatorKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// The header names this composite reads and writes, in order (what OpenTelemetry's
    /// `TextMapPropagator.fields` returns; CORS configuration and carriers need it).
    pub fn fields(&self) -> &'static [&'static str] {
        match self.kinds {
            [] => &[],
            [PropagatorKind::TraceContext] => &[TRACEPARENT, TRACESTATE],
            [PropagatorKind::Baggage] => &[BAGGAGE],
            [PropagatorKind::TraceContext, ..] => &[TRACEPARENT, TRACESTATE, BAGGAGE],
            [PropagatorKind::Baggage, ..] => &[BAGGAGE, TRACEPARENT, TRACESTATE],
        }
    }

    /// Calls `set(name, value)` for each header to write, names in lowercase: `traceparent`
    /// (version 00) and, when non-empty, `tracestate` for a valid `span_context`; `baggage` when
    /// the baggage has entries. Writes no trace-context header for a missing or invalid
    /// context, so a non-recording invalid span never leaks an all-zero `traceparent`.
    pub fn inject(
        &self,
        span_context: Option<&SpanContext>,
        baggage: &Baggage,
        set: &mut dyn FnMut(&'static str, String),
    ) {
        for kind in self.kinds {
            match kind {
                PropagatorKind::TraceContext => {
                    if let Some(sc) = span_context.filter(|sc| sc.is_valid()) {
                        set(TRACEPARENT, format_traceparent(sc));
                        if !sc.trace_state.is_empty() {
                            set(TRACESTATE, sc.trace_state.header());
                        }
                    }
                }
                PropagatorKind::Baggage => {
                    if !baggage.is_empty() {
                        let header = baggage.header();
                        if !header.is_empty() {
                            set(BAGGAGE, header);
                        }
                    }
                }
            }
        }
    }

    /// Reads the carrier's `(name, value)` pairs (names case-insensitive; repeated `tracestate`
    /// or `baggage` fields are joined with `,` as RFC 7230 says). More than one `traceparent`
    /// makes the context invalid. Never fails: whatever is malformed is ignored as the W3C
    /// specifications say.
    pub fn extract<K: AsRef<str>, V: AsRef<str>>(&self, carrier: &[(K, V)]) -> Extracted {
        let want_tc = self.has(PropagatorKind::TraceContext);
        let want_baggage = self.has(PropagatorKind::Baggage);
        let mut traceparent: Option<&str> = None;
        let mut traceparents = 0usize;
        let mut tracestate = Joined::Absent;
        let mut baggage = Joined::Absent;
        for (name, value) in carrier {
            let name = name.as_ref();
            if want_tc && name.eq_ignore_ascii_case(TRACEPARENT) {
                traceparents += 1;
                traceparent = Some(value.as_ref());
            } else if want_tc && name.eq_ignore_ascii_case(TRACESTATE) {
                tracestate.push(value.as_ref());
            } else if want_baggage && name.eq_ignore_ascii_case(BAGGAGE) {
                baggage.push(value.as_ref());
            }
        }
        let span_context = match traceparent {
            Some(tp) if traceparents == 1 => parse_traceparent(tp).map(|mut sc| {
                if let Some(ts) = tracestate.as_str() {
                    sc.trace_state = TraceState::parse(ts).unwrap_or_default();
                }
                sc
            }),
            _ => None,
        };
        Extracted {
            span_context,
            baggage: baggage.as_str().map(Baggage::parse).unwrap_or_default(),
        }
    }
}

/// The values of a repeatable header, joined with `,` only when it really is repeated (no
/// allocation for the usual single field).
enum Joined<'a> {
    Absent,
    One(&'a str),
    Many(String),
}

impl<'a> Joined<'a> {
    fn push(&mut self, value: &'a str) {
        *self = match std::mem::replace(self, Joined::Absent) {
            Joined::Absent => Joined::One(value),
            Joined::One(first) => {
                let mut s = String::with_capacity(first.len() + 1 + value.len());
                s.push_str(first);
                s.push(',');
                s.push_str(value);
                Joined::Many(s)
            }
            Joined::Many(mut s) => {
                s.push(',');
                s.push_str(value);
                Joined::Many(s)
            }
        };
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Joined::Absent => None,
            Joined::One(s) => Some(s),
            Joined::Many(s) => Some(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn w3c() -> Propagators {
        Propagators::new(&[PropagatorKind::TraceContext, PropagatorKind::Baggage])
    }

    fn inject_all(p: &Propagators, sc: Option<&SpanContext>, b: &Baggage) -> Vec<(String, String)> {
        let mut out = Vec::new();
        p.inject(sc, b, &mut |k, v| out.push((k.to_string(), v)));
        out
    }

    #[test]
    fn traceparent_round_trip() {
        let sc = parse_traceparent(TP).unwrap();
        assert_eq!(sc.trace_id.to_hex(), TRACE);
        assert_eq!(sc.span_id.to_hex(), SPAN);
        assert!(sc.is_sampled());
        assert!(sc.is_remote);
        assert_eq!(format_traceparent(&sc), TP);
    }

    #[test]
    fn traceparent_rejects_malformed() {
        let bad = [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",
            "\n00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ];
        for v in bad {
            assert!(parse_traceparent(v).is_none(), "{v:?}");
        }
    }

    #[test]
    fn traceparent_future_version_and_ows() {
        let v = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        assert_eq!(parse_traceparent(v).unwrap().trace_id.to_hex(), TRACE);
        let v = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(parse_traceparent(v).is_some());
        assert!(parse_traceparent(&format!(" \t{TP}\t ")).is_some());
    }

    #[test]
    fn flags_keep_sampled_and_random_only() {
        let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff";
        let sc = parse_traceparent(v).unwrap();
        assert_eq!(sc.trace_flags, TraceFlags(0x03));
        let mut sc2 = sc.clone();
        sc2.trace_flags = TraceFlags(0xfe);
        assert!(format_traceparent(&sc2).ends_with("-02"));
    }

    #[test]
    fn never_panics_on_multibyte_input() {
        // Multi-byte characters straddling every offset the parsers slice at.
        let seeds = [TP, "a=b,c=d", "k=v;p=q", "é"];
        for seed in seeds {
            for i in 0..=seed.len() {
                for ins in ["é", "€", "😀", "\u{0}", "%", "%e", ","] {
                    let mut s = String::new();
                    s.push_str(seed.get(..i).unwrap_or(""));
                    s.push_str(ins);
                    s.push_str(seed.get(i..).unwrap_or(""));
                    let _ = parse_traceparent(&s);
                    let _ = TraceState::parse(&s);
                    let _ = Baggage::parse(&s).header();
                }
            }
        }
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0😀";
        assert!(parse_traceparent(s).is_none());
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01😀";
        assert!(parse_traceparent(s).is_none());
    }

    #[test]
    fn tracestate_parse_rules() {
        let ts = TraceState::parse(" a=1 ,, \t,b=2\t").unwrap();
        assert_eq!(ts.header(), "a=1,b=2");
        assert_eq!(ts.get("b"), Some("2"));
        assert_eq!(TraceState::parse("").unwrap(), TraceState::default());
        for bad in [
            "a=1,a=2",
            "a=",
            "A=1",
            "a =1",
            "a=b=c",
            "foo@=1",
            "@foo=1",
            "foo@@bar=1",
            "foo@bar@baz=1",
            "a=1\tx",
            "a",
        ] {
            assert!(TraceState::parse(bad).is_none(), "{bad:?}");
        }
        let ok = format!("{}@{}=1", "t".repeat(241), "v".repeat(14));
        assert!(TraceState::parse(&ok).is_some());
        assert!(TraceState::parse(&format!("{}@v=1", "t".repeat(242))).is_none());
        assert!(TraceState::parse(&format!("t@{}=1", "v".repeat(15))).is_none());
        assert!(TraceState::parse(&format!("{}=1", "z".repeat(256))).is_some());
        assert!(TraceState::parse(&format!("{}=1", "z".repeat(257))).is_none());
        assert!(TraceState::parse(&format!("a={}", "v".repeat(256))).is_some());
        assert!(TraceState::parse(&format!("a={}", "v".repeat(257))).is_none());
        assert!(TraceState::parse("1a=1").is_some());
        assert!(TraceState::parse("t@1v=1").is_none());
        assert_eq!(TraceState::parse("a= x").unwrap().get("a"), Some(" x"));
    }

    #[test]
    fn tracestate_member_limit() {
        let members = |n: usize| {
            (1..=n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(TraceState::parse(&members(32)).unwrap().entries().len(), 32);
        assert!(TraceState::parse(&members(33)).is_none());
    }

    #[test]
    fn tracestate_mutation() {
        let ts = TraceState::parse("a=1,b=2,c=3").unwrap();
        assert_eq!(ts.insert("b", "9").unwrap().header(), "b=9,a=1,c=3");
        assert_eq!(ts.insert("d", "4").unwrap().header(), "d=4,a=1,b=2,c=3");
        assert_eq!(ts.delete("a").header(), "b=2,c=3");
        assert_eq!(ts.delete("zz"), ts);
        assert_eq!(
            ts.insert("B", "1").unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
        assert!(ts.insert("b", "x ").is_err());
        assert!(ts.insert("b", "").is_err());
        assert!(ts.delete("a").delete("b").delete("c").0.is_none());

        let full = TraceState::parse(
            &(1..=32)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(","),
        )
        .unwrap();
        let more = full.insert("new", "v").unwrap();
        assert_eq!(more.entries().len(), 32);
        assert_eq!(more.entries()[0].0, "new");
        assert_eq!(more.entries()[31].0, "k31");
        assert!(more.get("k32").is_none());
        let moved = full.insert("k32", "w").unwrap();
        assert_eq!(moved.entries().len(), 32);
        assert_eq!(moved.entries()[0], ("k32".to_string(), "w".to_string()));
    }

    #[test]
    fn tracestate_from_entries_validates() {
        let e = |k: &str, v: &str| (k.to_string(), v.to_string());
        let ts = TraceState::from_entries(vec![e("a", "1"), e("b", "2")]).unwrap();
        assert_eq!(ts.header(), "a=1,b=2");
        assert!(TraceState::from_entries(vec![e("a", "1"), e("a", "2")]).is_err());
        assert!(TraceState::from_entries(vec![e("a,b", "1")]).is_err());
        assert!(
            TraceState::from_entries((0..33).map(|i| e(&format!("k{i}"), "v")).collect()).is_err()
        );
        assert_eq!(
            TraceState::from_entries(vec![]).unwrap(),
            TraceState::default()
        );
    }

    #[test]
    fn empty_states_do_not_allocate() {
        assert!(TraceState::default().0.is_none());
        assert!(TraceState::parse(" , ").unwrap().0.is_none());
        assert!(Baggage::parse("").0.is_none());
        assert!(Baggage::parse("bad").0.is_none());
        let ts = TraceState::parse("a=1").unwrap();
        let clone = ts.clone();
        assert!(Arc::ptr_eq(
            ts.0.as_ref().unwrap(),
            clone.0.as_ref().unwrap()
        ));
    }

    #[test]
    fn baggage_parse_and_header() {
        let b = Baggage::parse(
            "key1 = value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
        );
        assert_eq!(b.entries().len(), 3);
        assert_eq!(b.entries()[0].metadata, "property1;property2");
        assert_eq!(b.get("key2"), Some("value2"));
        assert_eq!(b.entries()[2].metadata, "propertyKey=propertyValue");
        assert_eq!(
            b.header(),
            "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue"
        );
        let b = Baggage::parse("userId=Am%C3%A9lie,serverNode=DF%2028,bad key=1,x=%zz%4,y=%FF");
        assert_eq!(b.get("userId"), Some("Amélie"));
        assert_eq!(b.get("serverNode"), Some("DF 28"));
        assert_eq!(b.get("x"), Some("%zz%4"));
        assert_eq!(b.get("y"), Some("\u{FFFD}"));
        assert!(b.get("bad key").is_none());
        assert_eq!(
            b.header(),
            "userId=Am%C3%A9lie,serverNode=DF%2028,x=%25zz%254,y=%EF%BF%BD"
        );
    }

    #[test]
    fn baggage_skips_invalid_members_only() {
        let b = Baggage::parse("a=1,=2,b,c=x y,d=\"q\",e=1;@@@,f=ok;p;;q=1 ,g=");
        let keys: Vec<_> = b.entries().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "f", "g"]);
        assert_eq!(b.get("f"), Some("ok"));
        assert_eq!(b.entries()[1].metadata, "p;q=1");
        assert_eq!(b.get("g"), Some(""));
    }

    #[test]
    fn baggage_duplicates_and_mutation() {
        let b = Baggage::parse("a=1,b=2,a=3");
        assert_eq!(b.header(), "a=3,b=2");
        let b = b.with("c", "x y", "m").with("a", "4", "");
        assert_eq!(b.header(), "a=4,b=2,c=x%20y;m");
        assert_eq!(b.without("b").header(), "a=4,c=x%20y;m");
        assert_eq!(b.without("zz"), b);
        // Invalid key skipped and invalid metadata left out on inject.
        let b = Baggage::default()
            .with("bad key", "1", "")
            .with("k", "v", "a,b");
        assert_eq!(b.header(), "k=v");
    }

    #[test]
    fn baggage_limits() {
        let many = (0..200)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let b = Baggage::parse(&many);
        assert_eq!(b.entries().len(), MAX_BAGGAGE_ENTRIES);
        assert_eq!(b.header().split(',').count(), MAX_BAGGAGE_ENTRIES);

        // One 8192-byte member fits exactly; one byte more is dropped whole.
        let exact = format!("a={}", "0".repeat(8190));
        assert_eq!(Baggage::parse(&exact).header().len(), 8192);
        let over = format!("a={},b=1", "0".repeat(8191));
        assert_eq!(Baggage::parse(&over).header(), "b=1");

        // Many small members: the ones that would cross 8192 bytes are dropped.
        let big = (0..150)
            .map(|i| format!("k{i:03}={}", "x".repeat(60)))
            .collect::<Vec<_>>()
            .join(",");
        let b = Baggage::parse(&big);
        assert!(b.header().len() <= MAX_BAGGAGE_BYTES);
        assert_eq!(b.entries().len(), 8192 / 66);

        // Inject applies the same limits to a baggage built in code.
        let mut b = Baggage::default();
        for i in 0..200 {
            b = b.with(&format!("k{i}"), "v", "");
        }
        assert_eq!(b.header().split(',').count(), MAX_BAGGAGE_ENTRIES);
        let b = Baggage::default()
            .with("a", &"é".repeat(2000), "")
            .with("b", "1", "");
        assert_eq!(b.header(), "b=1");
    }

    #[test]
    fn propagators_fields_and_order() {
        use PropagatorKind::{Baggage as B, TraceContext as T};
        assert_eq!(w3c().fields(), ["traceparent", "tracestate", "baggage"]);
        assert_eq!(
            Propagators::new(&[B, T, B]).fields(),
            ["baggage", "traceparent", "tracestate"]
        );
        assert!(Propagators::new(&[]).fields().is_empty());
        assert_eq!(Propagators::new(&[T, T]).kinds(), [T]);
        assert_eq!(Propagators::default(), w3c());

        let sc = parse_traceparent(TP).unwrap();
        let b = Baggage::default().with("k", "v", "");
        let out = inject_all(&Propagators::new(&[B, T]), Some(&sc), &b);
        let names: Vec<_> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["baggage", "traceparent"]);
        assert!(inject_all(&Propagators::new(&[]), Some(&sc), &b).is_empty());
        let none = Propagators::new(&[]).extract(&[("traceparent", TP), ("baggage", "k=v")]);
        assert_eq!(none, Extracted::default());
    }

    #[test]
    fn inject_skips_invalid_context() {
        let b = Baggage::default();
        assert!(inject_all(&w3c(), Some(&SpanContext::invalid()), &b).is_empty());
        assert!(inject_all(&w3c(), None, &b).is_empty());
        let b = b.with("k", "v", "");
        assert_eq!(
            inject_all(&w3c(), None, &b),
            [("baggage".to_string(), "k=v".to_string())]
        );
    }

    #[test]
    fn extract_carrier_rules() {
        let p = w3c();
        let e = p.extract(&[
            ("TraceParent", TP),
            ("TRACESTATE", "a=1"),
            ("tracestate", "b=2"),
        ]);
        let sc = e.span_context.unwrap();
        assert_eq!(sc.trace_state.header(), "a=1,b=2");
        assert!(sc.is_remote);

        let e = p.extract(&[("traceparent", TP), ("traceparent", TP)]);
        assert!(e.span_context.is_none());

        let e = p.extract(&[("tracestate", "a=1"), ("baggage", "k=v")]);
        assert!(e.span_context.is_none());
        assert_eq!(e.baggage.get("k"), Some("v"));

        let e = p.extract(&[("traceparent", TP), ("tracestate", "a=1,a=2")]);
        assert!(e.span_context.unwrap().trace_state.is_empty());

        let e = p.extract(&[
            ("baggage".to_string(), "a=1".to_string()),
            ("Baggage".to_string(), "b=2".to_string()),
        ]);
        assert_eq!(e.baggage.header(), "a=1,b=2");

        let only_baggage = Propagators::new(&[PropagatorKind::Baggage]);
        let e = only_baggage.extract(&[("traceparent", TP), ("baggage", "k=v")]);
        assert!(e.span_context.is_none());
        assert!(!e.baggage.is_empty());
    }

    #[test]
    fn round_trip_through_inject() {
        let p = w3c();
        let carrier = [
            (
                "traceparent",
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0b-x",
            ),
            ("tracestate", " rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE"),
            ("baggage", "userId = alice, serverNode=DF%2028;p"),
        ];
        let e = p.extract(&carrier);
        let out = inject_all(&p, e.span_context.as_ref(), &e.baggage);
        let expected = [
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
            ),
            ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            ("baggage", "userId=alice,serverNode=DF%2028;p"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(out, expected);
    }
}
