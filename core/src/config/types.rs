//! The configuration's types: what [`Config::resolve`](super::Config::resolve) produces (the
//! resolved [`Config`] and its parts), what callers give ([`OptionValue`]) and the warnings
//! about environment values ([`ConfigWarning`]), with the defaults of the specification.

use super::sampler_arg::JaegerRemoteConfig;
use std::fmt;
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

impl ExporterKind {
    /// The canonical name (`otlp`, `console`, `file`, `none`), as [`Config::effective`] shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExporterKind::Otlp => "otlp",
            ExporterKind::Console => "console",
            ExporterKind::File => "file",
            ExporterKind::None => "none",
        }
    }

    /// Parses a name case-insensitively; `otlp_file` is accepted as an alias of `file`.
    pub fn from_name(name: &str) -> Option<ExporterKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "otlp" => Some(ExporterKind::Otlp),
            "console" => Some(ExporterKind::Console),
            "file" | "otlp_file" => Some(ExporterKind::File),
            "none" => Some(ExporterKind::None),
            _ => None,
        }
    }
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

impl Protocol {
    /// The canonical name (`grpc`, `http/protobuf`, `http/json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// Parses a name case-insensitively.
    pub fn from_name(name: &str) -> Option<Protocol> {
        match name.trim().to_ascii_lowercase().as_str() {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" => Some(Protocol::HttpProtobuf),
            "http/json" => Some(Protocol::HttpJson),
            _ => None,
        }
    }

    /// True for the two OTLP/HTTP encodings (the ones that get `/v1/traces` appended to the
    /// generic endpoint).
    pub fn is_http(self) -> bool {
        !matches!(self, Protocol::Grpc)
    }

    /// The specification's default endpoint for this transport.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => DEFAULT_GRPC_ENDPOINT,
            Protocol::HttpProtobuf | Protocol::HttpJson => DEFAULT_HTTP_ENDPOINT,
        }
    }
}

/// Payload compression (`OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `none` (default)
    None,
    /// `gzip`
    Gzip,
}

impl Compression {
    /// The canonical name (`none`, `gzip`).
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }

    /// Parses a name case-insensitively.
    pub fn from_name(name: &str) -> Option<Compression> {
        match name.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            _ => None,
        }
    }
}

/// Resolved OTLP exporter settings. `Debug` shows the headers' names, never their values.
#[derive(Clone, PartialEq)]
pub struct OtlpConfig {
    /// Full URL the exporter sends to. For HTTP the generic endpoint has `/v1/traces`
    /// appended; the per-signal endpoint is used as-is. Default `http://localhost:4317`
    /// (gRPC) or `http://localhost:4318/v1/traces` (HTTP). Always carries an `http` or `https`
    /// scheme: a scheme-less gRPC endpoint (`collector:4317`) gets `http://` when `insecure`
    /// is set and `https://` otherwise.
    pub endpoint: String,
    /// Transport. Default `http/protobuf`.
    pub protocol: Protocol,
    /// Extra headers / gRPC metadata (percent-decoded values; names lowercased, as gRPC
    /// metadata and HTTP/2 require).
    pub headers: Vec<(String, String)>,
    /// Per-export timeout (default 10 s). Bounds retries too. A configured `0` (the
    /// specification's "indefinite") is stored as 2³¹−1 ms.
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

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "***"))
            .collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("certificate", &self.certificate)
            .field("client_key", &self.client_key)
            .field("client_certificate", &self.client_certificate)
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl Default for OtlpConfig {
    /// The specification's defaults: HTTP/protobuf to `http://localhost:4318/v1/traces`.
    fn default() -> Self {
        OtlpConfig {
            endpoint: DEFAULT_HTTP_ENDPOINT.to_string(),
            protocol: Protocol::HttpProtobuf,
            headers: Vec::new(),
            timeout: Duration::from_millis(DEFAULT_OTLP_TIMEOUT_MS),
            compression: Compression::None,
            certificate: None,
            client_key: None,
            client_certificate: None,
            insecure: false,
        }
    }
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
    /// `ratelimiting` (polytrace's own): at most N new traces per second per process
    /// (default 100).
    RateLimiting(f64),
    /// `jaeger_remote`: the strategy Jaeger serves for this service, polled from an endpoint
    /// (see [`JaegerRemoteConfig`]).
    JaegerRemote(JaegerRemoteConfig),
    /// `parentbased_*`: the root sampler is used for spans without a parent (default
    /// `parentbased_always_on`, the specification's default sampler).
    ParentBased(Box<SamplerConfig>),
}

