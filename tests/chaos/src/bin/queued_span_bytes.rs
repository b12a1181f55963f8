//! Measures the memory one queued span costs (`docs/reliability.md`): 50,000 spans of the
//! chaos tests' shape held in a queue that is never drained (a schedule delay of a minute, a
//! batch as large as the queue); prints `BYTES_PER_SPAN n` (RSS growth / spans). Run in its own
//! process by `tests/backend_down.rs`, so no other test's memory is counted or reused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_chaos::*;
use std::time::Duration;

const SPANS: i64 = 50_000;

fn main() {
    let p = provider(
        free_addr(),
        &[
            ("max_queue_size", i(SPANS + 1)),
            ("max_export_batch_size", i(SPANS + 1)),
            ("schedule_delay", i(60_000)),
        ],
    );
    let t = p.tracer("calibrate", None, None, vec![]);
    span(&t, 0);
    let before = rss_kib();
    for k in 0..SPANS as u64 {
        span(&t, k);
    }
    let after = rss_kib();
    let st = p.stats();
    assert_eq!(st.spans_dropped, 0, "{st:?}");
    println!("BYTES_PER_SPAN {}", (after - before) * 1024 / SPANS as u64);
    // At once: the queued spans are dropped (a Timeout: the deadline cut them).
    let _ = p.shutdown(Duration::ZERO);
}
