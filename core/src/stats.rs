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
}

impl Stats {
    /// The counters as (name, value) pairs, for bindings that build a host dict/map.
    pub fn to_pairs(&self) -> [(&'static str, u64); 9] {
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
        ]
    }
}

/// A counter alone on its cache line: producers and the export thread update different
/// counters, and must not slow each other down through false sharing.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded(pub AtomicU64);

/// The live counters. The first four are written by span-producing threads, the rest by the
/// export thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub started: Padded,
    pub ended: Padded,
    pub dropped_queue_full: Padded,
    pub dropped_shutdown: Padded,
    pub dropped_invalid: Padded,
    pub exported: Padded,
    pub dropped_export_failed: Padded,
    pub export_failures: Padded,
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        let q = self.dropped_queue_full.0.load(Relaxed);
        let e = self.dropped_export_failed.0.load(Relaxed);
        let s = self.dropped_shutdown.0.load(Relaxed);
        let i = self.dropped_invalid.0.load(Relaxed);
        Stats {
            spans_started: self.started.0.load(Relaxed),
            spans_ended: self.ended.0.load(Relaxed),
            spans_exported: self.exported.0.load(Relaxed),
            spans_dropped: q + e + s + i,
            dropped_queue_full: q,
            dropped_export_failed: e,
            dropped_shutdown: s,
            dropped_invalid: i,
            export_failures: self.export_failures.0.load(Relaxed),
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
        ] {
            c.0.store(0, Relaxed);
        }
    }
}
