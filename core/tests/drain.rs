//! The batch queue drains faster than one busy thread produces: with a back end that takes
//! everything at once, a tight loop of spans at the default queue size (2048) loses nothing.
//!
//! This test is alone in its binary so no other test competes for the two cores. A run can
//! still lose spans if the operating system preempts the export thread for milliseconds
//! (2048 spans last ~0.4 ms at full speed), so the burst is tried up to ten times; a queue
//! that drained slower than production would drop in every attempt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, i, Discard};
use polytrace_core::{Provider, StartOptions};
use std::sync::atomic::Ordering;
use std::time::Duration;

#[test]
fn a_busy_producer_loses_nothing_with_a_fast_back_end() {
    let n = 200_000u64;
    let mut attempts = Vec::new();
    for _ in 0..10 {
        let sink = Discard::default();
        let p =
            Provider::with_exporter(config(&[("schedule_delay", i(5000))]), sink.clone()).unwrap();
        let t = p.tracer("lib", None, None, vec![]);
        for k in 0..n {
            let mut sp = t.start_span("busy", StartOptions::default());
            sp.set_attribute("k", k as i64);
            sp.end(None);
        }
        p.force_flush(Duration::from_secs(30)).unwrap();
        let st = p.stats();
        assert_eq!(st.spans_exported + st.spans_dropped, n, "{st:?}");
        assert_eq!(sink.spans.load(Ordering::Relaxed), st.spans_exported);
        if st.spans_dropped == 0 {
            return;
        }
        attempts.push(st.spans_dropped);
    }
    panic!("every attempt dropped spans: {attempts:?} of {n}");
}
