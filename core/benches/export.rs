//! End-to-end export throughput: spans delivered per second to a real OTLP receiver on
//! loopback, polytrace side by side with the raw `opentelemetry_sdk` (its `BatchSpanProcessor`
//! and the `opentelemetry-otlp` exporter for the same protocol), in the same run, on the same
//! workload.
//!
//! ```text
//! cargo bench -p polytrace-core --bench export
//! ```
//!
//! Not a timed test: it prints a table. Workload: one producer thread creates a burst of N spans
//! (start, 3 attributes — string, int, bool — end) into a queue that can hold the whole burst,
//! then flushes. Delivered spans/s = spans counted by the receiver / time from the first span's
//! start until the receiver has counted them all. The receiver (`polytrace-receiver` in
//! `count_only` mode) counts spans straight off the protobuf wire format; its own ceiling is
//! measured first by a raw client replaying one pre-encoded request.
//!
//! Three rows per protocol: `polytrace` (the core as shipped: its queue and worker, then the
//! `opentelemetry-otlp` exporter on the core's runtime), `opentelemetry_sdk` (`SdkTracerProvider`,
//! its `BatchSpanProcessor` with the same queue and batch sizes, `opentelemetry-otlp`), and
//! `prototype direct` (the core's queue and worker behind `Provider::with_exporter`, with the
//! bench's own exporter that encodes OTLP protobuf directly — see [`direct`] — and sends the bytes
//! over tonic / reqwest): what a direct encoder in the core would deliver. A `stages` table gives
//! the per-span cost of each conversion step on one thread, and checks the prototype's bytes
//! against prost's.
//!
//! Knobs (environment): `POLYTRACE_BENCH_SPANS` (N, default 200000), `POLYTRACE_BENCH_QUEUE`
//! (default 262144), `POLYTRACE_BENCH_BATCH` (default 512), `POLYTRACE_BENCH_RUNS` (default
//! 3; the median is printed), `POLYTRACE_BENCH_PROTOCOLS` (default `grpc,http/protobuf,http/json`),
//! `POLYTRACE_BENCH_SIDES` (default `polytrace,sdk,direct`), `POLYTRACE_BENCH_IN_FLIGHT`
//! (the prototype's requests in flight, default 2), `POLYTRACE_BENCH_HAMMER` and
//! `POLYTRACE_BENCH_STAGES` (`0` skips the receiver-ceiling and the stages measurements).
//!
//! CPU columns: CPU time of the process's threads over the measured interval, read from each
//! thread's CPU clock — `producer` is the main thread (the span-creating loop), `export` every
//! pipeline thread (batch worker, export runtime), `receiver` the receiver's runtime threads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as ProtoSpan, Status};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};
use polytrace_core::config::{Config, OptionValue};
use polytrace_core::{Provider, StartOptions};
use polytrace_receiver::{Receiver, ReceiverConfig};
use prost::Message as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WARMUP_SPANS: u64 = 2_000;
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl Proto {
    fn parse(s: &str) -> Proto {
        match s {
            "grpc" => Proto::Grpc,
            "http/protobuf" | "http" => Proto::HttpProtobuf,
            "http/json" | "json" => Proto::HttpJson,
            other => panic!("unknown protocol {other}"),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Proto::Grpc => "grpc",
            Proto::HttpProtobuf => "http/protobuf",
            Proto::HttpJson => "http/json",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Polytrace,
    Sdk,
    Direct,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Polytrace => "polytrace",
            Side::Sdk => "opentelemetry_sdk",
            Side::Direct => "prototype direct",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Params {
    spans: u64,
    queue: u64,
    batch: u64,
}

// ------------------------------------------------------------------ per-thread CPU time

#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    producer: f64,
    export: f64,
    receiver: f64,
}

/// CPU nanoseconds of every live thread of this process, by tid, with its name.
fn thread_cpu() -> HashMap<i32, (String, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm"))
            .unwrap_or_default()
            .trim()
            .to_string();
        // The kernel's per-thread CPU clock (CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD): ns precision
        // for any thread of this process.
        let clock: libc::clockid_t = ((!tid) << 3) | 6;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid out-pointer; an exited thread just makes the call fail.
        if unsafe { libc::clock_gettime(clock, &mut ts) } == 0 {
            let ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
            out.insert(tid, (comm, ns));
        }
    }
    out
}

fn cpu_delta(before: &HashMap<i32, (String, u64)>, after: &HashMap<i32, (String, u64)>) -> Cpu {
    let main = std::process::id() as i32;
    let mut cpu = Cpu::default();
    for (tid, (comm, ns)) in after {
        let base = before.get(tid).map_or(0, |(_, b)| *b);
        let ms = ns.saturating_sub(base) as f64 / 1e6;
        if *tid == main {
            cpu.producer += ms;
        } else if comm.starts_with("polytrace-recei") {
            cpu.receiver += ms;
        } else {
            cpu.export += ms;
        }
    }
    cpu
}

// ------------------------------------------------------------------ one measurement

#[derive(Clone, Copy, Debug)]
struct Sample {
    rate: f64,
    lost: u64,
    elapsed_ms: f64,
    burst_ms: f64,
    cpu: Cpu,
}

fn start_receiver() -> Receiver {
    Receiver::start(ReceiverConfig {
        keep_requests: false,
        ..ReceiverConfig::grpc_and_http().count_only()
    })
    .expect("receiver starts")
}

fn endpoint(receiver: &Receiver, proto: Proto) -> String {
    match proto {
        Proto::Grpc => receiver.grpc_endpoint().expect("grpc"),
        Proto::HttpProtobuf | Proto::HttpJson => receiver.http_endpoint().expect("http"),
    }
}

/// Runs `burst` (N spans) and `flush`, and measures delivery to `receiver`.
fn measure(
    receiver: &Receiver,
    n: u64,
    burst: &mut dyn FnMut(u64),
    flush: &mut dyn FnMut() -> bool,
) -> Sample {
    // Warm-up: connect and touch every lazy path before the clock starts.
    burst(WARMUP_SPANS);
    flush();
    receiver.wait_for_spans(WARMUP_SPANS, Duration::from_secs(10));
    let base = receiver.span_count();

    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    burst(n);
    let burst_ms = t0.elapsed().as_secs_f64() * 1e3;
    let flushed = flush();
    // After a successful flush at most the last requests are still in flight (the receiver
    // counts a request before answering it); only a failed flush needs a long wait.
    let wait = if flushed {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(30)
    };
    receiver.wait_for_spans(base + n, wait);
    let elapsed = t0.elapsed();
    let cpu1 = thread_cpu();
    let received = receiver.span_count().saturating_sub(base).min(n);
    Sample {
        rate: received as f64 / elapsed.as_secs_f64(),
        lost: n - received,
        elapsed_ms: elapsed.as_secs_f64() * 1e3,
        burst_ms,
        cpu: cpu_delta(&cpu0, &cpu1),
    }
}

fn run_polytrace(proto: Proto, p: Params) -> Sample {
    let receiver = start_receiver();
    let ep = endpoint(&receiver, proto);
    let s = |v: &str| OptionValue::Str(v.to_string());
    let i = |v: u64| OptionValue::Int(v as i64);
    let mut opts = vec![
        ("service_name".to_string(), s("bench")),
        ("exporter".to_string(), s("otlp")),
        ("protocol".to_string(), s(proto.name())),
        ("max_queue_size".to_string(), i(p.queue)),
        ("max_export_batch_size".to_string(), i(p.batch)),
    ];
    opts.push(match proto {
        Proto::Grpc => ("endpoint".to_string(), s(&ep)),
        _ => ("traces_endpoint".to_string(), s(&ep)),
    });
    let (config, warnings) = Config::resolve(&opts, &|_| None).expect("valid options");
    assert!(warnings.is_empty(), "{warnings:?}");
    let provider = Provider::from_config(config).expect("provider");
    let tracer = provider.tracer("bench", None, None, vec![]);
    let mut burst = |n: u64| {
        for _ in 0..n {
            let mut span = tracer.start_span("op", StartOptions::default());
            span.set_attribute("http.method", "GET");
            span.set_attribute("http.status_code", 200i64);
            span.set_attribute("cache.hit", true);
            span.end(None);
        }
    };
    let mut flush = || provider.force_flush(FLUSH_TIMEOUT).is_ok();
    let sample = measure(&receiver, p.spans, &mut burst, &mut flush);
    let stats = provider.stats();
    let dropped = stats.spans_dropped;
    if dropped > 0 {
        eprintln!(
            "  polytrace {}: stats report {dropped} dropped: {stats:?}",
            proto.name()
        );
    }
    let _ = provider.shutdown(Duration::from_secs(10));
    receiver.shutdown();
    sample
}

/// Runs an exporter's futures on a tokio runtime: the SDK's batch processor polls them on its
/// own bare thread, where the reqwest and tonic clients find no reactor.
#[derive(Debug)]
struct OnRuntime {
    inner: Arc<opentelemetry_otlp::SpanExporter>,
    handle: tokio::runtime::Handle,
}

impl SpanExporter for OnRuntime {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let inner = Arc::clone(&self.inner);
        self.handle
            .spawn(async move { inner.export(batch).await })
            .await
            .unwrap_or_else(|e| Err(OTelSdkError::InternalFailure(e.to_string())))
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _guard = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        if let Some(e) = Arc::get_mut(&mut self.inner) {
            e.set_resource(resource);
        }
    }
}

