//! Span hot-path benchmarks: polytrace side by side with the raw `opentelemetry_sdk` doing the
//! same work in the same run (both with a batch processor and a discarding exporter).
//!
//! ```text
//! cargo bench -p polytrace-core --bench spans
//! ```

#![allow(clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
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

fn w1_span_3_attributes(c: &mut Criterion) {
    let mut g = c.benchmark_group("span_start_3_attrs_end");
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

fn nested(c: &mut Criterion) {
    let mut g = c.benchmark_group("parent_child");
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

fn one_call(c: &mut Criterion) {
    let mut g = c.benchmark_group("finished_span_one_call");
    let p = polytrace();
    let t = p.tracer("bench", None, None, vec![]);
    g.bench_function("polytrace_record_span", |b| {
        b.iter(|| {
            let now = polytrace_core::span::now_unix_nanos();
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

fn inject_extract(c: &mut Criterion) {
    let mut g = c.benchmark_group("inject_extract");
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

criterion_group!(
    benches,
    w1_span_3_attributes,
    nested,
    one_call,
    inject_extract
);
criterion_main!(benches);
