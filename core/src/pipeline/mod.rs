//! The pipeline behind a provider: sampler, propagators, counters, the batch queue and its
//! worker. Spans keep it alive through their tracer.

mod queue;
mod sampling;
mod worker;

use crate::config::{Config, ConfigWarning, ExporterKind};
use crate::error::{Error, ErrorKind, Result};
use crate::export::drain::Drain;
use crate::export::redaction::Redactor;
use crate::export::BatchSink;
use crate::export::{self, SinkContext};
use crate::propagation::Propagators;
use crate::stats::Counters;
use crate::trace::ids;
use crate::trace::record::SpanRecord;
use crate::trace::sampler::{Decision, Sampler, SamplerTag};
use crate::trace::scope::Scopes;
use crate::types::{Attribute, SpanContext, SpanKind, TraceFlags};
use opentelemetry_sdk::Resource;
use queue::{Pushed, Queue, Stopped};
use sampling::Poller;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicPtr};
use std::sync::Arc;
use std::time::Duration;

/// Builds the batch sink for a (re)started worker: the configured exporter, or a caller's.
pub(crate) type ExportFactory =
    Box<dyn Fn(&Config, &Resource, SinkContext) -> Result<Box<dyn BatchSink>> + Send + Sync>;

/// What a tracer shares with its spans.
#[derive(Debug)]
pub(crate) struct TracerShared {
    /// Index of the instrumentation scope in the pipeline's [`Scopes`].
    pub scope: u32,
    pub pipeline: Arc<Pipeline>,
}

pub(crate) struct Pipeline {
    pub config: Config,
    pub warnings: Vec<ConfigWarning>,
    pub sampler: Sampler,
    pub propagators: Propagators,
    pub counters: Arc<Counters>,
    pub scopes: Arc<Scopes>,
    shutdown: AtomicBool,
    warned_queue_full: AtomicBool,
    /// The current queue, an `Arc<Queue>` turned into a raw pointer so the hot path reads it
    /// with one atomic load. It is replaced only in a forked child (which is single-threaded
    /// at that moment); the parent's old queue is then leaked on purpose, since another
    /// thread of the parent may have held its lock at the fork.
    queue: AtomicPtr<Queue>,
    factory: ExportFactory,
    /// The remote sampler's poller (`jaeger_remote`), stopped at shutdown; restarted in a
    /// forked child. Locked only then, never by span calls.
    poller: parking_lot::Mutex<Option<Poller>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("config", &self.config)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    pub(crate) fn new(
        config: Config,
        warnings: Vec<ConfigWarning>,
        factory: ExportFactory,
    ) -> Result<Arc<Pipeline>> {
        let counters = Arc::new(Counters::default());
        let scopes = Arc::new(Scopes::default());
        // The poller first: should the worker fail to start, dropping it stops its thread.
        let sampler = Sampler::new(&config.sampler);
        let poller = start_poller(&config, &sampler, &counters)?;
        let queue = if config.disabled {
            Arc::new(Queue::new(1, 1, Arc::new(Drain::new())))
        } else {
            start_worker(&config, &counters, &scopes, &factory)?
        };
        Ok(Arc::new(Pipeline {
            sampler,
            poller: parking_lot::Mutex::new(poller),
            propagators: Propagators::new(&config.propagators),
            warnings,
            counters,
            scopes,
            shutdown: AtomicBool::new(false),
            warned_queue_full: AtomicBool::new(false),
            queue: AtomicPtr::new(Arc::into_raw(queue).cast_mut()),
            factory,
            config,
        }))
    }

