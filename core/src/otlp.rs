//! The OTLP exporter: batches encoded by [`otlp_encode`](crate::otlp_encode) on the batch
//! thread and sent by the core's own transports on the core's tokio runtime — gRPC through
//! tonic with a pass-through codec (the request is already protobuf bytes), HTTP through
//! reqwest (`application/x-protobuf`; `application/json` through `polytrace-otlp-json`, from proto
//! structs built via `SpanData`, which measured cheaper for JSON than re-reading the bytes).
//!
//! Requests are pipelined: up to [`MAX_IN_FLIGHT`] are outstanding while the batch thread
//! encodes the next, so encoding overlaps network I/O. Each request is retried on the OTLP
//! specification's retryable responses with exponential back-off and jitter, or after the
//! delay the server asks for, all within the export timeout; its outcome is counted when it is
//! known (`spans_exported` only for accepted spans). A flush or shutdown waits for every
//! request in flight, bounded by that timeout. While the back end is down, memory is bounded
//! by the queue, the batch thread's taken swap and `MAX_IN_FLIGHT` encoded requests.

use crate::batch::{self, BatchSink, Chunk, Exported};
use crate::config::{Compression, OtlpConfig, Protocol};
use crate::error::{Error, Result};
use crate::otlp_encode::Encoder;
use crate::pipeline::Scopes;
use crate::redaction::Redactor;
use crate::stats::Counters;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests outstanding at once per exporter: enough to keep encoding and the network both
/// busy, few enough to bound memory when the back end is slow.
pub(crate) const MAX_IN_FLIGHT: usize = 2;

/// The gRPC method of the OTLP trace service.
const GRPC_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// First back-off delay; doubled per retry up to [`MAX_BACKOFF`], plus up to half of it as
/// jitter.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

// ------------------------------------------------------------------ the gRPC codec

/// A tonic codec that sends already-encoded message bytes and hands back the response's
/// bytes undecoded.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
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
    ) -> std::result::Result<(), tonic::Status> {
        use bytes::BufMut as _;
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> std::result::Result<Option<Bytes>, tonic::Status> {
        use bytes::Buf as _;
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}

// ------------------------------------------------------------------ transports

enum Transport {
    Grpc {
        client: tonic::client::Grpc<tonic::transport::Channel>,
        metadata: tonic::metadata::MetadataMap,
    },
    Http {
        client: reqwest::Client,
        /// Parsed once: parsing (with IDNA host processing) per request cost the export
        /// thread more than the request's headers.
        url: reqwest::Url,
        /// Content type and the configured headers, exactly.
        headers: http::HeaderMap,
        json: bool,
        gzip: bool,
    },
}

/// A request as the batch thread hands it over.
enum Payload {
    /// Protobuf bytes from the direct encoder (gRPC, HTTP/protobuf).
    Protobuf(Vec<u8>),
    /// Proto structs, for OTLP/JSON.
    Structs(ExportTraceServiceRequest),
}

/// What one attempt came to.
#[derive(Debug, PartialEq)]
enum Attempt {
    /// Accepted; the number of spans the back end says it rejected (partial success).
    Accepted { rejected: u64, message: String },
    /// Worth retrying, after the server's delay when it gave one.
    Retry {
        after: Option<Duration>,
        why: String,
    },
    /// Permanent failure.
    Fail(String),
}

/// The gRPC codes the OTLP specification calls retryable (RESOURCE_EXHAUSTED only when the
/// server sent a RetryInfo saying when).
fn classify_grpc(status: &tonic::Status) -> Attempt {
    use tonic::Code;
    use tonic_types::StatusExt as _;
    let delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    let why = format!("gRPC {:?}: {}", status.code(), status.message());
    match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => Attempt::Retry { after: delay, why },
        Code::ResourceExhausted if delay.is_some() => Attempt::Retry { after: delay, why },
        _ => Attempt::Fail(why),
    }
}

/// `Retry-After` in seconds (the form OTLP receivers send) or as an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(v)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP/1.1 senders must use.
fn parse_http_date(v: &str) -> Option<std::time::SystemTime> {
    let mut it = v.split_whitespace();
    let _weekday = it.next()?;
    let day: u64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) {
        return None;
    }
    let mut hms = it.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || day == 0 || day > 31 || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// The `partial_success` of an `ExportTraceServiceResponse` (protobuf).
