//! Export: turning queued records into the SDK's `SpanData` (off the hot path, on the batch
//! thread) and sending them — OTLP gRPC / HTTP protobuf / HTTP JSON through
//! `opentelemetry-otlp`, a console printer, and an OTLP-JSON-lines file writer.

use crate::batch::{BatchSink, Chunk};
use crate::config::{Compression, Config, ExporterKind, OtlpConfig, Protocol};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Scopes;
use crate::redaction::Redactor;
use crate::span::{to_system_time, SpanRecord};
use crate::types::{SpanContext, SpanKind, Status, Value};
use opentelemetry::trace as ot;
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

fn truncate_str(s: &str, max: usize) -> Option<&str> {
    if s.len() <= max {
        return None; // fewer bytes than the limit: fewer characters too
    }
    s.char_indices().nth(max).map(|(cut, _)| &s[..cut])
}

/// Truncates string values (and string array elements) to `limit` characters.
fn truncate_value(v: &mut opentelemetry::Value, limit: usize) {
    match v {
        opentelemetry::Value::String(s) => {
            if let Some(t) = truncate_str(s.as_str(), limit) {
                *s = StringValue::from(t.to_string());
            }
        }
        opentelemetry::Value::Array(Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(t) = truncate_str(s.as_str(), limit) {
                    *s = StringValue::from(t.to_string());
                }
            }
        }
        _ => {}
    }
}

fn truncate_all(attrs: &mut [KeyValue], limit: Option<usize>) {
    if let Some(max) = limit {
        for kv in attrs {
            truncate_value(&mut kv.value, max);
        }
    }
}

/// Converts a plain value for the SDK, truncating strings to the value-length limit.
pub(crate) fn to_otel_value(v: Value, limit: Option<usize>) -> opentelemetry::Value {
    let mut out = crate::span::to_otel_value(v);
    if let Some(max) = limit {
        truncate_value(&mut out, max);
    }
    out
}

