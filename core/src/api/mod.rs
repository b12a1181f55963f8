//! The binding-shaped API: opaque handles ([`Provider`], [`Tracer`], [`Span`]) and plain
//! values. Every binding (Python, Node, Erlang, Java, C) calls only this.
//!
//! Two ways to make a span:
//! - a live [`Span`] from [`Tracer::start_span`], with per-call setters — cheapest where a
//!   call into Rust is cheap (pyo3, C);
//! - [`Tracer::begin`] at start (ids + sampling decision) and [`Tracer::record_span`] once at
//!   the end with everything the host collected — for bindings whose calls are expensive
//!   (napi, JNI, NIFs), which keep the live span on their own side.

use crate::config::{Config, ConfigWarning, OptionValue};
use crate::error::{Error, Result};
use crate::export::truncate_all;
use crate::pipeline::{configured_exporter, Pipeline, TracerShared};
use crate::propagation::{Baggage, Extracted, Propagators};
use crate::stats::Stats;
use crate::trace::finished::{Caps, FinishedHead, FinishedRecord};
use crate::trace::record::{now_unix_nanos, to_otel_key, to_otel_value, SpanRecord};
use crate::trace::sampler::{Decision, SamplerTag};
use crate::types::{Attribute, SpanContext, SpanId, SpanKind, TraceFlags, TraceId};
use opentelemetry::InstrumentationScope;
use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::Duration;

mod options;
mod span;

pub use crate::trace::record::{Event, Exception, Link, UnixNanos};
pub use options::{FinishedSpan, StartOptions};
pub use span::Span;

/// A tracer provider: one configured pipeline. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Provider {
    pipeline: Arc<Pipeline>,
}

/// The result of [`Tracer::begin`].
#[derive(Clone, Debug, PartialEq)]
pub struct Begun {
    /// The new span's context (a child of the parent, or the parent itself when the provider
    /// is disabled or shut down).
    pub context: SpanContext,
    /// Whether the host should record the span and hand it to [`Tracer::record_span`].
    pub recording: bool,
}

/// How a host may decide a span start on its side, without a call into the core (see
/// [`Provider::start_plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planned {
    /// Not recorded: a non-recording span with a new span id (the parent's trace).
    Drop = 0,
    /// Recorded, without the `sampled` flag (never exported).
    RecordOnly = 1,
    /// Recorded with the `sampled` flag.
    RecordAndSample = 2,
    /// Not fixed: call [`Tracer::begin`].
    Ask = 3,
}

impl Planned {
    fn from_fixed(d: Option<Decision>) -> Planned {
        match d {
            Some(Decision::Drop) => Planned::Drop,
            Some(Decision::RecordOnly) => Planned::RecordOnly,
            Some(Decision::RecordAndSample) => Planned::RecordAndSample,
            None => Planned::Ask,
        }
    }
}

/// The start decision for one kind of parent: whether the new span records, and its trace
/// flags as `(parent_flags & keep_flags) | set_flags` (`parent_flags` = 0 for a new trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedStart {
    /// The sampling decision, or [`Planned::Ask`].
    pub decision: Planned,
    /// The parent's flag bits the new span keeps (the W3C `random` flag of its trace).
    pub keep_flags: u8,
    /// The flag bits the new span sets (`sampled`; `random` for a new trace).
    pub set_flags: u8,
}

impl PlannedStart {
    /// The plan for a new trace (`root`) or a child, from the sampler's fixed decision: the
    /// same flags [`Tracer::begin`] gives such a span.
    fn new(decision: Option<Decision>, root: bool) -> PlannedStart {
        let decision = Planned::from_fixed(decision);
        let sampled = if decision == Planned::RecordAndSample {
            TraceFlags::SAMPLED
        } else {
            0
        };
        let (keep_flags, set_flags) = if root {
            (0, TraceFlags::RANDOM | sampled)
        } else {
            (TraceFlags::RANDOM, sampled)
        };
        PlannedStart {
            decision,
            keep_flags,
            set_flags,
        }
    }