impl SamplerConfig {
    /// The `OTEL_TRACES_SAMPLER` name of this sampler (`parentbased_traceidratio`, ...).
    pub fn name(&self) -> String {
        match self {
            SamplerConfig::AlwaysOn => "always_on".to_string(),
            SamplerConfig::AlwaysOff => "always_off".to_string(),
            SamplerConfig::TraceIdRatio(_) => "traceidratio".to_string(),
            SamplerConfig::RateLimiting(_) => "ratelimiting".to_string(),
            SamplerConfig::JaegerRemote(_) => "jaeger_remote".to_string(),
            SamplerConfig::ParentBased(root) => format!("parentbased_{}", root.name()),
        }
    }

    /// The numeric sampler argument (ratio or traces per second), if this sampler takes one
    /// (see [`arg_text`](Self::arg_text) for every sampler's argument).
    pub fn arg(&self) -> Option<f64> {
        match self {
            SamplerConfig::AlwaysOn | SamplerConfig::AlwaysOff | SamplerConfig::JaegerRemote(_) => {
                None
            }
            SamplerConfig::TraceIdRatio(a) | SamplerConfig::RateLimiting(a) => Some(*a),
            SamplerConfig::ParentBased(root) => root.arg(),
        }
    }
}

impl Default for SamplerConfig {
    /// `parentbased_always_on`, the specification's default.
    fn default() -> Self {
        SamplerConfig::ParentBased(Box::new(SamplerConfig::AlwaysOn))
    }
}

/// A propagation format (`OTEL_PROPAGATORS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropagatorKind {
    /// W3C `traceparent` / `tracestate`.
    TraceContext,
    /// W3C `baggage`.
    Baggage,
}

impl PropagatorKind {
    /// The canonical name (`tracecontext`, `baggage`).
    pub fn as_str(self) -> &'static str {
        match self {
            PropagatorKind::TraceContext => "tracecontext",
            PropagatorKind::Baggage => "baggage",
        }
    }

    /// Parses a name case-insensitively (`none` is not a propagator and returns `None`).
    pub fn from_name(name: &str) -> Option<PropagatorKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Some(PropagatorKind::TraceContext),
            "baggage" => Some(PropagatorKind::Baggage),
            _ => None,
        }
    }
}

