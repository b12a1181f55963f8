//! Export: choosing the batch sink for the configured exporter. OTLP (gRPC, HTTP protobuf,
//! HTTP JSON) goes through the core's direct encoder and transports ([`crate::otlp`]). The
//! other exporters — console, the OTLP-JSON-lines file writer, none, and any SDK
//! `SpanExporter` a Rust caller plugs in — take the SDK's `SpanData`, converted from the
//! queued records here (off the hot path, on the batch thread).

use crate::batch::{BatchSink, Chunk, Exported};
use crate::config::{Config, ExporterKind};
use crate::error::{Error, ErrorKind, Result};
use crate::otlp_encode::{truncate_all, truncate_value};
use crate::pipeline::Scopes;
use crate::redaction::Redactor;
use crate::span::{to_system_time, SpanRecord};
use crate::stats::Counters;
use crate::types::{SpanContext, SpanKind, Status, Value};
use opentelemetry::trace as ot;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Converts a plain value for the SDK, truncating strings to the value-length limit.
pub(crate) fn to_otel_value(v: Value, limit: Option<usize>) -> opentelemetry::Value {
    let mut out = crate::span::to_otel_value(v);
    if let Some(max) = limit {
        truncate_value(&mut out, max);
    }
    out
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

/// Something that exports `SpanData` synchronously within a timeout.
pub(crate) trait Export: Send {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()>;
    fn shutdown(&mut self);
}

/// What a batch sink needs from the pipeline besides the configuration and resource.
pub(crate) struct SinkContext {
    /// The pipeline's instrumentation scopes (records name theirs by index).
    pub scopes: Arc<Scopes>,
    /// For sinks that report the outcome of exports still in flight.
    pub counters: Arc<Counters>,
    pub redactor: Option<Redactor>,
    pub value_length_limit: Option<usize>,
}

/// The batch sink for `SpanData` exporters: converts records and hands them to an [`Export`].
pub(crate) struct Sink {
    export: Box<dyn Export>,
    redactor: Option<Redactor>,
    scopes: Arc<Scopes>,
    /// The export thread's own copy of the scopes seen so far.
    cache: Vec<InstrumentationScope>,
    value_length_limit: Option<usize>,
}

impl Sink {
    pub(crate) fn new(export: Box<dyn Export>, ctx: SinkContext) -> Sink {
        Sink {
            export,
            redactor: ctx.redactor,
            scopes: ctx.scopes,
            cache: Vec::new(),
            value_length_limit: ctx.value_length_limit,
        }
    }
}

impl BatchSink for Sink {
    fn export(&mut self, batch: Chunk<'_>) -> std::result::Result<Exported, String> {
        let fallback = InstrumentationScope::default();
        let mut data = Vec::with_capacity(batch.len());
        for r in batch {
            let i = r.scope as usize;
            if i >= self.cache.len() {
                let more = self.scopes.since(self.cache.len());
                self.cache.extend(more);
            }
            let scope = self.cache.get(i).unwrap_or(&fallback);
            data.push(to_span_data(
                r,
                scope,
                self.value_length_limit,
                self.redactor.as_ref(),
            ));
        }
        self.export
            .export(data)
            .map(|()| Exported::Done)
            .map_err(|e| e.to_string())
    }

    fn shutdown(&mut self) {
        self.export.shutdown();
    }
}

/// Runs any SDK `SpanExporter` on a runtime the core owns: the host languages have none, and
/// the gRPC exporter panics without one.
pub(crate) struct SdkExport<E: SpanExporter> {
    exporter: E,
    /// `None` once shut down.
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
}

impl<E: SpanExporter + 'static> SdkExport<E> {
    pub(crate) fn new(
        mut exporter: E,
        resource: &Resource,
        runtime: tokio::runtime::Runtime,
        timeout: Duration,
    ) -> Self {
        exporter.set_resource(resource);
        SdkExport {
            exporter,
            runtime: Some(runtime),
            timeout,
        }
    }
}

impl<E: SpanExporter + 'static> Export for SdkExport<E> {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let timeout = self.timeout;
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(Error::new(
                ErrorKind::AlreadyShutdown,
                "the exporter was shut down",
            ));
        };
        let _guard = runtime.enter();
        let mut fut = std::pin::pin!(self.exporter.export(batch));
        // Most in-process exporters finish at once: poll once before paying for `block_on` and
        // a timer. A network exporter returns Pending and continues under the timeout.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
            return r.map_err(|e| Error::new(ErrorKind::Export, e.to_string()));
        }
        drop(_guard);
        runtime.block_on(async move {
            match tokio::time::timeout(timeout, fut).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(Error::new(ErrorKind::Export, e.to_string())),
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!("export did not finish within {timeout:?}"),
                )),
            }
        })
    }

    fn shutdown(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            {
                let _guard = runtime.enter();
                let _ = self.exporter.shutdown_with_timeout(Duration::from_secs(1));
            }
            // Bounded: a hung export task cannot keep the batch thread from finishing.
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A runtime with one worker thread for the exporter's network I/O.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("polytrace-export")
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the export runtime: {e}")))
}

