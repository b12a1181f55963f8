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

use crate::trace::record::SpanRecord;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

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
}

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
}

impl Queue {
    pub(crate) fn new(max_queue: usize, max_batch: usize) -> Queue {
        Queue {
            buf: Mutex::new(Vec::new()),
            approx_len: AtomicUsize::new(0),
            signal: Mutex::new(Signal::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            max_queue: max_queue.max(1),
            max_batch: max_batch.clamp(1, max_queue.max(1)),
        }
    }

    /// Enqueues the finished span in `slot`, leaving `None` there. Returns false (and drops
    /// it, outside the lock) when the queue is full; an empty slot counts as enqueued.
    #[inline]
    pub(crate) fn push_from(&self, slot: &mut Option<SpanRecord>) -> bool {
        let len = {
            let mut buf = self.buf.lock();
            if buf.len() >= self.max_queue {
                drop(buf);
                *slot = None;
                return false;
            }
            match slot.take() {
                Some(record) => buf.push(record),
                None => return true,
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
        true
    }

    /// Spans waiting right now.
    pub(crate) fn len(&self) -> usize {
        self.buf.lock().len()
    }

    pub(super) fn take_all(&self, spare: Vec<SpanRecord>) -> Vec<SpanRecord> {
        let mut buf = self.buf.lock();
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

    /// Asks the worker to export everything and stop; waits up to `timeout` for it.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.signal.lock();
        s.shutdown = true;
        self.wake.notify_one();
        while !s.exited {
            if self.done.wait_until(&mut s, deadline).timed_out() {
                return s.exited;
            }
        }
        true
    }

    /// Requests shutdown without waiting (used by `Drop`: destructors never wait on export).
    pub(crate) fn request_shutdown(&self) {
        let mut s = self.signal.lock();
        s.shutdown = true;
        self.wake.notify_one();
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::types::{SpanContext, SpanKind};

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
        let q = Queue::new(2048, 512);
        for _ in 0..HINT_EVERY - 1 {
            let mut slot = record();
            assert!(q.push_from(&mut slot));
            assert!(slot.is_none());
        }
        // The worker's hint is untouched until a multiple of HINT_EVERY is reached.
        assert_eq!(q.approx_len.load(Relaxed), 0);
        assert!(q.push_from(&mut record()));
        assert_eq!(q.approx_len.load(Relaxed), HINT_EVERY);
        assert_eq!(q.len(), HINT_EVERY);
        let taken = q.take_all(Vec::new());
        assert_eq!(taken.len(), HINT_EVERY);
        assert_eq!(q.approx_len.load(Relaxed), 0);
    }

    #[test]
    fn a_full_queue_refuses_and_empties_the_slot() {
        let q = Queue::new(3, 3);
        for _ in 0..3 {
            assert!(q.push_from(&mut record()));
        }
        let mut slot = record();
        assert!(!q.push_from(&mut slot));
        assert!(
            slot.is_none(),
            "a refused record is dropped, not left with the caller"
        );
        assert_eq!(q.len(), 3);
        // An empty slot (nothing to enqueue) is not a refusal once there is room.
        let _ = q.take_all(Vec::new());
        assert!(q.push_from(&mut None));
        assert_eq!(q.len(), 0);
    }
}
