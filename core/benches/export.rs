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
//! Two rows per protocol: `polytrace` (the core as shipped: its queue and worker, the direct
//! `SpanRecord` → OTLP protobuf encoder, and the core's own tonic / reqwest transports on its
//! runtime) and `opentelemetry_sdk` (`SdkTracerProvider`, its `BatchSpanProcessor` with the
//! same queue and batch sizes, `opentelemetry-otlp`). A `stages` table gives the per-span cost
//! of each step of the SDK's conversion path (the one the core's encoder replaces) on one
//! thread.
//!
//! Knobs (environment): `POLYTRACE_BENCH_SPANS` (N, default 200000), `POLYTRACE_BENCH_QUEUE`
//! (default 262144), `POLYTRACE_BENCH_BATCH` (default 512), `POLYTRACE_BENCH_RUNS` (default
//! 3; the median is printed), `POLYTRACE_BENCH_PROTOCOLS` (default `grpc,http/protobuf,http/json`),
//! `POLYTRACE_BENCH_SIDES` (default `polytrace,sdk`), `POLYTRACE_BENCH_HAMMER` and
//! `POLYTRACE_BENCH_STAGES` (`0` skips the receiver-ceiling and the stages measurements),
//! `POLYTRACE_BENCH_STEADY` (the paced rates of the steady-state table, spans/s, default
//! `100000,200000`; empty or `0` skips it) and `POLYTRACE_BENCH_STEADY_SECONDS` (default 2).
//!
//! Steady-state table: one producer paced below the drain rate at the default queue (2048)
//! and batch (512): the pipeline threads' CPU time per span, what a service producing that
//! many spans per second pays beyond its own threads.
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
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Polytrace => "polytrace",
            Side::Sdk => "opentelemetry_sdk",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Params {
    spans: u64,
    queue: u64,
    batch: u64,
    /// Spans per second to pace the producer at (`None`: as fast as it can).
    pace: Option<f64>,
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

/// Makes `n` spans with `burst`: at once, or paced at `rate` spans/s in small steps (sleeping
/// whenever ahead of schedule).
fn produce(n: u64, rate: Option<f64>, burst: &mut dyn FnMut(u64)) {
    let Some(rate) = rate else {
        burst(n);
        return;
    };
    let t0 = Instant::now();
    let mut done = 0;
    while done < n {
        let due = ((t0.elapsed().as_secs_f64() * rate) as u64).min(n);
        if due > done {
            let k = (due - done).min(64);
            burst(k);
            done += k;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// Runs `burst` (N spans, paced if `p.pace` says so) and `flush`, and measures delivery to
/// `receiver`.
fn measure(
    receiver: &Receiver,
    p: Params,
    burst: &mut dyn FnMut(u64),
    flush: &mut dyn FnMut() -> bool,
) -> Sample {
    let n = p.spans;
    // Warm-up: connect and touch every lazy path before the clock starts.
    burst(WARMUP_SPANS);
    flush();
    receiver.wait_for_spans(WARMUP_SPANS, Duration::from_secs(10));
    let base = receiver.span_count();

    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    produce(n, p.pace, burst);
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
    let sample = measure(&receiver, p, &mut burst, &mut flush);
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
    let sample = measure(&receiver, p, &mut burst, &mut flush);
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

// ------------------------------------------------------------------ per-stage costs

/// Per-span cost (ns) of each stage between a finished span and the bytes on the wire, on this
/// thread, one batch of `batch` spans at a time through every stage (as the export thread does,
/// so caches are as warm as there), `batches` times.
fn stages(batch: usize, batches: usize) -> Vec<(&'static str, f64)> {
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    const NAMES: [&str; 7] = [
        "build SpanData from parts (~ record -> SpanData)",
        "clone Vec<SpanData> (opentelemetry-otlp gRPC, per attempt)",
        "SpanData -> proto structs (group_spans_by_resource_and_scope)",
        "prost encode (encoded_len + encode)",
        "drop proto structs",
        "serde_json::to_string_pretty (opentelemetry-otlp http/json)",
        "drop SpanData",
    ];
    let scope = opentelemetry::InstrumentationScope::builder("bench").build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("bench")
        .build();
    let proto_resource = ResourceAttributesWithSchema::from(&resource);
    let mut total = [Duration::ZERO; NAMES.len()];
    let mut json_batches = 0usize;
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
        drop(encoded);

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
        drop(data);
        total[6] += t.elapsed();
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
        pace: None,
    };
    let runs = env_num("POLYTRACE_BENCH_RUNS", 3).max(1) as usize;
    let protocols: Vec<Proto> =
        env_list("POLYTRACE_BENCH_PROTOCOLS", "grpc,http/protobuf,http/json")
            .iter()
            .map(|s| Proto::parse(s))
            .collect();
    let sides: Vec<Side> = env_list("POLYTRACE_BENCH_SIDES", "polytrace,sdk")
        .iter()
        .map(|s| match s.as_str() {
            "polytrace" => Side::Polytrace,
            "sdk" | "opentelemetry_sdk" => Side::Sdk,
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
        "rows: polytrace = the core as shipped (its queue and worker, the direct OTLP encoder and \
         the core's own gRPC/HTTP transports on its runtime, 2 requests in flight); \
         opentelemetry_sdk = SdkTracerProvider + BatchSpanProcessor + opentelemetry-otlp SpanExporter \
         (its futures run on a 1-worker tokio runtime)"
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
            let mut samples = Vec::new();
            for _ in 0..runs {
                samples.push(match side {
                    Side::Polytrace => run_polytrace(*proto, p),
                    Side::Sdk => run_sdk(*proto, p),
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

    // Steady state: a producer paced below the drain rate, at the specification's default
    // queue (2048) and batch (512); what the export threads cost per span at that rate.
    let rates: Vec<f64> = env_list("POLYTRACE_BENCH_STEADY", "100000,200000")
        .iter()
        .filter_map(|r| r.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
        .collect();
    let secs = env_num("POLYTRACE_BENCH_STEADY_SECONDS", 2) as f64;
    if !rates.is_empty() {
        println!();
        println!(
            "steady state: 1 producer paced at the rate shown for {secs:.0} s, max_queue_size 2048, \
             max_export_batch_size 512 (the defaults) on both sides; CPU ns per span of the \
             pipeline's threads (batch worker, export runtime; not the producer), median of {runs} runs"
        );
        println!(
            "{:<15} {:<18} {:>10} {:>14} {:>6}   runs (ns/span)",
            "protocol", "implementation", "spans/s", "pipeline ns", "lost"
        );
    }
    for rate in &rates {
        let steady = Params {
            spans: (rate * secs) as u64,
            queue: 2048,
            batch: 512,
            pace: Some(*rate),
        };
        for proto in &protocols {
            for side in &sides {
                let mut samples = Vec::new();
                for _ in 0..runs {
                    samples.push(match side {
                        Side::Polytrace => run_polytrace(*proto, steady),
                        Side::Sdk => run_sdk(*proto, steady),
                    });
                }
                let per_span = |s: &Sample| s.cpu.export * 1e6 / steady.spans as f64;
                let m = median(samples.iter().map(per_span).collect());
                let s = samples
                    .iter()
                    .find(|s| per_span(s) == m)
                    .copied()
                    .unwrap_or(samples[0]);
                let all: Vec<String> = samples
                    .iter()
                    .map(|s| format!("{:.0}", per_span(s)))
                    .collect();
                println!(
                    "{:<15} {:<18} {:>10} {:>14.0} {:>6}   {}",
                    proto.name(),
                    side.name(),
                    fmt_rate(*rate),
                    m,
                    s.lost,
                    all.join(", ")
                );
            }
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
