//! W3C `traceparent`: parsing and formatting (the rules are in the module docs of
//! [`crate::propagation`]).

use super::{trim_ows, TraceState, KNOWN_FLAGS, TRACEPARENT_LEN};
use crate::hex::{decode_lower as decode_lower_hex, encode_lower as encode_lower_hex};
use crate::types::{SpanContext, SpanId, TraceFlags, TraceId};

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
/// inject use [`Propagators::inject`](super::Propagators::inject), which writes nothing for an invalid context.
pub fn format_traceparent(span_context: &SpanContext) -> String {
    let mut buf = [0u8; TRACEPARENT_LEN];
    format_traceparent_into(span_context, &mut buf).to_owned()
}

/// [`format_traceparent`] into a caller's buffer, without allocating (what
/// [`Propagators::inject_str`](super::Propagators::inject_str) uses). Returns the header,
/// which is all of `buf`.
pub fn format_traceparent_into<'b>(
    span_context: &SpanContext,
    buf: &'b mut [u8; TRACEPARENT_LEN],
) -> &'b str {
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
    // Every byte is ASCII, so this never falls back to the empty string.
    std::str::from_utf8(buf).unwrap_or_default()
}
