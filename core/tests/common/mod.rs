//! Helpers shared by the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use polytrace_core::config::{Config, OptionValue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Resolves a configuration from explicit options only (an empty environment).
pub fn config(options: &[(&str, OptionValue)]) -> Config {
    let opts: Vec<(String, OptionValue)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Config::resolve(&opts, &|_| None)
        .expect("valid test options")
        .0
}

pub fn s(v: &str) -> OptionValue {
    OptionValue::Str(v.to_string())
}

pub fn i(v: i64) -> OptionValue {
    OptionValue::Int(v)
}

/// Drops every batch at once, counting spans: the fastest possible back end.
#[derive(Debug, Clone, Default)]
pub struct Discard {
    pub spans: Arc<AtomicU64>,
}

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Blocks every export until `release` is called: a back end that hangs.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub state: Arc<(Mutex<bool>, Condvar)>,
    pub spans: Arc<AtomicU64>,
}

impl Gate {
    pub fn release(&self) {
        let (m, c) = &*self.state;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
}

impl SpanExporter for Gate {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let state = self.state.clone();
        let n = batch.len() as u64;
        // Block a blocking-pool thread, not the runtime's only worker.
        let _ = tokio::task::spawn_blocking(move || {
            let (m, c) = &*state;
            let mut open = m.lock().unwrap();
            while !*open {
                open = c.wait(open).unwrap();
            }
        })
        .await;
        self.spans.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

/// Keeps every exported span (also across shutdown, unlike the SDK's in-memory exporter).
#[derive(Debug, Clone, Default)]
pub struct Collect {
    pub spans: Arc<Mutex<Vec<SpanData>>>,
}

impl Collect {
    pub fn get_finished_spans(&self) -> Result<Vec<SpanData>, std::convert::Infallible> {
        Ok(self.spans.lock().unwrap().clone())
    }
}

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.lock().unwrap().extend(batch);
        Ok(())
    }
}

// ---- Helpers for the export and fork tests (a real OTLP receiver on 127.0.0.1). ----

use polytrace_receiver::opentelemetry_proto::tonic::common::v1::{
    any_value, InstrumentationScope, KeyValue as ProtoKeyValue,
};
use polytrace_receiver::opentelemetry_proto::tonic::trace::v1::Span as ProtoSpan;
use polytrace_receiver::ReceivedRequest;
use std::path::PathBuf;

/// One span as a receiver decoded it, with the resource and scope it was sent under.
#[derive(Clone, Debug)]
pub struct Received {
    pub resource: Vec<ProtoKeyValue>,
    pub scope: Option<InstrumentationScope>,
    pub scope_schema_url: String,
    pub span: ProtoSpan,
}

/// Every span of every request, flattened, in arrival order.
pub fn received_spans(requests: &[ReceivedRequest]) -> Vec<Received> {
    let mut out = Vec::new();
    for r in requests {
        for rs in &r.request.resource_spans {
            let resource = rs
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    out.push(Received {
                        resource: resource.clone(),
                        scope: ss.scope.clone(),
                        scope_schema_url: ss.schema_url.clone(),
                        span: span.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The value of attribute `key` in a decoded OTLP attribute list.
pub fn proto_attr<'a>(attrs: &'a [ProtoKeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// The string value of attribute `key`, if it is a string.
pub fn proto_str<'a>(attrs: &'a [ProtoKeyValue], key: &str) -> Option<&'a str> {
    match proto_attr(attrs, key) {
        Some(any_value::Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// The integer value of attribute `key`, if it is an integer.
pub fn proto_int(attrs: &[ProtoKeyValue], key: &str) -> Option<i64> {
    match proto_attr(attrs, key) {
        Some(any_value::Value::IntValue(i)) => Some(*i),
        _ => None,
    }
}

/// A fresh, empty directory under the system temp dir, unique to this process and call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "polytrace-{tag}-{}-{n}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback port nothing listens on (bound, then released): a back end that is down.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// Runs `f` and returns its result with the wall time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration) {
    let start = std::time::Instant::now();
    let r = f();
    (r, start.elapsed())
}
