//! Finished spans from Java: batches in the core's finished-span format
//! (`docs/finished-spans.md`), decoded by `polytrace_core::finished::Decoder` on a thread of
//! their own.
//!
//! Java writes spans into a few byte streams (one per stripe of threads, so threads rarely
//! share one); each stream numbers its strings on its own, so each has its own decoder. A
//! batch is copied at `submit` and queued; the decoder thread records its spans in the core
//! (limits, dropped counts, status rules: all the core's). The queue is bounded, so memory
//! is too: a producer faster than the decoder waits for CPU, never for export.

use parking_lot::RwLock;
use polytrace_core::finished::Decoder;
use polytrace_core::{Provider, Tracer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

/// Batches waiting for the decoder thread, at most (each a few tens of KiB).
const QUEUE: usize = 16;

enum Msg {
    /// One batch of a stream.
    Batch(usize, Vec<u8>),
    /// Answered once every earlier batch is recorded.
    Barrier(SyncSender<()>),
}

/// The decoder thread's state: one decoder per stream.
struct Decoding {
    provider: Provider,
    tracers: Arc<RwLock<Vec<Tracer>>>,
    decoders: Vec<Decoder>,
    resets: Arc<[AtomicBool]>,
}

impl Decoding {
    /// Records one batch. A batch the decoder cannot read (a bug) is counted as dropped by the
    /// decoder, which then ignores the stream's batches until a fresh one: the stream is told
    /// to number its strings again. Never panics.
    fn record(&mut self, stream: usize, bytes: &[u8]) {
        let Some(decoder) = self.decoders.get_mut(stream) else {
            return;
        };
        let (provider, tracers) = (&self.provider, &self.tracers);
        let r =
            polytrace_core::guard(|| decoder.submit(provider, &tracers.read(), bytes).map(|_| ()));
        if let Err(e) = r {
            if let Some(flag) = self.resets.get(stream) {
                flag.store(true, Ordering::Relaxed);
            }
            polytrace_core::diag::emit_once(
                polytrace_core::diag::Level::Error,
                "java-batch",
                &format!("a batch of spans could not be read and was dropped: {e}"),
            );
        }
    }
}

/// A provider's streams and their decoder thread.
pub struct Batches {
    /// The decoder thread's queue; `None` when the thread could not be started (batches are
    /// then recorded on the calling thread).
    tx: Option<SyncSender<Msg>>,
    /// Used inline when there is no thread.
    inline: Option<parking_lot::Mutex<Decoding>>,
    /// Set per stream when its string numbering must start again.
    resets: Arc<[AtomicBool]>,
}

impl Batches {
    /// `streams` streams recording into `provider`'s tracers.
    pub fn new(provider: Provider, tracers: Arc<RwLock<Vec<Tracer>>>, streams: usize) -> Self {
        let resets: Arc<[AtomicBool]> = (0..streams).map(|_| AtomicBool::new(false)).collect();
        let mut decoding = Decoding {
            provider,
            tracers,
            decoders: (0..streams).map(|_| Decoder::new()).collect(),
            resets: resets.clone(),
        };
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let (ready_tx, ready_rx) = sync_channel::<Decoding>(1);
        let spawned = std::thread::Builder::new()
            .name("polytrace-java".into())
            .spawn(move || {
                let Ok(mut d) = ready_rx.recv() else { return };
                // Ends when the provider handle is freed (the sender drops).
                for msg in rx {
                    match msg {
                        Msg::Batch(stream, bytes) => d.record(stream, &bytes),
                        Msg::Barrier(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        match spawned {
            Ok(_) => {
                if let Err(e) = ready_tx.send(decoding) {
                    decoding = e.0;
                    return Batches::inline(decoding, resets);
                }
                Batches {
                    tx: Some(tx),
                    inline: None,
                    resets,
                }
            }
            Err(_) => Batches::inline(decoding, resets),
        }
    }

    fn inline(decoding: Decoding, resets: Arc<[AtomicBool]>) -> Self {
        Batches {
            tx: None,
            inline: Some(parking_lot::Mutex::new(decoding)),
            resets,
        }
    }

    /// Hands over one batch of `stream`. Returns true when the stream must number its strings
    /// afresh (and mark its next batch `fresh`).
    pub fn submit(&self, stream: usize, bytes: &[u8]) -> bool {
        match (&self.tx, &self.inline) {
            (Some(tx), _) => {
                // The thread lives as long as the sender: a send cannot fail.
                let _ = tx.send(Msg::Batch(stream, bytes.to_vec()));
            }
            (None, Some(d)) => d.lock().record(stream, bytes),
            (None, None) => {}
        }
        self.resets
            .get(stream)
            .is_some_and(|f| f.swap(false, Ordering::Relaxed))
    }

    /// Waits until every batch handed over so far is recorded.
    pub fn drain(&self) {
        if let Some(tx) = &self.tx {
            let (done_tx, done_rx) = sync_channel(1);
            if tx.send(Msg::Barrier(done_tx)).is_ok() {
                let _ = done_rx.recv();
            }
        }
    }
}
