//! A span's record: what the queue carries from the producing thread to the export thread,
//! and the rules that fill it (attribute, event and link limits with their dropped counts,
//! status precedence, exception events). Every way of making a span — a live
//! [`Span`](crate::api::Span), a finished span from a binding's own format — goes through these.

use crate::config::LimitsConfig;
use crate::types::{Attribute, Key, SpanContext, SpanId, SpanKind, Status, Value};
use opentelemetry::KeyValue;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch: the time type of the plain-value API.
pub type UnixNanos = u64;

/// The current time in [`UnixNanos`].
pub fn now_unix_nanos() -> UnixNanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

pub(crate) fn to_system_time(ns: UnixNanos) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

/// An event on a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Event name.
    pub name: Cow<'static, str>,
    /// When it happened; `None` = now.
    pub time: Option<UnixNanos>,
    /// Attributes.
    pub attributes: Vec<Attribute>,
}

/// A link to another span (in this trace or another).
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The linked span's context.
    pub context: SpanContext,
    /// Attributes describing the link.
    pub attributes: Vec<Attribute>,
}

/// An exception, recorded as an `exception` event with the semantic-convention attributes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Exception {
    /// `exception.type`, e.g. `ValueError`, `java.io.IOException`.
    pub type_name: String,
    /// `exception.message`.
    pub message: String,
    /// `exception.stacktrace` in the host language's natural format.
    pub stacktrace: Option<String>,
    /// `exception.escaped`, when the host reports it.
    pub escaped: Option<bool>,
    /// Extra attributes added to the event.
    pub attributes: Vec<Attribute>,
    /// When it happened; `None` = now.
    pub time: Option<UnixNanos>,
}

impl Exception {
    /// The `exception` event this exception is recorded as (the semantic-convention
    /// attributes `exception.type`, `exception.message`, `exception.stacktrace` and
    /// `exception.escaped`, then the extra attributes), for hosts that collect a span's events
    /// themselves and hand them to [`Tracer::record_span`](crate::api::Tracer::record_span).
    pub fn into_event(self) -> Event {
        let mut attributes: Vec<Attribute> = Vec::with_capacity(4 + self.attributes.len());
        attributes.push((Cow::Borrowed("exception.type"), Value::from(self.type_name)));
        attributes.push((
            Cow::Borrowed("exception.message"),
            Value::from(self.message),
        ));
        if let Some(st) = self.stacktrace {
            attributes.push((Cow::Borrowed("exception.stacktrace"), Value::from(st)));
        }
        if let Some(esc) = self.escaped {
            attributes.push((Cow::Borrowed("exception.escaped"), Value::Bool(esc)));
        }
        attributes.extend(self.attributes);
        Event {
            name: Cow::Borrowed("exception"),
            time: self.time,
            attributes,
        }
    }
}