fn run_sdk(proto: Proto, p: Params) -> Sample {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let receiver = start_receiver();
    let ep = endpoint(&receiver, proto);
    // The exporter's network I/O runs on a one-worker runtime, as polytrace's does.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sdk-export")
        .enable_all()
        .build()
        .expect("runtime");
    let exporter = {
        let _guard = rt.enter();
        let b = opentelemetry_otlp::SpanExporter::builder();
        match proto {
            Proto::Grpc => b.with_tonic().with_endpoint(ep).build(),
            Proto::HttpProtobuf | Proto::HttpJson => b
                .with_http()
                .with_http_client(reqwest::Client::new())
                .with_endpoint(ep)
                .with_protocol(if proto == Proto::HttpJson {
                    opentelemetry_otlp::Protocol::HttpJson
                } else {
                    opentelemetry_otlp::Protocol::HttpBinary
                })
                .build(),
        }
        .expect("exporter")
    };
    let exporter = OnRuntime {
        inner: Arc::new(exporter),
        handle: rt.handle().clone(),
    };
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(p.queue as usize)
                .with_max_export_batch_size(p.batch as usize)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("bench")
                .build(),
        )
        .build();
    let tracer = provider.tracer("bench");
    let mut burst = |n: u64| {
        for _ in 0..n {
            let mut span = tracer.start("op");
            span.set_attribute(KeyValue::new("http.method", "GET"));
            span.set_attribute(KeyValue::new("http.status_code", 200i64));
            span.set_attribute(KeyValue::new("cache.hit", true));
            span.end();
        }
    };
    let mut flush = || provider.force_flush().is_ok();
    let sample = measure(&receiver, p.spans, &mut burst, &mut flush);
    let _ = provider.shutdown();
    receiver.shutdown();
    drop(rt);
    sample
}

// ------------------------------------------------------------------ the receiver's ceiling

