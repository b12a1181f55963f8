//! A paced producer of root spans, for watching a sampler work: each operation gets its own
//! rate, and every window the program prints, per operation, how many spans it started and how
//! many of them the core sampled, with the core's `stats()`. Configured like any program by
//! the `OTEL_*` variables (sampler, exporter, service name); the remote-sampling end-to-end
//! test (`tests/e2e/test_remote_sampling.py`) runs it against a real Jaeger.
//!
//! ```text
//! OTEL_TRACES_SAMPLER=parentbased_jaeger_remote \
//! OTEL_TRACES_SAMPLER_ARG=endpoint=http://127.0.0.1:5778/sampling,pollingIntervalMs=1000 \
//! cargo run -p polytrace-core --example sampling_load -- --op busy=1000 --op quiet=5 --seconds 30
//! ```
//!
//! Output, one JSON object per line: `{"t": <seconds since start>, "unix": <wall clock>,
//! "ops": {"<op>":
//! {"started": n, "sampled": k}}, "stats": {...}}` per window (`--window-ms`, default 1000),
//! then `{"done": true, "ops": {...totals...}, "stats": {...}}` after the final flush.

use polytrace_core::{Provider, SpanKind, StartOptions};
use std::time::{Duration, Instant};

struct Op {
    name: String,
    rate: f64,
    made: u64,
    window: (u64, u64),
    total: (u64, u64),
}

fn usage() -> ! {
    eprintln!("usage: sampling_load --op NAME=RATE [--op ...] [--seconds S] [--window-ms MS]");
    std::process::exit(2)
}

fn counts(ops: &[Op], pick: impl Fn(&Op) -> (u64, u64)) -> String {
    let parts: Vec<String> = ops
        .iter()
        .map(|o| {
            let (started, sampled) = pick(o);
            format!(
                "\"{}\":{{\"started\":{started},\"sampled\":{sampled}}}",
                o.name
            )
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn stats(p: &Provider) -> String {
    let parts: Vec<String> = p
        .stats()
        .to_pairs()
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut ops: Vec<Op> = Vec::new();
    let mut seconds = 10.0_f64;
    let mut window = Duration::from_millis(1000);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--op" => {
                let (name, rate) = v.split_once('=').unwrap_or_else(|| usage());
                let rate: f64 = rate.parse().unwrap_or_else(|_| usage());
                ops.push(Op {
                    name: name.to_string(),
                    rate,
                    made: 0,
                    window: (0, 0),
                    total: (0, 0),
                });
            }
            "--seconds" => seconds = v.parse().unwrap_or_else(|_| usage()),
            "--window-ms" => window = Duration::from_millis(v.parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    if ops.is_empty() {
        usage();
    }
    let provider = Provider::new(&[])?;
    let tracer = provider.tracer("polytrace.sampling_load", None, None, vec![]);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut next_report = start + window;
    loop {
        let now = Instant::now();
        let elapsed = now.duration_since(start).as_secs_f64();
        for op in &mut ops {
            // Catch up to the rate: coarse sleeps, exact counts.
            let due = (op.rate * elapsed) as u64;
            while op.made < due {
                let mut span = tracer.start_span(
                    op.name.clone(),
                    StartOptions {
                        kind: SpanKind::Server,
                        ..Default::default()
                    },
                );
                let sampled = span.span_context().is_sampled();
                span.end(None);
                op.made += 1;
                op.window.0 += 1;
                op.window.1 += u64::from(sampled);
                op.total.0 += 1;
                op.total.1 += u64::from(sampled);
            }
        }
        if now >= next_report {
            let unix = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            println!(
                "{{\"t\":{:.3},\"unix\":{unix:.3},\"ops\":{},\"stats\":{}}}",
                elapsed,
                counts(&ops, |o| o.window),
                stats(&provider)
            );
            for op in &mut ops {
                op.window = (0, 0);
            }
            next_report += window;
        }
        if now >= end {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    provider.force_flush(Duration::from_secs(10))?;
    println!(
        "{{\"done\":true,\"ops\":{},\"stats\":{}}}",
        counts(&ops, |o| o.total),
        stats(&provider)
    );
    provider.shutdown(Duration::from_secs(10))?;
    Ok(())
}
