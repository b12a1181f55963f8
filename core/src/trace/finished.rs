//! The logical finished-span record (`docs/finished-spans.md`): what a binding that keeps live
//! spans on its own side hands the core once a span has ended — what the user did, in call
//! order. The core applies every rule while the record is filled: attribute, event and link
//! limits with their dropped counts, status precedence, the `exception` event's attributes
//! (and, at export, truncation and redaction). The byte decoder ([`crate::finished`]) and a
//! binding's own structured decoder (Erlang terms) both fill records through this builder.

use crate::config::LimitsConfig;
use crate::trace::record::{Event, Exception, Link, SpanRecord, UnixNanos};
use crate::types::{Key, SpanContext, SpanId, SpanKind, Status, Value};
use std::borrow::Cow;

/// The fixed part of a span that finished on the host side, for a binding that decided its ids
/// and sampling at start (see [`Tracer::record_finished`](crate::api::Tracer::record_finished)):
/// attributes, events, links and status calls then go straight into the queued record through
/// [`FinishedRecord`], with no intermediate vectors.
#[derive(Clone, Debug)]
pub struct FinishedHead {
    /// The span's context (must be valid).
    pub context: SpanContext,
    /// The parent's span id; [`SpanId::INVALID`] for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent came from another process.
    pub parent_is_remote: bool,
    /// Name (after the last `updateName`).
    pub name: Cow<'static, str>,
    /// Kind.
    pub kind: SpanKind,
    /// Start time.
    pub start_time: UnixNanos,
    /// End time (clamped to be ≥ start).
    pub end_time: UnixNanos,
}

/// A finished span's record while [`Tracer::record_finished`](crate::api::Tracer::record_finished)
/// fills it. Each method is one call the user made on the live span, in call order; the same
/// rules apply as to a live span's setters.
pub struct FinishedRecord<'a> {
    record: &'a mut SpanRecord,
    limits: &'a LimitsConfig,
}

impl FinishedRecord<'_> {
    /// `setAttribute`: a later duplicate key overwrites the earlier value in its position; a
    /// new key past the attribute limit is dropped and counted.
    #[inline]
    pub fn set_attribute(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        self.record
            .set_attribute(self.limits, key.into(), value.into());
    }

    /// `addEvent`: past the event limit, dropped and counted; its attributes under the
    /// per-event limit.
    pub fn add_event(&mut self, event: Event) {
        self.record.add_event(self.limits, event);
    }

    /// `recordException`: an `exception` event with the semantic-convention attributes
    /// (counted against the event limit like any event).
    pub fn record_exception(&mut self, exception: Exception) {
        self.record.record_exception(self.limits, exception);
    }

    /// A link (given at start or added later): past the link limit, dropped and counted; a
    /// link with an invalid context and no attributes is dropped silently, as the API says.
    pub fn add_link(&mut self, link: Link) {
        self.record.add_link(self.limits, link);
    }

    /// `setStatus`: `Unset` is ignored, `Ok` is final, a later `Error` replaces an earlier one.
    #[inline]
    pub fn set_status(&mut self, status: Status) {
        self.record.set_status(status);
    }

    /// What the binding discarded under its [`Caps`] instead of sending: added to the
    /// exported dropped counts, so they are exactly what the core would have counted.
    pub fn discarded(&mut self, attributes: u32, events: u32, links: u32) {
        let r = &mut *self.record;
        r.dropped_attributes = r.dropped_attributes.saturating_add(attributes);
        r.dropped_events = r.dropped_events.saturating_add(events);
        r.dropped_links = r.dropped_links.saturating_add(links);
    }
}

/// How much of a live span a binding may keep on its side (see `docs/finished-spans.md`,
/// "Caps"): the configured limits as typed values, so a binding never parses them from the
/// effective configuration's strings. What a binding discards past a cap it reports with
/// [`FinishedRecord::discarded`] (or the byte layout's discarded counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Distinct attribute keys per span (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`).
    pub attributes: u32,
    /// Events per span, exceptions included (`OTEL_SPAN_EVENT_COUNT_LIMIT`).
    pub events: u32,
    /// Links per span (`OTEL_SPAN_LINK_COUNT_LIMIT`).
    pub links: u32,
    /// `setStatus` calls kept per span (the first ones).
    pub status_calls: u32,
}

/// How many `setStatus` calls a binding keeps per span ([`Caps::status_calls`]).
pub const STATUS_CALLS_CAP: u32 = 16;

impl Caps {
    pub(crate) fn from_limits(limits: &LimitsConfig) -> Caps {
        let cap = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Caps {
            attributes: cap(limits.attribute_count),
            events: cap(limits.event_count),
            links: cap(limits.link_count),
            status_calls: STATUS_CALLS_CAP,
        }
    }

    /// The caps as four integers in field order, for a host's typed array.
    pub fn to_table(&self) -> [u32; 4] {
        [self.attributes, self.events, self.links, self.status_calls]
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
        Ok(record)
    }
}