/// One request shaped like an exporter's: one resource, one scope, `n` spans with the bench's
/// three attributes.
fn sample_request(n: usize) -> ExportTraceServiceRequest {
    let kv = |k: &str, v: any_value::Value| opentelemetry_proto::tonic::common::v1::KeyValue {
        key: k.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        key_strindex: 0,
    };
    let spans = (0..n)
        .map(|i| ProtoSpan {
            trace_id: (i as u128 + 1).to_be_bytes().to_vec(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            flags: 0x101,
            name: "op".into(),
            kind: 1,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_000_001_000 + i as u64,
            attributes: vec![
                kv("http.method", any_value::Value::StringValue("GET".into())),
                kv("http.status_code", any_value::Value::IntValue(200)),
                kv("cache.hit", any_value::Value::BoolValue(true)),
            ],
            status: Some(Status::default()),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(ProtoResource {
                attributes: vec![
                    kv(
                        "service.name",
                        any_value::Value::StringValue("bench".into()),
                    ),
                    kv(
                        "telemetry.sdk.language",
                        any_value::Value::StringValue("rust".into()),
                    ),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "bench".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// A raw client on one thread replays one pre-encoded request (`per_request` spans) with
/// `in_flight` requests outstanding, `requests` times; returns the receiver's delivered rate.
fn hammer(proto: Proto, per_request: usize, in_flight: usize, requests: usize) -> (f64, Cpu) {
    let receiver = start_receiver();
    let body = Bytes::from(sample_request(per_request).encode_to_vec());
    let (uri, content_type, body) = match proto {
        Proto::Grpc => {
            let mut framed = Vec::with_capacity(body.len() + 5);
            framed.push(0);
            framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
            framed.extend_from_slice(&body);
            (
                format!(
                    "{}/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                    receiver.grpc_endpoint().expect("grpc")
                ),
                "application/grpc",
                Bytes::from(framed),
            )
        }
        _ => (
            receiver.http_endpoint().expect("http"),
            "application/x-protobuf",
            body,
        ),
    };
    let addr = match proto {
        Proto::Grpc => receiver.grpc_addr(),
        _ => receiver.http_addr(),
    }
    .expect("addr");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let request = move || {
        let mut b = http::Request::builder()
            .method("POST")
            .uri(uri.as_str())
            .header("content-type", content_type);
        if proto == Proto::Grpc {
            b = b.header("te", "trailers");
        }
        b.body(Full::new(body.clone())).expect("request")
    };
    let total_spans = (per_request * requests) as u64;
    let base = receiver.span_count();
    let (elapsed, cpu) = rt.block_on(async move {
        let per_task = requests / in_flight;
        let mut tasks = Vec::new();
        // gRPC: one HTTP/2 connection with `in_flight` streams (as tonic does); HTTP/1: one
        // connection per outstanding request (as reqwest's pool does).
        let h2 = if proto == Proto::Grpc {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (send, conn) =
                hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .initial_stream_window_size(4 << 20)
                    .initial_connection_window_size(8 << 20)
                    .max_frame_size(1 << 20)
                    .handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("h2 handshake");
            tokio::spawn(conn);
            Some(send)
        } else {
            None
        };
        let cpu0 = thread_cpu();
        let t0 = Instant::now();
        for _ in 0..in_flight {
            let request = request.clone();
            let h2 = h2.clone();
            tasks.push(tokio::spawn(async move {
                if let Some(mut send) = h2 {
                    for _ in 0..per_task {
                        let resp = send.send_request(request()).await.expect("send");
                        let body = resp.into_body().collect().await.expect("body");
                        let grpc_status = body
                            .trailers()
                            .and_then(|t| t.get("grpc-status"))
                            .map(|v| v.as_bytes().to_vec());
                        assert_eq!(grpc_status.as_deref(), Some(&b"0"[..]));
                    }
                } else {
                    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let (mut send, conn) =
                        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                            .await
                            .expect("h1 handshake");
                    tokio::spawn(conn);
                    for _ in 0..per_task {
                        let resp = send.send_request(request()).await.expect("send");
                        assert!(resp.status().is_success(), "{}", resp.status());
                        resp.into_body().collect().await.expect("body");
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        (t0.elapsed(), cpu_delta(&cpu0, &thread_cpu()))
    });
    let sent = (requests / in_flight * in_flight * per_request) as u64;
    assert!(
        receiver.wait_for_spans(base + sent, Duration::from_secs(5)),
        "receiver counted {} of {sent}",
        receiver.span_count() - base
    );
    let _ = total_spans;
    receiver.shutdown();
    (sent as f64 / elapsed.as_secs_f64(), cpu)
}

// ------------------------------------------------------------------ direct encoder (prototype)

/// A prototype of a direct span → OTLP protobuf encoder: it writes `ExportTraceServiceRequest`
/// bytes straight from the spans (sizes first, then one pass of writes into one buffer), with no
/// intermediate proto structs, no string copies and no per-span allocations. Byte-for-byte equal
/// to prost's encoding of `group_spans_by_resource_and_scope` (checked in `stages`). It reads the
/// SDK's `SpanData` here only because that is what a bench can reach; the same code over the
/// core's `SpanRecord` would also skip the record → `SpanData` conversion.
mod direct {
    use opentelemetry::trace::{SpanKind, Status};
    use opentelemetry::{Array, KeyValue, Value};
    use opentelemetry_sdk::trace::SpanData;
    use std::time::{SystemTime, UNIX_EPOCH};

    /// The constant prefix of every request: the encoded `Resource` and its schema URL.
    #[derive(Clone, Debug, Default)]
    pub struct EncodedResource {
        pub resource: Vec<u8>,
        pub schema_url: String,
    }

    #[inline]
    fn varint_len(v: u64) -> usize {
        (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
    }
    #[inline]
    fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        buf.push(v as u8);
    }
    #[inline]
    fn key(field: u32, wire: u32) -> u64 {
        u64::from((field << 3) | wire)
    }
    /// Length of a length-delimited field with a payload of `len` bytes.
    #[inline]
    fn ld(field: u32, len: usize) -> usize {
        varint_len(key(field, 2)) + varint_len(len as u64) + len
    }
    #[inline]
    fn put_ld(buf: &mut Vec<u8>, field: u32, len: usize) {
        put_varint(buf, key(field, 2));
        put_varint(buf, len as u64);
    }
    #[inline]
    fn put_bytes(buf: &mut Vec<u8>, field: u32, b: &[u8]) {
        put_ld(buf, field, b.len());
        buf.extend_from_slice(b);
    }
    #[inline]
    fn put_fixed64(buf: &mut Vec<u8>, field: u32, v: u64) {
        put_varint(buf, key(field, 1));
        buf.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    fn put_fixed32(buf: &mut Vec<u8>, field: u32, v: u32) {
        put_varint(buf, key(field, 5));
        buf.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    fn put_uint(buf: &mut Vec<u8>, field: u32, v: u64) {
        put_varint(buf, key(field, 0));
        put_varint(buf, v);
    }
    #[inline]
    fn nanos(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }
    #[inline]
    fn opt_uint_len(field: u32, v: u64) -> usize {
        if v == 0 {
            0
        } else {
            varint_len(key(field, 0)) + varint_len(v)
        }
    }
    #[inline]
    fn opt_str_len(field: u32, s: &str) -> usize {
        if s.is_empty() {
            0
        } else {
            ld(field, s.len())
        }
    }

    // AnyValue: 1 string, 2 bool, 3 int, 4 double, 5 array (ArrayValue { 1 repeated AnyValue }).
    fn any_len(v: &Value) -> usize {
        match v {
            Value::Bool(_) => 2,
            Value::I64(i) => 1 + varint_len(*i as u64),
            Value::F64(_) => 9,
            Value::String(s) => ld(1, s.as_str().len()),
            Value::Array(a) => ld(5, array_len(a)),
            _ => 0,
        }
    }
    fn array_len(a: &Array) -> usize {
        match a {
            Array::Bool(v) => v.len() * ld(1, 2),
            Array::I64(v) => v.iter().map(|i| ld(1, 1 + varint_len(*i as u64))).sum(),
            Array::F64(v) => v.len() * ld(1, 9),
            Array::String(v) => v.iter().map(|s| ld(1, ld(1, s.as_str().len()))).sum(),
            _ => 0,
        }
    }
    fn put_any(buf: &mut Vec<u8>, v: &Value) {
        match v {
            Value::Bool(b) => put_uint(buf, 2, u64::from(*b)),
            Value::I64(i) => put_uint(buf, 3, *i as u64),
            Value::F64(d) => {
                put_varint(buf, key(4, 1));
                buf.extend_from_slice(&d.to_le_bytes());
            }
            Value::String(s) => put_bytes(buf, 1, s.as_str().as_bytes()),
            Value::Array(a) => {
                put_ld(buf, 5, array_len(a));
                match a {
                    Array::Bool(v) => v.iter().for_each(|b| {
                        put_ld(buf, 1, 2);
                        put_uint(buf, 2, u64::from(*b));
                    }),
                    Array::I64(v) => v.iter().for_each(|i| {
                        put_ld(buf, 1, 1 + varint_len(*i as u64));
                        put_uint(buf, 3, *i as u64);
                    }),
                    Array::F64(v) => v.iter().for_each(|d| {
                        put_ld(buf, 1, 9);
                        put_varint(buf, key(4, 1));
                        buf.extend_from_slice(&d.to_le_bytes());
                    }),
                    Array::String(v) => v.iter().for_each(|s| {
                        put_ld(buf, 1, ld(1, s.as_str().len()));
                        put_bytes(buf, 1, s.as_str().as_bytes());
                    }),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    // KeyValue: 1 key, 2 value.
    fn kv_len(kv: &KeyValue) -> usize {
        opt_str_len(1, kv.key.as_str()) + ld(2, any_len(&kv.value))
    }
    fn attrs_len(field: u32, kvs: &[KeyValue]) -> usize {
        kvs.iter().map(|kv| ld(field, kv_len(kv))).sum()
    }
    fn put_attrs(buf: &mut Vec<u8>, field: u32, kvs: &[KeyValue]) {
        for kv in kvs {
            put_ld(buf, field, kv_len(kv));
            if !kv.key.as_str().is_empty() {
                put_bytes(buf, 1, kv.key.as_str().as_bytes());
            }
            put_ld(buf, 2, any_len(&kv.value));
            put_any(buf, &kv.value);
        }
    }
    fn kind(k: &SpanKind) -> u64 {
        match k {
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        }
    }
    fn status(s: &Status) -> (u64, &str) {
        match s {
            Status::Unset => (0, ""),
            Status::Ok => (1, ""),
            Status::Error { description } => (2, description.as_ref()),
        }
    }
    fn flags(remote: bool, trace_flags: u8) -> u32 {
        u32::from(trace_flags) | 0x100 | if remote { 0x200 } else { 0 }
    }

    // Event: 1 time fixed64, 2 name, 3 attributes, 4 dropped. Link: 1 trace_id, 2 span_id,
    // 3 trace_state, 4 attributes, 5 dropped, 6 flags fixed32.
    fn event_len(e: &opentelemetry::trace::Event) -> usize {
        let t = nanos(e.timestamp);
        (if t != 0 { 9 } else { 0 })
            + opt_str_len(2, &e.name)
            + attrs_len(3, &e.attributes)
            + opt_uint_len(4, u64::from(e.dropped_attributes_count))
    }
    fn link_len(l: &opentelemetry::trace::Link, state: &str) -> usize {
        ld(1, 16)
            + ld(2, 8)
            + opt_str_len(3, state)
            + attrs_len(4, &l.attributes)
            + opt_uint_len(5, u64::from(l.dropped_attributes_count))
            + 5
    }

    /// The length of a span's body; `state` is its trace state header.
    fn span_len(s: &SpanData, state: &str) -> usize {
        let (code, message) = status(&s.status);
        ld(1, 16)
            + ld(2, 8)
            + opt_str_len(3, state)
            + if s.parent_span_id != opentelemetry::trace::SpanId::INVALID {
                ld(4, 8)
            } else {
                0
            }
            + opt_str_len(5, &s.name)
            + 2
            + if nanos(s.start_time) != 0 { 9 } else { 0 }
            + if nanos(s.end_time) != 0 { 9 } else { 0 }
            + attrs_len(9, &s.attributes)
            + opt_uint_len(10, u64::from(s.dropped_attributes_count))
            + s.events.iter().map(|e| ld(11, event_len(e))).sum::<usize>()
            + opt_uint_len(12, u64::from(s.events.dropped_count))
            + s.links
                .iter()
                .map(|l| ld(13, link_len(l, &l.span_context.trace_state().header())))
                .sum::<usize>()
            + opt_uint_len(14, u64::from(s.links.dropped_count))
            + ld(15, opt_str_len(2, message) + opt_uint_len(3, code))
            + 6
    }

    fn put_span(buf: &mut Vec<u8>, s: &SpanData, state: &str) {
        put_bytes(buf, 1, &s.span_context.trace_id().to_bytes());
        put_bytes(buf, 2, &s.span_context.span_id().to_bytes());
        if !state.is_empty() {
            put_bytes(buf, 3, state.as_bytes());
        }
        if s.parent_span_id != opentelemetry::trace::SpanId::INVALID {
            put_bytes(buf, 4, &s.parent_span_id.to_bytes());
        }
        if !s.name.is_empty() {
            put_bytes(buf, 5, s.name.as_bytes());
        }
        put_uint(buf, 6, kind(&s.span_kind));
        let (start, end) = (nanos(s.start_time), nanos(s.end_time));
        if start != 0 {
            put_fixed64(buf, 7, start);
        }
        if end != 0 {
            put_fixed64(buf, 8, end);
        }
        put_attrs(buf, 9, &s.attributes);
        if s.dropped_attributes_count != 0 {
            put_uint(buf, 10, u64::from(s.dropped_attributes_count));
        }
        for e in s.events.iter() {
            put_ld(buf, 11, event_len(e));
            let t = nanos(e.timestamp);
            if t != 0 {
                put_fixed64(buf, 1, t);
            }
            if !e.name.is_empty() {
                put_bytes(buf, 2, e.name.as_bytes());
            }
            put_attrs(buf, 3, &e.attributes);
            if e.dropped_attributes_count != 0 {
                put_uint(buf, 4, u64::from(e.dropped_attributes_count));
            }
        }
        if s.events.dropped_count != 0 {
            put_uint(buf, 12, u64::from(s.events.dropped_count));
        }
        for l in s.links.iter() {
            let ls = l.span_context.trace_state().header();
            put_ld(buf, 13, link_len(l, &ls));
            put_bytes(buf, 1, &l.span_context.trace_id().to_bytes());
            put_bytes(buf, 2, &l.span_context.span_id().to_bytes());
            if !ls.is_empty() {
                put_bytes(buf, 3, ls.as_bytes());
            }
            put_attrs(buf, 4, &l.attributes);
            if l.dropped_attributes_count != 0 {
                put_uint(buf, 5, u64::from(l.dropped_attributes_count));
            }
            put_fixed32(
                buf,
                6,
                flags(
                    l.span_context.is_remote(),
                    l.span_context.trace_flags().to_u8(),
                ),
            );
        }
        if s.links.dropped_count != 0 {
            put_uint(buf, 14, u64::from(s.links.dropped_count));
        }
        let (code, message) = status(&s.status);
        put_ld(buf, 15, opt_str_len(2, message) + opt_uint_len(3, code));
        if !message.is_empty() {
            put_bytes(buf, 2, message.as_bytes());
        }
        if code != 0 {
            put_uint(buf, 3, code);
        }
        put_fixed32(
            buf,
            16,
            flags(
                s.parent_span_is_remote,
                s.span_context.trace_flags().to_u8(),
            ),
        );
    }

    /// An encoded instrumentation scope (as `group_spans_by_resource_and_scope` writes it).
    fn encode_scope(scope: &opentelemetry::InstrumentationScope) -> Vec<u8> {
        use prost::Message as _;
        let proto: opentelemetry_proto::tonic::common::v1::InstrumentationScope =
            (scope, None).into();
        proto.encode_to_vec()
    }

    /// Appends one `ExportTraceServiceRequest` carrying `spans` to `out`. Scopes are grouped in
    /// order of first appearance.
    pub fn encode_request(spans: &[SpanData], resource: &EncodedResource, out: &mut Vec<u8>) {
        // Group by scope (a handful per batch at most; the core would use its scope index).
        let mut groups: Vec<(&opentelemetry::InstrumentationScope, Vec<usize>)> = Vec::new();
        for (i, s) in spans.iter().enumerate() {
            match groups
                .iter_mut()
                .find(|(scope, _)| *scope == &s.instrumentation_scope)
            {
                Some((_, v)) => v.push(i),
                None => groups.push((&s.instrumentation_scope, vec![i])),
            }
        }
        let no_state = spans
            .iter()
            .all(|s| s.span_context.trace_state().header().is_empty());
        let states: Vec<String> = if no_state {
            Vec::new()
        } else {
            spans
                .iter()
                .map(|s| s.span_context.trace_state().header())
                .collect()
        };
        let state = |i: usize| states.get(i).map_or("", |s| s.as_str());
        let lens: Vec<usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| span_len(s, state(i)))
            .collect();
        let scopes: Vec<(Vec<u8>, &str, usize)> = groups
            .iter()
            .map(|(scope, idx)| {
                let bytes = encode_scope(scope);
                let schema = scope.schema_url().unwrap_or("");
                let len = ld(1, bytes.len())
                    + idx.iter().map(|&i| ld(2, lens[i])).sum::<usize>()
                    + opt_str_len(3, schema);
                (bytes, schema, len)
            })
            .collect();
        let rs_len = ld(1, resource.resource.len())
            + scopes.iter().map(|(_, _, l)| ld(2, *l)).sum::<usize>()
            + opt_str_len(3, &resource.schema_url);
        out.reserve(ld(1, rs_len));
        put_ld(out, 1, rs_len);
        put_bytes(out, 1, &resource.resource);
        for ((bytes, schema, len), (_, idx)) in scopes.iter().zip(&groups) {
            put_ld(out, 2, *len);
            put_bytes(out, 1, bytes);
            for &i in idx {
                put_ld(out, 2, lens[i]);
                put_span(out, &spans[i], state(i));
            }
            if !schema.is_empty() {
                put_bytes(out, 3, schema.as_bytes());
            }
        }
        if !resource.schema_url.is_empty() {
            put_bytes(out, 3, resource.schema_url.as_bytes());
        }
    }

    /// The resource prefix, encoded once per exporter.
    pub fn encode_resource(resource: &opentelemetry_sdk::Resource) -> EncodedResource {
        use prost::Message as _;
        let r = opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema::from(
            resource,
        );
        EncodedResource {
            resource: opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: r.attributes.0,
                dropped_attributes_count: 0,
                entity_refs: vec![],
            }
            .encode_to_vec(),
            schema_url: r.schema_url.unwrap_or_default(),
        }
    }
}

// ------------------------------------------------------------------ per-stage costs

/// `count` spans shaped like the workload, as the SDK's `SpanData`.
fn sample_span_data(count: usize, scope: &opentelemetry::InstrumentationScope) -> Vec<SpanData> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    let t0 = std::time::SystemTime::now();
    (0..count)
        .map(|i| SpanData {
            span_context: SpanContext::new(
                TraceId::from_bytes((i as u128 + 0x1234_5678_9abc_def0).to_be_bytes()),
                SpanId::from_bytes((i as u64 + 0x0fed_cba9).to_be_bytes()),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: opentelemetry::trace::SpanKind::Internal,
            name: "op".into(),
            start_time: t0,
            end_time: t0 + Duration::from_nanos(1_500 + i as u64),
            attributes: vec![
                KeyValue::new("http.method", "GET"),
                KeyValue::new("http.status_code", 200i64),
                KeyValue::new("cache.hit", true),
            ],
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status: opentelemetry::trace::Status::Unset,
            instrumentation_scope: scope.clone(),
        })
        .collect()
}

/// Per-span cost (ns) of each stage between a finished span and the bytes on the wire, on this
/// thread, one batch of `batch` spans at a time through every stage (as the export thread does,
/// so caches are as warm as there), `batches` times.
fn stages(batch: usize, batches: usize) -> Vec<(&'static str, f64)> {
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    const NAMES: [&str; 8] = [
        "build SpanData from parts (~ record -> SpanData)",
        "clone Vec<SpanData> (opentelemetry-otlp gRPC, per attempt)",
        "SpanData -> proto structs (group_spans_by_resource_and_scope)",
        "prost encode (encoded_len + encode)",
        "drop proto structs",
        "serde_json::to_string_pretty (opentelemetry-otlp http/json)",
        "direct encode SpanData -> protobuf bytes (prototype)",
        "drop SpanData",
    ];
    let scope = opentelemetry::InstrumentationScope::builder("bench").build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("bench")
        .build();
    let proto_resource = ResourceAttributesWithSchema::from(&resource);
    let encoded_resource = direct::encode_resource(&resource);
    let mut total = [Duration::ZERO; NAMES.len()];
    let mut json_batches = 0usize;
    let mut direct_buf: Vec<u8> = Vec::new();
    for round in 0..batches {
        // The parts a queued record holds (attributes already in the SDK's form).
        let parts: Vec<Vec<KeyValue>> = (0..batch)
            .map(|_| {
                vec![
                    KeyValue::new("http.method", "GET"),
                    KeyValue::new("http.status_code", 200i64),
                    KeyValue::new("cache.hit", true),
                ]
            })
            .collect();
        let t = Instant::now();
        let t0 = std::time::SystemTime::now();
        let data: Vec<SpanData> = parts
            .into_iter()
            .enumerate()
            .map(|(i, attributes)| SpanData {
                span_context: opentelemetry::trace::SpanContext::new(
                    opentelemetry::trace::TraceId::from_bytes(
                        (i as u128 + 0x1234_5678_9abc_def0).to_be_bytes(),
                    ),
                    opentelemetry::trace::SpanId::from_bytes((i as u64 + 1).to_be_bytes()),
                    opentelemetry::trace::TraceFlags::SAMPLED,
                    false,
                    Default::default(),
                ),
                parent_span_id: opentelemetry::trace::SpanId::INVALID,
                parent_span_is_remote: false,
                span_kind: opentelemetry::trace::SpanKind::Internal,
                name: "op".into(),
                start_time: t0,
                end_time: t0 + Duration::from_nanos(1_500 + i as u64),
                attributes,
                dropped_attributes_count: 0,
                events: Default::default(),
                links: Default::default(),
                status: opentelemetry::trace::Status::Unset,
                instrumentation_scope: scope.clone(),
            })
            .collect();
        total[0] += t.elapsed();

        let t = Instant::now();
        let clone = data.clone();
        total[1] += t.elapsed();

        let t = Instant::now();
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(clone, &proto_resource),
        };
        total[2] += t.elapsed();

        let t = Instant::now();
        let encoded = request.encode_to_vec();
        total[3] += t.elapsed();

        if round % 20 == 0 {
            let t = Instant::now();
            let json = serde_json::to_string_pretty(&request).expect("json");
            total[5] += t.elapsed();
            json_batches += 1;
            drop(json);
        }

        let t = Instant::now();
        drop(request);
        total[4] += t.elapsed();

        let t = Instant::now();
        direct_buf.clear();
        direct::encode_request(&data, &encoded_resource, &mut direct_buf);
        total[6] += t.elapsed();
        // The prototype's bytes must be exactly prost's.
        assert!(
            direct_buf == encoded,
            "direct encoding differs from prost's"
        );

        let t = Instant::now();
        drop(data);
        total[7] += t.elapsed();
    }

    // Also with a parent, statuses, an event, a link and two scopes, against the reference.
    {
        let mut odd = sample_span_data(3, &scope);
        odd[0].parent_span_id = opentelemetry::trace::SpanId::from_bytes([7; 8]);
        odd[0].parent_span_is_remote = true;
        odd[0].status = opentelemetry::trace::Status::error("boom");
        odd[1].events.events.push(opentelemetry::trace::Event::new(
            "ev",
            std::time::SystemTime::now(),
            vec![
                KeyValue::new("k", 1.5f64),
                KeyValue::new("arr", opentelemetry::Value::Array(vec![1i64, -2].into())),
            ],
            2,
        ));
        odd[1].span_kind = opentelemetry::trace::SpanKind::Server;
        let linked = odd[0].span_context.clone();
        odd[2].links.links.push(opentelemetry::trace::Link::new(
            linked,
            vec![KeyValue::new("l", "v")],
            1,
        ));
        odd[2].links.dropped_count = 4;
        odd[2].status = opentelemetry::trace::Status::Ok;
        odd[2].dropped_attributes_count = 9;
        odd[1].instrumentation_scope = opentelemetry::InstrumentationScope::builder("other")
            .with_version("1.0")
            .with_schema_url("https://s")
            .build();
        let mut buf = Vec::new();
        direct::encode_request(&odd, &encoded_resource, &mut buf);
        let reference = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(odd, &proto_resource),
        };
        assert_eq!(
            ExportTraceServiceRequest::decode(buf.as_slice()).expect("decodes"),
            reference
        );
        assert!(
            buf == reference.encode_to_vec(),
            "direct encoding differs from prost's"
        );
    }

    let n = (batch * batches) as f64;
    NAMES
        .iter()
        .zip(total)
        .enumerate()
        .map(|(i, (name, d))| {
            let spans = if i == 5 {
                (batch * json_batches) as f64
            } else {
                n
            };
            (*name, d.as_secs_f64() * 1e9 / spans)
        })
        .collect()
}

// ------------------------------------------------------------------ prototype exporter

/// A tonic codec that sends pre-encoded message bytes and ignores the response message.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut as _;
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use bytes::Buf as _;
        let n = src.remaining();
        src.advance(n);
        Ok(Some(()))
    }
}

#[derive(Clone)]
enum DirectTransport {
    Grpc(tonic::client::Grpc<tonic::transport::Channel>),
    Http(reqwest::Client, String),
}

struct DirectInner {
    proto: Proto,
    endpoint: String,
    resource: std::sync::Mutex<direct::EncodedResource>,
    transport: std::sync::OnceLock<DirectTransport>,
    in_flight: Arc<tokio::sync::Semaphore>,
    failed: Arc<std::sync::atomic::AtomicU64>,
}

/// The prototype: an SDK `SpanExporter` (so it plugs into `Provider::with_exporter`, behind
/// polytrace's real queue, worker and record → `SpanData` conversion) that encodes each batch
/// directly to protobuf bytes on the batch thread and sends them over a tonic channel (gRPC,
/// pre-encoded bytes through a pass-through codec) or reqwest (HTTP), with up to `in_flight`
/// requests outstanding on the core's runtime. `export` returns once the request is queued, so
/// the bench waits on the receiver's count as for every row.
#[derive(Clone)]
struct DirectExporter(Arc<DirectInner>);

impl std::fmt::Debug for DirectExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectExporter")
    }
}

impl DirectExporter {
    fn new(proto: Proto, endpoint: String, in_flight: usize) -> DirectExporter {
        DirectExporter(Arc::new(DirectInner {
            proto,
            endpoint,
            resource: Default::default(),
            transport: std::sync::OnceLock::new(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(in_flight.max(1))),
            failed: Default::default(),
        }))
    }

    /// Built on first use, inside the core's runtime (tonic's channel spawns its worker there).
    fn transport(&self) -> DirectTransport {
        self.0
            .transport
            .get_or_init(|| match self.0.proto {
                Proto::Grpc => DirectTransport::Grpc(tonic::client::Grpc::new(
                    tonic::transport::Channel::from_shared(self.0.endpoint.clone())
                        .expect("endpoint")
                        .connect_lazy(),
                )),
                _ => DirectTransport::Http(reqwest::Client::new(), self.0.endpoint.clone()),
            })
            .clone()
    }
}

impl SpanExporter for DirectExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let permit = self
            .0
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        let n = batch.len() as u64;
        let mut body = Vec::new();
        {
            let resource = self.0.resource.lock().expect("lock");
            direct::encode_request(&batch, &resource, &mut body);
        }
        drop(batch);
        let transport = self.transport();
        let failed = Arc::clone(&self.0.failed);
        tokio::spawn(async move {
            let ok = match transport {
                DirectTransport::Grpc(mut grpc) => {
                    let path = http::uri::PathAndQuery::from_static(
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                    );
                    match grpc.ready().await {
                        Ok(()) => grpc
                            .unary::<Bytes, (), _>(
                                tonic::Request::new(Bytes::from(body)),
                                path,
                                RawCodec,
                            )
                            .await
                            .is_ok(),
                        Err(_) => false,
                    }
                }
                DirectTransport::Http(client, url) => {
                    match client
                        .post(url)
                        .header("content-type", "application/x-protobuf")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(resp) => {
                            let ok = resp.status().is_success();
                            ok && resp.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    }
                }
            };
            if !ok {
                failed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            }
            drop(permit);
        });
        Ok(())
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        *self.0.resource.lock().expect("lock") = direct::encode_resource(resource);
    }
}

fn run_direct(proto: Proto, p: Params, in_flight: usize) -> Sample {
    let receiver = start_receiver();
    let ep = endpoint(&receiver, proto);
    let opts = vec![
        (
            "service_name".to_string(),
            OptionValue::Str("bench".to_string()),
        ),
        (
            "max_queue_size".to_string(),
            OptionValue::Int(p.queue as i64),
        ),
        (
            "max_export_batch_size".to_string(),
            OptionValue::Int(p.batch as i64),
        ),
    ];
    let (config, _) = Config::resolve(&opts, &|_| None).expect("valid options");
    let exporter = DirectExporter::new(proto, ep, in_flight);
    let failed = Arc::clone(&exporter.0.failed);
    let provider = Provider::with_exporter(config, exporter).expect("provider");
    let tracer = provider.tracer("bench", None, None, vec![]);
    let mut burst = |n: u64| {
        for _ in 0..n {
            let mut span = tracer.start_span("op", StartOptions::default());
            span.set_attribute("http.method", "GET");
            span.set_attribute("http.status_code", 200i64);
            span.set_attribute("cache.hit", true);
            span.end(None);
        }
    };
    let mut flush = || provider.force_flush(FLUSH_TIMEOUT).is_ok();
    let sample = measure(&receiver, p.spans, &mut burst, &mut flush);
    let failed = failed.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 {
        eprintln!(
            "  prototype {}: {failed} spans failed to send",
            proto.name()
        );
    }
    let _ = provider.shutdown(Duration::from_secs(10));
    receiver.shutdown();
    sample
}

// ------------------------------------------------------------------ report

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let p = Params {
        spans: env_num("POLYTRACE_BENCH_SPANS", 200_000),
        queue: env_num("POLYTRACE_BENCH_QUEUE", 262_144),
        batch: env_num("POLYTRACE_BENCH_BATCH", 512),
    };
    let runs = env_num("POLYTRACE_BENCH_RUNS", 3).max(1) as usize;
    let protocols: Vec<Proto> =
        env_list("POLYTRACE_BENCH_PROTOCOLS", "grpc,http/protobuf,http/json")
            .iter()
            .map(|s| Proto::parse(s))
            .collect();
    let in_flight = env_num("POLYTRACE_BENCH_IN_FLIGHT", 2) as usize;
    let sides: Vec<Side> = env_list("POLYTRACE_BENCH_SIDES", "polytrace,sdk,direct")
        .iter()
        .map(|s| match s.as_str() {
            "polytrace" => Side::Polytrace,
            "sdk" | "opentelemetry_sdk" => Side::Sdk,
            "direct" | "prototype" => Side::Direct,
            other => panic!("unknown side {other}"),
        })
        .collect();

    println!("$ cargo bench -p polytrace-core --bench export");
    println!(
        "workload: 1 producer thread, burst of {} spans (start, 3 attributes: string/int/bool, end), \
         then flush; max_queue_size {} and max_export_batch_size {} on both sides; \
         receiver: polytrace-receiver count_only on 127.0.0.1; median of {runs} runs",
        p.spans, p.queue, p.batch
    );
    println!(
        "machine: {} cores, load average {} (at start)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    if env_num("POLYTRACE_BENCH_HAMMER", 1) != 0 {
        println!();
        println!(
            "receiver ceiling: a raw hyper client on one thread replays one pre-encoded request \
             (512 spans), 4 in flight, 800 requests (409,600 spans)"
        );
        println!(
            "{:<15} {:>14} {:>28}",
            "protocol", "spans/s", "CPU ms client / receiver"
        );
        for proto in [Proto::Grpc, Proto::HttpProtobuf] {
            let mut rates = Vec::new();
            let mut cpus = Vec::new();
            for _ in 0..runs {
                let (rate, cpu) = hammer(proto, 512, 4, 800);
                rates.push(rate);
                cpus.push(cpu);
            }
            let m = median(rates.clone());
            let i = rates.iter().position(|r| *r == m).unwrap_or(0);
            println!(
                "{:<15} {:>14} {:>28}",
                proto.name(),
                fmt_rate(m),
                format!("{:.0} / {:.0}", cpus[i].producer, cpus[i].receiver)
            );
        }
    }

    if env_num("POLYTRACE_BENCH_STAGES", 1) != 0 {
        let batches = (p.spans / p.batch).clamp(1, 400) as usize;
        println!();
        println!(
            "stages, one thread, ns per span (median of {runs}; {batches} batches of {} spans like the workload's)",
            p.batch
        );
        let mut all: Vec<Vec<(&str, f64)>> = Vec::new();
        for _ in 0..runs {
            all.push(stages(p.batch as usize, batches));
        }
        for (i, (name, _)) in all[0].iter().enumerate() {
            let m = median(all.iter().map(|r| r[i].1).collect());
            println!("  {name:<64} {m:>8.0}");
        }
    }

    println!();
    println!(
        "rows: polytrace = the core as shipped (opentelemetry-otlp exporter on the core's runtime); \
         opentelemetry_sdk = SdkTracerProvider + BatchSpanProcessor + opentelemetry-otlp SpanExporter \
         (its futures run on a 1-worker tokio runtime); prototype direct = the core's queue and worker \
         with a bench-side exporter that encodes protobuf directly and keeps {in_flight} requests in flight"
    );
    println!(
        "{:<15} {:<18} {:>12} {:>6} {:>11} {:>9} {:>32}   runs (spans/s)",
        "protocol",
        "implementation",
        "spans/s",
        "lost",
        "elapsed ms",
        "burst ms",
        "CPU ms producer/export/receiver",
    );
    for proto in &protocols {
        for side in &sides {
            if *side == Side::Direct && *proto == Proto::HttpJson {
                continue;
            }
            let mut samples = Vec::new();
            for _ in 0..runs {
                samples.push(match side {
                    Side::Polytrace => run_polytrace(*proto, p),
                    Side::Sdk => run_sdk(*proto, p),
                    Side::Direct => run_direct(*proto, p, in_flight),
                });
            }
            let m = median(samples.iter().map(|s| s.rate).collect());
            let s = samples
                .iter()
                .find(|s| s.rate == m)
                .copied()
                .unwrap_or(samples[0]);
            let all: Vec<String> = samples.iter().map(|s| fmt_rate(s.rate)).collect();
            let lost: Vec<String> = samples.iter().map(|s| s.lost.to_string()).collect();
            println!(
                "{:<15} {:<18} {:>12} {:>6} {:>11.0} {:>9.0} {:>32}   {} (lost {})",
                proto.name(),
                side.name(),
                fmt_rate(m),
                s.lost,
                s.elapsed_ms,
                s.burst_ms,
                format!(
                    "{:.0} / {:.0} / {:.0}",
                    s.cpu.producer, s.cpu.export, s.cpu.receiver
                ),
                all.join(", "),
                lost.join(", ")
            );
        }
    }
    println!();
    println!("load average {} (at end)", loadavg());
}

fn fmt_rate(r: f64) -> String {
    let n = r.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
