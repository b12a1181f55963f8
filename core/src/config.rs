//! Configuration, resolved once: explicit option > `OTEL_*` environment variable > default of
//! the OpenTelemetry specification. Bindings pass options by the same names (snake_case here,
//! host-cased in the binding) and never read the environment themselves.
//!
//! (Resolution is being written; the types below are the contract.)

use std::path::PathBuf;
use std::time::Duration;

/// A value given for an explicit option by a binding or a Rust caller.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    /// A string (also accepted for numbers and booleans, parsed like the env variable).
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A list of strings (e.g. `propagators`).
    List(Vec<String>),
    /// A string map (e.g. `headers`, `resource_attributes`).
    Map(Vec<(String, String)>),
}

/// Which exporter the pipeline uses (`OTEL_TRACES_EXPORTER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP over the configured protocol (default).
    Otlp,
    /// Human-readable lines on stdout.
    Console,
    /// OTLP JSON lines appended to a file (the Collector file exporter's format).
    File,
    /// No export (spans are still created and counted).
    None,
}

/// OTLP transport (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `grpc`
    Grpc,
    /// `http/protobuf` (the specification's default)
    HttpProtobuf,
    /// `http/json`
    HttpJson,
}

/// Payload compression (`OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `none` (default)
    None,
    /// `gzip`
    Gzip,
}

/// Resolved OTLP exporter settings.
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpConfig {
    /// Full URL the exporter sends to. For HTTP the generic endpoint has `/v1/traces`
    /// appended; the per-signal endpoint is used as-is. Default `http://localhost:4317`
    /// (gRPC) or `http://localhost:4318/v1/traces` (HTTP).
    pub endpoint: String,
    /// Transport. Default `http/protobuf`.
    pub protocol: Protocol,
    /// Extra headers / gRPC metadata (percent-decoded values).
    pub headers: Vec<(String, String)>,
    /// Per-export timeout (default 10 s). Bounds retries too.
    pub timeout: Duration,
    /// Compression. Default none.
    pub compression: Compression,
    /// PEM CA bundle used to verify the server.
    pub certificate: Option<PathBuf>,
    /// PEM client private key for mTLS.
    pub client_key: Option<PathBuf>,
    /// PEM client certificate chain for mTLS.
    pub client_certificate: Option<PathBuf>,
    /// gRPC only: plaintext even if the endpoint scheme is not `http` (default false).
    pub insecure: bool,
}

/// The sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
#[derive(Clone, Debug, PartialEq)]
pub enum SamplerConfig {
    /// `always_on`
    AlwaysOn,
    /// `always_off`
    AlwaysOff,
    /// `traceidratio` with ratio in [0, 1] (default 1.0)
    TraceIdRatio(f64),
    /// `ratelimiting`: at most N new traces per second per process (default 100).
    RateLimiting(f64),
    /// `parentbased_*`: the root sampler is used for spans without a parent (default
    /// `parentbased_always_on`, the specification's default sampler).
    ParentBased(Box<SamplerConfig>),
}

/// A propagation format (`OTEL_PROPAGATORS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropagatorKind {
    /// W3C `traceparent` / `tracestate`.
    TraceContext,
    /// W3C `baggage`.
    Baggage,
}

/// Batch span processor settings (`OTEL_BSP_*`).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchConfig {
    /// `OTEL_BSP_SCHEDULE_DELAY`, default 5000 ms.
    pub schedule_delay: Duration,
    /// `OTEL_BSP_EXPORT_TIMEOUT`, default 30000 ms.
    pub export_timeout: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`, default 2048.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512 (clamped to the queue size).
    pub max_export_batch_size: usize,
}

/// Span limits. `None` means unlimited.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitsConfig {
    /// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT` (falls back to `OTEL_ATTRIBUTE_COUNT_LIMIT`), default 128.
    pub attribute_count: usize,
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` (falls back to
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`), default unlimited.
    pub attribute_value_length: Option<usize>,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT`, default 128.
    pub event_count: usize,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT`, default 128.
    pub link_count: usize,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, default 128.
    pub attributes_per_event: usize,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, default 128.
    pub attributes_per_link: usize,
}

/// Redaction of attribute values before export. Off by default.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RedactionConfig {
    /// Scrub e-mail addresses.
    pub email: bool,
    /// Scrub payment card numbers (Luhn-checked).
    pub card: bool,
    /// Scrub US social security numbers.
    pub ssn: bool,
    /// Attribute keys whose values are replaced by a hash.
    pub hash_keys: Vec<String>,
}

/// The fully resolved configuration of one provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `OTEL_SDK_DISABLED`: when true the provider creates only non-recording spans.
    pub disabled: bool,
    /// `OTEL_SERVICE_NAME`; if absent, `service.name` from resource attributes; if absent,
    /// `unknown_service:<process name>`.
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, in order.
    pub resource_attributes: Vec<(String, String)>,
    /// `OTEL_TRACES_EXPORTER`, default `otlp`.
    pub exporter: ExporterKind,
    /// OTLP settings.
    pub otlp: OtlpConfig,
    /// File exporter path (`POLYTRACE_EXPORTER_FILE_PATH`, default `polytrace-traces.jsonl`).
    pub file_path: PathBuf,
    /// Sampler, default `parentbased_always_on`.
    pub sampler: SamplerConfig,
    /// Propagators, default `tracecontext,baggage`; empty for `none`.
    pub propagators: Vec<PropagatorKind>,
    /// Batching.
    pub batch: BatchConfig,
    /// Limits.
    pub limits: LimitsConfig,
    /// Redaction (`POLYTRACE_REDACT`, `POLYTRACE_REDACT_HASH_KEYS`).
    pub redaction: RedactionConfig,
    /// `telemetry.sdk.language` reported by the binding (`rust` by default).
    pub sdk_language: String,
}