    /// Whether a span started this way records (and is handed to the core when it ends).
    pub fn records(&self) -> bool {
        matches!(
            self.decision,
            Planned::RecordOnly | Planned::RecordAndSample
        )
    }

    /// The new span's trace flags given its parent's (0 for a new trace).
    pub fn flags(&self, parent_flags: u8) -> u8 {
        (parent_flags & self.keep_flags) | self.set_flags
    }
}

/// The core's start decisions for a host whose every call into Rust is expensive (napi, JNI,
/// NIFs), per kind of parent (`docs/finished-spans.md`, "Starting a span"). A host that
/// follows it draws ids from [`new_trace_id`] / [`new_span_id`] (or in blocks,
/// [`fill_ids`]), keeps the parent's trace id and trace state for a child, computes the flags
/// with [`PlannedStart::flags`], counts the recording starts ([`Provider::count_started`] or
/// the byte layout's `started` record) and hands the finished span to the core with its
/// context — exactly what [`Tracer::begin`] would have done. Where a decision is
/// [`Planned::Ask`], it calls [`Tracer::begin`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartPlan {
    /// The provider creates only non-recording spans (`OTEL_SDK_DISABLED`, or shut down): a
    /// new span carries its parent's context unchanged (or the invalid context).
    pub noop: bool,
    /// No valid parent: a new trace.
    pub root: PlannedStart,
    /// A valid parent (local or remote) with the `sampled` flag.
    pub sampled_parent: PlannedStart,
    /// A valid parent (local or remote) without the `sampled` flag.
    pub unsampled_parent: PlannedStart,
}

impl StartPlan {
    /// The plan as ten integers for a host's typed array:
    /// `[noop, root × (decision, keep, set), sampled parent × 3, unsampled parent × 3]`,
    /// decisions numbered as [`Planned`].
    pub fn to_table(&self) -> [i32; 10] {
        let mut t = [0i32; 10];
        t[0] = i32::from(self.noop);
        for (i, p) in [self.root, self.sampled_parent, self.unsampled_parent]
            .iter()
            .enumerate()
        {
            t[1 + 3 * i] = p.decision as i32;
            t[2 + 3 * i] = i32::from(p.keep_flags);
            t[3 + 3 * i] = i32::from(p.set_flags);
        }
        t
    }
}

/// Fills `span_ids` and `trace_ids` with new random, valid ids from the core's generator
/// (hosts that draw ids in blocks: one call per many spans).
pub fn fill_ids(span_ids: &mut [SpanId], trace_ids: &mut [TraceId]) {
    for s in span_ids {
        *s = crate::trace::ids::span_id();
    }
    for t in trace_ids {
        *t = crate::trace::ids::trace_id();
    }
}

/// A new random, valid trace id from the core's generator (all 16 bytes random, so a new
/// trace may set the W3C `random` flag), for hosts that follow a [`StartPlan`].
pub fn new_trace_id() -> TraceId {
    crate::trace::ids::trace_id()
}

/// A new random, valid span id from the core's generator, for hosts that follow a
/// [`StartPlan`].
pub fn new_span_id() -> SpanId {
    crate::trace::ids::span_id()
}

impl Provider {
    /// A provider configured from explicit `options` over the `OTEL_*` environment (see
    /// `docs/configuration.md`). Invalid options are an `InvalidConfig` error; invalid
    /// environment values are warnings (see [`warnings`](Self::warnings)), reported once
    /// through [`crate::diag`].
    pub fn new(options: &[(String, OptionValue)]) -> Result<Provider> {
        let (config, warnings) = Config::from_env(options)?;
        Provider::configured(config, warnings)
    }

