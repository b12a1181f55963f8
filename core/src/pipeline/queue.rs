//! The batch queue and its export worker.
//!
//! Producers (span `end` on any thread) push a boxed record into a `Vec` under a short
//! `parking_lot` mutex: no I/O, no allocation beyond the vector's growth, and never a lock the
//! exporter holds while exporting. The worker takes the whole vector in one swap (so draining
//! costs O(1) per batch, however fast producers are) and exports it in chunks of
//! `max_export_batch_size`. Memory follows occupancy: nothing is preallocated, and the queue
//! never holds more than `max_queue_size` spans — the rest is dropped and counted. With the
//! one taken swap the export thread may still be working through, at most twice that many
//! spans are held in memory at any time — plus, with the OTLP exporter, the few encoded
//! requests (≤ one batch each) still waiting for their answer (`otlp::MAX_IN_FLIGHT`).
//!
//! A shutdown has one deadline for everything ([`Drain`]); the worker's last take closes the
//! queue, so a span that ends after it is refused and counted, never left behind uncounted.

use crate::export::drain::Drain;
use crate::trace::record::SpanRecord;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long past its deadline a shutdown waits for the worker to report that it finished:
/// the worker's own last steps after the deadline (requests reporting, the exporter's runtime
/// stopping) are bounded by 2 × `otlp::AFTER_DEADLINE` (200 ms).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(400);

/// What became of a finished span offered to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued (or there was nothing to queue).
    Queued,
    /// Refused: the queue holds `max_queue_size` spans.
    Full,
    /// Refused: the worker took its last batch (shutdown).
    Closed,
}

#[derive(Debug, Default)]
pub(super) struct Signal {
    /// Producers crossed the batch threshold.
    pub(super) batch_ready: bool,
    /// Flush requests issued / completed (generation counters).
    pub(super) flush_requested: u64,
    pub(super) flush_done: u64,
    /// Shutdown requested / worker finished.
    pub(super) shutdown: bool,
    pub(super) exited: bool,
    /// The shutdown's deadline passed before the worker was done: exports still in flight or
    /// queued were cut (and counted as dropped).
    pub(super) cut_at_deadline: bool,
}

/// How a shutdown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Everything was exported, or failed for good (counted), before the deadline.
    InTime,
    /// The deadline cut what was still in flight or queued; it is counted as dropped.
    AtDeadline,
    /// The worker did not report back in time (its counts may still change).
    NotFinished,
}

/// Stands for a timeout too large to add to now.
const YEAR: Duration = Duration::from_secs(86_400 * 365);

/// How often (in pushed spans) producers update [`Queue::approx_len`].
const HINT_EVERY: usize = 64;

/// The queue shared by producers and the worker.
#[derive(Debug)]
pub(crate) struct Queue {
    pub(super) buf: Mutex<Vec<SpanRecord>>,
    /// `buf.len()` as of the last take or the last push that made it a multiple of
    /// [`HINT_EVERY`], for the worker to poll without the lock. Producers write it once per
    /// `HINT_EVERY` spans, not per span: a store per span to a line the worker is polling
    /// would cost the producer a cache-line transfer on every push.
    pub(super) approx_len: AtomicUsize,
    pub(super) signal: Mutex<Signal>,
    pub(super) wake: Condvar,
    pub(super) done: Condvar,
    pub(super) max_queue: usize,
    pub(super) max_batch: usize,
    /// Set, under `buf`'s lock, by the worker's last take at shutdown.
    closed: AtomicBool,
    /// The shutdown's deadline, shared with the exporter.
    pub(super) drain: Arc<Drain>,
}

impl Queue {
    pub(crate) fn new(max_queue: usize, max_batch: usize, drain: Arc<Drain>) -> Queue {
        Queue {
            buf: Mutex::new(Vec::new()),
            approx_len: AtomicUsize::new(0),
            signal: Mutex::new(Signal::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            max_queue: max_queue.max(1),
            max_batch: max_batch.clamp(1, max_queue.max(1)),
            closed: AtomicBool::new(false),
            drain,
        }
    }

    /// Enqueues the finished span in `slot`, leaving `None` there. Refuses it (and drops it,
    /// outside the lock) when the queue is full or closed; an empty slot counts as enqueued.
    #[inline]
    pub(crate) fn push_from(&self, slot: &mut Option<SpanRecord>) -> Pushed {
        let len = {
            let mut buf = self.buf.lock();
            let closed = self.closed.load(Relaxed);
            if closed || buf.len() >= self.max_queue {
                drop(buf);
                *slot = None;
                return if closed { Pushed::Closed } else { Pushed::Full };
            }
            match slot.take() {
                Some(record) => buf.push(record),
                None => return Pushed::Queued,
            }
            let len = buf.len();
            if len % HINT_EVERY == 0 {
                self.approx_len.store(len, Relaxed);
            }
            len
        };
        if len == self.max_batch {
            let mut s = self.signal.lock();
            s.batch_ready = true;
            self.wake.notify_one();
        }
        Pushed::Queued
    }

    /// Spans waiting right now.
    pub(crate) fn len(&self) -> usize {
        self.buf.lock().len()
    }

    /// Takes everything queued, leaving `spare` (empty) in its place; with `close`, later
    /// pushes are refused.
    pub(super) fn take_all(&self, spare: Vec<SpanRecord>, close: bool) -> Vec<SpanRecord> {
        let mut buf = self.buf.lock();
        if close {
            self.closed.store(true, Relaxed);
        }
        self.approx_len.store(0, Relaxed);
        std::mem::replace(&mut *buf, spare)
    }

    /// Asks the worker to export everything queued now and waits up to `timeout`.
    /// Returns false on timeout (or if the worker is gone with spans left).
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.signal.lock();
        if s.exited {
            return self.len() == 0;
        }
        s.flush_requested += 1;
        let want = s.flush_requested;
        self.wake.notify_one();
        while s.flush_done < want && !s.exited {
            if self.done.wait_until(&mut s, deadline).timed_out() {
                return s.flush_done >= want;
            }
        }
        s.flush_done >= want
    }