    #[inline]
    fn queue(&self) -> &Queue {
        // SAFETY: the pointer always comes from `Arc::into_raw` of a live queue; it is only
        // released in `Drop` (we hold `&self`, so not yet) or leaked after a fork.
        unsafe { &*self.queue.load(Acquire) }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Relaxed)
    }

    /// Decides a new span's identity: ids, flags, trace state and the sampling decision, with
    /// the tag a sampled new trace's root carries (remote sampler only).
    pub(crate) fn begin(
        &self,
        parent: Option<&SpanContext>,
        name: &str,
        kind: SpanKind,
        attributes: &[Attribute],
    ) -> (SpanContext, Decision, SamplerTag) {
        let _ = (kind, attributes);
        let parent = parent.filter(|p| p.is_valid());
        if self.config.disabled || self.is_shutdown() {
            // A no-op tracer: keep propagating the parent unchanged.
            return (
                parent.cloned().unwrap_or_default(),
                Decision::Drop,
                SamplerTag::None,
            );
        }
        let (trace_id, span_id, random, trace_state) = match parent {
            Some(p) => (
                p.trace_id,
                ids::span_id(),
                p.trace_flags.0 & TraceFlags::RANDOM,
                p.trace_state.clone(),
            ),
            None => {
                let (trace_id, span_id) = ids::root_ids();
                (trace_id, span_id, TraceFlags::RANDOM, Default::default())
            }
        };
        let (decision, tag) = self.sampler.decide(parent, trace_id, name);
        let sampled = if decision == Decision::RecordAndSample {
            TraceFlags::SAMPLED
        } else {
            0
        };
        let ctx = SpanContext {
            trace_id,
            span_id,
            trace_flags: TraceFlags(random | sampled),
            trace_state,
            is_remote: false,
        };
        match decision {
            Decision::RecordAndSample => {
                self.counters.started.0.fetch_add(1, Relaxed);
            }
            Decision::RecordOnly => {
                self.counters.started.0.fetch_add(1, Relaxed);
                self.counters.record_only.0.fetch_add(1, Relaxed);
            }
            Decision::Drop => {
                self.counters.not_sampled.0.fetch_add(1, Relaxed);
            }
        }
        (ctx, decision, tag)
    }

    /// Takes a finished span. Never blocks on export.
    #[inline]
    pub(crate) fn on_end(&self, record: SpanRecord) {
        self.on_end_slot(&mut Some(record));
    }

    /// Takes the finished span out of `slot` (leaving `None`): into the queue when it is
    /// sampled and there is room, otherwise dropped (and counted). Taking it by slot lets the
    /// record be moved once, from the live span straight into the queue's buffer.
    #[inline]
    pub(crate) fn on_end_slot(&self, slot: &mut Option<SpanRecord>) {
        let sampled = match slot {
            Some(record) => record.context.is_sampled(),
            None => return,
        };
        self.counters.ended.0.fetch_add(1, Relaxed);
        if !sampled {
            *slot = None; // record-only spans are not exported
            return;
        }
        if self.is_shutdown() {
            *slot = None;
            self.counters.dropped_shutdown.0.fetch_add(1, Relaxed);
            return;
        }
        match self.queue().push_from(slot) {
            Pushed::Queued => {}
            Pushed::Closed => {
                // Ended while the shutdown was taking its last batch.
                self.counters.dropped_shutdown.0.fetch_add(1, Relaxed);
            }
            Pushed::Full => {
                self.counters.dropped_queue_full.0.fetch_add(1, Relaxed);
                // Once per pipeline, and only a load per drop after that: a full queue must
                // not make every further span slower.
                if !self.warned_queue_full.load(Relaxed)
                    && !self.warned_queue_full.swap(true, Relaxed)
                {
                    crate::diag::emit(
                        crate::diag::Level::Error,
                        "the span queue is full (OTEL_BSP_MAX_QUEUE_SIZE): new spans are dropped and counted in stats().dropped_queue_full",
                    );
                }
            }
        }
    }

    pub(crate) fn force_flush(&self, timeout: Duration) -> Result<()> {
        if self.config.disabled || self.is_shutdown() {
            return Ok(());
        }
        if self.queue().flush(timeout) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Timeout,
                format!("force_flush did not finish within {timeout:?}"),
            ))
        }
    }

    /// Exports what is queued and stops, everything by `timeout` from now: what is not
    /// delivered by then is counted as dropped, and the call returns within `timeout` plus
    /// a moment (at most 0.4 s) for the worker to finish counting. `Timeout` when the deadline
    /// cut anything (or the worker did not finish).
    pub(crate) fn shutdown(&self, timeout: Duration) -> Result<()> {
        if self.shutdown.swap(true, Relaxed) {
            return Err(Error::new(
                ErrorKind::AlreadyShutdown,
                "the provider was already shut down",
            ));
        }
        if let Some(poller) = self.poller.lock().take() {
            poller.stop();
        }
        if self.config.disabled {
            return Ok(());
        }
        match self.queue().shutdown(timeout) {
            Stopped::InTime => Ok(()),
            Stopped::AtDeadline => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "shutdown did not finish exporting within {timeout:?}: what the back end had not taken is counted as dropped (stats)"
                ),
            )),
            Stopped::NotFinished => Err(Error::new(
                ErrorKind::Timeout,
                format!("shutdown did not finish exporting within {timeout:?}"),
            )),
        }
    }

    /// In a forked child: a fresh queue, worker, exporter and resource (new pid); the parent's
    /// queued spans stay the parent's to export. Counters restart at zero.
    pub(crate) fn after_fork_child(&self) -> Result<()> {
        ids::reseed_after_fork();
        self.counters.reset();
        if self.config.disabled || self.is_shutdown() {
            return Ok(());
        }
        let queue = start_worker(&self.config, &self.counters, &self.scopes, &self.factory)?;
        // The old pointer is intentionally leaked (see the field's doc).
        self.queue.store(Arc::into_raw(queue).cast_mut(), Release);
        // The parent's poller thread does not exist here; its handle is dropped unjoined.
        let poller = start_poller(&self.config, &self.sampler, &self.counters)?;
        *self.poller.lock() = poller;
        Ok(())
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let ptr = *self.queue.get_mut();
        // SAFETY: from `Arc::into_raw`; we are the last user of the pipeline.
        let queue = unsafe { Arc::from_raw(ptr) };
        // Destructors never wait on export: ask the worker to drain and stop, by the exit
        // bound.
        queue.request_shutdown(exit_timeout(&self.config));
    }
}

