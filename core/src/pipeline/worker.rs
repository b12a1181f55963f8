//! The batch worker: one thread per pipeline that takes what producers queued and hands it to
//! the export sink in chunks of `max_export_batch_size`, on the schedule delay, on a full batch,
//! on flush and at shutdown.

use super::queue::Queue;
use crate::export::{BatchSink, Chunk, Exported};
use crate::stats::Counters;
use crate::trace::record::SpanRecord;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
            crate::export::quiet_sigpipe();
            run(&queue, &counters, schedule_delay, sink.as_mut());
            // Stop the exporter (and its runtime, bounded) before saying we are done, so a
            // caller of shutdown() that returns Ok has nothing of ours still running.
            sink.shutdown();
            drop(sink);
            let cut = queue.drain.was_cut();
            let mut s = queue.signal.lock();
            s.cut_at_deadline = cut;
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
            // At shutdown the take closes the queue: a span ending later is refused and
            // counted by the producer, never left here uncounted.
            let mut batch = queue.take_all(std::mem::take(&mut spare), shutting_down);
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
                if shutting_down && queue.drain.expired() {
                    // The shutdown's deadline passed: what was not sent is dropped, counted.
                    queue.drain.cut();
                    drop_at_deadline(counters, chunk.len() as u64);
                } else {
                    export_chunk(sink, counters, chunk);
                }
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

fn drop_at_deadline(counters: &Counters, n: u64) {
    counters.dropped_shutdown.0.fetch_add(n, Relaxed);
    crate::diag::emit_once(
        crate::diag::Level::Error,
        "shutdown-deadline",
        &format!(
            "{n} spans were still queued when the shutdown's deadline passed; they are dropped (counted in stats().dropped_shutdown)"
        ),
    );
}

fn export_chunk(sink: &mut dyn BatchSink, counters: &Counters, chunk: Chunk<'_>) {
    let n = chunk.len() as u64;
    match sink.export(chunk) {
        Ok(Exported::Done) => counters.report_export(n, Ok(())),
        Ok(Exported::InFlight) => {}
        Err(msg) => counters.report_export(n, Err(msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::queue::tests::record;
    use super::*;
    use parking_lot::Mutex;

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
        let q = Arc::new(super::super::queue::tests::queue(100, 3));
        let counters = Arc::new(Counters::default());
        for k in 0..7 {
            let mut slot = record();
            if let Some(r) = slot.as_mut() {
                r.name = format!("s{k}").into();
            }
            assert_eq!(q.push_from(&mut slot), super::super::queue::Pushed::Queued);
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
        assert_eq!(
            q.shutdown(Duration::from_secs(10)),
            super::super::queue::Stopped::InTime
        );
        worker.join().unwrap();
    }
}
