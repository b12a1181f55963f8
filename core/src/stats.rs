//! Pipeline counters, readable at any time from any thread.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of a pipeline's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Recording spans started (sampled or record-only).
    pub spans_started: u64,
    /// Recording spans ended.
    pub spans_ended: u64,
    /// Spans the exporter confirmed.
    pub spans_exported: u64,
    /// Sum of every `dropped_*` reason below.
    pub spans_dropped: u64,
    /// Dropped because the queue was full (back end slow or down).
    pub dropped_queue_full: u64,
    /// Dropped because their export failed for good (after retries).
    pub dropped_export_failed: u64,
    /// Dropped at shutdown: ended after it began, or still queued, never sent, when its
    /// deadline passed.
    pub dropped_shutdown: u64,
    /// Lost in a finished-span batch from a binding that the core could not read (a bug in a
    /// binding, never the user's input).
    pub dropped_invalid: u64,
    /// Export calls that failed (each may carry many spans).
    pub export_failures: u64,
    /// Spans the sampler started with the `sampled` flag (exported unless dropped later).
    /// Hosts that decide fixed cases on their side ([`Provider::start_plan`]) report those
    /// starts through [`Provider::count_started`], counted here too.
    ///
    /// [`Provider::start_plan`]: crate::api::Provider::start_plan
    /// [`Provider::count_started`]: crate::api::Provider::count_started
    pub spans_sampled: u64,
    /// Spans the sampler started without the `sampled` flag (non-recording or record-only).
    /// Non-recording starts that a host decides on its side from the start plan are not
    /// counted: the core never sees them.
    pub spans_not_sampled: u64,
    /// Strategies fetched from the remote sampler's endpoint (`jaeger_remote`), changed or
    /// not.
    pub sampler_polls: u64,
    /// Failed fetches of the remote sampler's strategy (unreachable, an error status, a
    /// malformed answer); the last good strategy stays in force.
    pub sampler_poll_failures: u64,
}

impl Stats {
    /// The counters as (name, value) pairs, for bindings that build a host dict/map.
    pub fn to_pairs(&self) -> [(&'static str, u64); 13] {
        [
            ("spans_started", self.spans_started),
            ("spans_ended", self.spans_ended),
            ("spans_exported", self.spans_exported),
            ("spans_dropped", self.spans_dropped),
            ("dropped_queue_full", self.dropped_queue_full),
            ("dropped_export_failed", self.dropped_export_failed),
            ("dropped_shutdown", self.dropped_shutdown),
            ("dropped_invalid", self.dropped_invalid),
            ("export_failures", self.export_failures),
            ("spans_sampled", self.spans_sampled),
            ("spans_not_sampled", self.spans_not_sampled),
            ("sampler_polls", self.sampler_polls),
            ("sampler_poll_failures", self.sampler_poll_failures),
        ]
    }
}

/// A counter alone on its cache line: producers and the export thread update different
/// counters, and must not slow each other down through false sharing.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded(pub AtomicU64);

/// The live counters. The first seven are written by span-producing threads (`dropped_invalid`
/// by the thread that decodes a binding's batch), the next three by
/// the export thread, the last two by the remote sampler's poller.
///
/// Sampled starts are not counted on their own: every recording start is counted in
/// `started`, and `spans_sampled` is `started` less the record-only ones, so a sampled span
/// costs the producer no second atomic add.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub started: Padded,
    pub ended: Padded,
    pub dropped_queue_full: Padded,
    pub dropped_shutdown: Padded,
    /// Starts the sampler dropped (non-recording).
    pub not_sampled: Padded,
    /// Recording starts without the `sampled` flag (included in `started`).
    pub record_only: Padded,
    pub dropped_invalid: Padded,
    pub exported: Padded,
    pub dropped_export_failed: Padded,
    pub export_failures: Padded,
    pub sampler_polls: Padded,
    pub sampler_poll_failures: Padded,
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        let q = self.dropped_queue_full.0.load(Relaxed);
        let e = self.dropped_export_failed.0.load(Relaxed);
        let s = self.dropped_shutdown.0.load(Relaxed);
        let i = self.dropped_invalid.0.load(Relaxed);
        let started = self.started.0.load(Relaxed);
        let record_only = self.record_only.0.load(Relaxed);
        Stats {
            spans_started: started,
            spans_ended: self.ended.0.load(Relaxed),
            spans_exported: self.exported.0.load(Relaxed),
            spans_dropped: q + e + s + i,
            dropped_queue_full: q,
            dropped_export_failed: e,
            dropped_shutdown: s,
            dropped_invalid: i,
            export_failures: self.export_failures.0.load(Relaxed),
            spans_sampled: started.saturating_sub(record_only),
            spans_not_sampled: self.not_sampled.0.load(Relaxed) + record_only,
            sampler_polls: self.sampler_polls.0.load(Relaxed),
            sampler_poll_failures: self.sampler_poll_failures.0.load(Relaxed),
        }
    }

    /// Counts the outcome of exporting `n` spans (by the batch worker, or by a sink for an
    /// export that was in flight).
    pub fn report_export(&self, n: u64, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.exported.0.fetch_add(n, Relaxed);
            }
            Err(msg) => {
                self.export_failures.0.fetch_add(1, Relaxed);
                self.dropped_export_failed.0.fetch_add(n, Relaxed);
                crate::diag::emit_once(
                    crate::diag::Level::Error,
                    "export-failed",
                    &format!("export of {n} spans failed, they are dropped (further failures are counted in stats, not logged): {msg}"),
                );
            }
        }
    }

    pub fn reset(&self) {
        for c in [
            &self.started,
            &self.ended,
            &self.exported,
            &self.dropped_queue_full,
            &self.dropped_export_failed,
            &self.dropped_shutdown,
            &self.dropped_invalid,
            &self.export_failures,
            &self.not_sampled,
            &self.record_only,
            &self.sampler_polls,
            &self.sampler_poll_failures,
        ] {
            c.0.store(0, Relaxed);
        }
    }
}