/// Converts a span context to the SDK's.
pub(crate) fn to_otel_context(c: &SpanContext) -> ot::SpanContext {
    let state = if c.trace_state.is_empty() {
        ot::TraceState::default()
    } else {
        ot::TraceState::from_key_value(
            c.trace_state
                .entries()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or_default()
    };
    ot::SpanContext::new(
        ot::TraceId::from_bytes(c.trace_id.0),
        ot::SpanId::from_bytes(c.span_id.0),
        ot::TraceFlags::new(c.trace_flags.0),
        c.is_remote,
        state,
    )
}

fn to_otel_kind(k: SpanKind) -> ot::SpanKind {
    match k {
        SpanKind::Internal => ot::SpanKind::Internal,
        SpanKind::Server => ot::SpanKind::Server,
        SpanKind::Client => ot::SpanKind::Client,
        SpanKind::Producer => ot::SpanKind::Producer,
        SpanKind::Consumer => ot::SpanKind::Consumer,
    }
}

/// Converts one queued record into the SDK's `SpanData`, applying value truncation and
/// redaction. Mostly moves: the attributes are already in the SDK's form.
pub(crate) fn to_span_data(
    r: SpanRecord,
    scope: &InstrumentationScope,
    limit: Option<usize>,
    redactor: Option<&Redactor>,
) -> SpanData {
    // Inline attributes get their Vec here, on the export thread that also frees it.
    let mut attributes = r.attributes.into_vec();
    truncate_all(&mut attributes, limit);
    let mut events = SpanEvents::default();
    events.events = r
        .events
        .into_iter()
        .map(|e| {
            let mut a = e.attributes;
            truncate_all(&mut a, limit);
            ot::Event::new(e.name, to_system_time(e.time), a, e.dropped)
        })
        .collect();
    events.dropped_count = r.dropped_events;
    let mut links = SpanLinks::default();
    links.links = r
        .links
        .into_iter()
        .map(|l| {
            let mut a = l.attributes;
            truncate_all(&mut a, limit);
            ot::Link::new(to_otel_context(&l.context), a, l.dropped)
        })
        .collect();
    links.dropped_count = r.dropped_links;
    let mut data = SpanData {
        span_context: to_otel_context(&r.context),
        parent_span_id: ot::SpanId::from_bytes(r.parent_span_id.0),
        parent_span_is_remote: r.parent_is_remote,
        span_kind: to_otel_kind(r.kind),
        name: r.name,
        start_time: to_system_time(r.start),
        end_time: to_system_time(r.end),
        attributes,
        dropped_attributes_count: r.dropped_attributes,
        events,
        links,
        status: match r.status {
            Status::Unset => ot::Status::Unset,
            Status::Ok => ot::Status::Ok,
            Status::Error(d) => ot::Status::error(d),
        },
        instrumentation_scope: scope.clone(),
    };
    if let Some(red) = redactor {
        red.redact_span(&mut data);
    }
    data
}

/// Something that exports `SpanData` synchronously within a timeout.
pub(crate) trait Export: Send {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()>;
    fn shutdown(&mut self);
}

/// The batch sink: converts records and hands them to an [`Export`].
pub(crate) struct Sink {
    export: Box<dyn Export>,
    redactor: Option<Redactor>,
    scopes: Arc<Scopes>,
    /// The export thread's own copy of the scopes seen so far.
    cache: Vec<InstrumentationScope>,
    value_length_limit: Option<usize>,
}

impl Sink {
    pub(crate) fn new(
        export: Box<dyn Export>,
        redactor: Option<Redactor>,
        scopes: Arc<Scopes>,
        value_length_limit: Option<usize>,
    ) -> Sink {
        Sink {
            export,
            redactor,
            scopes,
            cache: Vec::new(),
            value_length_limit,
        }
    }
}

impl BatchSink for Sink {
    fn export(&mut self, batch: Chunk<'_, '_>) -> std::result::Result<(), String> {
        let fallback = InstrumentationScope::default();
        let mut data = Vec::with_capacity(batch.len());
        for r in batch {
            let i = r.scope as usize;
            if i >= self.cache.len() {
                let more = self.scopes.since(self.cache.len());
                self.cache.extend(more);
            }
            let scope = self.cache.get(i).unwrap_or(&fallback);
            data.push(to_span_data(
                r,
                scope,
                self.value_length_limit,
                self.redactor.as_ref(),
            ));
        }
        self.export.export(data).map_err(|e| e.to_string())
    }

    fn shutdown(&mut self) {
        self.export.shutdown();
    }
}

/// Runs any SDK `SpanExporter` on a runtime the core owns: the host languages have none, and
/// the gRPC exporter panics without one.
pub(crate) struct SdkExport<E: SpanExporter> {
    exporter: E,
    /// `None` once shut down.
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
}

impl<E: SpanExporter + 'static> SdkExport<E> {
    pub(crate) fn new(
        mut exporter: E,
        resource: &Resource,
        runtime: tokio::runtime::Runtime,
        timeout: Duration,
    ) -> Self {
        exporter.set_resource(resource);
        SdkExport {
            exporter,
            runtime: Some(runtime),
            timeout,
        }
    }
}

