//! The live span of the Rust API (and of the bindings whose calls into Rust are cheap: C and
//! Python): a [`SpanRecord`] being filled under the configured limits, queued at `end`.

use crate::config::LimitsConfig;
use crate::pipeline::TracerShared;
use crate::trace::record::{now_unix_nanos, Event, Exception, Link, SpanRecord, UnixNanos};
use crate::types::{Attribute, Key, SpanContext, Status, Value};
use std::borrow::Cow;
use std::sync::Arc;

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
