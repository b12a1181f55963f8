//! Export: choosing the batch sink for the configured exporter. OTLP (gRPC, HTTP protobuf,
//! HTTP JSON) goes through the core's direct encoder and transports ([`otlp`]). The
//! other exporters — console, the OTLP-JSON-lines file writer and any SDK
//! `SpanExporter` a Rust caller plugs in — take the SDK's `SpanData`, converted from the
//! queued records here (off the hot path, on the batch thread); `none` discards the records.

mod console;
pub(crate) mod drain;
mod file;
pub(crate) mod otlp;
mod prepare;
pub mod redaction;
mod sdk;

pub(crate) use prepare::truncate_all;
pub(crate) use sdk::{quiet_sigpipe, runtime, SdkExport};

use crate::config::{Config, ExporterKind};
use crate::error::Result;
use crate::export::redaction::Redactor;
use crate::stats::Counters;
use crate::trace::record::SpanRecord;
use crate::trace::scope::{ScopeCache, Scopes};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use prepare::span_data_batch;
use std::sync::Arc;

/// One chunk (≤ max batch) of the records taken from the queue, in order. Sinks work on the
/// records where they lie (taking out only what they hand on) and the worker drops the whole
/// taken vector in place afterwards: a record is never moved on the export thread. (Moving
/// each ~300–450-byte record out of the vector, and again into a sink's own vector, was the
/// export thread's largest cost.)
pub(crate) type Chunk<'a> = &'a mut [SpanRecord];

/// What became of a chunk handed to a [`BatchSink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exported {
    /// Delivered: the worker counts the spans as exported.
    Done,
    /// Sent and not yet answered: the sink reports the outcome itself, later, with
    /// [`Counters::report_export`].
    InFlight,
}

/// Where the worker sends batches.
pub(crate) trait BatchSink: Send {
    /// Exports one chunk (≤ max batch). Returns Err(message) when the spans were lost.
    fn export(&mut self, batch: Chunk<'_>) -> Result<Exported, String>;
    /// Waits (bounded by the export timeout) until every export still in flight has been
    /// reported. Called before a flush is reported done.
    fn finish_in_flight(&mut self) {}
    /// Called once when the worker stops; waits for exports in flight (bounded).
    fn shutdown(&mut self);
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
    /// The shutdown's deadline, once one began: exports still running end by it.
    pub drain: Arc<drain::Drain>,
}

/// The batch sink for `SpanData` exporters: converts records and hands them to an [`Export`].
pub(crate) struct Sink {
    export: Box<dyn Export>,
    redactor: Option<Redactor>,
    scopes: ScopeCache<InstrumentationScope>,
    value_length_limit: Option<usize>,
}

impl Sink {
    pub(crate) fn new(export: Box<dyn Export>, ctx: SinkContext) -> Sink {
        Sink {
            export,
            redactor: ctx.redactor,
            scopes: ScopeCache::new(ctx.scopes, InstrumentationScope::clone),
            value_length_limit: ctx.value_length_limit,
        }
    }
}

impl BatchSink for Sink {
    fn export(&mut self, batch: Chunk<'_>) -> std::result::Result<Exported, String> {
        let data = span_data_batch(
            batch,
            &mut self.scopes,
            self.value_length_limit,
            self.redactor.as_ref(),
        );
        self.export
            .export(data)
            .map(|()| Exported::Done)
            .map_err(|e| e.to_string())
    }

    fn shutdown(&mut self) {
        self.export.shutdown();
    }
}

/// Discards everything (`OTEL_TRACES_EXPORTER=none`); spans are still counted as exported.
/// The records are not converted to `SpanData` first: that cost the export thread ~1,700
/// instructions per span for nothing.
pub(crate) struct Discard;

impl BatchSink for Discard {
    fn export(&mut self, _batch: Chunk<'_>) -> std::result::Result<Exported, String> {
        Ok(Exported::Done)
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
        ExporterKind::Otlp => Ok(Box::new(crate::export::otlp::OtlpSink::new(
            &config.otlp,
            resource,
            ctx.scopes,
            ctx.counters,
            ctx.value_length_limit,
            ctx.redactor,
            config.batch.export_timeout,
            ctx.drain,
        )?)),
        ExporterKind::Console => spans(Box::new(console::ConsoleExport), ctx),
        ExporterKind::File => spans(
            Box::new(file::FileExport::open(&config.file_path, resource)?),
            ctx,
        ),
        ExporterKind::None => Ok(Box::new(Discard)),
    }
}