fn partial_success_proto(body: &[u8]) -> (u64, String) {
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

/// The `partialSuccess` of an `ExportTraceServiceResponse` (OTLP JSON; int64 may be a string).
fn partial_success_json(body: &[u8]) -> (u64, String) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (0, String::new());
    };
    let Some(p) = v.get("partialSuccess").or_else(|| v.get("partial_success")) else {
        return (0, String::new());
    };
    let rejected = p
        .get("rejectedSpans")
        .or_else(|| p.get("rejected_spans"))
        .and_then(|r| {
            r.as_u64()
                .or_else(|| r.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0);
    let message = p
        .get("errorMessage")
        .or_else(|| p.get("error_message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    (rejected, message)
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    enc.write_all(body)?;
    enc.finish()
}

impl Transport {
    /// Turns the request into the body this transport sends (once per request, not per
    /// attempt).
    fn body(&self, payload: Payload) -> std::result::Result<Bytes, String> {
        use prost::Message as _;
        let (json, gz) = match self {
            Transport::Grpc { .. } => (false, false), // tonic compresses gRPC itself
            Transport::Http { json, gzip, .. } => (*json, *gzip),
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
            gzip(&body)
                .map(Bytes::from)
                .map_err(|e| format!("cannot compress the request: {e}"))
        } else {
            Ok(Bytes::from(body))
        }
    }

    async fn attempt(&self, body: Bytes) -> Attempt {
        match self {
            Transport::Grpc { client, metadata } => {
                let mut grpc = client.clone();
                if let Err(e) = grpc.ready().await {
                    return Attempt::Retry {
                        after: None,
                        why: format!("gRPC channel not ready: {e}"),
                    };
                }
                let mut req = tonic::Request::new(body);
                *req.metadata_mut() = metadata.clone();
                let path = http::uri::PathAndQuery::from_static(GRPC_PATH);
                match grpc.unary::<Bytes, Bytes, _>(req, path, RawCodec).await {
                    Ok(resp) => {
                        let (rejected, message) = partial_success_proto(resp.get_ref());
                        Attempt::Accepted { rejected, message }
                    }
                    Err(status) => classify_grpc(&status),
                }
            }
            Transport::Http {
                client,
                url,
                headers,
                json,
                ..
            } => {
                let resp = match client
                    .post(url.clone())
                    .headers(headers.clone())
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) => r,
                    // Connection refused or reset, TLS failure, timeout: retryable until the
                    // export timeout.
                    Err(e) => {
                        return Attempt::Retry {
                            after: None,
                            why: format!("HTTP request failed: {e}"),
                        }
                    }
                };
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let body = resp.bytes().await.unwrap_or_default();
                if status.is_success() {
                    let (rejected, message) = if *json {
                        partial_success_json(&body)
                    } else {
                        partial_success_proto(&body)
                    };
                    return Attempt::Accepted { rejected, message };
                }
                let why = format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                );
                match status.as_u16() {
                    429 | 502 | 503 | 504 => Attempt::Retry {
                        after: retry_after,
                        why,
                    },
                    _ => Attempt::Fail(why),
                }
            }
        }
    }
}

/// A random jitter in `[0, max]`.
fn jitter(max: Duration) -> Duration {
    let ms = max.as_millis() as u64;
    Duration::from_millis(crate::ids::next_u64() % (ms + 1))
}

