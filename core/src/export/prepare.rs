//! Preparing a queued record for export, once, on the batch thread: string values truncated
//! to the value-length limit and redaction applied (every exporter sends the same), and the
//! conversion to the SDK's `SpanData` for the exporters that take it.

use crate::export::redaction::Redactor;
use crate::trace::record::{to_system_time, SpanRecord};
use crate::trace::scope::ScopeCache;
use crate::types::{SpanContext, SpanKind, Status};
use opentelemetry::trace as ot;
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

fn truncate_str(s: &str, max: usize) -> Option<&str> {
    if s.len() <= max {
        return None; // fewer bytes than the limit: fewer characters too
    }
    s.char_indices().nth(max).map(|(cut, _)| &s[..cut])
}

/// Truncates string values (and string array elements) to `limit` characters.
pub(crate) fn truncate_value(v: &mut Value, limit: usize) {
    use opentelemetry::StringValue;
    match v {
        Value::String(s) => {
            if let Some(t) = truncate_str(s.as_str(), limit) {
                *s = StringValue::from(t.to_string());
            }
        }
        Value::Array(Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(t) = truncate_str(s.as_str(), limit) {
                    *s = StringValue::from(t.to_string());
                }
            }
        }
        _ => {}
    }
}

/// Truncates every attribute value to `limit` characters (nothing when `None`).
pub(crate) fn truncate_all(attrs: &mut [KeyValue], limit: Option<usize>) {
    if let Some(max) = limit {
        for kv in attrs {
            truncate_value(&mut kv.value, max);
        }
    }
}

/// Applies the value-length limit and then the redactor to a record's attributes, event
/// attributes and link attributes, in place (the same order `SpanData` export uses). Values
/// that need no change are not touched.
pub(crate) fn prepare(r: &mut SpanRecord, limit: Option<usize>, redactor: Option<&Redactor>) {
    if limit.is_some() {
        truncate_all(&mut r.attributes, limit);
        for e in r.events.iter_mut() {
            truncate_all(&mut e.attributes, limit);
        }
        for l in r.links.iter_mut() {
            truncate_all(&mut l.attributes, limit);
        }
    }
    if let Some(red) = redactor {
        red.redact_record(r);
    }
}

/// Converts a span context to the SDK's.
pub(crate) fn to_otel_context(c: &SpanContext) -> ot::SpanContext {
    let state = if c.trace_state.is_empty() {
        ot::TraceState::default()
    } else {
        ot::TraceState::from_key_value(
            c.trace_state
                .entries()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or_default()
    };
    ot::SpanContext::new(
        ot::TraceId::from_bytes(c.trace_id.0),
        ot::SpanId::from_bytes(c.span_id.0),
        ot::TraceFlags::new(c.trace_flags.0),
        c.is_remote,
        state,
    )
}

fn to_otel_kind(k: SpanKind) -> ot::SpanKind {
    match k {
        SpanKind::Internal => ot::SpanKind::Internal,
        SpanKind::Server => ot::SpanKind::Server,
        SpanKind::Client => ot::SpanKind::Client,
        SpanKind::Producer => ot::SpanKind::Producer,
        SpanKind::Consumer => ot::SpanKind::Consumer,
    }
}

/// Converts one queued record into the SDK's `SpanData`, applying value truncation and
/// redaction. Mostly moves: the attributes are already in the SDK's form. Takes out of the
/// record only the parts `SpanData` owns (attributes, name, events, links, status), so the
/// record itself stays in the taken vector, to be dropped there without being moved.
pub(crate) fn to_span_data(
    r: &mut SpanRecord,
    scope: &InstrumentationScope,
    limit: Option<usize>,
    redactor: Option<&Redactor>,
) -> SpanData {
    // Inline attributes get their Vec here, on the export thread that also frees it; a
    // spilled vector hands over its heap block.
    let mut attributes: Vec<opentelemetry::KeyValue> = if r.attributes.spilled() {
        std::mem::take(&mut r.attributes).into_vec()
    } else {
        r.attributes.drain(..).collect()
    };
    truncate_all(&mut attributes, limit);
    // Most spans have neither events nor links: skip the (empty) conversions for them.
    let mut events = SpanEvents::default();
    if !r.events.is_empty() {
        events.events = std::mem::take(&mut r.events)
            .into_iter()
            .map(|e| {
                let mut a = e.attributes;
                truncate_all(&mut a, limit);
                ot::Event::new(e.name, to_system_time(e.time), a, e.dropped)
            })
            .collect();
    }
    events.dropped_count = r.dropped_events;
    let mut links = SpanLinks::default();
    if !r.links.is_empty() {
        links.links = std::mem::take(&mut r.links)
            .into_iter()
            .map(|l| {
                let mut a = l.attributes;
                truncate_all(&mut a, limit);
                ot::Link::new(to_otel_context(&l.context), a, l.dropped)
            })
            .collect();
    }
    links.dropped_count = r.dropped_links;
    let mut data = SpanData {
        span_context: to_otel_context(&r.context),
        parent_span_id: ot::SpanId::from_bytes(r.parent_span_id.0),
        parent_span_is_remote: r.parent_is_remote,
        span_kind: to_otel_kind(r.kind),
        name: std::mem::take(&mut r.name),
        start_time: to_system_time(r.start),
        end_time: to_system_time(r.end),
        attributes,
        dropped_attributes_count: r.dropped_attributes,
        events,
        links,
        status: match std::mem::take(&mut r.status) {
            Status::Unset => ot::Status::Unset,
            Status::Ok => ot::Status::Ok,
            Status::Error(d) => ot::Status::error(d),
        },
        instrumentation_scope: scope.clone(),
    };
    if let Some(red) = redactor {
        red.redact_span(&mut data);
    }
    data
}

/// The records of `batch` as the SDK's `SpanData` (prepared: truncated and redacted), each
/// with its scope from `scopes`.
pub(crate) fn span_data_batch(
    batch: &mut [SpanRecord],
    scopes: &mut ScopeCache<InstrumentationScope>,
    limit: Option<usize>,
    redactor: Option<&Redactor>,
) -> Vec<SpanData> {
    let mut data = Vec::with_capacity(batch.len());
    for r in batch {
        let scope = scopes.get(r.scope);
        data.push(to_span_data(r, scope, limit, redactor));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_by_characters_on_boundaries() {
        for (text, limit, expected) in [
            ("héllo", 2, "hé"),
            ("日本語テキスト", 3, "日本語"),
            ("日本", 2, "日本"),
            ("abc", 3, "abc"),
            ("abcdef", 2, "ab"),
        ] {
            let mut v = opentelemetry::Value::from(text);
            truncate_value(&mut v, limit);
            assert_eq!(v.as_str(), expected);
        }
    }
}