/// Prints one line per span to stdout (`OTEL_TRACES_EXPORTER=console`).
pub(crate) struct ConsoleExport;

impl Export for ConsoleExport {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for s in batch {
            let dur = s.end_time.duration_since(s.start_time).unwrap_or_default();
            let status = match &s.status {
                ot::Status::Error { description } => format!(" ERROR({description})"),
                ot::Status::Ok => " OK".to_string(),
                ot::Status::Unset => String::new(),
            };
            let attrs: Vec<String> = s
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            let _ = writeln!(
                out,
                "span {} trace={} id={} parent={} kind={:?} dur={:.3}ms{} [{}] events={}",
                s.name,
                s.span_context.trace_id(),
                s.span_context.span_id(),
                s.parent_span_id,
                s.span_kind,
                dur.as_secs_f64() * 1e3,
                status,
                attrs.join(", "),
                s.events.len()
            );
        }
        Ok(())
    }

    fn shutdown(&mut self) {
        let _ = std::io::stdout().flush();
    }
}

/// Appends one OTLP/JSON `ExportTraceServiceRequest` per batch as a line to a file — the
/// format the OpenTelemetry Collector's file exporter writes, and what `polytrace view` reads.
pub(crate) struct FileExport {
    file: std::fs::File,
    resource: opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
}

impl FileExport {
    pub(crate) fn open(path: &std::path::Path, resource: &Resource) -> Result<FileExport> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::invalid_config(format!(
                    "cannot open '{}' for the file exporter: {e}",
                    path.display()
                ))
            })?;
        Ok(FileExport {
            file,
            resource: resource.into(),
        })
    }
}

/// Encodes a batch as one OTLP/JSON line (the specification's JSON mapping, as the Collector's
/// file exporter writes it).
pub(crate) fn otlp_json_line(
    batch: Vec<SpanData>,
    resource: &opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
) -> Result<String> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let req = ExportTraceServiceRequest {
        resource_spans:
            opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope(
                batch, resource,
            ),
    };
    Ok(polytrace_otlp_json::request_to_json_line(&req))
}

impl Export for FileExport {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let mut line = otlp_json_line(batch, &self.resource)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| {
                Error::new(
                    ErrorKind::Export,
                    format!("cannot write the trace file: {e}"),
                )
            })
    }

    fn shutdown(&mut self) {
        let _ = self.file.flush();
    }
}

/// Discards everything (`OTEL_TRACES_EXPORTER=none`); spans are still counted as exported.
pub(crate) struct NoExport;

impl Export for NoExport {
    fn export(&mut self, _batch: Vec<SpanData>) -> Result<()> {
        Ok(())
    }
    fn shutdown(&mut self) {}
}

/// Builds the batch sink for the exporter the configuration asks for.
pub(crate) fn build(
    config: &Config,
    resource: &Resource,
    ctx: SinkContext,
) -> Result<Box<dyn BatchSink>> {
    let spans = |export: Box<dyn Export>, ctx| Ok(Box::new(Sink::new(export, ctx)) as Box<_>);
    match config.exporter {
        ExporterKind::Otlp => Ok(Box::new(crate::otlp::OtlpSink::new(
            &config.otlp,
            resource,
            ctx.scopes,
            ctx.counters,
            ctx.value_length_limit,
            ctx.redactor,
            config.batch.export_timeout,
        )?)),
        ExporterKind::Console => spans(Box::new(ConsoleExport), ctx),
        ExporterKind::File => spans(
            Box::new(FileExport::open(&config.file_path, resource)?),
            ctx,
        ),
        ExporterKind::None => spans(Box::new(NoExport), ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_by_characters_on_boundaries() {
        let mut v = to_otel_value(Value::from("héllo"), Some(2));
        assert_eq!(v.as_str(), "hé");
        v = to_otel_value(Value::from("日本語テキスト"), Some(3));
        assert_eq!(v.as_str(), "日本語");
        v = to_otel_value(Value::from("日本"), Some(2));
        assert_eq!(v.as_str(), "日本");
        v = to_otel_value(Value::from("abc"), Some(3));
        assert_eq!(v.as_str(), "abc");
        let mut v = opentelemetry::Value::from("abcdef");
        truncate_value(&mut v, 2);
        assert_eq!(v.as_str(), "ab");
    }
}
