//! The back end restarts repeatedly while the load stays below the drain rate and within the
//! queue: every span is exported (retried across the restarts), none dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_chaos::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn backend_restarting_loses_nothing() {
    let addr = free_addr();
    let first = receiver_at(addr);
    let p = provider(
        addr,
        &[
            ("max_queue_size", i(20_000)),
            ("schedule_delay", i(50)),
            ("timeout", i(1_000)),
            ("export_timeout", i(30_000)),
        ],
    );
    let t = p.tracer("chaos", None, None, vec![]);
    // The receivers, each counting what it took; restarted 6 times: up 400 ms, down 250 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let flapper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut received = 0;
            let mut current = Some(first);
            for _ in 0..6 {
                std::thread::sleep(Duration::from_millis(400));
                if let Some(mut r) = current.take() {
                    // Stopped first: a request in flight is answered (and so counted as
                    // exported) during the stop, and must be counted here too.
                    r.stop();
                    received += r.span_count();
                }
                std::thread::sleep(Duration::from_millis(250));
                current = Some(receiver_at(addr));
            }
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
            (received, current.unwrap())
        })
    };
    // 3,000 spans/s for 4 s: 12,000 spans, well under the queue and the drain rate.
    let ended = steady_load(&t, 3_000, Duration::from_secs(4));
    p.force_flush(Duration::from_secs(30)).unwrap();
    stop.store(true, Ordering::Relaxed);
    let (earlier, last) = flapper.join().unwrap();
    p.shutdown(Duration::from_secs(10)).unwrap();
    let st = p.stats();
    let received = earlier + last.span_count();
    println!("ended {ended}, received {received} over 7 receivers: {st:?}");
    assert_eq!(st.spans_ended, ended, "{st:?}");
    assert_eq!(st.spans_dropped, 0, "{st:?}");
    assert_eq!(st.spans_exported, ended, "{st:?}");
    // At least once: a request whose answer was lost in a restart is sent again.
    assert!(received >= ended, "{received} of {ended} arrived");
    last.shutdown();
}
