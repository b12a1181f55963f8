//! Span lifecycle. A live [`Span`] accumulates plain values (no conversion, no shared lock);
//! at `end` its record moves into the batch queue. Conversion to the SDK's `SpanData` (ids,
//! trace state, value truncation, redaction) happens later on the export thread, so the hot
//! path stays short.

use crate::config::LimitsConfig;
use crate::pipeline::TracerShared;
use crate::types::{Attribute, Key, SpanContext, SpanId, SpanKind, Status, Value};
use opentelemetry::KeyValue;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::Arc;
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

/// How to start a span.
#[derive(Clone, Debug, Default)]
pub struct StartOptions<'a> {
    /// The parent: a live span's context or a remote one from `extract`. `None` (or an invalid
    /// context) starts a new trace.
    pub parent: Option<&'a SpanContext>,
    /// Span kind.
    pub kind: SpanKind,
    /// Attributes known at start (the sampler sees them).
    pub attributes: Vec<Attribute>,
    /// Links known at start (the sampler sees them).
    pub links: Vec<Link>,
    /// Explicit start time; `None` = now.
    pub start_time: Option<UnixNanos>,
}

/// A span that finished on the host side, recorded with one call (see
/// [`Tracer::record_span`](crate::api::Tracer::record_span)).
#[derive(Clone, Debug, Default)]
pub struct FinishedSpan {
    /// The context decided at start by [`Tracer::begin`](crate::api::Tracer::begin). `None`:
    /// the core generates ids and samples now.
    pub context: Option<SpanContext>,
    /// The parent's context, if any.
    pub parent: Option<SpanContext>,
    /// Name.
    pub name: Cow<'static, str>,
    /// Kind.
    pub kind: SpanKind,
    /// Start time.
    pub start_time: UnixNanos,
    /// End time (clamped to be ≥ start).
    pub end_time: UnixNanos,
    /// Attributes (later duplicates overwrite earlier ones).
    pub attributes: Vec<Attribute>,
    /// Events.
    pub events: Vec<Event>,
    /// Links.
    pub links: Vec<Link>,
    /// Status.
    pub status: Status,
}

/// The fixed part of a span that finished on the host side, for a binding that decided its ids
/// and sampling at start and hands spans over in its own compact format (see
/// [`Tracer::record_finished`](crate::api::Tracer::record_finished)): attributes, events and
/// links then go straight into the queued record, with no intermediate vectors.
#[derive(Clone, Debug)]
pub struct FinishedHead {
    /// The span's context (must be valid).
    pub context: SpanContext,
    /// The parent's span id; [`SpanId::INVALID`] for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent came from another process.
    pub parent_is_remote: bool,
    /// Name.
    pub name: Cow<'static, str>,
    /// Kind.
    pub kind: SpanKind,
    /// Start time.
    pub start_time: UnixNanos,
    /// End time (clamped to be ≥ start).
    pub end_time: UnixNanos,
    /// Status.
    pub status: Status,
}

/// A finished span's record while [`Tracer::record_finished`](crate::api::Tracer::record_finished)
/// fills it: the same limits apply as to a live span's setters.
pub struct FinishedRecord<'a> {
    record: &'a mut SpanRecord,
    limits: &'a LimitsConfig,
}

impl FinishedRecord<'_> {
    /// Sets an attribute (a later duplicate key overwrites the earlier value).
    #[inline]
    pub fn set_attribute(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        self.record
            .set_attribute(self.limits, key.into(), value.into());
    }

    /// Adds an event (an exception as [`Exception::into_event`]).
    pub fn add_event(&mut self, event: Event) {
        self.record.add_event(self.limits, event);
    }

    /// Adds a link.
    pub fn add_link(&mut self, link: Link) {
        self.record.add_link(self.limits, link);
    }

    /// Applies one `setStatus` call; calls are made in the host's call order and the core's
    /// precedence decides (`Unset` is ignored, `Ok` is final, a later `Error` replaces an
    /// earlier one).
    pub fn set_status(&mut self, status: Status) {
        self.record.set_status(status);
    }

    /// Records an exception as an `exception` event (the semantic-convention attributes),
    /// counted against the event limit like any event.
    pub fn record_exception(&mut self, exception: Exception) {
        self.record.record_exception(self.limits, exception);
    }
}

