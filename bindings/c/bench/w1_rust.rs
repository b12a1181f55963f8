//! W1 in Rust against polytrace-core directly, timed exactly like `bench/w1.c` (same exporter,
//! same rounds), so the C ABI's overhead can be read off two numbers taken minutes apart on the
//! same machine:
//!
//! ```text
//! cargo run --release -p polytrace-ffi --example w1_rust -- [spans-per-round] [rounds]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_core::config::OptionValue;
use polytrace_core::{Provider, StartOptions};
use std::time::Duration;

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// CPU time of this thread in ns (Linux `CLOCK_THREAD_CPUTIME_ID`), as `w1.c` measures.
fn thread_cpu_ns() -> f64 {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid out-pointer; clock 3 is CLOCK_THREAD_CPUTIME_ID on Linux.
    unsafe { clock_gettime(3, &mut ts) };
    ts.sec as f64 * 1e9 + ts.nsec as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let per_round: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let opt = |k: &str, v: &str| (k.to_string(), OptionValue::Str(v.to_string()));
    let provider = Provider::new(&[
        opt("service_name", "bench"),
        opt("exporter", "none"),
        opt("sampler", "always_on"),
        opt("max_queue_size", "262144"),
    ])
    .unwrap();
    let tracer = provider.tracer("bench", None, None, vec![]);
    let mut results = Vec::new();
    for round in 0..=rounds {
        let t0 = thread_cpu_ns();
        for _ in 0..per_round {
            let mut s = tracer.start_span("op", StartOptions::default());
            s.set_attribute("http.method", "GET");
            s.set_attribute("http.status_code", 200i64);
            s.set_attribute("cache.hit", true);
            s.end(None);
        }
        let per = (thread_cpu_ns() - t0) / f64::from(per_round);
        if round > 0 {
            results.push(per);
        }
    }
    results.sort_by(f64::total_cmp);
    println!(
        "w1 rust:  best {:.1} ns/span, median {:.1} ns/span thread CPU ({rounds} rounds of {per_round}, {} dropped)",
        results[0],
        results[results.len() / 2],
        provider.stats().spans_dropped
    );
    let _ = provider.shutdown(Duration::from_secs(5));
}