    /// Asks the worker to export everything and stop, all by `timeout` from now — what is
    /// not exported by then is counted as dropped — and waits for it (a moment longer, for
    /// the worker to finish counting).
    pub(crate) fn shutdown(&self, timeout: Duration) -> Stopped {
        let now = Instant::now();
        let deadline = now.checked_add(timeout).unwrap_or(now + YEAR);
        self.drain.begin(deadline);
        let wait_until = deadline.checked_add(SHUTDOWN_GRACE).unwrap_or(deadline);
        let mut s = self.signal.lock();
        s.shutdown = true;
        self.wake.notify_one();
        while !s.exited {
            if self.done.wait_until(&mut s, wait_until).timed_out() && !s.exited {
                return Stopped::NotFinished;
            }
        }
        if s.cut_at_deadline {
            Stopped::AtDeadline
        } else {
            Stopped::InTime
        }
    }

    /// Requests shutdown with a deadline `timeout` from now, without waiting (used by `Drop`:
    /// destructors never wait on export).
    pub(crate) fn request_shutdown(&self, timeout: Duration) {
        let now = Instant::now();
        self.drain
            .begin(now.checked_add(timeout).unwrap_or(now + YEAR));
        let mut s = self.signal.lock();
        s.shutdown = true;
        self.wake.notify_one();
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::types::{SpanContext, SpanKind};

    pub(in crate::pipeline) fn queue(max_queue: usize, max_batch: usize) -> Queue {
        Queue::new(max_queue, max_batch, Arc::new(Drain::new()))
    }

    pub(in crate::pipeline) fn record() -> Option<SpanRecord> {
        Some(SpanRecord::new(
            0,
            SpanContext::default(),
            None,
            "s".into(),
            SpanKind::Internal,
            0,
        ))
    }

    #[test]
    fn the_length_hint_is_written_once_per_hint_every_pushes() {
        let q = queue(2048, 512);
        for _ in 0..HINT_EVERY - 1 {
            let mut slot = record();
            assert_eq!(q.push_from(&mut slot), Pushed::Queued);
            assert!(slot.is_none());
        }
        // The worker's hint is untouched until a multiple of HINT_EVERY is reached.
        assert_eq!(q.approx_len.load(Relaxed), 0);
        assert_eq!(q.push_from(&mut record()), Pushed::Queued);
        assert_eq!(q.approx_len.load(Relaxed), HINT_EVERY);
        assert_eq!(q.len(), HINT_EVERY);
        let taken = q.take_all(Vec::new(), false);
        assert_eq!(taken.len(), HINT_EVERY);
        assert_eq!(q.approx_len.load(Relaxed), 0);
    }

    #[test]
    fn a_full_queue_refuses_and_empties_the_slot() {
        let q = queue(3, 3);
        for _ in 0..3 {
            assert_eq!(q.push_from(&mut record()), Pushed::Queued);
        }
        let mut slot = record();
        assert_eq!(q.push_from(&mut slot), Pushed::Full);
        assert!(
            slot.is_none(),
            "a refused record is dropped, not left with the caller"
        );
        assert_eq!(q.len(), 3);
        // An empty slot (nothing to enqueue) is not a refusal once there is room.
        let _ = q.take_all(Vec::new(), false);
        assert_eq!(q.push_from(&mut None), Pushed::Queued);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn the_last_take_closes_the_queue() {
        let q = queue(10, 5);
        assert_eq!(q.push_from(&mut record()), Pushed::Queued);
        assert_eq!(q.take_all(Vec::new(), true).len(), 1);
        let mut slot = record();
        assert_eq!(q.push_from(&mut slot), Pushed::Closed);
        assert!(slot.is_none());
        assert_eq!(q.len(), 0);
    }
}
