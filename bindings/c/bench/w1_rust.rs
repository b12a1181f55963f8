//! W1 (start a span, set 3 attributes, end it) in Rust against polytrace-core directly, timed
//! exactly like `bench/w1.c` (same exporter, keys, values and rounds). It also runs the same
//! W1 through the C ABI in this process, in alternating rounds on the same pipeline, so that the
//! ratio does not depend on how loaded the machine was minutes apart: the `extern "C"` functions
//! are called through function pointers hidden from the optimizer, so nothing is inlined across
//! the boundary (an indirect call is if anything a little slower than C's direct call).
//!
//! ```text
//! cargo run --release -p polytrace-ffi --example w1_rust -- [spans-per-round] [rounds]
//! ```
//!
//! Between rounds (untimed) the queue is flushed, so no round drops spans as long as
//! `spans-per-round` is below the queue size (262144).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace::*;
use polytrace_core::config::OptionValue;
use polytrace_core::{Provider, StartOptions};
use std::ffi::c_char;
use std::hint::black_box;
use std::ptr::{null, null_mut};
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

/// The C ABI functions W1 uses, as opaque function pointers.
struct Abi {
    start: unsafe extern "C" fn(
        *const polytrace_tracer_t,
        *const c_char,
        usize,
        *const polytrace_span_options_t,
        *mut *mut polytrace_span_t,
    ) -> *mut polytrace_error_t,
    string: unsafe extern "C" fn(
        *mut polytrace_span_t,
        *const c_char,
        usize,
        *const c_char,
        usize,
    ) -> *mut polytrace_error_t,
    int64: unsafe extern "C" fn(
        *mut polytrace_span_t,
        *const c_char,
        usize,
        i64,
    ) -> *mut polytrace_error_t,
    boolean: unsafe extern "C" fn(
        *mut polytrace_span_t,
        *const c_char,
        usize,
        bool,
    ) -> *mut polytrace_error_t,
    end: unsafe extern "C" fn(*mut polytrace_span_t, u64) -> *mut polytrace_error_t,
    free: unsafe extern "C" fn(*mut polytrace_span_t),
}

fn lit(s: &'static str) -> (*const c_char, usize) {
    (s.as_ptr().cast(), s.len())
}

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2])
}

fn main() {
    // Command line: [spans per round] [rounds].
    let argv: Vec<String> = std::env::args().collect();
    let per_round: u32 = argv.get(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let rounds: usize = argv.get(2).and_then(|a| a.parse().ok()).unwrap_or(7);
    let opt = |k: &str, v: &str| (k.to_string(), OptionValue::Str(v.to_string()));
    let provider = Provider::new(&[
        opt("service_name", "bench"),
        opt("exporter", "none"),
        opt("sampler", "always_on"),
        opt("max_queue_size", "262144"),
    ])
    .unwrap();
    let tracer = provider.tracer("bench", None, None, vec![]);

    // The C ABI loop runs on a C provider with the same options (its own pipeline, with the
    // same kind of queue and export thread).
    let c_opts = [
        ("service_name", "bench"),
        ("exporter", "none"),
        ("sampler", "always_on"),
        ("max_queue_size", "262144"),
    ]
    .map(|(k, v)| polytrace_kv_t {
        key: polytrace_str_t {
            ptr: k.as_ptr().cast(),
            len: k.len(),
        },
        value: polytrace_str_t {
            ptr: v.as_ptr().cast(),
            len: v.len(),
        },
    });
    let mut c_provider = null_mut();
    let mut c_tracer = null_mut();
    // SAFETY: valid arrays and out-pointers.
    unsafe {
        assert!(polytrace_provider_new(c_opts.as_ptr(), c_opts.len(), &mut c_provider).is_null());
        let (n, l) = lit("bench");
        assert!(polytrace_tracer_new(c_provider, n, l, null(), 0, &mut c_tracer).is_null());
    }
    let abi = black_box(Abi {
        start: polytrace_span_start,
        string: polytrace_span_set_attribute_string,
        int64: polytrace_span_set_attribute_int64,
        boolean: polytrace_span_set_attribute_bool,
        end: polytrace_span_end,
        free: polytrace_span_free,
    });

    let (mut rust, mut c) = (Vec::new(), Vec::new());
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
        provider.force_flush(Duration::from_secs(30)).unwrap();
        if round > 0 {
            rust.push(per);
        }

        let (name, name_len) = lit("op");
        let (k1, l1) = lit("http.method");
        let (v1, vl1) = lit("GET");
        let (k2, l2) = lit("http.status_code");
        let (k3, l3) = lit("cache.hit");
        let t0 = thread_cpu_ns();
        for _ in 0..per_round {
            // SAFETY: valid handles and strings; every error would be a bug in the benchmark.
            unsafe {
                let mut s = null_mut();
                let mut err = (abi.start)(c_tracer, name, name_len, null(), &mut s);
                err = err.max((abi.string)(s, k1, l1, v1, vl1));
                err = err.max((abi.int64)(s, k2, l2, 200));
                err = err.max((abi.boolean)(s, k3, l3, true));
                err = err.max((abi.end)(s, 0));
                (abi.free)(s);
                assert!(err.is_null());
            }
        }
        let per = (thread_cpu_ns() - t0) / f64::from(per_round);
        // SAFETY: a valid provider.
        let flushed = unsafe { polytrace_provider_force_flush(c_provider, 30_000) };
        assert!(flushed.is_null());
        if round > 0 {
            c.push(per);
        }
    }
    let dropped = provider.stats().spans_dropped;
    let mut c_stats = std::mem::MaybeUninit::<polytrace_stats_t>::uninit();
    // SAFETY: a valid provider and out-pointer.
    let c_dropped = unsafe {
        assert!(polytrace_provider_stats(c_provider, c_stats.as_mut_ptr()).is_null());
        c_stats.assume_init().spans_dropped
    };
    // Each C round ran right after its Rust round: the median of the per-round ratios is the
    // least sensitive to the load changing during the run.
    let (_, ratio) = median(rust.iter().zip(&c).map(|(r, c)| c / r).collect());
    let (rust_best, rust_median) = median(rust);
    let (c_best, c_median) = median(c);
    println!(
        "w1 rust:  best {rust_best:.1} ns/span, median {rust_median:.1} ns/span thread CPU \
         ({rounds} rounds of {per_round}, {dropped} dropped)"
    );
    println!(
        "w1 c_abi in the same process: best {c_best:.1} ns/span, median {c_median:.1} ns/span \
         ({c_dropped} dropped); C/Rust: median of per-round ratios {ratio:.2}x, ratio of \
         medians {:.2}x",
        c_median / rust_median
    );
    let _ = provider.shutdown(Duration::from_secs(5));
    // SAFETY: valid handles, freed once.
    unsafe {
        let _ = polytrace_provider_shutdown(c_provider, 5000);
        polytrace_tracer_free(c_tracer);
        polytrace_provider_free(c_provider);
    }
}