/// Sends one request until it is accepted, fails permanently, or the next attempt could not
/// finish before `deadline`. Each attempt is bounded by `attempt_timeout`.
async fn deliver(
    transport: &Transport,
    body: Bytes,
    attempt_timeout: Duration,
    deadline: Instant,
) -> std::result::Result<(u64, String), String> {
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err("the export timeout elapsed".into());
        }
        let limit = attempt_timeout.min(remaining);
        let outcome = match tokio::time::timeout(limit, transport.attempt(body.clone())).await {
            Ok(a) => a,
            Err(_) => Attempt::Retry {
                after: None,
                why: format!("no answer within {limit:?}"),
            },
        };
        match outcome {
            Attempt::Accepted { rejected, message } => return Ok((rejected, message)),
            Attempt::Fail(why) => return Err(why),
            Attempt::Retry { after, why } => {
                // The server's delay when it gave one, but never less than the back-off (a
                // `Retry-After: 0` must not turn into a tight loop).
                let own = backoff + jitter(backoff / 2);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                let wait = after.map_or(own, |d| d.max(own));
                if Instant::now()
                    .checked_add(wait)
                    .is_none_or(|resume| resume >= deadline)
                {
                    return Err(format!(
                        "{why} (not retried: the export timeout ends within the {wait:?} wait)"
                    ));
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}

// ------------------------------------------------------------------ the sink

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
    ) -> Result<OtlpSink> {
        let runtime = crate::export::runtime()?;
        let transport = {
            let _guard = runtime.enter();
            match otlp.protocol {
                Protocol::Grpc => grpc_transport(otlp)?,
                Protocol::HttpProtobuf | Protocol::HttpJson => http_transport(otlp)?,
            }
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
        })
    }

    /// Waits until no request is in flight, bounded by one export timeout.
    fn wait_idle(&self) {
        let Some(rt) = self.runtime.as_ref() else {
            return;
        };
        let sem = Arc::clone(&self.in_flight);
        let bound = self
            .export_timeout
            .saturating_add(Duration::from_millis(500));
        rt.block_on(async move {
            if let Ok(Ok(all)) =
                tokio::time::timeout(bound, sem.acquire_many(MAX_IN_FLIGHT as u32)).await
            {
                drop(all);
            }
        });
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
        // A free slot, or wait (bounded: every request ends by its deadline) for one.
        let permit = match Arc::clone(&self.in_flight).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let sem = Arc::clone(&self.in_flight);
                rt.block_on(sem.acquire_owned())
                    .map_err(|_| "the exporter was shut down".to_string())?
            }
        };
        let transport = Arc::clone(&self.transport);
        let counters = Arc::clone(&self.counters);
        let attempt_timeout = self.attempt_timeout;
        // A timeout too large to add is as good as none.
        let deadline = Instant::now()
            .checked_add(self.export_timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        rt.spawn(async move {
            let result = match transport.body(payload) {
                Ok(body) => deliver(&transport, body, attempt_timeout, deadline).await,
                Err(e) => Err(e),
            };
            match result {
                Ok((0, _)) => batch::report(&counters, n, Ok(())),
                Ok((rejected, message)) => {
                    let rejected = rejected.min(n);
                    batch::report(&counters, n - rejected, Ok(()));
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
                Err(why) => batch::report(&counters, n, Err(why)),
            }
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
            // Bounded: a hung request cannot keep the batch thread from finishing.
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

fn read_file(what: &str, path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::invalid_config(format!("cannot read {what} '{}': {e}", path.display())))
}

fn grpc_endpoint(otlp: &OtlpConfig) -> String {
    if otlp.endpoint.contains("://") {
        otlp.endpoint.clone()
    } else if otlp.insecure {
        format!("http://{}", otlp.endpoint)
    } else {
        format!("https://{}", otlp.endpoint)
    }
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = if let Some(stripped) = authority.strip_prefix('[') {
        stripped.split(']').next()?
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    };
    Some(host.to_string())
}

fn user_agent() -> String {
    format!("polytrace/{}", env!("CARGO_PKG_VERSION"))
}

/// Must run inside the runtime (the lazy channel spawns its worker there).
fn grpc_transport(otlp: &OtlpConfig) -> Result<Transport> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (k, v) in &otlp.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|_| Error::invalid_config(format!("invalid header name '{k}'")))?;
        let val = tonic::metadata::MetadataValue::try_from(v.as_str())
            .map_err(|_| Error::invalid_config(format!("invalid value for header '{k}'")))?;
        metadata.insert(key, val);
    }
    let url = grpc_endpoint(otlp);
    let mut endpoint = tonic::transport::Endpoint::from_shared(url.clone())
        .map_err(|e| Error::invalid_config(format!("invalid OTLP endpoint '{url}': {e}")))?
        .connect_timeout(otlp.timeout)
        .user_agent(user_agent())
        .map_err(|e| Error::internal(format!("invalid user agent: {e}")))?;
    if url.starts_with("https://")
        || otlp.certificate.is_some()
        || otlp.client_certificate.is_some()
    {
        let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(ca) = &otlp.certificate {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(read_file(
                "certificate",
                ca,
            )?));
        }
        if let (Some(cert), Some(key)) = (&otlp.client_certificate, &otlp.client_key) {
            tls = tls.identity(tonic::transport::Identity::from_pem(
                read_file("client certificate", cert)?,
                read_file("client key", key)?,
            ));
        }
        if let Some(host) = host_of(&url) {
            tls = tls.domain_name(host);
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| Error::invalid_config(format!("invalid TLS configuration: {e}")))?;
    }
    let mut client = tonic::client::Grpc::new(endpoint.connect_lazy());
    if otlp.compression == Compression::Gzip {
        client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
    }
    Ok(Transport::Grpc { client, metadata })
}

