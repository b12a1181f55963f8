//! The OTLP exporter: batches encoded by [`encode`] on the batch
//! thread and sent by the core's own transports on the core's tokio runtime — gRPC through
//! tonic with a pass-through codec (the request is already protobuf bytes), HTTP through
//! reqwest (`application/x-protobuf`; `application/json` through `polytrace-otlp-json`, from proto
//! structs built via `SpanData`, which measured cheaper for JSON than re-reading the bytes).
//!
//! Requests are pipelined: up to [`MAX_IN_FLIGHT`] are outstanding while the batch thread
//! encodes the next, so encoding overlaps network I/O. Each request is retried on the OTLP
//! specification's retryable responses with exponential back-off and jitter, or after the
//! delay the server asks for, all within the export timeout; its outcome is counted when it is
//! known (`spans_exported` only for accepted spans). A flush waits for every request in
//! flight, bounded by that timeout. A shutdown bounds everything by its own deadline
//! ([`crate::export::drain`]): what is not delivered by then is counted as dropped, and a back
//! end that does not answer is not retried. While the back end is down, memory is bounded
//! by the queue, the batch thread's taken swap and `MAX_IN_FLIGHT` encoded requests.

mod encode;
mod grpc;
mod http;
mod retry;

pub(crate) use grpc::RawCodec;
pub(crate) use http::install_crypto_provider;

use crate::config::{OtlpConfig, Protocol};
use crate::error::{Error, Result};
use crate::export::drain::Drain;
use crate::export::redaction::Redactor;
use crate::export::{BatchSink, Chunk, Exported};
use crate::stats::Counters;
use crate::trace::scope::Scopes;
use bytes::Bytes;
use encode::Encoder;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests outstanding at once per exporter: enough to keep encoding and the network both
/// busy, few enough to bound memory when the back end is slow.
pub(crate) const MAX_IN_FLIGHT: usize = 2;

/// The configured transport.
enum Transport {
    Grpc(grpc::GrpcTransport),
    Http(http::HttpTransport),
}

/// A request as the batch thread hands it over.
enum Payload {
    /// Protobuf bytes from the direct encoder (gRPC, HTTP/protobuf).
    Protobuf(Vec<u8>),
    /// Proto structs, for OTLP/JSON.
    Structs(ExportTraceServiceRequest),
}

impl Transport {
    /// Must run inside the runtime (the lazy gRPC channel spawns its worker there).
    fn new(otlp: &OtlpConfig) -> Result<Transport> {
        Ok(match otlp.protocol {
            Protocol::Grpc => Transport::Grpc(grpc::GrpcTransport::new(otlp)?),
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                Transport::Http(http::HttpTransport::new(otlp)?)
            }
        })
    }

    /// Turns the request into the body this transport sends (once per request, not per
    /// attempt).
    fn body(&self, payload: Payload) -> std::result::Result<Bytes, String> {
        use prost::Message as _;
        let (json, gz) = match self {
            Transport::Grpc { .. } => (false, false), // tonic compresses gRPC itself
            Transport::Http(h) => (h.json, h.gzip),
        };
        let body = match (payload, json) {
            (Payload::Protobuf(bytes), false) => bytes,
            (Payload::Structs(req), false) => req.encode_to_vec(),
            (Payload::Structs(req), true) => {
                polytrace_otlp_json::request_to_json_line(&req).into_bytes()
            }
            (Payload::Protobuf(bytes), true) => {
                let req = ExportTraceServiceRequest::decode(&bytes[..])
                    .map_err(|e| format!("cannot re-read the encoded request: {e}"))?;
                polytrace_otlp_json::request_to_json_line(&req).into_bytes()
            }
        };
        if gz {
            http::gzip(&body)
                .map(Bytes::from)
                .map_err(|e| format!("cannot compress the request: {e}"))
        } else {
            Ok(Bytes::from(body))
        }
    }

    async fn attempt(&self, body: Bytes) -> retry::Attempt {
        match self {
            Transport::Grpc(g) => g.attempt(body).await,
            Transport::Http(h) => h.attempt(body).await,
        }
    }
}

/// The `partial_success` of an `ExportTraceServiceResponse` (protobuf).
pub(super) fn partial_success_proto(body: &[u8]) -> (u64, String) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    use prost::Message as _;
    match ExportTraceServiceResponse::decode(body) {
        Ok(r) => r
            .partial_success
            .map(|p| (p.rejected_spans.max(0) as u64, p.error_message))
            .unwrap_or_default(),
        Err(_) => (0, String::new()),
    }
}

