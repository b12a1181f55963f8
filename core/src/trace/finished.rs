//! The logical finished-span record (`docs/finished-spans.md`): what a binding that keeps live
//! spans on its own side hands the core when a span has ended. The core applies every rule
//! while the record is filled.

use crate::config::LimitsConfig;
use crate::trace::record::{Event, Link, SpanRecord, UnixNanos};
use crate::types::{Key, SpanContext, SpanId, SpanKind, Status, Value};
use std::borrow::Cow;

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

    /// Adds an event (an exception as [`Exception::into_event`](crate::Exception::into_event)).
    pub fn add_event(&mut self, event: Event) {
        self.record.add_event(self.limits, event);
    }

    /// Adds a link.
    pub fn add_link(&mut self, link: Link) {
        self.record.add_link(self.limits, link);
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