/// What the queue carries: a finished span, with attributes already in the SDK's form (the
/// conversion costs the producer nothing extra and leaves the export thread only moves to do).
/// It refers to its instrumentation scope by index, so no reference count is shared between
/// the producing thread and the export thread.
#[derive(Debug)]
pub(crate) struct SpanRecord {
    pub scope: u32,
    pub context: SpanContext,
    pub parent_span_id: SpanId,
    pub parent_is_remote: bool,
    pub name: Cow<'static, str>,
    pub kind: SpanKind,
    pub start: UnixNanos,
    pub end: UnixNanos,
    pub attributes: SpanAttributes,
    pub dropped_attributes: u32,
    pub events: Vec<RecordedEvent>,
    pub dropped_events: u32,
    pub links: Vec<RecordedLink>,
    pub dropped_links: u32,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordedEvent {
    pub name: Cow<'static, str>,
    pub time: UnixNanos,
    pub attributes: Vec<KeyValue>,
    pub dropped: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordedLink {
    pub context: SpanContext,
    pub attributes: Vec<KeyValue>,
    pub dropped: u32,
}

/// Converts a plain key to the SDK's without copying.
#[inline]
pub(crate) fn to_otel_key(k: Key) -> opentelemetry::Key {
    match k {
        Cow::Borrowed(b) => opentelemetry::Key::from_static_str(b),
        Cow::Owned(o) => opentelemetry::Key::from(o),
    }
}

/// Converts a plain value to the SDK's without copying (truncation happens at export).
#[inline]
pub(crate) fn to_otel_value(v: Value) -> opentelemetry::Value {
    use opentelemetry::{Array, StringValue};
    match v {
        Value::Bool(b) => b.into(),
        Value::Int(i) => i.into(),
        Value::Double(d) => d.into(),
        Value::String(Cow::Borrowed(b)) => opentelemetry::Value::String(StringValue::from(b)),
        Value::String(Cow::Owned(o)) => opentelemetry::Value::String(StringValue::from(o)),
        Value::BoolArray(a) => opentelemetry::Value::Array(Array::Bool(a)),
        Value::IntArray(a) => opentelemetry::Value::Array(Array::I64(a)),
        Value::DoubleArray(a) => opentelemetry::Value::Array(Array::F64(a)),
        Value::StringArray(a) => opentelemetry::Value::Array(Array::String(
            a.into_iter().map(StringValue::from).collect(),
        )),
    }
}

/// How many span attributes a record keeps inline. Spans are created on application threads
/// and their records freed on the export thread; a per-span heap block crossing threads that
/// way serialises both on the allocator's arena lock (glibc), which measurably slowed the
/// export thread below the producer's pace. Small spans need no heap block at all.
pub(crate) const INLINE_ATTRIBUTES: usize = 4;

/// A span's attributes: inline up to [`INLINE_ATTRIBUTES`].
pub(crate) type SpanAttributes = SmallVec<[KeyValue; INLINE_ATTRIBUTES]>;

/// A list of attributes that takes a new pair with a plain `push` (for the inline vector, a
/// write into its slot; `Extend` would go through the iterator machinery).
pub(crate) trait PushAttribute: std::ops::DerefMut<Target = [KeyValue]> {
    fn push_attribute(&mut self, kv: KeyValue);
}

impl PushAttribute for Vec<KeyValue> {
    #[inline]
    fn push_attribute(&mut self, kv: KeyValue) {
        self.push(kv);
    }
}

impl PushAttribute for SpanAttributes {
    #[inline]
    fn push_attribute(&mut self, kv: KeyValue) {
        self.push(kv);
    }
}

/// Sets `key` (overwriting an existing value, as the API specifies) within `limit` keys.
#[inline]
pub(crate) fn set_attribute(
    attrs: &mut impl PushAttribute,
    dropped: &mut u32,
    limit: usize,
    key: Key,
    value: Value,
) {
    if let Some(slot) = attrs.iter_mut().find(|kv| kv.key.as_str() == key) {
        slot.value = to_otel_value(value);
    } else if attrs.len() < limit {
        attrs.push_attribute(KeyValue::new(to_otel_key(key), to_otel_value(value)));
    } else {
        *dropped = dropped.saturating_add(1);
    }
}

fn limited_attributes(input: Vec<Attribute>, limit: usize) -> (Vec<KeyValue>, u32) {
    let mut out = Vec::with_capacity(input.len().min(limit));
    let mut dropped = 0;
    for (k, v) in input {
        set_attribute(&mut out, &mut dropped, limit, k, v);
    }
    (out, dropped)
}

impl SpanRecord {
    #[inline(always)]
    pub(crate) fn new(
        scope: u32,
        context: SpanContext,
        parent: Option<&SpanContext>,
        name: Cow<'static, str>,
        kind: SpanKind,
        start: UnixNanos,
    ) -> SpanRecord {
        let (parent_span_id, parent_is_remote) = match parent {
            Some(p) if p.is_valid() => (p.span_id, p.is_remote),
            _ => (SpanId::INVALID, false),
        };
        SpanRecord {
            scope,
            context,
            parent_span_id,
            parent_is_remote,
            name,
            kind,
            start,
            end: start,
            attributes: SpanAttributes::new(),
            dropped_attributes: 0,
            events: Vec::new(),
            dropped_events: 0,
            links: Vec::new(),
            dropped_links: 0,
            status: Status::Unset,
        }
    }

    #[inline]
    pub(crate) fn set_attribute(&mut self, limits: &LimitsConfig, key: Key, value: Value) {
        set_attribute(
            &mut self.attributes,
            &mut self.dropped_attributes,
            limits.attribute_count,
            key,
            value,
        );
    }

    pub(crate) fn add_event(&mut self, limits: &LimitsConfig, event: Event) {
        if self.events.len() >= limits.event_count {
            self.dropped_events = self.dropped_events.saturating_add(1);
            return;
        }
        let (attributes, dropped) =
            limited_attributes(event.attributes, limits.attributes_per_event);
        self.events.push(RecordedEvent {
            name: event.name,
            time: event.time.unwrap_or_else(now_unix_nanos),
            attributes,
            dropped,
        });
    }

    pub(crate) fn add_link(&mut self, limits: &LimitsConfig, link: Link) {
        if !link.context.is_valid() && link.attributes.is_empty() {
            // The API says links with an invalid context and no attributes are dropped silently.
            return;
        }
        if self.links.len() >= limits.link_count {
            self.dropped_links = self.dropped_links.saturating_add(1);
            return;
        }
        let (attributes, dropped) = limited_attributes(link.attributes, limits.attributes_per_link);
        self.links.push(RecordedLink {
            context: link.context,
            attributes,
            dropped,
        });
    }

    pub(crate) fn set_status(&mut self, status: Status) {
        match (&self.status, status) {
            (Status::Ok, _) | (_, Status::Unset) => {}
            (_, s) => self.status = s,
        }
    }

    pub(crate) fn record_exception(&mut self, limits: &LimitsConfig, e: Exception) {
        let mut attributes: Vec<Attribute> = Vec::with_capacity(4 + e.attributes.len());
        attributes.push((Cow::Borrowed("exception.type"), Value::from(e.type_name)));
        attributes.push((Cow::Borrowed("exception.message"), Value::from(e.message)));
        if let Some(st) = e.stacktrace {
            attributes.push((Cow::Borrowed("exception.stacktrace"), Value::from(st)));
        }
        if let Some(esc) = e.escaped {
            attributes.push((Cow::Borrowed("exception.escaped"), Value::Bool(esc)));
        }
        attributes.extend(e.attributes);
        self.add_event(
            limits,
            Event {
                name: Cow::Borrowed("exception"),
                time: e.time,
                attributes,
            },
        );
    }
}