    /// Like [`new`](Self::new), reading the `OTEL_*` variables through `env` instead of the
    /// process environment: for a host whose configuration has a layer with the environment's
    /// semantics in front of it (Java's `otel.*` system properties, which the Java ecosystem
    /// reads before the environment). Explicit options still win, and a bad value found through
    /// `env` is a warning, as one in the environment is.
    pub fn with_env(
        options: &[(String, OptionValue)],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Provider> {
        let (config, warnings) = Config::resolve(options, env)?;
        Provider::configured(config, warnings)
    }

    fn configured(config: Config, warnings: Vec<ConfigWarning>) -> Result<Provider> {
        for w in &warnings {
            crate::diag::emit(crate::diag::Level::Warn, &w.to_string());
        }
        Provider::build(config, warnings, configured_exporter())
    }

    /// A provider from an already resolved configuration.
    pub fn from_config(config: Config) -> Result<Provider> {
        Provider::build(config, Vec::new(), configured_exporter())
    }

    /// A provider that sends to any `opentelemetry_sdk` span exporter (Rust callers and tests;
    /// e.g. the SDK's in-memory exporter). The exporter is cloned when the pipeline restarts
    /// after a fork.
    pub fn with_exporter<E>(config: Config, exporter: E) -> Result<Provider>
    where
        E: opentelemetry_sdk::trace::SpanExporter + Clone + Send + Sync + 'static,
    {
        let timeout = config.batch.export_timeout;
        let factory = Box::new(
            move |_: &Config,
                  resource: &opentelemetry_sdk::Resource,
                  ctx: crate::export::SinkContext| {
                let rt = crate::export::runtime()?;
                let export = crate::export::SdkExport::new(exporter.clone(), resource, rt, timeout);
                Ok(Box::new(crate::export::Sink::new(Box::new(export), ctx))
                    as Box<dyn crate::export::BatchSink>)
            },
        );
        Provider::build(config, Vec::new(), factory)
    }

    fn build(
        config: Config,
        warnings: Vec<ConfigWarning>,
        factory: crate::pipeline::ExportFactory,
    ) -> Result<Provider> {
        Ok(Provider {
            pipeline: Pipeline::new(config, warnings, factory)?,
        })
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.pipeline.config
    }

    /// Warnings from resolving the environment.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.pipeline.warnings
    }

    /// A tracer for an instrumentation scope. Tracers are cheap; bindings may cache them.
    pub fn tracer(
        &self,
        name: impl Into<Cow<'static, str>>,
        version: Option<String>,
        schema_url: Option<String>,
        attributes: Vec<Attribute>,
    ) -> Tracer {
        let mut b = InstrumentationScope::builder(name.into());
        if let Some(v) = version {
            b = b.with_version(v);
        }
        if let Some(s) = schema_url {
            b = b.with_schema_url(s);
        }
        if !attributes.is_empty() {
            let mut attributes: Vec<_> = attributes
                .into_iter()
                .map(|(k, v)| opentelemetry::KeyValue::new(to_otel_key(k), to_otel_value(v)))
                .collect();
            truncate_all(
                &mut attributes,
                self.pipeline.config.limits.attribute_value_length,
            );
            b = b.with_attributes(attributes);
        }
        Tracer {
            shared: Arc::new(TracerShared {
                scope: self.pipeline.scopes.intern(b.build()),
                pipeline: self.pipeline.clone(),
            }),
        }
    }

    /// Exports everything queued now, waiting at most `timeout`. `Timeout` when the back end
    /// did not take it in time (the spans stay queued; nothing hangs).
    pub fn force_flush(&self, timeout: Duration) -> Result<()> {
        self.pipeline.force_flush(timeout)
    }

    /// Exports what is queued and stops, everything by `timeout` from now: what is not
    /// delivered by then (back end down or hanging) is counted as dropped
    /// (`dropped_export_failed` for requests sent, `dropped_shutdown` for spans never sent),
    /// and the call returns within `timeout` plus at most 0.4 s — `Ok` when everything was
    /// exported or failed for good (counted) before the deadline, `Timeout` when the deadline
    /// cut anything. A back end that does not answer at all (connection refused) is not
    /// retried: the call returns at once. Afterwards
    /// every span call is a no-op. A second call is `AlreadyShutdown`. Callers without a
    /// timeout of their own (and exit hooks) pass [`exit_timeout`](Self::exit_timeout).
    pub fn shutdown(&self, timeout: Duration) -> Result<()> {
        self.pipeline.shutdown(timeout)
    }

