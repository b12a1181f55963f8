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

use crate::span::SpanRecord;
use crate::stats::Counters;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Signal {
    /// Producers crossed the batch threshold.
    batch_ready: bool,
    /// Flush requests issued / completed (generation counters).
    flush_requested: u64,
    flush_done: u64,
    /// Shutdown requested / worker finished.
    shutdown: bool,
    exited: bool,
}

/// How often (in pushed spans) producers update [`Queue::approx_len`].
const HINT_EVERY: usize = 64;

/// The queue shared by producers and the worker.
#[derive(Debug)]
pub(crate) struct Queue {
    buf: Mutex<Vec<SpanRecord>>,
    /// `buf.len()` as of the last take or the last push that made it a multiple of
    /// [`HINT_EVERY`], for the worker to poll without the lock. Producers write it once per
    /// `HINT_EVERY` spans, not per span: a store per span to a line the worker is polling
    /// would cost the producer a cache-line transfer on every push.
    approx_len: AtomicUsize,
    signal: Mutex<Signal>,
    wake: Condvar,
    done: Condvar,
    max_queue: usize,
    max_batch: usize,
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

    fn take_all(&self, spare: Vec<SpanRecord>) -> Vec<SpanRecord> {
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
    /// [`report`].
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

/// Starts the worker thread.
pub(crate) fn spawn_worker(
    queue: Arc<Queue>,
    counters: Arc<Counters>,
    schedule_delay: Duration,
    mut sink: Box<dyn BatchSink>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("polytrace-batch".into())
        .spawn(move || {
            run(&queue, &counters, schedule_delay, sink.as_mut());
            // Stop the exporter (and its runtime, bounded) before saying we are done, so a
            // caller of shutdown() that returns Ok has nothing of ours still running.
            sink.shutdown();
            drop(sink);
            let mut s = queue.signal.lock();
            s.exited = true;
            s.flush_done = s.flush_requested;
            queue.done.notify_all();
        })
}

/// How long the worker keeps polling after a burst before it parks.
const BURST_SPIN: Duration = Duration::from_millis(1);

/// A burst is a rate at which the queue's room beyond one batch (counted as at most 4 batches)
/// would fill within this time: then parking is a risk (waking a parked thread can take that
/// long on a busy machine or a virtual CPU) and slows the drain, so the worker polls for
/// [`BURST_SPIN`] instead. Below that rate it parks and is woken when a batch is ready:
/// polling at a steady moderate rate would only burn a CPU. With the default sizes (2048,
/// 512) the threshold is 768k spans/s; with a much larger queue, 1M spans/s per 512 of batch.
const BURST_FILL: Duration = Duration::from_millis(2);

fn run(queue: &Queue, counters: &Counters, delay: Duration, sink: &mut dyn BatchSink) {
    let mut spare: Vec<SpanRecord> = Vec::new();
    let mut last_take = Instant::now();
    let mut next_deadline = Instant::now() + delay;
    loop {
        // Wait for a reason to export.
        let (flush_gen, flushing, shutting_down) = {
            let mut s = queue.signal.lock();
            loop {
                if s.shutdown || s.flush_requested > s.flush_done || s.batch_ready {
                    break;
                }
                if queue.len() >= queue.max_batch {
                    break;
                }
                if queue.wake.wait_until(&mut s, next_deadline).timed_out() {
                    break;
                }
            }
            s.batch_ready = false;
            (
                s.flush_requested,
                s.flush_requested > s.flush_done,
                s.shutdown,
            )
        };
        next_deadline = Instant::now() + delay;

        // Drain. Everything queued when a flush or shutdown was requested is in the first
        // take; after it, keep going only while full batches are waiting (or until empty when
        // shutting down — new spans are refused by then, so this ends).
        'drain: loop {
            let mut batch = queue.take_all(std::mem::take(&mut spare));
            if batch.is_empty() {
                spare = batch;
                break;
            }
            let took = batch.len();
            // The spans taken arrived since the last take: at this rate, would the room left
            // above one batch fill within BURST_FILL?
            let now = Instant::now();
            let since = now.duration_since(last_take);
            last_take = now;
            let room = queue
                .max_queue
                .saturating_sub(queue.max_batch)
                .min(4 * queue.max_batch)
                .max(1) as u128;
            let burst = took as u128 * BURST_FILL.as_nanos() >= room * since.as_nanos();
            // One pass over the taken vector, a chunk at a time, in order, the records staying
            // where they are. (Draining chunks off its front instead would shift the rest down
            // each time: quadratic in the backlog, and most of the worker's time under a
            // burst.) Then the records are dropped in place, the allocation kept.
            for chunk in batch.chunks_mut(queue.max_batch) {
                export_chunk(sink, counters, chunk);
            }
            batch.clear();
            // Keep the allocation for the next swap unless it grew unusually large.
            if batch.capacity() <= queue.max_queue {
                spare = batch;
            }
            if shutting_down || took >= queue.max_batch || queue.len() >= queue.max_batch {
                continue;
            }
            if burst {
                // Producers are running hot. Parking now would make the next wake-up wait for
                // a CPU — milliseconds on a busy machine, while one thread fills the whole
                // queue in well under one. Stay runnable for a bounded moment instead.
                let until = Instant::now() + BURST_SPIN;
                while Instant::now() < until {
                    for _ in 0..64 {
                        if queue.approx_len.load(Relaxed) >= queue.max_batch / 4 {
                            continue 'drain;
                        }
                        std::hint::spin_loop();
                    }
                }
            }
            break;
        }

        // A flush (or shutdown) is done once what it covered has been answered, not merely
        // sent.
        if shutting_down || flushing {
            sink.finish_in_flight();
        }
        let mut s = queue.signal.lock();
        if flush_gen > s.flush_done {
            s.flush_done = flush_gen;
            queue.done.notify_all();
        }
        if shutting_down {
            return;
        }
    }
}

fn export_chunk(sink: &mut dyn BatchSink, counters: &Counters, chunk: Chunk<'_>) {
    let n = chunk.len() as u64;
    match sink.export(chunk) {
        Ok(Exported::Done) => report(counters, n, Ok(())),
        Ok(Exported::InFlight) => {}
        Err(msg) => report(counters, n, Err(msg)),
    }
}

/// Counts the outcome of exporting `n` spans (called by the worker, or by a sink for an
/// export that was in flight).
pub(crate) fn report(counters: &Counters, n: u64, result: Result<(), String>) {
    match result {
        Ok(()) => {
            counters.exported.0.fetch_add(n, Relaxed);
        }
        Err(msg) => {
            counters.export_failures.0.fetch_add(1, Relaxed);
            counters.dropped_export_failed.0.fetch_add(n, Relaxed);
            crate::diag::emit_once(
                crate::diag::Level::Error,
                "export-failed",
                &format!("export of {n} spans failed, they are dropped (further failures are counted in stats, not logged): {msg}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{SpanContext, SpanKind};

    fn record() -> Option<SpanRecord> {
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

    /// Records what the worker hands it: each chunk's span names, in order.
    struct Recorder(Arc<Mutex<Vec<Vec<String>>>>);

    impl BatchSink for Recorder {
        fn export(&mut self, batch: Chunk<'_>) -> Result<Exported, String> {
            let names = batch.iter().map(|r| r.name.to_string()).collect();
            self.0.lock().push(names);
            // A sink may take parts out of the records; the worker drops what is left.
            for r in batch.iter_mut() {
                r.name = std::borrow::Cow::Borrowed("");
            }
            Ok(Exported::Done)
        }
        fn shutdown(&mut self) {}
    }

    #[test]
    fn the_worker_exports_taken_records_in_order_in_chunks_of_the_batch_size() {
        let q = Arc::new(Queue::new(100, 3));
        let counters = Arc::new(Counters::default());
        for k in 0..7 {
            let mut slot = record();
            if let Some(r) = slot.as_mut() {
                r.name = format!("s{k}").into();
            }
            assert!(q.push_from(&mut slot));
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Box::new(Recorder(Arc::clone(&seen)));
        let worker = spawn_worker(
            Arc::clone(&q),
            Arc::clone(&counters),
            Duration::from_secs(60),
            sink,
        )
        .unwrap();
        assert!(q.flush(Duration::from_secs(10)));
        assert_eq!(
            *seen.lock(),
            vec![vec!["s0", "s1", "s2"], vec!["s3", "s4", "s5"], vec!["s6"],]
        );
        assert_eq!(counters.snapshot().spans_exported, 7);
        assert!(q.shutdown(Duration::from_secs(10)));
        worker.join().unwrap();
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
