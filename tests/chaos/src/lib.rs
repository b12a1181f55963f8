//! Helpers for the fault tests in `tests/`: each scenario is its own test binary (so one
//! process measures one scenario's memory), bounded in time, talking only to loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_core::config::{Config, OptionValue};
use polytrace_core::{Provider, StartOptions, Tracer};
use polytrace_receiver::{Receiver, ReceiverConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The process's resident set size in KiB (`VmRSS`).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A configuration from options (the environment is ignored: the options cover everything the
/// tests depend on).
pub fn config(options: &[(&str, OptionValue)]) -> Config {
    let owned: Vec<(String, OptionValue)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Config::resolve(&owned, &|_| None).unwrap().0
}

pub fn s(v: &str) -> OptionValue {
    OptionValue::Str(v.into())
}

pub fn i(v: i64) -> OptionValue {
    OptionValue::Int(v)
}

/// A free loopback port with nothing listening (connections are refused).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// An OTLP/HTTP receiver on `addr` (restartable on the same address).
pub fn receiver_at(addr: SocketAddr) -> Receiver {
    let cfg = ReceiverConfig {
        http_addr: Some(addr),
        ..ReceiverConfig::http().count_only()
    };
    // The port was just freed by a stopped receiver: retry briefly while the kernel lets go.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Receiver::start(cfg.clone()) {
            Ok(r) => return r,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot start the receiver on {addr}: {e}"),
        }
    }
}

/// A provider exporting OTLP/HTTP protobuf to `addr`, with `extra` options.
pub fn provider(addr: SocketAddr, extra: &[(&str, OptionValue)]) -> Provider {
    let mut opts = vec![
        ("exporter", s("otlp")),
        ("protocol", s("http/protobuf")),
        ("service_name", s("chaos")),
        ("endpoint", s(&format!("http://{addr}"))),
    ];
    opts.extend(extra.iter().cloned());
    Provider::from_config(config(&opts)).unwrap()
}

/// One span as instrumented code makes it: a few attributes, an event.
pub fn span(t: &Tracer, k: u64) {
    let mut sp = t.start_span("chaos-op", StartOptions::default());
    sp.set_attribute("http.request.method", "GET");
    sp.set_attribute("url.path", "/orders/12345");
    sp.set_attribute("chaos.k", k as i64);
    sp.end(None);
}

/// Ends spans at `per_sec` for `how_long` from one thread; returns how many.
pub fn steady_load(t: &Tracer, per_sec: u64, how_long: Duration) -> u64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < how_long {
        let due = (start.elapsed().as_secs_f64() * per_sec as f64) as u64;
        while n < due {
            span(t, n);
            n += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    n
}

/// The p-th percentile (0..=100) of `samples`, in nanoseconds.
pub fn percentile(samples: &mut [u64], p: f64) -> u64 {
    samples.sort_unstable();
    let idx = ((samples.len() - 1) as f64 * p / 100.0).round() as usize;
    samples[idx]
}