    /// The bound on a shutdown whose caller gives no timeout, and on every binding's exit hook
    /// (`docs/reliability.md`): with the OTLP exporter, the smaller of
    /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` (default 10 s) and
    /// `OTEL_BSP_EXPORT_TIMEOUT` (default 30 s); with the console, file and none exporters,
    /// `OTEL_BSP_EXPORT_TIMEOUT`.
    pub fn exit_timeout(&self) -> Duration {
        crate::pipeline::exit_timeout(&self.pipeline.config)
    }

    /// True after [`shutdown`](Self::shutdown).
    pub fn is_shutdown(&self) -> bool {
        self.pipeline.is_shutdown()
    }

    /// The pipeline's counters.
    pub fn stats(&self) -> Stats {
        self.pipeline.counters.snapshot()
    }

    /// Restarts the pipeline in a forked child (call it first thing in the child, e.g. from
    /// `os.register_at_fork(after_in_child=...)`). The parent is unaffected.
    pub fn after_fork_child(&self) -> Result<()> {
        self.pipeline.after_fork_child()
    }

    /// The start decisions a host may make on its side (see [`StartPlan`]). Ask again after
    /// [`shutdown`](Self::shutdown): the plan is then `noop`.
    pub fn start_plan(&self) -> StartPlan {
        let p = &self.pipeline;
        if p.config.disabled || p.is_shutdown() {
            let drop = PlannedStart {
                decision: Planned::Drop,
                keep_flags: 0xff,
                set_flags: 0,
            };
            return StartPlan {
                noop: true,
                root: drop,
                sampled_parent: drop,
                unsampled_parent: drop,
            };
        }
        let fixed = p.sampler.fixed_decisions();
        StartPlan {
            noop: false,
            root: PlannedStart::new(fixed.root, true),
            sampled_parent: PlannedStart::new(fixed.sampled_parent, false),
            unsampled_parent: PlannedStart::new(fixed.unsampled_parent, false),
        }
    }

    /// The caps a binding may apply to a live span on its side (`docs/finished-spans.md`).
    pub fn caps(&self) -> Caps {
        Caps::from_limits(&self.pipeline.config.limits)
    }

    /// Counts `n` spans lost in a finished-span batch the core could not read.
    pub(crate) fn count_invalid(&self, n: u64) {
        if n > 0 {
            self.pipeline
                .counters
                .dropped_invalid
                .0
                .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Counts `n` recording spans that a host started by following the [`StartPlan`] (what
    /// [`Tracer::begin`] counts in `spans_started` for the spans it decides).
    pub fn count_started(&self, n: u64) {
        if n > 0 {
            self.pipeline
                .counters
                .started
                .0
                .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The configured propagators (`OTEL_PROPAGATORS`).
    pub fn propagators(&self) -> &Propagators {
        &self.pipeline.propagators
    }

    /// Writes the configured headers for `context` and `baggage` through `set`.
    pub fn inject(
        &self,
        context: Option<&SpanContext>,
        baggage: &Baggage,
        set: &mut dyn FnMut(&'static str, String),
    ) {
        self.pipeline.propagators.inject(context, baggage, set);
    }

    /// Reads a remote context and baggage from a carrier of (name, value) pairs; malformed
    /// input is ignored as the W3C specifications say.
    pub fn extract<K: AsRef<str>, V: AsRef<str>>(&self, carrier: &[(K, V)]) -> Extracted {
        self.pipeline.propagators.extract(carrier)
    }
}

/// A tracer: creates spans for one instrumentation scope. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tracer {
    shared: Arc<TracerShared>,
}

impl Tracer {
    /// Whether spans from this tracer can record (false when disabled or shut down).
    pub fn is_enabled(&self) -> bool {
        !self.shared.pipeline.config.disabled && !self.shared.pipeline.is_shutdown()
    }

    /// Starts a live span. Never blocks; a dropped (unsampled) span is non-recording but has a
    /// valid context so propagation continues.
    pub fn start_span(
        &self,
        name: impl Into<Cow<'static, str>>,
        options: StartOptions<'_>,
    ) -> Span {
        self.build_span(name.into(), options, |span| span)
    }

    /// Like [`start_span`](Self::start_span), building the span directly in `out` (for
    /// example a binding's handle slot) and returning it there. A span is a few hundred
    /// bytes: returned by value and then moved into a place the compiler cannot prove private
    /// (a slot of a shared pool), it is copied once more on every start.
    #[inline]
    pub fn start_span_in<'a>(
        &self,
        name: impl Into<Cow<'static, str>>,
        options: StartOptions<'_>,
        out: &'a mut MaybeUninit<Span>,
    ) -> &'a mut Span {
        self.build_span(name.into(), options, |span| out.write(span))
    }

    /// The body of both starts: `place` puts the new span where it belongs (the return
    /// value, or the caller's slot), before the start options' attributes and links are added
    /// to it there.
    #[inline(always)]
    fn build_span<R: std::borrow::BorrowMut<Span>>(
        &self,
        name: Cow<'static, str>,
        options: StartOptions<'_>,
        place: impl FnOnce(Span) -> R,
    ) -> R {
        let p = &self.shared.pipeline;
        let (ctx, decision, tag) =
            p.begin(options.parent, &name, options.kind, &options.attributes);
        if decision == Decision::Drop {
            return place(Span::non_recording(ctx));
        }
        let start = options.start_time.unwrap_or_else(now_unix_nanos);
        // Built in place inside the span, then filled: building the record first and moving
        // it into the span would copy its few hundred bytes on every start.
        let mut placed = place(Span::recording(
            self.shared.clone(),
            SpanRecord::new(
                self.shared.scope,
                ctx,
                options.parent,
                name,
                options.kind,
                start,
            ),
        ));
        if let Some(sampler_attributes) = tag.attributes() {
            placed.borrow_mut().with_record(|limits, record| {
                for (k, v) in sampler_attributes {
                    record.set_attribute(limits, k, v);
                }
            });
        }
        if !options.attributes.is_empty() || !options.links.is_empty() {
            placed.borrow_mut().with_record(|limits, record| {
                for (k, v) in options.attributes {
                    record.set_attribute(limits, k, v);
                }
                for l in options.links {
                    record.add_link(limits, l);
                }
            });
        }
        placed
    }

    /// Decides a span's identity and sampling at its start, for hosts that keep the live span
    /// on their side and later call [`record_span`](Self::record_span).
    pub fn begin(
        &self,
        parent: Option<&SpanContext>,
        name: &str,
        kind: SpanKind,
        attributes: &[Attribute],
    ) -> Begun {
        let (context, decision, _tag) = self.shared.pipeline.begin(parent, name, kind, attributes);
        Begun {
            context,
            recording: decision != Decision::Drop,
        }
    }

    /// Records a finished span in one call: limits are applied as for a live span and it is
    /// queued for export. With `context: None` the core generates ids and samples now.
    /// Returns the span's context.
    pub fn record_span(&self, span: FinishedSpan) -> Result<SpanContext> {
        let p = &self.shared.pipeline;
        let (ctx, tag) = match span.context {
            Some(c) => {
                if !c.is_valid() {
                    return Err(Error::invalid_argument(
                        "record_span: the span context is invalid",
                    ));
                }
                (c, None)
            }
            None => {
                let (c, decision, tag) = p.begin(
                    span.parent.as_ref(),
                    &span.name,
                    span.kind,
                    &span.attributes,
                );
                if decision == Decision::Drop {
                    return Ok(c);
                }
                (c, Some(tag))
            }
        };
        if p.config.disabled {
            return Ok(ctx);
        }
        let (parent_span_id, parent_is_remote) = match &span.parent {
            Some(p) if p.is_valid() => (p.span_id, p.is_remote),
            _ => (SpanId::INVALID, false),
        };
        let head = FinishedHead {
            context: ctx.clone(),
            parent_span_id,
            parent_is_remote,
            name: span.name,
            kind: span.kind,
            start_time: span.start_time,
            end_time: span.end_time,
        };
        let (attributes, events, links, status) =
            (span.attributes, span.events, span.links, span.status);
        self.record_tagged(head, tag, |r| {
            for (k, v) in attributes {
                r.set_attribute(k, v);
            }
            for e in events {
                r.add_event(e);
            }
            for l in links {
                r.add_link(l);
            }
            r.set_status(status);
            Ok(())
        })?;
        Ok(ctx)
    }

    /// Records a finished span whose context was decided at start (by the binding, from
    /// [`Provider::start_plan`] or [`Tracer::begin`]): `fill` adds its attributes, events and
    /// links straight into the queued record, under the same limits as a live span's setters.
    /// For bindings that decode spans from their own compact format: nothing is collected
    /// into intermediate vectors. An invalid context is an error and `fill` is not called; an
    /// error from `fill` is returned and nothing is recorded. After shutdown the span is
    /// counted as ended and dropped, as a live span ended then.
    ///
    /// A sampled root span gets the sampler's `sampler.type` / `sampler.param` attributes
    /// when the sampler is `jaeger_remote` (as a live span gets them at its start), read from
    /// the strategy in force.
    pub fn record_finished(
        &self,
        head: FinishedHead,
        fill: impl FnOnce(&mut FinishedRecord<'_>) -> Result<()>,
    ) -> Result<()> {
        self.record_tagged(head, None, fill)
    }

    /// [`record_finished`](Self::record_finished) with the sampler's tag when it is known
    /// (the span was decided just now); `None` reads it back for a sampled root span.
    fn record_tagged(
        &self,
        head: FinishedHead,
        tag: Option<SamplerTag>,
        fill: impl FnOnce(&mut FinishedRecord<'_>) -> Result<()>,
    ) -> Result<()> {
        if !head.context.is_valid() {
            return Err(Error::invalid_argument(
                "record_finished: the span context is invalid",
            ));
        }
        let p = &self.shared.pipeline;
        let tag = tag.unwrap_or_else(|| {
            if head.parent_span_id.is_valid() || !head.context.is_sampled() {
                SamplerTag::None
            } else {
                p.sampler.root_tag(&head.name, head.context.trace_id)
            }
        });
        let record = SpanRecord::finished(self.shared.scope, &p.config.limits, head, |r| {
            if let Some(sampler_attributes) = tag.attributes() {
                for (k, v) in sampler_attributes {
                    r.set_attribute(k, v);
                }
            }
            fill(r)
        })?;
        if !p.config.disabled {
            p.on_end(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OptionValue;

    fn provider(options: &[(&str, &str)]) -> Provider {
        let mut opts: Vec<(String, OptionValue)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), OptionValue::Str(v.to_string())))
            .collect();
        opts.push(("exporter".into(), OptionValue::Str("none".into())));
        let (config, _) = Config::resolve(&opts, &|_| None).unwrap();
        Provider::from_config(config).unwrap()
    }

    #[test]
    fn start_plan_follows_the_sampler_and_shutdown() {
        let p = provider(&[]);
        let plan = p.start_plan();
        assert!(!plan.noop);
        assert_eq!(
            plan.to_table(),
            [0, 2, 0, 3, 2, 2, 1, 0, 2, 0],
            "parentbased_always_on: sample a root (random|sampled), sample a sampled parent's \
             child (keeping random), drop an unsampled parent's child"
        );
        p.shutdown(Duration::from_secs(1)).unwrap();
        assert!(p.start_plan().noop);

        let ratio = provider(&[
            ("sampler", "parentbased_traceidratio"),
            ("sampler_arg", "0.5"),
        ]);
        assert_eq!(ratio.start_plan().root.decision, Planned::Ask);
        assert_eq!(
            ratio.start_plan().sampled_parent.decision,
            Planned::RecordAndSample
        );
        let disabled = provider(&[("disabled", "true")]);
        assert!(disabled.start_plan().noop);
    }

    /// A host following the plan gives a span exactly the flags and recording decision
    /// `Tracer::begin` gives it, for every fixed case, sampler and parent flag combination.
    #[test]
    fn following_the_plan_is_what_begin_decides() {
        for sampler in [
            "always_on",
            "always_off",
            "parentbased_always_on",
            "parentbased_always_off",
        ] {
            let p = provider(&[("sampler", sampler)]);
            let t = p.tracer("t", None, None, vec![]);
            let plan = p.start_plan();
            let begun = t.begin(None, "n", SpanKind::Internal, &[]);
            assert_eq!(plan.root.records(), begun.recording, "{sampler} root");
            assert_eq!(
                plan.root.flags(0),
                begun.context.trace_flags.0,
                "{sampler} root"
            );
            for parent_flags in 0u8..4 {
                let parent = SpanContext {
                    trace_id: new_trace_id(),
                    span_id: new_span_id(),
                    trace_flags: TraceFlags(parent_flags),
                    ..Default::default()
                };
                let case = if parent_flags & TraceFlags::SAMPLED != 0 {
                    plan.sampled_parent
                } else {
                    plan.unsampled_parent
                };
                let begun = t.begin(Some(&parent), "n", SpanKind::Internal, &[]);
                assert_eq!(case.records(), begun.recording, "{sampler} {parent_flags}");
                assert_eq!(
                    case.flags(parent_flags),
                    begun.context.trace_flags.0,
                    "{sampler} {parent_flags}"
                );
            }
        }
    }

    #[test]
    fn with_env_reads_variables_through_the_lookup_under_explicit_options() {
        let env = |name: &str| match name {
            "OTEL_SERVICE_NAME" => Some("from-lookup".to_string()),
            "OTEL_BSP_MAX_QUEUE_SIZE" => Some("not-a-number".to_string()),
            "OTEL_TRACES_EXPORTER" => Some("none".to_string()),
            _ => None,
        };
        let p = Provider::with_env(&[], &env).unwrap();
        assert_eq!(p.config().service_name, "from-lookup");
        assert_eq!(p.warnings().len(), 1);
        assert_eq!(p.warnings()[0].variable, "OTEL_BSP_MAX_QUEUE_SIZE");
        let explicit = [(
            "service_name".to_string(),
            OptionValue::Str("explicit".into()),
        )];
        let p = Provider::with_env(&explicit, &env).unwrap();
        assert_eq!(p.config().service_name, "explicit");
    }

    #[test]
    fn planned_spans_count_and_record_like_begun_ones() {
        let p = provider(&[]);
        let tracer = p.tracer("t", None, None, vec![]);
        p.count_started(2);
        for _ in 0..2 {
            let context = SpanContext {
                trace_id: new_trace_id(),
                span_id: new_span_id(),
                trace_flags: crate::types::TraceFlags(0x03),
                ..Default::default()
            };
            tracer
                .record_span(FinishedSpan {
                    context: Some(context),
                    name: "planned".into(),
                    ..Default::default()
                })
                .unwrap();
        }
        let s = p.stats();
        assert_eq!((s.spans_started, s.spans_ended), (2, 2));
        p.shutdown(Duration::from_secs(1)).unwrap();
        let context = SpanContext {
            trace_id: new_trace_id(),
            span_id: new_span_id(),
            trace_flags: crate::types::TraceFlags(0x01),
            ..Default::default()
        };
        tracer
            .record_span(FinishedSpan {
                context: Some(context),
                name: "late".into(),
                ..Default::default()
            })
            .unwrap();
        let s = p.stats();
        assert_eq!((s.spans_ended, s.dropped_shutdown), (3, 1));
    }

    #[test]
    fn exception_event_has_the_semantic_attributes() {
        let e = Exception {
            type_name: "TypeError".into(),
            message: "boom".into(),
            stacktrace: Some("at x".into()),
            escaped: None,
            attributes: vec![("k".into(), crate::types::Value::Int(1))],
            time: Some(5),
        }
        .into_event();
        assert_eq!(e.name, "exception");
        assert_eq!(e.time, Some(5));
        let keys: Vec<&str> = e.attributes.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(
            keys,
            [
                "exception.type",
                "exception.message",
                "exception.stacktrace",
                "k"
            ]
        );
    }
}