/// Batch span processor settings (`OTEL_BSP_*`).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchConfig {
    /// `OTEL_BSP_SCHEDULE_DELAY`, default 5000 ms.
    pub schedule_delay: Duration,
    /// `OTEL_BSP_EXPORT_TIMEOUT`, default 30000 ms (a configured `0`, "indefinite", is stored
    /// as 2³¹−1 ms).
    pub export_timeout: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`, default 2048.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512 (clamped to the queue size).
    pub max_export_batch_size: usize,
}

impl Default for BatchConfig {
    /// The specification's defaults.
    fn default() -> Self {
        BatchConfig {
            schedule_delay: Duration::from_millis(DEFAULT_SCHEDULE_DELAY_MS),
            export_timeout: Duration::from_millis(DEFAULT_EXPORT_TIMEOUT_MS),
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            max_export_batch_size: DEFAULT_MAX_EXPORT_BATCH_SIZE,
        }
    }
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
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT` (falls back to `OTEL_ATTRIBUTE_COUNT_LIMIT`, the
    /// general limit of every attribute collection), default 128.
    pub attributes_per_event: usize,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT` (falls back to `OTEL_ATTRIBUTE_COUNT_LIMIT`),
    /// default 128.
    pub attributes_per_link: usize,
}

impl Default for LimitsConfig {
    /// The specification's defaults: 128 everywhere, value length unlimited.
    fn default() -> Self {
        LimitsConfig {
            attribute_count: DEFAULT_LIMIT,
            attribute_value_length: None,
            event_count: DEFAULT_LIMIT,
            link_count: DEFAULT_LIMIT,
            attributes_per_event: DEFAULT_LIMIT,
            attributes_per_link: DEFAULT_LIMIT,
        }
    }
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

impl RedactionConfig {
    /// True when any scrubbing or hashing is configured.
    pub fn is_enabled(&self) -> bool {
        self.email || self.card || self.ssn || !self.hash_keys.is_empty()
    }
}

/// The fully resolved configuration of one provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `OTEL_SDK_DISABLED`: when true the provider creates only non-recording spans.
    pub disabled: bool,
    /// `OTEL_SERVICE_NAME`; if absent, `service.name` from resource attributes; if absent,
    /// `unknown_service:<process name>`.
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, in order, merged under the
    /// `resource_attributes` option (the option wins per key). `service.name` is not kept
    /// here: it is resolved into [`Config::service_name`].
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

impl Default for Config {
    /// Every default of the specification (and of polytrace), ignoring the environment.
    fn default() -> Self {
        Config {
            disabled: false,
            service_name: default_service_name(),
            resource_attributes: Vec::new(),
            exporter: ExporterKind::Otlp,
            otlp: OtlpConfig::default(),
            file_path: PathBuf::from(DEFAULT_FILE_PATH),
            sampler: SamplerConfig::default(),
            propagators: vec![PropagatorKind::TraceContext, PropagatorKind::Baggage],
            batch: BatchConfig::default(),
            limits: LimitsConfig::default(),
            redaction: RedactionConfig::default(),
            sdk_language: DEFAULT_SDK_LANGUAGE.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

/// Default OTLP/gRPC endpoint.
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// Default OTLP/HTTP traces endpoint.
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// Default file exporter path.
pub const DEFAULT_FILE_PATH: &str = "polytrace-traces.jsonl";
/// Default `telemetry.sdk.language`.
pub const DEFAULT_SDK_LANGUAGE: &str = "rust";
/// Default rate of the `ratelimiting` sampler, in new traces per second.
pub const DEFAULT_RATE_LIMIT: f64 = 100.0;

// The same defaults are written as text in the table of options (`options.rs`), where the
// documentation is generated from; a test checks that both give the same `Config`.
const DEFAULT_OTLP_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_SCHEDULE_DELAY_MS: u64 = 5_000;
const DEFAULT_EXPORT_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_MAX_QUEUE_SIZE: usize = 2048;
const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
const DEFAULT_LIMIT: usize = 128;
/// Largest integer (and millisecond) value accepted: 2³¹−1, the range the specification asks
/// every SDK to support. Also what an "indefinite" (`0`) timeout becomes.
pub(super) const MAX_INT: u64 = i32::MAX as u64;

/// A non-fatal problem (bad env value -> default used). Bindings route these to host logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The environment variable at fault (e.g. `OTEL_BSP_MAX_QUEUE_SIZE`).
    pub variable: String,
    /// One sentence naming the variable, the bad value and what was used instead.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `unknown_service:<executable name>` (the specification's default), or `unknown_service`
/// when the executable cannot be determined.
pub(super) fn default_service_name() -> String {
    match process_name() {
        Some(name) => format!("unknown_service:{name}"),
        None => "unknown_service".to_string(),
    }
}

/// The executable's file name (`python3.11`, `node`, `java`, `beam.smp`), without a Windows
/// `.exe` suffix: from `current_exe`, else from `argv[0]`.
fn process_name() -> Option<String> {
    let from_path = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .map(|n| match n.len().checked_sub(4) {
                Some(cut) if n.is_char_boundary(cut) && n[cut..].eq_ignore_ascii_case(".exe") => {
                    n[..cut].to_string()
                }
                _ => n,
            })
            .filter(|n| !n.is_empty())
    };
    std::env::current_exe()
        .ok()
        .and_then(|p| from_path(&p))
        .or_else(|| {
            std::env::args_os()
                .next()
                .and_then(|a| from_path(std::path::Path::new(&a)))
        })
}