impl SpanRecord {
    /// The record of a finished span, filled by `fill` (see [`FinishedRecord`]).
    #[inline]
    pub(crate) fn finished(
        scope: u32,
        limits: &LimitsConfig,
        head: FinishedHead,
        fill: impl FnOnce(&mut FinishedRecord<'_>) -> crate::error::Result<()>,
    ) -> crate::error::Result<SpanRecord> {
        let mut record = SpanRecord::new(
            scope,
            head.context,
            None,
            head.name,
            head.kind,
            head.start_time,
        );
        record.parent_span_id = head.parent_span_id;
        record.parent_is_remote = head.parent_is_remote && head.parent_span_id.is_valid();
        record.end = head.end_time.max(head.start_time);
        fill(&mut FinishedRecord {
            record: &mut record,
            limits,
        })?;
        record.set_status(head.status);
        Ok(record)
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

/// A live span. Methods take `&mut self` and never block; a binding that shares a span
/// between threads wraps it in its own lock. After `end` (or for a non-recording span) every
/// method is a cheap no-op, and ending twice is harmless.
#[derive(Debug)]
pub struct Span {
    context: SpanContext,
    /// The tracer while recording; `None` after `end` or for a non-recording span.
    tracer: Option<Arc<TracerShared>>,
    /// The record being built, present exactly while `tracer` is. Kept as its own slot (not
    /// bundled with the tracer) so that `end` moves it straight from here into the queue.
    record: Option<SpanRecord>,
}

impl Span {
    #[inline(always)]
    pub(crate) fn recording(tracer: Arc<TracerShared>, record: SpanRecord) -> Span {
        Span {
            context: record.context.clone(),
            tracer: Some(tracer),
            record: Some(record),
        }
    }

    pub(crate) fn non_recording(context: SpanContext) -> Span {
        Span {
            context,
            tracer: None,
            record: None,
        }
    }

    /// The limits and the record, while recording.
    #[inline]
    fn live(&mut self) -> Option<(&LimitsConfig, &mut SpanRecord)> {
        match (&self.tracer, &mut self.record) {
            (Some(t), Some(r)) => Some((&t.pipeline.config.limits, r)),
            _ => None,
        }
    }

    /// Runs `f` on the limits and the record, while recording.
    #[inline]
    pub(crate) fn with_record(&mut self, f: impl FnOnce(&LimitsConfig, &mut SpanRecord)) {
        if let Some((limits, record)) = self.live() {
            f(limits, record);
        }
    }

    /// The span's identity (valid even when not recording, so propagation continues).
    pub fn span_context(&self) -> &SpanContext {
        &self.context
    }

    /// True until `end` for a sampled or record-only span.
    pub fn is_recording(&self) -> bool {
        self.tracer.is_some()
    }

    /// Sets an attribute; an existing key is overwritten.
    #[inline]
    pub fn set_attribute(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        if let Some((limits, record)) = self.live() {
            record.set_attribute(limits, key.into(), value.into());
        }
    }

    /// Sets many attributes.
    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = Attribute>) {
        if let Some((limits, record)) = self.live() {
            for (k, v) in attributes {
                record.set_attribute(limits, k, v);
            }
        }
    }

    /// Adds an event.
    pub fn add_event(&mut self, event: Event) {
        if let Some((limits, record)) = self.live() {
            record.add_event(limits, event);
        }
    }

    /// Adds a link after start.
    pub fn add_link(&mut self, link: Link) {
        if let Some((limits, record)) = self.live() {
            record.add_link(limits, link);
        }
    }

    /// Sets the status: `Unset` is ignored, `Ok` is final.
    pub fn set_status(&mut self, status: Status) {
        if let Some((_, record)) = self.live() {
            record.set_status(status);
        }
    }

    /// Replaces the name.
    pub fn update_name(&mut self, name: impl Into<Cow<'static, str>>) {
        if let Some((_, record)) = self.live() {
            record.name = name.into();
        }
    }

    /// Records an exception as an `exception` event.
    pub fn record_exception(&mut self, exception: Exception) {
        if let Some((limits, record)) = self.live() {
            record.record_exception(limits, exception);
        }
    }

    /// Ends the span (at `end_time`, default now) and hands it to the pipeline. Never blocks.
    pub fn end(&mut self, end_time: Option<UnixNanos>) {
        let Some(tracer) = self.tracer.take() else {
            return;
        };
        if let Some(record) = self.record.as_mut() {
            let end = end_time.unwrap_or_else(now_unix_nanos);
            record.end = end.max(record.start);
        }
        // The record moves from its slot here into the queue's buffer (or is dropped).
        tracer.pipeline.on_end_slot(&mut self.record);
    }
}
