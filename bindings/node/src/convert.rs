//! Conversions between JavaScript values and the core's plain values: options, span contexts,
//! carriers, baggage and stats. The JavaScript side (`lib/options.js`, `lib/propagator.js`)
//! flattens its objects into the shapes declared here, so no conversion needs to walk an
//! arbitrary JavaScript object from Rust.

use napi_derive::napi;
use polytrace_core::config::{self, OptionValue};
use polytrace_core::propagation::{Baggage, TraceState};
use polytrace_core::{
    ConfigProblem, Error, SpanContext, SpanId, SpanKind, Stats, TraceFlags, TraceId,
};

/// One explicit provider option, flattened by JavaScript (`lib/options.js`): `tag` says which
/// field holds the value (`s` string, `i` integer, `f` float, `b` boolean, `l` list, `m` map),
/// or `x` for a JavaScript value no option can take (a function, a list with a number in it),
/// with `s` describing it.
#[napi(object)]
pub struct OptionArg {
    /// The option name as the caller spelled it (`maxQueueSize`, `max_queue_size`).
    pub name: String,
    /// Which value field is set.
    pub tag: String,
    /// `s`: the string.
    pub s: Option<String>,
    /// `i` and `f`: the number.
    pub n: Option<f64>,
    /// `b`: the boolean.
    pub b: Option<bool>,
    /// `l`: the list of strings.
    pub list: Option<Vec<String>>,
    /// `m`: the map as `[key, value]` pairs.
    pub map: Option<Vec<Vec<String>>>,
}

fn bad(msg: String) -> Error {
    Error::invalid_argument(msg)
}

/// Options as the core takes them; a value no option can take is the core's
/// [`ConfigProblem::WrongType`] error naming the option. Errors are core errors, for
/// [`crate::error::throw`].
pub fn options(args: Vec<OptionArg>) -> polytrace_core::Result<Vec<(String, OptionValue)>> {
    args.into_iter()
        .map(|a| {
            let missing = || bad(format!("option \"{}\": missing value", a.name));
            let value = match a.tag.as_str() {
                "s" => OptionValue::Str(a.s.clone().ok_or_else(missing)?),
                "i" => {
                    let n = a.n.ok_or_else(missing)?;
                    if n.fract() == 0.0 && n.abs() < 9.0e15 {
                        OptionValue::Int(n as i64)
                    } else {
                        OptionValue::Float(n)
                    }
                }
                "f" => OptionValue::Float(a.n.ok_or_else(missing)?),
                "b" => OptionValue::Bool(a.b.ok_or_else(missing)?),
                "l" => OptionValue::List(a.list.clone().ok_or_else(missing)?),
                "m" => OptionValue::Map(
                    a.map
                        .clone()
                        .ok_or_else(missing)?
                        .into_iter()
                        .map(|kv| {
                            let mut it = kv.into_iter();
                            (it.next().unwrap_or_default(), it.next().unwrap_or_default())
                        })
                        .collect(),
                ),
                "x" => {
                    let given = a.s.as_deref().unwrap_or("a value of another type");
                    return Err(config::option_error(
                        ConfigProblem::WrongType,
                        &a.name,
                        format!(
                            "invalid value for configuration option \"{}\": expected a string, \
                             a number, a boolean, a list of strings or a map of strings, got \
                             {given}",
                            a.name
                        ),
                    ));
                }
                other => return Err(bad(format!("option \"{}\": unknown tag {other:?}", a.name))),
            };
            Ok((a.name, value))
        })
        .collect()
}

/// The OpenTelemetry JavaScript API's `SpanKind` numbers (INTERNAL = 0 ... CONSUMER = 4).
pub fn kind(n: u32) -> SpanKind {
    match n {
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

/// A span context given by JavaScript as hex strings; malformed ids give an invalid context
/// (what the API's `isSpanContextValid` would say), a malformed trace state an empty one.
pub fn span_context(
    trace_id: &str,
    span_id: &str,
    flags: u32,
    trace_state: Option<&str>,
    is_remote: bool,
) -> SpanContext {
    SpanContext {
        trace_id: TraceId::from_hex(trace_id).unwrap_or(TraceId::INVALID),
        span_id: SpanId::from_hex(span_id).unwrap_or(SpanId::INVALID),
        trace_flags: TraceFlags((flags & 0xff) as u8),
        trace_state: trace_state.and_then(TraceState::parse).unwrap_or_default(),
        is_remote,
    }
}

/// Baggage from `[key, value, metadata]` triples.
pub fn baggage(entries: &[Vec<String>]) -> Baggage {
    let mut b = Baggage::default();
    for e in entries {
        let get = |i: usize| e.get(i).map(String::as_str).unwrap_or("");
        b = b.with(get(0), get(1), get(2));
    }
    b
}

/// Baggage as `[key, value, metadata]` triples.
pub fn baggage_entries(b: &Baggage) -> Vec<Vec<String>> {
    b.entries()
        .iter()
        .map(|e| vec![e.key.clone(), e.value.clone(), e.metadata.clone()])
        .collect()
}

/// The pipeline's counters, camelCased for JavaScript. Numbers, not BigInts: a counter would
/// need 2⁵³ spans to lose precision.
#[napi(object)]
pub struct JsStats {
    /// Recording spans started (sampled or record-only).
    pub spans_started: f64,
    /// Recording spans ended.
    pub spans_ended: f64,
    /// Spans the exporter confirmed.
    pub spans_exported: f64,
    /// Sum of every `dropped*` counter.
    pub spans_dropped: f64,
    /// Dropped because the queue was full (back end slow or down).
    pub dropped_queue_full: f64,
    /// Dropped because their export failed for good (after retries).
    pub dropped_export_failed: f64,
    /// Dropped at shutdown: ended after it began, or not sent by its deadline.
    pub dropped_shutdown: f64,
    /// Lost in a finished-span batch the core could not read (a polytrace bug).
    pub dropped_invalid: f64,
    /// Export calls that failed (each may carry many spans).
    pub export_failures: f64,
    /// Spans the sampler started with the `sampled` flag.
    pub spans_sampled: f64,
    /// Spans the sampler started without the `sampled` flag.
    pub spans_not_sampled: f64,
    /// Strategies fetched by the remote sampler (`jaeger_remote`).
    pub sampler_polls: f64,
    /// Failed fetches of the remote sampler's strategy.
    pub sampler_poll_failures: f64,
}

impl From<Stats> for JsStats {
    fn from(s: Stats) -> Self {
        JsStats {
            spans_started: s.spans_started as f64,
            spans_ended: s.spans_ended as f64,
            spans_exported: s.spans_exported as f64,
            spans_dropped: s.spans_dropped as f64,
            dropped_queue_full: s.dropped_queue_full as f64,
            dropped_export_failed: s.dropped_export_failed as f64,
            dropped_shutdown: s.dropped_shutdown as f64,
            dropped_invalid: s.dropped_invalid as f64,
            export_failures: s.export_failures as f64,
            spans_sampled: s.spans_sampled as f64,
            spans_not_sampled: s.spans_not_sampled as f64,
            sampler_polls: s.sampler_polls as f64,
            sampler_poll_failures: s.sampler_poll_failures as f64,
        }
    }
}

/// Splits an id into big-endian 32-bit words (the form JavaScript keeps ids in for the
/// finished-span batch; see `lib/batch.js`).
pub fn words(bytes: &[u8], out: &mut Vec<u32>) {
    for c in bytes.chunks_exact(4) {
        out.push(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
}
