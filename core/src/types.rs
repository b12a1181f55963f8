//! Plain value types shared by the core API and the bindings: ids, span context, attribute
//! values, span kind and status. They deliberately do not expose the `opentelemetry` crates'
//! types, so bindings depend on polytrace-core alone.

use crate::hex;
use crate::propagation::TraceState;
use std::borrow::Cow;
use std::fmt;

/// A 16-byte W3C trace id. All zeroes is invalid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte W3C span (parent) id. All zeroes is invalid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct SpanId(pub [u8; 8]);

impl TraceId {
    /// The invalid all-zero id.
    pub const INVALID: TraceId = TraceId([0; 16]);

    /// True unless all bytes are zero.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 16]
    }

    /// 32 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::to_lower(&self.0)
    }

    /// Parses 32 lowercase hex characters (the W3C form). Does not reject the all-zero id:
    /// check [`is_valid`](Self::is_valid).
    pub fn from_hex(s: &str) -> Option<TraceId> {
        hex::decode_lower::<16>(s.as_bytes()).map(TraceId)
    }

    /// The id as a big-endian integer (the byte order of the W3C header).
    pub fn to_u128(&self) -> u128 {
        u128::from_be_bytes(self.0)
    }
}

impl SpanId {
    /// The invalid all-zero id.
    pub const INVALID: SpanId = SpanId([0; 8]);

    /// True unless all bytes are zero.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 8]
    }

    /// 16 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::to_lower(&self.0)
    }

    /// Parses 16 lowercase hex characters (the W3C form).
    pub fn from_hex(s: &str) -> Option<SpanId> {
        hex::decode_lower::<8>(s.as_bytes()).map(SpanId)
    }

    /// The id as a big-endian integer.
    pub fn to_u64(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// W3C trace flags. Bit 0 = sampled, bit 1 = random (trace-context Level 2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct TraceFlags(pub u8);

impl TraceFlags {
    /// The `sampled` bit.
    pub const SAMPLED: u8 = 0x01;
    /// The Level 2 `random` bit: the rightmost 7 bytes of the trace id are random.
    pub const RANDOM: u8 = 0x02;

    /// Whether the sampled bit is set.
    pub fn is_sampled(self) -> bool {
        self.0 & Self::SAMPLED != 0
    }

    /// Whether the random bit is set.
    pub fn is_random(self) -> bool {
        self.0 & Self::RANDOM != 0
    }
}

/// The immutable identity of a span, local or received from the wire.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SpanContext {
    /// Trace id.
    pub trace_id: TraceId,
    /// Span id.
    pub span_id: SpanId,
    /// Trace flags (sampled, random).
    pub trace_flags: TraceFlags,
    /// Vendor trace state (W3C `tracestate`).
    pub trace_state: TraceState,
    /// True when the context was extracted from a carrier (came from another process).
    pub is_remote: bool,
}

impl SpanContext {
    /// The invalid context (all-zero ids), as a non-recording span reports.
    pub fn invalid() -> Self {
        SpanContext::default()
    }

    /// Valid when both ids are non-zero.
    pub fn is_valid(&self) -> bool {
        self.trace_id.is_valid() && self.span_id.is_valid()
    }

    /// Whether the sampled flag is set.
    pub fn is_sampled(&self) -> bool {
        self.trace_flags.is_sampled()
    }
}

/// An attribute value of any OpenTelemetry type. Arrays are homogeneous by construction.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// A UTF-8 string (borrowed `'static` strings are not copied).
    String(Cow<'static, str>),
    /// An array of booleans.
    BoolArray(Vec<bool>),
    /// An array of integers.
    IntArray(Vec<i64>),
    /// An array of doubles.
    DoubleArray(Vec<f64>),
    /// An array of strings.
    StringArray(Vec<String>),
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(Cow::Owned(v))
    }
}
impl From<&'static str> for Value {
    fn from(v: &'static str) -> Self {
        Value::String(Cow::Borrowed(v))
    }
}

/// An attribute key. Borrowed `'static` keys (Rust callers) are not copied; bindings pass
/// owned strings.
pub type Key = Cow<'static, str>;

/// An attribute: a key and a value.
pub type Attribute = (Key, Value);

/// What a span represents, as in the OpenTelemetry API.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub enum SpanKind {
    /// An internal operation (default).
    #[default]
    Internal,
    /// The server side of a synchronous request.
    Server,
    /// The client side of a synchronous request.
    Client,
    /// The sender of an asynchronous message.
    Producer,
    /// The receiver of an asynchronous message.
    Consumer,
}

impl SpanKind {
    /// Parses `internal|server|client|producer|consumer` (case-insensitive).
    pub fn from_name(s: &str) -> Option<SpanKind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "internal" => SpanKind::Internal,
            "server" => SpanKind::Server,
            "client" => SpanKind::Client,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            _ => return None,
        })
    }

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// The status of a span.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub enum Status {
    /// Not set (default).
    #[default]
    Unset,
    /// Explicitly OK; final, later `Error` is ignored.
    Ok,
    /// An error with a description.
    Error(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_case() {
        let t = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        assert_eq!(t.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(TraceId::from_hex("4BF92F3577B34DA6A3CE929D0E0E4736").is_none());
        assert!(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e473").is_none());
        let s = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        assert_eq!(s.to_hex(), "00f067aa0ba902b7");
        assert!(!SpanId::from_hex("0000000000000000").unwrap().is_valid());
    }
}
