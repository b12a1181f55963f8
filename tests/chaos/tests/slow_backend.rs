//! A slow back end (answers later than the export timeout): the hot path's latency does not
//! change, and exports time out as configured, counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_chaos::*;
use polytrace_core::{StartOptions, Tracer};
use polytrace_receiver::{Receiver, ReceiverConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Start-to-end latency of `n` spans, ns each, produced at `per_sec`.
fn latencies(t: &Tracer, n: usize, per_sec: u64) -> Vec<u64> {
    let mut out = Vec::with_capacity(n);
    let start = Instant::now();
    for k in 0..n {
        let due = start + Duration::from_secs_f64(k as f64 / per_sec as f64);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let t0 = Instant::now();
        let mut sp = t.start_span("op", StartOptions::default());
        sp.set_attribute("k", k as i64);
        sp.end(None);
        out.push(t0.elapsed().as_nanos() as u64);
    }
    out
}

fn run(r: &Receiver) -> (u64, u64, polytrace_core::Stats, Duration) {
    let addr = r.http_addr().unwrap();
    let p = provider(
        addr,
        &[
            ("schedule_delay", i(20)),
            ("max_queue_size", i(30_000)),
            ("timeout", i(300)),
            ("export_timeout", i(300)),
        ],
    );
    let t = p.tracer("slow", None, None, vec![]);
    latencies(&t, 2_000, 20_000); // warm up
    let mut lat = latencies(&t, 10_000, 20_000);
    let (p50, p99) = (percentile(&mut lat, 50.0), percentile(&mut lat, 99.0));
    let start = Instant::now();
    let flushed = p.force_flush(Duration::from_secs(20));
    let flush = start.elapsed();
    flushed.unwrap();
    p.shutdown(Duration::from_millis(500)).unwrap();
    (p50, p99, p.stats(), flush)
}

#[test]
fn slow_backend_leaves_the_hot_path_alone() {
    let healthy = Receiver::start(ReceiverConfig::http().count_only()).unwrap();
    let (h50, h99, hst, _) = run(&healthy);
    healthy.shutdown();

    // Every request is answered after 2 s (the hook runs before the answer; it needs a
    // receiver that decodes requests, not a counting one); the exporter gives up after 300 ms.
    let slow = Receiver::start(ReceiverConfig {
        on_request: Some(Arc::new(|_| std::thread::sleep(Duration::from_secs(2)))),
        keep_requests: false,
        ..ReceiverConfig::http()
    })
    .unwrap();
    let (s50, s99, sst, flush) = run(&slow);
    slow.shutdown();
    println!(
        "span start+end: healthy p50 {h50} ns p99 {h99} ns; slow back end p50 {s50} ns p99 {s99} ns; \
         flush against the slow back end {flush:?}; healthy {hst:?}; slow {sst:?}"
    );
    assert_eq!(hst.spans_exported, hst.spans_ended, "{hst:?}");
    // The exports timed out as configured, and were counted.
    assert!(sst.export_failures > 0, "{sst:?}");
    assert!(sst.dropped_export_failed > 0, "{sst:?}");
    assert_eq!(
        sst.spans_exported + sst.spans_dropped,
        sst.spans_ended,
        "{sst:?}"
    );
    // Each request gave up at its 300 ms timeout (two in flight at a time), instead of waiting
    // the back end's 2 s: the flush of the backlog took about requests / 2 × 300 ms.
    let per_request = flush / sst.export_failures.div_ceil(2).max(1) as u32;
    assert!(
        per_request < Duration::from_millis(600),
        "{per_request:?} per request: the exports did not time out at 300 ms"
    );
    // The hot path: same median (a loaded 2-core machine is noisy: within 2× and 2 µs).
    assert!(
        s50 <= 2 * h50 + 2_000,
        "p50 {s50} ns with a slow back end vs {h50} ns"
    );
}
