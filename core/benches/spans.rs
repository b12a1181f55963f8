//! Span hot-path benchmarks: polytrace side by side with the raw `opentelemetry_sdk` doing the
//! same work in the same run (both with a batch processor and a discarding exporter).
//!
//! Every workload runs twice: once timed by the wall clock (criterion's default) and once by
//! the calling thread's CPU clock (`<group>/cpu/...`). The CPU time is what one span costs the
//! application thread, including the cache misses the export thread causes it, but not the
//! time it spent preempted: on a shared, loaded machine it is far steadier than wall time.
//!
//! ```text
//! cargo bench -p polytrace-core --bench spans
//! ```

#![allow(clippy::panic)]

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use polytrace_core::config::{Config, OptionValue};
use polytrace_core::{FinishedSpan, Provider, SpanKind, StartOptions, Value};
use std::collections::HashMap;
use std::hint::black_box;

/// Criterion measurement: CPU time of the benchmarking thread
/// (`CLOCK_THREAD_CPUTIME_ID`), in nanoseconds.
struct ThreadCpu;

fn thread_cpu_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        panic!("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_nanos().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Formats [`ThreadCpu`] values: nanoseconds, scaled like criterion's wall-time formatter.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if ns < 1e3 {
            (1.0, "ns cpu")
        } else if ns < 1e6 {
            (1e-3, "µs cpu")
        } else {
            (1e-6, "ms cpu")
        };
        for v in values {
            *v *= factor;
        }
        unit
    }
    fn scale_throughputs(&self, _ns: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per = match *t {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => n,
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => n,
            Throughput::Bits(n) => n,
        } as f64;
        for v in values {
            *v = per * 1e9 / *v;
        }
        "/s cpu"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

#[derive(Debug, Clone, Default)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

fn polytrace() -> Provider {
    let opts = vec![("service_name".to_string(), OptionValue::Str("bench".into()))];
    let (config, _) = Config::resolve(&opts, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    Provider::with_exporter(config, Discard).unwrap_or_else(|e| panic!("{e}"))
}

fn raw_sdk() -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build()
}

fn w1_span_3_attributes<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group(group("span_start_3_attrs_end", c));
    let p = polytrace();
    let t = p.tracer("bench", None, None, vec![]);
    g.bench_function("polytrace", |b| {
        b.iter(|| {
            let mut s = t.start_span("op", StartOptions::default());
            s.set_attribute("http.method", "GET");
            s.set_attribute("http.status_code", 200i64);
            s.set_attribute("cache.hit", true);
            s.end(None);
        })
    });
    let raw = raw_sdk();
    let rt = raw.tracer("bench");
    g.bench_function("opentelemetry_sdk", |b| {
        b.iter(|| {
            let mut s = rt.start("op");
            s.set_attribute(KeyValue::new("http.method", "GET"));
            s.set_attribute(KeyValue::new("http.status_code", 200i64));
            s.set_attribute(KeyValue::new("cache.hit", true));
            s.end();
        })
    });
    g.finish();
}

fn nested<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group(group("parent_child", c));
    let p = polytrace();
    let t = p.tracer("bench", None, None, vec![]);
    g.bench_function("polytrace", |b| {
        b.iter(|| {
            let mut root = t.start_span("root", StartOptions::default());
            let mut child = t.start_span(
                "child",
                StartOptions {
                    parent: Some(root.span_context()),
                    ..Default::default()
                },
            );
            child.end(None);
            root.end(None);
        })
    });
    let raw = raw_sdk();
    let rt = raw.tracer("bench");
    g.bench_function("opentelemetry_sdk", |b| {
        b.iter(|| {
            let root = rt.start("root");
            let cx = Context::new().with_span(root);
            let mut child = rt.start_with_context("child", &cx);
            child.end();
            cx.span().end();
        })
    });
    g.finish();
}

fn one_call<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group(group("finished_span_one_call", c));
    let p = polytrace();
    let t = p.tracer("bench", None, None, vec![]);
    g.bench_function("polytrace_record_span", |b| {
        b.iter(|| {
            let now = polytrace_core::now_unix_nanos();
            t.record_span(FinishedSpan {
                name: "op".into(),
                kind: SpanKind::Client,
                start_time: now,
                end_time: now + 1000,
                attributes: vec![
                    ("http.method".into(), Value::from("GET")),
                    ("http.status_code".into(), Value::Int(200)),
                    ("cache.hit".into(), Value::Bool(true)),
                ],
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    let raw = raw_sdk();
    let rt = raw.tracer("bench");
    g.bench_function("opentelemetry_sdk_builder", |b| {
        b.iter(|| {
            let now = std::time::SystemTime::now();
            let mut s = rt
                .span_builder("op")
                .with_kind(opentelemetry::trace::SpanKind::Client)
                .with_start_time(now)
                .with_attributes([
                    KeyValue::new("http.method", "GET"),
                    KeyValue::new("http.status_code", 200i64),
                    KeyValue::new("cache.hit", true),
                ])
                .start(&rt);
            s.end_with_timestamp(now + std::time::Duration::from_micros(1));
        })
    });
    g.finish();
}

fn inject_extract<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group(group("inject_extract", c));
    let p = polytrace();
    let t = p.tracer("bench", None, None, vec![]);
    let span = t.start_span("op", StartOptions::default());
    let ctx = span.span_context().clone();
    let baggage = Default::default();
    g.bench_function("polytrace", |b| {
        b.iter(|| {
            let mut carrier: Vec<(&'static str, String)> = Vec::with_capacity(2);
            p.inject(Some(&ctx), &baggage, &mut |k, v| carrier.push((k, v)));
            black_box(p.extract(&carrier))
        })
    });
    let raw = raw_sdk();
    let rt = raw.tracer("bench");
    let cx = Context::new().with_span(rt.start("op"));
    let prop = TraceContextPropagator::new();
    g.bench_function("opentelemetry_sdk", |b| {
        b.iter(|| {
            let mut carrier: HashMap<String, String> = HashMap::with_capacity(2);
            prop.inject_context(&cx, &mut carrier);
            black_box(prop.extract(&carrier))
        })
    });
    g.finish();
}

/// The group's name: `name` for wall time, `name/cpu` for thread CPU time.
fn group<M: Measurement>(name: &str, c: &Criterion<M>) -> String {
    let _ = c;
    if std::any::type_name::<M>().ends_with("ThreadCpu") {
        format!("{name}/cpu")
    } else {
        name.to_string()
    }
}

criterion_group!(
    benches,
    w1_span_3_attributes,
    nested,
    one_call,
    inject_extract
);
criterion_group!(
    name = benches_cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = w1_span_3_attributes, nested, one_call, inject_extract
);
criterion_main!(benches, benches_cpu);