/// The batch sink for `OTEL_TRACES_EXPORTER=otlp`.
pub(crate) struct OtlpSink {
    encoder: Encoder,
    /// `None` once shut down.
    runtime: Option<tokio::runtime::Runtime>,
    transport: Arc<Transport>,
    in_flight: Arc<tokio::sync::Semaphore>,
    counters: Arc<Counters>,
    attempt_timeout: Duration,
    /// Bound on one request with its retries.
    export_timeout: Duration,
    /// Capacity for the next request buffer (the last request's size).
    size_hint: usize,
    /// OTLP/JSON: batches go out as proto structs (see [`Encoder::request_structs`]).
    json: bool,
    /// The shutdown's deadline, once one began.
    drain: Arc<Drain>,
}

/// How long after the shutdown's deadline the batch thread waits for requests that are
/// ending to report, and for the runtime to stop. Both are quick: every request gives up by
/// the deadline itself.
const AFTER_DEADLINE: Duration = Duration::from_millis(100);

/// The spans of one request in flight: counted when its outcome is known, or as dropped if
/// the request is abandoned (its task dropped when the runtime stops at shutdown).
struct InFlight {
    n: u64,
    counters: Arc<Counters>,
    drain: Arc<Drain>,
    reported: bool,
}

impl InFlight {
    fn report(mut self, result: std::result::Result<(u64, String), String>) {
        self.reported = true;
        let (n, counters) = (self.n, &self.counters);
        match result {
            Ok((0, _)) => counters.report_export(n, Ok(())),
            Ok((rejected, message)) => {
                let rejected = rejected.min(n);
                counters.report_export(n - rejected, Ok(()));
                counters
                    .dropped_export_failed
                    .0
                    .fetch_add(rejected, std::sync::atomic::Ordering::Relaxed);
                crate::diag::emit_once(
                    crate::diag::Level::Warn,
                    "export-partial-success",
                    &format!(
                        "the back end rejected {rejected} of {n} spans (counted in stats().dropped_export_failed; further partial successes are not logged): {message}"
                    ),
                );
            }
            Err(why) => counters.report_export(n, Err(why)),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.reported {
            self.drain.cut();
            self.counters.report_export(
                self.n,
                Err("the exporter stopped before the back end answered".into()),
            );
        }
    }
}

impl OtlpSink {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        otlp: &OtlpConfig,
        resource: &opentelemetry_sdk::Resource,
        scopes: Arc<Scopes>,
        counters: Arc<Counters>,
        value_length_limit: Option<usize>,
        redactor: Option<Redactor>,
        export_timeout: Duration,
        drain: Arc<Drain>,
    ) -> Result<OtlpSink> {
        let runtime = crate::export::runtime()?;
        let transport = {
            let _guard = runtime.enter();
            Transport::new(otlp)?
        };
        Ok(OtlpSink {
            encoder: Encoder::new(resource, scopes, value_length_limit, redactor),
            runtime: Some(runtime),
            transport: Arc::new(transport),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            counters,
            attempt_timeout: otlp.timeout,
            // Each attempt is bounded by the OTLP timeout, all retries by the batch export
            // timeout (and never less than one attempt).
            export_timeout: export_timeout.max(otlp.timeout),
            size_hint: 0,
            json: otlp.protocol == Protocol::HttpJson,
            drain,
        })
    }

    /// Waits until no request is in flight: by the shutdown's deadline (and a moment for the
    /// requests to report) once one began, otherwise within one export timeout.
    fn wait_idle(&self) {
        let Some(rt) = self.runtime.as_ref() else {
            return;
        };
        let sem = Arc::clone(&self.in_flight);
        let until = match self.drain.deadline() {
            Some(d) => d + AFTER_DEADLINE,
            None => far(
                Instant::now(),
                self.export_timeout + Duration::from_millis(500),
            ),
        };
        rt.block_on(async move {
            if let Ok(Ok(all)) =
                tokio::time::timeout_at(until.into(), sem.acquire_many(MAX_IN_FLIGHT as u32)).await
            {
                drop(all);
            }
        });
    }
}

/// `from + by`, or a year from now when that does not fit (a timeout too large to add is as
/// good as none).
fn far(from: Instant, by: Duration) -> Instant {
    from.checked_add(by)
        .unwrap_or_else(|| from + Duration::from_secs(86_400 * 365))
}