fn start_worker(
    config: &Config,
    counters: &Arc<Counters>,
    scopes: &Arc<Scopes>,
    factory: &ExportFactory,
) -> Result<Arc<Queue>> {
    let resource = crate::trace::resource::build(config);
    let drain = Arc::new(Drain::new());
    let sink = factory(
        config,
        &resource,
        SinkContext {
            scopes: scopes.clone(),
            counters: counters.clone(),
            redactor: Redactor::new(&config.redaction),
            value_length_limit: config.limits.attribute_value_length,
            drain: drain.clone(),
        },
    )?;
    let queue = Arc::new(Queue::new(
        config.batch.max_queue_size,
        config.batch.max_export_batch_size,
        drain,
    ));
    worker::spawn_worker(
        queue.clone(),
        counters.clone(),
        config.batch.schedule_delay,
        sink,
    )
    .map_err(|e| Error::internal(format!("cannot start the batch thread: {e}")))?;
    Ok(queue)
}

/// The bound on a shutdown whose caller gives no timeout, and on the bindings' exit hooks.
///
/// With the OTLP exporter it is the exporter's timeout (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` /
/// `OTEL_EXPORTER_OTLP_TIMEOUT`, default 10 s: "the maximum time the OTLP exporter will wait
/// for each batch export") — what is left at exit is sent as one last export, every request
/// at once, sharing that deadline — or `OTEL_BSP_EXPORT_TIMEOUT` (default 30 s) when that is
/// smaller. With the other exporters (console, file, none: local) it is
/// `OTEL_BSP_EXPORT_TIMEOUT`. A back end that refuses connections costs no wait at all: at
/// shutdown, only a back end that answered "retry" is retried.
pub(crate) fn exit_timeout(config: &Config) -> Duration {
    match config.exporter {
        ExporterKind::Otlp => config.otlp.timeout.min(config.batch.export_timeout),
        _ => config.batch.export_timeout,
    }
}

/// Starts the remote sampler's poller when the sampler is `jaeger_remote`.
fn start_poller(
    config: &Config,
    sampler: &Sampler,
    counters: &Arc<Counters>,
) -> Result<Option<Poller>> {
    match sampler.remote() {
        Some(remote) if !config.disabled => Poller::spawn(
            remote.clone(),
            config.service_name.clone(),
            counters.clone(),
        )
        .map(Some)
        .map_err(|e| Error::internal(format!("cannot start the sampling thread: {e}"))),
        _ => Ok(None),
    }
}

/// The default factory: the exporter named by the configuration.
pub(crate) fn configured_exporter() -> ExportFactory {
    Box::new(export::build)
}