fn http_transport(otlp: &OtlpConfig) -> Result<Transport> {
    let mut client = reqwest::Client::builder()
        .timeout(otlp.timeout)
        .user_agent(user_agent());
    if let Some(ca) = &otlp.certificate {
        let cert = reqwest::Certificate::from_pem(&read_file("certificate", ca)?).map_err(|e| {
            Error::invalid_config(format!("invalid certificate '{}': {e}", ca.display()))
        })?;
        client = client.add_root_certificate(cert);
    }
    if let (Some(cert), Some(key)) = (&otlp.client_certificate, &otlp.client_key) {
        let mut pem = read_file("client certificate", cert)?;
        pem.push(b'\n');
        pem.extend(read_file("client key", key)?);
        let id = reqwest::Identity::from_pem(&pem)
            .map_err(|e| Error::invalid_config(format!("invalid client certificate/key: {e}")))?;
        client = client.identity(id);
    }
    let client = client
        .build()
        .map_err(|e| Error::invalid_config(format!("cannot build the HTTP client: {e}")))?;
    let json = otlp.protocol == Protocol::HttpJson;
    let gzip = otlp.compression == Compression::Gzip;
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(if json {
            "application/json"
        } else {
            "application/x-protobuf"
        }),
    );
    if gzip {
        headers.insert(
            http::header::CONTENT_ENCODING,
            http::HeaderValue::from_static("gzip"),
        );
    }
    for (k, v) in &otlp.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Error::invalid_config(format!("invalid header name '{k}'")))?;
        let value = http::HeaderValue::from_str(v)
            .map_err(|_| Error::invalid_config(format!("invalid value for header '{k}'")))?;
        headers.insert(name, value);
    }
    let url = reqwest::Url::parse(&otlp.endpoint).map_err(|e| {
        Error::invalid_config(format!("invalid OTLP endpoint '{}': {e}", otlp.endpoint))
    })?;
    Ok(Transport::Http {
        client,
        url,
        headers,
        json,
        gzip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parsing() {
        assert_eq!(
            host_of("https://localhost:4317").as_deref(),
            Some("localhost")
        );
        assert_eq!(host_of("https://[::1]:4317/x").as_deref(), Some("::1"));
        assert_eq!(
            host_of("https://example.test").as_deref(),
            Some("example.test")
        );
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(std::time::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"),
            None
        );
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn grpc_codes_per_the_otlp_spec() {
        use tonic::Code;
        for code in [
            Code::Unavailable,
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::DataLoss,
        ] {
            assert!(
                matches!(
                    classify_grpc(&tonic::Status::new(code, "x")),
                    Attempt::Retry { after: None, .. }
                ),
                "{code:?}"
            );
        }
        for code in [
            Code::ResourceExhausted,
            Code::InvalidArgument,
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::Internal,
            Code::Unknown,
        ] {
            assert!(
                matches!(
                    classify_grpc(&tonic::Status::new(code, "x")),
                    Attempt::Fail(_)
                ),
                "{code:?}"
            );
        }
        use tonic_types::{ErrorDetails, StatusExt as _};
        let throttled = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            ErrorDetails::with_retry_info(Some(Duration::from_millis(1500))),
        );
        assert_eq!(
            classify_grpc(&throttled),
            Attempt::Retry {
                after: Some(Duration::from_millis(1500)),
                why: "gRPC ResourceExhausted: slow down".into()
            }
        );
    }

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

    #[test]
    fn jitter_is_bounded() {
        for _ in 0..1000 {
            assert!(jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}