impl<E: SpanExporter + 'static> Export for SdkExport<E> {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let timeout = self.timeout;
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(Error::new(
                ErrorKind::AlreadyShutdown,
                "the exporter was shut down",
            ));
        };
        let _guard = runtime.enter();
        let mut fut = std::pin::pin!(self.exporter.export(batch));
        // Most in-process exporters finish at once: poll once before paying for `block_on` and
        // a timer. A network exporter returns Pending and continues under the timeout.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
            return r.map_err(|e| Error::new(ErrorKind::Export, e.to_string()));
        }
        drop(_guard);
        runtime.block_on(async move {
            match tokio::time::timeout(timeout, fut).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(Error::new(ErrorKind::Export, e.to_string())),
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!("export did not finish within {timeout:?}"),
                )),
            }
        })
    }

    fn shutdown(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            {
                let _guard = runtime.enter();
                let _ = self.exporter.shutdown_with_timeout(Duration::from_secs(1));
            }
            // Bounded: a hung export task cannot keep the batch thread from finishing.
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A runtime with one worker thread for the exporter's network I/O.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("polytrace-export")
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the export runtime: {e}")))
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

/// Builds the OTLP exporter for `otlp`, inside `runtime`'s context.
fn otlp_export(
    otlp: &OtlpConfig,
    resource: &Resource,
    export_timeout: Duration,
) -> Result<Box<dyn Export>> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
    let rt = runtime()?;
    let _guard = rt.enter();
    let build_err = |e: opentelemetry_otlp::ExporterBuildError| {
        Error::invalid_config(format!("cannot build the OTLP exporter: {e}"))
    };
    // Each attempt is bounded by the OTLP timeout, all retries by the batch export timeout.
    let timeout = otlp.timeout;
    let total = export_timeout.max(timeout);
    let exporter = match otlp.protocol {
        Protocol::Grpc => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (k, v) in &otlp.headers {
                let key =
                    tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
                        .map_err(|_| Error::invalid_config(format!("invalid header name '{k}'")))?;
                let val = tonic::metadata::MetadataValue::try_from(v.as_str()).map_err(|_| {
                    Error::invalid_config(format!("invalid value for header '{k}'"))
                })?;
                metadata.insert(key, val);
            }
            // opentelemetry-otlp merges the OTEL_EXPORTER_OTLP_*HEADERS environment over any
            // metadata it is given; the configuration already resolved headers (explicit option
            // > environment), so an interceptor — which runs after that merge — sends exactly
            // the resolved set.
            let mut b = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(grpc_endpoint(otlp))
                .with_timeout(timeout)
                .with_interceptor(move |mut req: tonic::Request<()>| {
                    *req.metadata_mut() = metadata.clone();
                    Ok(req)
                });
            if otlp.compression == Compression::Gzip {
                b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
            }
            let endpoint = grpc_endpoint(otlp);
            if endpoint.starts_with("https://")
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
                if let Some(host) = host_of(&endpoint) {
                    tls = tls.domain_name(host);
                }
                b = b.with_tls_config(tls);
            }
            b.build().map_err(build_err)?
        }
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let mut client = reqwest::Client::builder().timeout(timeout);
            if let Some(ca) = &otlp.certificate {
                let cert = reqwest::Certificate::from_pem(&read_file("certificate", ca)?).map_err(
                    |e| {
                        Error::invalid_config(format!(
                            "invalid certificate '{}': {e}",
                            ca.display()
                        ))
                    },
                )?;
                client = client.add_root_certificate(cert);
            }
            if let (Some(cert), Some(key)) = (&otlp.client_certificate, &otlp.client_key) {
                let mut pem = read_file("client certificate", cert)?;
                pem.push(b'\n');
                pem.extend(read_file("client key", key)?);
                let id = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    Error::invalid_config(format!("invalid client certificate/key: {e}"))
                })?;
                client = client.identity(id);
            }
            let client = client
                .build()
                .map_err(|e| Error::invalid_config(format!("cannot build the HTTP client: {e}")))?;
            let client = ExactHeaders::new(client, &otlp.headers, otlp.compression)?;
            let mut b = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_http_client(client)
                .with_endpoint(otlp.endpoint.clone())
                .with_timeout(timeout)
                .with_protocol(if otlp.protocol == Protocol::HttpJson {
                    opentelemetry_otlp::Protocol::HttpJson
                } else {
                    opentelemetry_otlp::Protocol::HttpBinary
                });
            if otlp.compression == Compression::Gzip {
                b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
            }
            b.build().map_err(build_err)?
        }
    };
    drop(_guard);
    Ok(Box::new(SdkExport::new(exporter, resource, rt, total)))
}

/// The HTTP client handed to opentelemetry-otlp. That crate merges the
/// `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` environment over the headers it is given (and decodes
/// their values a second time), and turns gzip on from `OTEL_EXPORTER_OTLP_*COMPRESSION` when it
/// is told nothing. The configuration already resolved both (explicit option > environment >
/// default), so this client sends exactly the resolved headers and compression.
#[derive(Debug)]
struct ExactHeaders {
    inner: reqwest::Client,
    headers: http::HeaderMap,
    /// Header names the crate may have added from the environment.
    env_names: Vec<http::HeaderName>,
    gzip: bool,
}

