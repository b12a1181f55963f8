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
use crate::export::Export;
use crate::pipeline::{configured_exporter, Pipeline, TracerShared};
use crate::propagation::{Baggage, Extracted, Propagators};
use crate::sampler::Decision;
use crate::span::{now_unix_nanos, FinishedSpan, Span, SpanRecord, StartOptions};
use crate::stats::Stats;
use crate::types::{Attribute, SpanContext, SpanKind};
use opentelemetry::InstrumentationScope;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

pub use crate::span::{Event, Exception, Link, UnixNanos};

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

impl Provider {
    /// A provider configured from explicit `options` over the `OTEL_*` environment (see
    /// `docs/configuration.md`). Invalid options are an `InvalidConfig` error; invalid
    /// environment values are warnings (see [`warnings`](Self::warnings)), reported once
    /// through [`crate::diag`].
    pub fn new(options: &[(String, OptionValue)]) -> Result<Provider> {
        let (config, warnings) = Config::from_env(options)?;
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
        let factory = Box::new(move |_: &Config, resource: &opentelemetry_sdk::Resource| {
            let rt = crate::export::runtime()?;
            Ok(Box::new(crate::export::SdkExport::new(
                exporter.clone(),
                resource,
                rt,
                timeout,
            )) as Box<dyn Export>)
        });
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
            let limit = self.pipeline.config.limits.attribute_value_length;
            b = b.with_attributes(attributes.into_iter().map(|(k, v)| {
                opentelemetry::KeyValue::new(k, crate::export::to_otel_value(v, limit))
            }));
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

    /// Exports what is queued and stops, waiting at most `timeout`. Afterwards every span call
    /// is a no-op. A second call is `AlreadyShutdown`.
    pub fn shutdown(&self, timeout: Duration) -> Result<()> {
        self.pipeline.shutdown(timeout)
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
        let name = name.into();
        let p = &self.shared.pipeline;
        let (ctx, decision) = p.begin(options.parent, &name, options.kind, &options.attributes);
        if decision == Decision::Drop {
            return Span::non_recording(ctx);
        }
        let start = options.start_time.unwrap_or_else(now_unix_nanos);
        let mut record = SpanRecord::new(
            self.shared.scope,
            ctx,
            options.parent,
            name,
            options.kind,
            start,
        );
        let limits = &p.config.limits;
        for (k, v) in options.attributes {
            record.set_attribute(limits, k, v);
        }
        for l in options.links {
            record.add_link(limits, l);
        }
        Span::recording(self.shared.clone(), record)
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
        let (context, decision) = self.shared.pipeline.begin(parent, name, kind, attributes);
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
        let ctx = match span.context {
            Some(c) => {
                if !c.is_valid() {
                    return Err(Error::invalid_argument(
                        "record_span: the span context is invalid",
                    ));
                }
                c
            }
            None => {
                let (c, decision) = p.begin(
                    span.parent.as_ref(),
                    &span.name,
                    span.kind,
                    &span.attributes,
                );
                if decision == Decision::Drop {
                    return Ok(c);
                }
                c
            }
        };
        if p.config.disabled || p.is_shutdown() {
            return Ok(ctx);
        }
        let mut record = SpanRecord::new(
            self.shared.scope,
            ctx.clone(),
            span.parent.as_ref(),
            span.name,
            span.kind,
            span.start_time,
        );
        record.end = span.end_time.max(span.start_time);
        let limits = &p.config.limits;
        for (k, v) in span.attributes {
            record.set_attribute(limits, k, v);
        }
        for e in span.events {
            record.add_event(limits, e);
        }
        for l in span.links {
            record.add_link(limits, l);
        }
        record.set_status(span.status);
        p.on_end(record);
        Ok(ctx)
    }
}
