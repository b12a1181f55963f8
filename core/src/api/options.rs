//! The plain-value inputs of span creation.

use crate::trace::record::{Event, Link, UnixNanos};
use crate::types::{Attribute, SpanContext, SpanKind, Status};
use std::borrow::Cow;

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