impl ExactHeaders {
    fn new(
        inner: reqwest::Client,
        headers: &[(String, String)],
        compression: Compression,
    ) -> Result<Self> {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::invalid_config(format!("invalid header name '{k}'")))?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|_| Error::invalid_config(format!("invalid value for header '{k}'")))?;
            map.insert(name, value);
        }
        let env_names = [
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .flat_map(|list| {
            list.split(',')
                .filter_map(|item| {
                    item.split_once('=')
                        .map(|(k, _)| k.trim().to_ascii_lowercase())
                })
                .filter_map(|k| http::HeaderName::from_bytes(k.as_bytes()).ok())
                .collect::<Vec<_>>()
        })
        .collect();
        Ok(ExactHeaders {
            inner,
            headers: map,
            env_names,
            gzip: compression == Compression::Gzip,
        })
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ExactHeaders {
    async fn send_bytes(
        &self,
        mut request: http::Request<bytes::Bytes>,
    ) -> std::result::Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let h = request.headers_mut();
        for name in &self.env_names {
            h.remove(name);
        }
        for (name, value) in &self.headers {
            h.insert(name.clone(), value.clone());
        }
        let env_gzip = h
            .get(http::header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        if env_gzip && !self.gzip {
            // Compression was configured off explicitly; undo what the environment turned on.
            let mut plain = Vec::with_capacity(request.body().len() * 4);
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&request.body()[..]),
                &mut plain,
            )?;
            request.headers_mut().remove(http::header::CONTENT_ENCODING);
            request.headers_mut().remove(http::header::CONTENT_LENGTH);
            *request.body_mut() = bytes::Bytes::from(plain);
        }
        self.inner.send_bytes(request).await
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

/// Prints one line per span to stdout (`OTEL_TRACES_EXPORTER=console`).
pub(crate) struct ConsoleExport;

impl Export for ConsoleExport {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for s in batch {
            let dur = s.end_time.duration_since(s.start_time).unwrap_or_default();
            let status = match &s.status {
                ot::Status::Error { description } => format!(" ERROR({description})"),
                ot::Status::Ok => " OK".to_string(),
                ot::Status::Unset => String::new(),
            };
            let attrs: Vec<String> = s
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            let _ = writeln!(
                out,
                "span {} trace={} id={} parent={} kind={:?} dur={:.3}ms{} [{}] events={}",
                s.name,
                s.span_context.trace_id(),
                s.span_context.span_id(),
                s.parent_span_id,
                s.span_kind,
                dur.as_secs_f64() * 1e3,
                status,
                attrs.join(", "),
                s.events.len()
            );
        }
        Ok(())
    }

    fn shutdown(&mut self) {
        let _ = std::io::stdout().flush();
    }
}

/// Appends one OTLP/JSON `ExportTraceServiceRequest` per batch as a line to a file — the
/// format the OpenTelemetry Collector's file exporter writes, and what `polytrace view` reads.
pub(crate) struct FileExport {
    file: std::fs::File,
    resource: opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
}

impl FileExport {
    pub(crate) fn open(path: &std::path::Path, resource: &Resource) -> Result<FileExport> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::invalid_config(format!(
                    "cannot open '{}' for the file exporter: {e}",
                    path.display()
                ))
            })?;
        Ok(FileExport {
            file,
            resource: resource.into(),
        })
    }
}

/// Encodes a batch as one OTLP/JSON line (the specification's JSON mapping, as the Collector's
/// file exporter writes it).
pub(crate) fn otlp_json_line(
    batch: Vec<SpanData>,
    resource: &opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
) -> Result<String> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let req = ExportTraceServiceRequest {
        resource_spans:
            opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope(
                batch, resource,
            ),
    };
    Ok(polytrace_otlp_json::request_to_json_line(&req))
}

impl Export for FileExport {
    fn export(&mut self, batch: Vec<SpanData>) -> Result<()> {
        let mut line = otlp_json_line(batch, &self.resource)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| {
                Error::new(
                    ErrorKind::Export,
                    format!("cannot write the trace file: {e}"),
                )
            })
    }

    fn shutdown(&mut self) {
        let _ = self.file.flush();
    }
}

/// Discards everything (`OTEL_TRACES_EXPORTER=none`); spans are still counted as exported.
pub(crate) struct NoExport;

impl Export for NoExport {
    fn export(&mut self, _batch: Vec<SpanData>) -> Result<()> {
        Ok(())
    }
    fn shutdown(&mut self) {}
}

/// Builds the exporter the configuration asks for.
pub(crate) fn build(config: &Config, resource: &Resource) -> Result<Box<dyn Export>> {
    match config.exporter {
        ExporterKind::Otlp => otlp_export(&config.otlp, resource, config.batch.export_timeout),
        ExporterKind::Console => Ok(Box::new(ConsoleExport)),
        ExporterKind::File => Ok(Box::new(FileExport::open(&config.file_path, resource)?)),
        ExporterKind::None => Ok(Box::new(NoExport)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_by_characters_on_boundaries() {
        assert_eq!(truncate_str("héllo", 2), Some("hé"));
        assert_eq!(truncate_str("abc", 5), None);
        assert_eq!(truncate_str("abc", 3), None);
        assert_eq!(truncate_str("日本語テキスト", 3), Some("日本語"));
        assert_eq!(truncate_str("日本", 2), None);
        let mut v = opentelemetry::Value::from("abcdef");
        truncate_value(&mut v, 2);
        assert_eq!(v.as_str(), "ab");
    }

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
}