/// A free request slot: at once, or when a request ends — but never after the shutdown's
/// deadline (then `Err`).
async fn slot(
    sem: Arc<tokio::sync::Semaphore>,
    drain: &Drain,
) -> std::result::Result<tokio::sync::OwnedSemaphorePermit, String> {
    let closed = |_| "the exporter was shut down".to_string();
    let by_deadline = |d: Instant, sem: Arc<tokio::sync::Semaphore>| async move {
        match tokio::time::timeout_at(d.into(), sem.acquire_owned()).await {
            Ok(p) => p.map_err(closed),
            Err(_) => {
                drain.cut();
                Err(
                    "not sent: the shutdown deadline passed while earlier requests were in flight"
                        .to_string(),
                )
            }
        }
    };
    let mut rx = drain.watch();
    if let Some(d) = *rx.borrow_and_update() {
        return by_deadline(d, sem).await;
    }
    let acquire = Arc::clone(&sem).acquire_owned();
    tokio::select! {
        p = acquire => p.map_err(closed),
        d = crate::export::drain::started(&mut rx) => by_deadline(d, sem).await,
    }
}

impl BatchSink for OtlpSink {
    fn export(&mut self, batch: Chunk<'_>) -> std::result::Result<Exported, String> {
        let Some(rt) = self.runtime.as_ref() else {
            return Err("the exporter was shut down".into());
        };
        let (payload, n) = if self.json {
            let (request, n) = self.encoder.request_structs(batch);
            (Payload::Structs(request), n as u64)
        } else {
            let mut proto = Vec::with_capacity(self.size_hint);
            let n = self.encoder.encode(batch, &mut proto) as u64;
            self.size_hint = proto.len() + proto.len() / 8;
            (Payload::Protobuf(proto), n)
        };
        if n == 0 {
            return Ok(Exported::Done);
        }
        // A free slot, or wait for one (bounded: every request ends by its deadline, and by
        // the shutdown's once one began).
        let permit = match Arc::clone(&self.in_flight).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => rt.block_on(slot(Arc::clone(&self.in_flight), &self.drain))?,
        };
        let transport = Arc::clone(&self.transport);
        let attempt_timeout = self.attempt_timeout;
        let deadline = far(Instant::now(), self.export_timeout);
        let drain = Arc::clone(&self.drain);
        let pending = InFlight {
            n,
            counters: Arc::clone(&self.counters),
            drain: Arc::clone(&self.drain),
            reported: false,
        };
        rt.spawn(async move {
            let result = match transport.body(payload) {
                Ok(body) => {
                    retry::deliver(
                        || transport.attempt(body.clone()),
                        attempt_timeout,
                        deadline,
                        &drain,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            pending.report(result);
            drop(permit);
        });
        Ok(Exported::InFlight)
    }

    fn finish_in_flight(&mut self) {
        self.wait_idle();
    }

    fn shutdown(&mut self) {
        self.wait_idle();
        if let Some(rt) = self.runtime.take() {
            // Bounded: a hung request cannot keep the batch thread from finishing. A request
            // still running is dropped here, and its spans counted as dropped (`InFlight`).
            rt.shutdown_timeout(AFTER_DEADLINE);
        }
    }
}

pub(super) fn read_file(what: &str, path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::invalid_config(format!("cannot read {what} '{}': {e}", path.display())))
}

pub(crate) fn user_agent() -> String {
    format!("polytrace/{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::http::partial_success_json;
    use super::*;

    #[test]
    fn partial_success_parsing() {
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceResponse,
        };
        use prost::Message as _;
        let resp = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 4,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(
            partial_success_proto(&resp.encode_to_vec()),
            (4, "too old".into())
        );
        assert_eq!(partial_success_proto(b""), (0, String::new()));
        assert_eq!(
            partial_success_json(
                br#"{"partialSuccess":{"rejectedSpans":"4","errorMessage":"too old"}}"#
            ),
            (4, "too old".into())
        );
        assert_eq!(
            partial_success_json(br#"{"partialSuccess":{"rejectedSpans":2}}"#),
            (2, String::new())
        );
        assert_eq!(partial_success_json(b"{}"), (0, String::new()));
        assert_eq!(partial_success_json(b"not json"), (0, String::new()));
    }
}
