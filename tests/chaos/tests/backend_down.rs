//! The back end is down for a sustained period under steady load: memory stays under the
//! documented bound (what the pipeline may hold × the measured bytes per queued span + a
//! constant), every span that is not exported is counted as dropped, nothing blocks the
//! producer, and export resumes by itself when the back end returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_chaos::*;
use std::time::{Duration, Instant};

const QUEUE: i64 = 2048;
const BATCH: i64 = 512;
/// Requests the OTLP exporter keeps in flight (`otlp::MAX_IN_FLIGHT`).
const IN_FLIGHT: i64 = 2;
/// Everything besides the spans: the exporter's runtime and connections, encoded requests,
/// allocator slack.
const CONSTANT_KIB: u64 = 8 * 1024;

/// The bytes one queued span costs, measured in a fresh process (`src/bin/queued_span_bytes.rs`).
fn measured_bytes_per_span() -> u64 {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_queued_span_bytes"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let per_span: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("BYTES_PER_SPAN "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no measurement in {text}"));
    // A record is a few hundred bytes plus its attributes; anything far outside that means the
    // measurement is broken.
    assert!((100..8192).contains(&per_span), "{per_span} bytes per span");
    per_span
}

#[test]
fn backend_down_under_steady_load() {
    let per_span = measured_bytes_per_span();
    let addr = free_addr();
    let p = provider(
        addr,
        &[
            ("max_queue_size", i(QUEUE)),
            ("max_export_batch_size", i(BATCH)),
            ("schedule_delay", i(100)),
            ("timeout", i(500)),
            ("export_timeout", i(1_000)),
        ],
    );
    let t = p.tracer("chaos", None, None, vec![]);
    // Warm up: the exporter's runtime and client exist, one failure has been seen.
    steady_load(&t, 2_000, Duration::from_millis(300));
    let baseline = rss_kib();

    // 4 s down at 25,000 spans/s: 100,000 spans, about 50 times the queue.
    let sampler = {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let h = std::thread::spawn(move || {
            let mut peak = 0;
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib());
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        (stop, h)
    };
    let start = Instant::now();
    let produced = steady_load(&t, 25_000, Duration::from_secs(4));
    let took = start.elapsed();
    sampler.0.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.1.join().unwrap();
    // The producer was never held up by the dead back end.
    assert!(
        took < Duration::from_millis(4_500),
        "producing took {took:?}"
    );

    // Held at most: the queue, the worker's taken swap, the requests in flight.
    let held = (2 * QUEUE + IN_FLIGHT * BATCH) as u64;
    let bound = held * per_span / 1024 + CONSTANT_KIB;
    let grew = peak.saturating_sub(baseline);
    let unbounded = produced * per_span / 1024;
    println!(
        "down 4 s, {produced} spans: RSS +{grew} KiB (peak {peak} KiB), bound {bound} KiB \
         ({held} spans × {per_span} B + {CONSTANT_KIB} KiB); unbounded would be {unbounded} KiB"
    );
    assert!(grew <= bound, "RSS grew {grew} KiB, bound {bound} KiB");
    assert!(unbounded > 2 * bound, "the load is too small to tell");
    let st = p.stats();
    assert!(st.dropped_queue_full > 0, "{st:?}");
    assert_eq!(st.spans_exported, 0, "{st:?}");
    let pending = st.spans_ended - st.spans_exported - st.spans_dropped;
    assert!(pending <= held, "{pending} spans unaccounted for: {st:?}");

    // The back end returns: export resumes by itself (no flush), at the schedule delay.
    let r = receiver_at(addr);
    let after = steady_load(&t, 2_000, Duration::from_secs(1));
    assert!(
        r.wait_for_spans(after, Duration::from_secs(15)),
        "export did not resume: {} of {after} spans arrived; {:?}",
        r.span_count(),
        p.stats()
    );
    p.shutdown(Duration::from_secs(10)).unwrap();
    let st = p.stats();
    assert_eq!(
        st.spans_exported + st.spans_dropped,
        st.spans_ended,
        "{st:?}"
    );
    // At least once: a request whose answer was lost may arrive twice.
    assert!(r.span_count() >= st.spans_exported, "{st:?}");
    println!("after the outage: {st:?}");
    r.shutdown();
}
