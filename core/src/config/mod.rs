//! Configuration, resolved once: explicit option > `OTEL_*` environment variable > default of
//! the OpenTelemetry specification. Bindings pass options by the same names (snake_case here,
//! host-cased in the binding) and never read the environment themselves.
//!
//! Two kinds of bad input are treated differently on purpose:
//!
//! * an **invalid environment value** never fails: the variable is ignored as if it were unset
//!   (the specification's rule), the next source in the chain (generic variable, then default)
//!   is used and a [`ConfigWarning`] names the variable, the value and what was used instead;
//! * an **invalid explicit option** (unknown name, wrong type, bad value) is a programming error
//!   in the host application, so [`Config::resolve`] returns an [`ErrorKind::InvalidConfig`]
//!   error whose message names the option; bindings raise it as an exception.
//!
//! Empty (or all-whitespace) environment values are treated as unset, as the specification
//! requires. The full table of variables and options is in `docs/configuration.md`.
//!
//! [`ErrorKind::InvalidConfig`]: crate::error::ErrorKind::InvalidConfig

use crate::error::{Error, Result};
use std::collections::HashMap;

mod sampler_arg;
pub use sampler_arg::{
    JaegerRemoteConfig, RemoteTransport, DEFAULT_JAEGER_REMOTE_ENDPOINT,
    DEFAULT_JAEGER_REMOTE_INITIAL_RATE, DEFAULT_JAEGER_REMOTE_POLLING_MS,
};
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

/// Resolved OTLP exporter settings.
#[derive(Clone, Debug, PartialEq)]
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
// Defaults and names
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

const DEFAULT_OTLP_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_SCHEDULE_DELAY_MS: u64 = 5_000;
const DEFAULT_EXPORT_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_MAX_QUEUE_SIZE: usize = 2048;
const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
const DEFAULT_LIMIT: usize = 128;
/// Largest integer (and millisecond) value accepted: 2³¹−1, the range the specification asks
/// every SDK to support. Also what an "indefinite" (`0`) timeout becomes.
const MAX_INT: u64 = i32::MAX as u64;
const HTTP_TRACES_PATH: &str = "v1/traces";

/// Every accepted explicit option name (snake_case). Bindings may also pass them camelCase or
/// kebab-case (`maxQueueSize`, `max-queue-size`); the core normalizes the spelling.
pub const OPTION_NAMES: &[&str] = &[
    "disabled",
    "service_name",
    "resource_attributes",
    "exporter",
    "endpoint",
    "traces_endpoint",
    "protocol",
    "headers",
    "timeout",
    "compression",
    "certificate",
    "client_key",
    "client_certificate",
    "insecure",
    "file_path",
    "sampler",
    "sampler_arg",
    "propagators",
    "schedule_delay",
    "export_timeout",
    "max_queue_size",
    "max_export_batch_size",
    "attribute_count_limit",
    "attribute_value_length_limit",
    "event_count_limit",
    "link_count_limit",
    "event_attribute_count_limit",
    "link_attribute_count_limit",
    "redact",
    "redact_hash_keys",
    "sdk_language",
];

// ---------------------------------------------------------------------------------------------
// Warnings
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

impl Config {
    /// explicit option > OTEL_* env > spec default. `env` is a lookup function so tests and vectors can inject a fake environment.
    ///
    /// Invalid environment values produce [`ConfigWarning`]s and fall back; invalid options
    /// (unknown name, wrong type, bad value, given twice) return an
    /// [`ErrorKind::InvalidConfig`](crate::error::ErrorKind::InvalidConfig) error naming the
    /// option.
    pub fn resolve(
        options: &[(String, OptionValue)],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<ConfigWarning>)> {
        let mut r = Resolver::new(options, env)?;
        let config = r.config()?;
        Ok((config, r.warnings))
    }

    /// resolve with the real process environment
    ///
    /// Values that are not valid UTF-8 are decoded lossily (and then usually rejected with a
    /// warning by the variable's parser).
    pub fn from_env(options: &[(String, OptionValue)]) -> Result<(Config, Vec<ConfigWarning>)> {
        let lookup = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        Config::resolve(options, &lookup)
    }

    /// The effective configuration flattened as canonical (option name, string value) pairs, sorted by name — used by the shared vectors in every language.
    ///
    /// Keys are option names (every one except `traces_endpoint`: `endpoint` is the final URL).
    /// Formats: booleans `true`/`false`; durations in whole milliseconds; unset paths and an
    /// unlimited value length as `""`; maps as `k=v,k2=v2` with `%`, `,` and `=` in keys and
    /// values percent-encoded; lists comma-separated; `propagators` is `none` when empty;
    /// `sampler_arg` is `""` for samplers without an argument; `redact` lists the enabled
    /// scrubbers in the order `email,card,ssn`.
    pub fn effective(&self) -> Vec<(String, String)> {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let ms = |d: Duration| d.as_millis().to_string();
        let mut redact = Vec::new();
        if self.redaction.email {
            redact.push("email");
        }
        if self.redaction.card {
            redact.push("card");
        }
        if self.redaction.ssn {
            redact.push("ssn");
        }
        let propagators = if self.propagators.is_empty() {
            "none".to_string()
        } else {
            join(self.propagators.iter().map(|p| p.as_str()))
        };
        let mut out: Vec<(String, String)> = vec![
            ("disabled", self.disabled.to_string()),
            ("service_name", self.service_name.clone()),
            (
                "resource_attributes",
                encode_pairs(&self.resource_attributes),
            ),
            ("exporter", self.exporter.as_str().to_string()),
            ("endpoint", self.otlp.endpoint.clone()),
            ("protocol", self.otlp.protocol.as_str().to_string()),
            ("headers", encode_pairs(&self.otlp.headers)),
            ("timeout", ms(self.otlp.timeout)),
            ("compression", self.otlp.compression.as_str().to_string()),
            ("certificate", path(&self.otlp.certificate)),
            ("client_key", path(&self.otlp.client_key)),
            ("client_certificate", path(&self.otlp.client_certificate)),
            ("insecure", self.otlp.insecure.to_string()),
            ("file_path", self.file_path.to_string_lossy().into_owned()),
            ("sampler", self.sampler.name()),
            ("sampler_arg", self.sampler.arg_text()),
            ("propagators", propagators),
            ("schedule_delay", ms(self.batch.schedule_delay)),
            ("export_timeout", ms(self.batch.export_timeout)),
            ("max_queue_size", self.batch.max_queue_size.to_string()),
            (
                "max_export_batch_size",
                self.batch.max_export_batch_size.to_string(),
            ),
            (
                "attribute_count_limit",
                self.limits.attribute_count.to_string(),
            ),
            (
                "attribute_value_length_limit",
                self.limits
                    .attribute_value_length
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            ),
            ("event_count_limit", self.limits.event_count.to_string()),
            ("link_count_limit", self.limits.link_count.to_string()),
            (
                "event_attribute_count_limit",
                self.limits.attributes_per_event.to_string(),
            ),
            (
                "link_attribute_count_limit",
                self.limits.attributes_per_link.to_string(),
            ),
            ("redact", redact.join(",")),
            ("redact_hash_keys", self.redaction.hash_keys.join(",")),
            ("sdk_language", self.sdk_language.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        out.sort();
        out
    }
}

/// Where a resolved value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// An explicit option (its canonical name).
    Option,
    /// An environment variable.
    Env(&'static str),
    /// The default.
    Default,
}

/// The outcome of parsing one environment value.
enum Parsed<T> {
    /// Valid.
    Ok(T),
    /// Usable, but part of it was ignored; the note says what (one warning).
    Partial(T, String),
    /// Unusable; the reason says why (one warning, the variable is treated as unset).
    Invalid(String),
}

/// A problem with one environment value: (variable, raw value, reason or note).
type EnvProblem = (&'static str, String, String);

/// What [`Resolver::get`] resolves: the option names to try (in order), the environment
/// variables to try (in order, per-signal first) and the default.
struct Spec<'s, T> {
    options: &'s [&'static str],
    vars: &'s [&'static str],
    default: T,
    /// Do not echo the raw value in warnings (headers carry credentials).
    secret: bool,
}

/// One resolution in progress: the validated options, the environment and the warnings so far.
struct Resolver<'a> {
    /// Canonical option name → (name as the caller spelled it, value).
    options: HashMap<&'static str, (&'a str, &'a OptionValue)>,
    env: &'a dyn Fn(&str) -> Option<String>,
    warnings: Vec<ConfigWarning>,
}

impl<'a> Resolver<'a> {
    /// Checks option names (unknown or duplicated names are errors) and indexes them.
    fn new(
        options: &'a [(String, OptionValue)],
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let mut map: HashMap<&'static str, (&'a str, &'a OptionValue)> = HashMap::new();
        for (given, value) in options {
            let normalized = normalize_option_name(given);
            let Some(canonical) = OPTION_NAMES.iter().copied().find(|n| *n == normalized) else {
                return Err(Error::invalid_config(format!(
                    "unknown configuration option \"{given}\"; accepted options are: {}",
                    OPTION_NAMES.join(", ")
                )));
            };
            if let Some((first, _)) = map.insert(canonical, (given.as_str(), value)) {
                return Err(Error::invalid_config(format!(
                    "configuration option \"{canonical}\" was given twice (as \"{first}\" and \"{given}\")"
                )));
            }
        }
        Ok(Resolver {
            options: map,
            env,
            warnings: Vec::new(),
        })
    }

    /// An environment value, trimmed; empty means unset.
    fn env_var(&self, name: &str) -> Option<String> {
        (self.env)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// An explicit option by canonical name, with the spelling the caller used.
    fn option(&self, name: &'static str) -> Option<(&'a str, &'a OptionValue)> {
        self.options.get(name).copied()
    }

    /// Resolves one setting: the first given option (parsed by `from_option`; an error fails
    /// the resolution), else the first environment variable that parses (invalid ones are
    /// warned about and skipped), else the default.
    fn get<T>(
        &mut self,
        spec: Spec<'_, T>,
        from_option: impl Fn(&'static str, &OptionValue) -> Result<T, String>,
        from_env: impl Fn(&'static str, &str) -> Parsed<T>,
        show: impl Fn(&T) -> String,
    ) -> Result<(T, Source)> {
        for &name in spec.options {
            if let Some((given, value)) = self.option(name) {
                return match from_option(name, value) {
                    Ok(v) => Ok((v, Source::Option)),
                    Err(reason) => Err(option_error(given, &reason)),
                };
            }
        }
        let mut rejected: Vec<EnvProblem> = Vec::new();
        let mut found: Option<(T, Source, Option<EnvProblem>)> = None;
        for &var in spec.vars {
            let Some(raw) = self.env_var(var) else {
                continue;
            };
            match from_env(var, &raw) {
                Parsed::Ok(v) => {
                    found = Some((v, Source::Env(var), None));
                    break;
                }
                Parsed::Partial(v, note) => {
                    found = Some((v, Source::Env(var), Some((var, raw, note))));
                    break;
                }
                Parsed::Invalid(reason) => rejected.push((var, raw, reason)),
            }
        }
        let (value, source, partial) = match found {
            Some(f) => f,
            None => (spec.default, Source::Default, None),
        };
        let shown = show(&value);
        let using = match source {
            Source::Env(var) => format!("{shown} from {var}"),
            Source::Option | Source::Default => format!("the default {shown}"),
        };
        let quote = |raw: &str| {
            if spec.secret {
                "(value not shown)".to_string()
            } else {
                format!("{raw:?}")
            }
        };
        for (var, raw, reason) in rejected {
            self.warn(
                var,
                format!("Ignoring {var}={}: {reason}; using {using}.", quote(&raw)),
            );
        }
        if let Some((var, raw, note)) = partial {
            self.warn(
                var,
                format!("{var}={}: {note}; using {shown}.", quote(&raw)),
            );
        }
        Ok((value, source))
    }

    fn warn(&mut self, variable: &str, message: String) {
        self.warnings.push(ConfigWarning {
            variable: variable.to_string(),
            message,
        });
    }

    /// Resolves everything, in dependency order (protocol and insecure before the endpoint,
    /// sampler before its argument, queue size before batch size).
    fn config(&mut self) -> Result<Config> {
        let disabled = self.boolean("disabled", &["OTEL_SDK_DISABLED"], false)?;
        let (resource_attributes, service_name) = self.resource()?;
        let exporter = self.exporter()?;
        let otlp = self.otlp()?;
        let file_path = self
            .get(
                Spec {
                    options: &["file_path"],
                    vars: &["POLYTRACE_EXPORTER_FILE_PATH"],
                    default: PathBuf::from(DEFAULT_FILE_PATH),
                    secret: false,
                },
                |_, v| opt_string(v).map(PathBuf::from),
                |_, raw| Parsed::Ok(PathBuf::from(raw)),
                |p| format!("{:?}", p.to_string_lossy()),
            )?
            .0;
        let sampler = self.sampler()?;
        let propagators = self.propagators()?;
        let batch = self.batch()?;
        let limits = self.limits()?;
        let redaction = self.redaction()?;
        let sdk_language = self
            .get(
                Spec {
                    options: &["sdk_language"],
                    vars: &[],
                    default: DEFAULT_SDK_LANGUAGE.to_string(),
                    secret: false,
                },
                |_, v| opt_string(v).map(|s| s.to_ascii_lowercase()),
                |_, raw| Parsed::Ok(raw.to_string()),
                |s| s.clone(),
            )?
            .0;
        Ok(Config {
            disabled,
            service_name,
            resource_attributes,
            exporter,
            otlp,
            file_path,
            sampler,
            propagators,
            batch,
            limits,
            redaction,
            sdk_language,
        })
    }

    /// A boolean setting: option (`Bool` or `"true"`/`"false"`), then variables, then default.
    fn boolean(
        &mut self,
        option: &'static str,
        vars: &[&'static str],
        default: bool,
    ) -> Result<bool> {
        Ok(self
            .get(
                Spec {
                    options: &[option],
                    vars,
                    default,
                    secret: false,
                },
                |_, v| opt_bool(v),
                |_, raw| parsed(parse_bool(raw)),
                |b| b.to_string(),
            )?
            .0)
    }

    /// An integer setting in `min..=2³¹−1`.
    fn integer(
        &mut self,
        option: &'static str,
        vars: &[&'static str],
        default: u64,
        min: u64,
    ) -> Result<(u64, Source)> {
        self.get(
            Spec {
                options: &[option],
                vars,
                default,
                secret: false,
            },
            |_, v| opt_int(v, min),
            |_, raw| parsed(parse_int(raw, min)),
            |n| n.to_string(),
        )
    }

    /// A duration in milliseconds. With `timeout`, `0` means indefinite (stored as 2³¹−1 ms).
    fn millis(
        &mut self,
        option: &'static str,
        vars: &[&'static str],
        default_ms: u64,
        timeout: bool,
    ) -> Result<Duration> {
        let fix = move |ms: u64| {
            if timeout && ms == 0 {
                MAX_INT
            } else {
                ms
            }
        };
        let (ms, _) = self.get(
            Spec {
                options: &[option],
                vars,
                default: default_ms,
                secret: false,
            },
            |_, v| opt_int(v, 0).map(fix),
            |_, raw| parsed(parse_int(raw, 0).map(fix)),
            |ms| format!("{ms} ms"),
        )?;
        Ok(Duration::from_millis(ms))
    }

    /// An optional file path (TLS files).
    fn path(&mut self, option: &'static str, vars: &[&'static str]) -> Result<Option<PathBuf>> {
        Ok(self
            .get(
                Spec {
                    options: &[option],
                    vars,
                    default: None,
                    secret: false,
                },
                |_, v| opt_string(v).map(|s| Some(PathBuf::from(s))),
                |_, raw| Parsed::Ok(Some(PathBuf::from(raw))),
                |p| match p {
                    Some(p) => format!("{:?}", p.to_string_lossy()),
                    None => "none".to_string(),
                },
            )?
            .0)
    }

    /// Resource attributes (env merged under the option) and the service name.
    fn resource(&mut self) -> Result<(Vec<(String, String)>, String)> {
        const VAR: &str = "OTEL_RESOURCE_ATTRIBUTES";
        let mut attrs: Vec<(String, String)> = Vec::new();
        if let Some(raw) = self.env_var(VAR) {
            let (pairs, bad) = parse_pairs(&raw);
            if bad.is_empty() {
                attrs = dedup_pairs(pairs);
            } else {
                // The specification: on any error the entire value is discarded.
                self.warn(
                    VAR,
                    format!(
                        "Ignoring {VAR}={raw:?}: {} (expected key=value pairs separated by \
                         commas, with percent-encoded values); using no attributes from it.",
                        bad.join("; ")
                    ),
                );
            }
        }
        let env_service = take_key(&mut attrs, "service.name");
        let mut option_service = None;
        if let Some((given, value)) = self.option("resource_attributes") {
            let mut pairs = opt_pairs(value).map_err(|reason| option_error(given, &reason))?;
            option_service = take_key(&mut pairs, "service.name");
            for (k, v) in pairs {
                match attrs.iter_mut().find(|(ek, _)| *ek == k) {
                    Some(slot) => slot.1 = v,
                    None => attrs.push((k, v)),
                }
            }
        }
        let explicit = match self.option("service_name") {
            Some((given, value)) => Some(opt_string(value).map_err(|r| option_error(given, &r))?),
            None => None,
        };
        let service_name = explicit
            .or(option_service.filter(|s| !s.is_empty()))
            .or_else(|| self.env_var("OTEL_SERVICE_NAME"))
            .or(env_service.filter(|s| !s.is_empty()))
            .unwrap_or_else(default_service_name);
        Ok((attrs, service_name))
    }

    fn exporter(&mut self) -> Result<ExporterKind> {
        Ok(self
            .get(
                Spec {
                    options: &["exporter"],
                    vars: &["OTEL_TRACES_EXPORTER"],
                    default: ExporterKind::Otlp,
                    secret: false,
                },
                |_, v| {
                    let s = opt_string(v)?;
                    ExporterKind::from_name(&s).ok_or_else(|| {
                        format!(
                            "unknown exporter {s:?} (expected otlp, console, file, otlp_file or none)"
                        )
                    })
                },
                |_, raw| parse_exporter_list(raw),
                |e| e.as_str().to_string(),
            )?
            .0)
    }

    fn otlp(&mut self) -> Result<OtlpConfig> {
        let protocol = self
            .get(
                Spec {
                    options: &["protocol"],
                    vars: &[
                        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                        "OTEL_EXPORTER_OTLP_PROTOCOL",
                    ],
                    default: Protocol::HttpProtobuf,
                    secret: false,
                },
                |_, v| {
                    let s = opt_string(v)?;
                    Protocol::from_name(&s).ok_or_else(|| protocol_reason(&s))
                },
                |_, raw| match Protocol::from_name(raw) {
                    Some(p) => Parsed::Ok(p),
                    None => Parsed::Invalid(protocol_reason(raw)),
                },
                |p| p.as_str().to_string(),
            )?
            .0;
        let insecure = self.boolean(
            "insecure",
            &[
                "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
                "OTEL_EXPORTER_OTLP_SPAN_INSECURE",
                "OTEL_EXPORTER_OTLP_INSECURE",
            ],
            false,
        )?;
        let endpoint = self
            .get(
                Spec {
                    options: &["traces_endpoint", "endpoint"],
                    vars: &[
                        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                    ],
                    default: protocol.default_endpoint().to_string(),
                    secret: false,
                },
                |name, v| {
                    let s = opt_string(v)?;
                    endpoint_url(&s, protocol, insecure, name == "endpoint")
                },
                |var, raw| {
                    parsed(endpoint_url(
                        raw,
                        protocol,
                        insecure,
                        var == "OTEL_EXPORTER_OTLP_ENDPOINT",
                    ))
                },
                |e| e.clone(),
            )?
            .0;
        let headers = self
            .get(
                Spec {
                    options: &["headers"],
                    vars: &[
                        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                        "OTEL_EXPORTER_OTLP_HEADERS",
                    ],
                    default: Vec::new(),
                    secret: true,
                },
                |_, v| {
                    let pairs = opt_pairs(v)?;
                    let mut out = Vec::new();
                    for (k, val) in pairs {
                        out.push(check_header(&k, &val).map_err(|e| format!("header {e}"))?);
                    }
                    Ok(dedup_pairs(out))
                },
                |_, raw| parse_headers_env(raw),
                |h| {
                    if h.is_empty() {
                        "none".to_string()
                    } else {
                        format!("the headers {}", join(h.iter().map(|(k, _)| k.as_str())))
                    }
                },
            )?
            .0;
        let timeout = self.millis(
            "timeout",
            &[
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ],
            DEFAULT_OTLP_TIMEOUT_MS,
            true,
        )?;
        let compression = self
            .get(
                Spec {
                    options: &["compression"],
                    vars: &[
                        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                        "OTEL_EXPORTER_OTLP_COMPRESSION",
                    ],
                    default: Compression::None,
                    secret: false,
                },
                |_, v| {
                    let s = opt_string(v)?;
                    Compression::from_name(&s).ok_or_else(|| compression_reason(&s))
                },
                |_, raw| match Compression::from_name(raw) {
                    Some(c) => Parsed::Ok(c),
                    None => Parsed::Invalid(compression_reason(raw)),
                },
                |c| c.as_str().to_string(),
            )?
            .0;
        let certificate = self.path(
            "certificate",
            &[
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ],
        )?;
        let client_key = self.path(
            "client_key",
            &[
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            ],
        )?;
        let client_certificate = self.path(
            "client_certificate",
            &[
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            ],
        )?;
        Ok(OtlpConfig {
            endpoint,
            protocol,
            headers,
            timeout,
            compression,
            certificate,
            client_key,
            client_certificate,
            insecure,
        })
    }

    fn sampler(&mut self) -> Result<SamplerConfig> {
        let (root, parent_based) = self
            .get(
                Spec {
                    options: &["sampler"],
                    vars: &["OTEL_TRACES_SAMPLER"],
                    default: (RootSampler::AlwaysOn, true),
                    secret: false,
                },
                |_, v| {
                    let s = opt_string(v)?;
                    parse_sampler(&s)
                },
                |_, raw| parsed(parse_sampler(raw)),
                |&(root, pb)| sampler_name(root, pb),
            )?
            .0;
        let root = match root {
            RootSampler::AlwaysOn => SamplerConfig::AlwaysOn,
            RootSampler::AlwaysOff => SamplerConfig::AlwaysOff,
            RootSampler::TraceIdRatio => {
                let ratio = self.sampler_arg(
                    1.0,
                    |x| (0.0..=1.0).contains(&x),
                    "traceidratio expects a ratio between 0 and 1",
                )?;
                SamplerConfig::TraceIdRatio(ratio)
            }
            RootSampler::RateLimiting => {
                let rate = self.sampler_arg(
                    DEFAULT_RATE_LIMIT,
                    |x| x > 0.0,
                    "ratelimiting expects a positive number of traces per second",
                )?;
                SamplerConfig::RateLimiting(rate)
            }
            RootSampler::JaegerRemote => SamplerConfig::JaegerRemote(self.jaeger_remote_arg()?),
        };
        Ok(if parent_based {
            SamplerConfig::ParentBased(Box::new(root))
        } else {
            root
        })
    }

    /// The argument of a sampler that takes one (`sampler_arg` / `OTEL_TRACES_SAMPLER_ARG`).
    fn sampler_arg(
        &mut self,
        default: f64,
        valid: impl Fn(f64) -> bool + Copy,
        expected: &'static str,
    ) -> Result<f64> {
        let check = move |x: f64| {
            if x.is_finite() && valid(x) {
                Ok(x)
            } else {
                Err(format!("{expected}, got {}", fmt_float(x)))
            }
        };
        Ok(self
            .get(
                Spec {
                    options: &["sampler_arg"],
                    vars: &["OTEL_TRACES_SAMPLER_ARG"],
                    default,
                    secret: false,
                },
                |_, v| opt_float(v).and_then(check),
                |_, raw| {
                    parsed(
                        raw.parse::<f64>()
                            .map_err(|_| format!("{expected}, got a non-number"))
                            .and_then(check),
                    )
                },
                |x| fmt_float(*x),
            )?
            .0)
    }

    fn propagators(&mut self) -> Result<Vec<PropagatorKind>> {
        Ok(self
            .get(
                Spec {
                    options: &["propagators"],
                    vars: &["OTEL_PROPAGATORS"],
                    default: vec![PropagatorKind::TraceContext, PropagatorKind::Baggage],
                    secret: false,
                },
                |_, v| opt_propagators(v),
                |_, raw| parse_propagators_env(raw),
                |p| {
                    if p.is_empty() {
                        "none".to_string()
                    } else {
                        join(p.iter().map(|k| k.as_str()))
                    }
                },
            )?
            .0)
    }

    fn batch(&mut self) -> Result<BatchConfig> {
        const QUEUE_VAR: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
        const BATCH_VAR: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
        let schedule_delay = self.millis(
            "schedule_delay",
            &["OTEL_BSP_SCHEDULE_DELAY"],
            DEFAULT_SCHEDULE_DELAY_MS,
            false,
        )?;
        let export_timeout = self.millis(
            "export_timeout",
            &["OTEL_BSP_EXPORT_TIMEOUT"],
            DEFAULT_EXPORT_TIMEOUT_MS,
            true,
        )?;
        let (queue, queue_source) = self.integer(
            "max_queue_size",
            &[QUEUE_VAR],
            DEFAULT_MAX_QUEUE_SIZE as u64,
            1,
        )?;
        let (mut batch, batch_source) = self.integer(
            "max_export_batch_size",
            &[BATCH_VAR],
            DEFAULT_MAX_EXPORT_BATCH_SIZE as u64,
            1,
        )?;
        if batch > queue {
            match (batch_source, queue_source) {
                // The default batch size simply follows a smaller queue.
                (Source::Default, _) => {}
                (Source::Env(var), _) => self.warn(
                    var,
                    format!("{var}={batch} exceeds the maximum queue size {queue}; using {queue}."),
                ),
                (Source::Option, Source::Env(var)) => self.warn(
                    var,
                    format!(
                        "{var}={queue} is smaller than the max_export_batch_size option \
                         {batch}; using a batch size of {queue}."
                    ),
                ),
                (Source::Option, Source::Option | Source::Default) => {
                    let given = self
                        .option("max_export_batch_size")
                        .map_or("max_export_batch_size", |(g, _)| g);
                    return Err(option_error(
                        given,
                        &format!("{batch} exceeds the maximum queue size {queue}"),
                    ));
                }
            }
            batch = queue;
        }
        Ok(BatchConfig {
            schedule_delay,
            export_timeout,
            max_queue_size: to_usize(queue),
            max_export_batch_size: to_usize(batch),
        })
    }

    fn limits(&mut self) -> Result<LimitsConfig> {
        let count = |r: &mut Self, option: &'static str, vars: &[&'static str]| {
            r.integer(option, vars, DEFAULT_LIMIT as u64, 0)
                .map(|(n, _)| to_usize(n))
        };
        let attribute_count = count(
            self,
            "attribute_count_limit",
            &[
                "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                "OTEL_ATTRIBUTE_COUNT_LIMIT",
            ],
        )?;
        let attribute_value_length = self
            .get(
                Spec {
                    options: &["attribute_value_length_limit"],
                    vars: &[
                        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                    ],
                    default: None,
                    secret: false,
                },
                |_, v| opt_int(v, 0).map(|n| Some(to_usize(n))),
                |_, raw| parsed(parse_int(raw, 0).map(|n| Some(to_usize(n)))),
                |n| match n {
                    Some(n) => n.to_string(),
                    None => "unlimited".to_string(),
                },
            )?
            .0;
        let event_count = count(self, "event_count_limit", &["OTEL_SPAN_EVENT_COUNT_LIMIT"])?;
        let link_count = count(self, "link_count_limit", &["OTEL_SPAN_LINK_COUNT_LIMIT"])?;
        let attributes_per_event = count(
            self,
            "event_attribute_count_limit",
            &[
                "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
                "OTEL_ATTRIBUTE_COUNT_LIMIT",
            ],
        )?;
        let attributes_per_link = count(
            self,
            "link_attribute_count_limit",
            &[
                "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
                "OTEL_ATTRIBUTE_COUNT_LIMIT",
            ],
        )?;
        Ok(LimitsConfig {
            attribute_count,
            attribute_value_length,
            event_count,
            link_count,
            attributes_per_event,
            attributes_per_link,
        })
    }

    fn redaction(&mut self) -> Result<RedactionConfig> {
        let (email, card, ssn) = self
            .get(
                Spec {
                    options: &["redact"],
                    vars: &["POLYTRACE_REDACT"],
                    default: (false, false, false),
                    secret: false,
                },
                |_, v| {
                    let mut out = (false, false, false);
                    for item in opt_list(v)? {
                        if !set_scrubber(&mut out, &item) {
                            return Err(format!(
                                "unknown redaction {item:?} (expected email, card, ssn or none)"
                            ));
                        }
                    }
                    Ok(out)
                },
                |_, raw| {
                    let mut out = (false, false, false);
                    let mut unknown = Vec::new();
                    for item in split_list(raw) {
                        if !set_scrubber(&mut out, &item) {
                            unknown.push(format!("{item:?}"));
                        }
                    }
                    if unknown.is_empty() {
                        Parsed::Ok(out)
                    } else {
                        Parsed::Partial(
                            out,
                            format!(
                                "ignoring unknown redaction {} (expected email, card, ssn or none)",
                                unknown.join(", ")
                            ),
                        )
                    }
                },
                |&(e, c, s)| {
                    let on: Vec<&str> = [(e, "email"), (c, "card"), (s, "ssn")]
                        .iter()
                        .filter(|(b, _)| *b)
                        .map(|(_, n)| *n)
                        .collect();
                    if on.is_empty() {
                        "no redaction".to_string()
                    } else {
                        on.join(",")
                    }
                },
            )?
            .0;
        let hash_keys = self
            .get(
                Spec {
                    options: &["redact_hash_keys"],
                    vars: &["POLYTRACE_REDACT_HASH_KEYS"],
                    default: Vec::new(),
                    secret: false,
                },
                |_, v| opt_list(v).map(dedup),
                |_, raw| Parsed::Ok(dedup(split_list(raw))),
                |k| k.join(","),
            )?
            .0;
        Ok(RedactionConfig {
            email,
            card,
            ssn,
            hash_keys,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Parsers shared by options and environment values
// ---------------------------------------------------------------------------------------------

/// The root of a sampler name (the `parentbased_` prefix is a separate flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RootSampler {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio,
    RateLimiting,
    JaegerRemote,
}

fn sampler_name(root: RootSampler, parent_based: bool) -> String {
    let r = match root {
        RootSampler::AlwaysOn => "always_on",
        RootSampler::AlwaysOff => "always_off",
        RootSampler::TraceIdRatio => "traceidratio",
        RootSampler::RateLimiting => "ratelimiting",
        RootSampler::JaegerRemote => "jaeger_remote",
    };
    if parent_based {
        format!("parentbased_{r}")
    } else {
        r.to_string()
    }
}

/// Parses an `OTEL_TRACES_SAMPLER` name.
fn parse_sampler(s: &str) -> Result<(RootSampler, bool), String> {
    let lower = s.trim().to_ascii_lowercase();
    let (rest, parent_based) = match lower.strip_prefix("parentbased_") {
        Some(rest) => (rest, true),
        None => (lower.as_str(), false),
    };
    let root = match rest {
        "always_on" => RootSampler::AlwaysOn,
        "always_off" => RootSampler::AlwaysOff,
        "traceidratio" => RootSampler::TraceIdRatio,
        "ratelimiting" => RootSampler::RateLimiting,
        "jaeger_remote" => RootSampler::JaegerRemote,
        "xray" => {
            return Err(format!("the sampler {s:?} is not supported by polytrace"));
        }
        _ => {
            return Err(format!(
                "unknown sampler {s:?} (expected always_on, always_off, traceidratio, \
                 ratelimiting, jaeger_remote or their parentbased_ variants)"
            ));
        }
    };
    Ok((root, parent_based))
}

/// `OTEL_TRACES_EXPORTER`: a comma list; the first supported exporter is used.
fn parse_exporter_list(raw: &str) -> Parsed<ExporterKind> {
    let items = split_list(raw);
    let mut chosen = None;
    let mut unsupported = Vec::new();
    let mut extra = Vec::new();
    for item in &items {
        match ExporterKind::from_name(item) {
            Some(kind) if chosen.is_none() => chosen = Some(kind),
            Some(_) => extra.push(format!("{item:?}")),
            None => unsupported.push(format!("{item:?}")),
        }
    }
    let Some(kind) = chosen else {
        return Parsed::Invalid(
            "no supported exporter; expected otlp, console, file, otlp_file or none".to_string(),
        );
    };
    let mut notes = Vec::new();
    if !unsupported.is_empty() {
        notes.push(format!(
            "unsupported exporter {} ignored",
            unsupported.join(", ")
        ));
    }
    if !extra.is_empty() {
        notes.push(format!(
            "polytrace uses one exporter, so {} ignored",
            extra.join(", ")
        ));
    }
    if notes.is_empty() {
        Parsed::Ok(kind)
    } else {
        Parsed::Partial(kind, notes.join("; "))
    }
}

/// `OTEL_PROPAGATORS`: unsupported entries are skipped, duplicates removed, `none` wins.
fn parse_propagators_env(raw: &str) -> Parsed<Vec<PropagatorKind>> {
    let mut out = Vec::new();
    let mut unsupported = Vec::new();
    let mut none = false;
    let items = split_list(raw);
    for item in &items {
        if item.eq_ignore_ascii_case("none") {
            none = true;
        } else if let Some(p) = PropagatorKind::from_name(item) {
            if !out.contains(&p) {
                out.push(p);
            }
        } else {
            unsupported.push(format!("{item:?}"));
        }
    }
    if none {
        return if items.len() == 1 {
            Parsed::Ok(Vec::new())
        } else {
            Parsed::Partial(
                Vec::new(),
                "\"none\" cannot be combined with other propagators, so none are used".to_string(),
            )
        };
    }
    if out.is_empty() {
        return Parsed::Invalid(format!(
            "no supported propagator; polytrace supports tracecontext, baggage and none, \
             not {}",
            unsupported.join(", ")
        ));
    }
    if unsupported.is_empty() {
        Parsed::Ok(out)
    } else {
        Parsed::Partial(
            out,
            format!(
                "unsupported propagator {} skipped (polytrace supports tracecontext, baggage \
                 and none)",
                unsupported.join(", ")
            ),
        )
    }
}

/// The `propagators` option: every entry must be known; `none` must stand alone.
fn opt_propagators(v: &OptionValue) -> Result<Vec<PropagatorKind>, String> {
    let items = opt_list(v)?;
    let mut out = Vec::new();
    let mut none = false;
    for item in &items {
        if item.eq_ignore_ascii_case("none") {
            none = true;
        } else {
            let p = PropagatorKind::from_name(item).ok_or_else(|| {
                format!("unsupported propagator {item:?} (expected tracecontext, baggage or none)")
            })?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    if none && !out.is_empty() {
        return Err("\"none\" cannot be combined with other propagators".to_string());
    }
    Ok(out)
}

/// OTLP headers from the environment: invalid entries are skipped (the others are used).
fn parse_headers_env(raw: &str) -> Parsed<Vec<(String, String)>> {
    let (pairs, mut bad) = parse_pairs(raw);
    let mut out = Vec::new();
    for (k, v) in pairs {
        match check_header(&k, &v) {
            Ok(kv) => out.push(kv),
            Err(e) => bad.push(format!("header {e}")),
        }
    }
    let expected = "expected key=value pairs separated by commas, with percent-encoded values";
    if bad.is_empty() {
        Parsed::Ok(dedup_pairs(out))
    } else if out.is_empty() {
        Parsed::Invalid(format!("{}; {expected}", bad.join("; ")))
    } else {
        Parsed::Partial(
            dedup_pairs(out),
            format!("skipping invalid entries ({}; {expected})", bad.join("; ")),
        )
    }
}

/// Validates one header: the name must be an HTTP token (it is lowercased, as gRPC metadata
/// and HTTP/2 require) and the value printable ASCII (what gRPC ASCII metadata allows).
/// Errors never repeat the value: it may be a credential.
fn check_header(key: &str, value: &str) -> Result<(String, String), String> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if key.is_empty() || !key.chars().all(is_tchar) {
        return Err(format!("name {key:?} is not a valid HTTP header name"));
    }
    if !value.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(format!(
            "{key:?} has a value with characters other than printable ASCII"
        ));
    }
    Ok((key.to_ascii_lowercase(), value.to_string()))
}

/// Parses `k=v,k2=v2` (the W3C-baggage-like format of `OTEL_RESOURCE_ATTRIBUTES` and
/// `OTEL_EXPORTER_OTLP_HEADERS`): entries are trimmed, empty entries skipped, keys and values
/// percent-decoded. Returns the good pairs and a description of each bad entry (which never
/// repeats the value, as header values may be credentials).
fn parse_pairs(raw: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut pairs = Vec::new();
    let mut bad = Vec::new();
    for (i, entry) in raw.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let n = i + 1;
        let Some((k, v)) = entry.split_once('=') else {
            bad.push(format!("entry {n} has no '='"));
            continue;
        };
        let key = match percent_decode(k.trim()) {
            Ok(key) if !key.is_empty() => key,
            Ok(_) => {
                bad.push(format!("entry {n} has an empty key"));
                continue;
            }
            Err(e) => {
                bad.push(format!("entry {n} has a key with {e}"));
                continue;
            }
        };
        match percent_decode(v.trim()) {
            Ok(value) => pairs.push((key, value)),
            Err(e) => bad.push(format!("entry {key:?} has a value with {e}")),
        }
    }
    (pairs, bad)
}

/// Decodes `%XX` escapes (RFC 3986); the result must be UTF-8. `+` is not a space.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits: at most 0xff, so the cast is lossless.
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                _ => return Err("an invalid percent-encoding".to_string()),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoded bytes that are not UTF-8".to_string())
}

/// Percent-encodes the characters that would make `k=v,k2=v2` ambiguous.
fn percent_encode_pair_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            ',' => out.push_str("%2C"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    join(pairs.iter().map(|(k, v)| {
        format!(
            "{}={}",
            percent_encode_pair_part(k),
            percent_encode_pair_part(v)
        )
    }))
}

/// Later duplicates replace the earlier value, keeping the first position.
fn dedup_pairs(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match out.iter_mut().find(|(ek, _)| *ek == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// Removes every `key` entry and returns its last value.
fn take_key(pairs: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let mut found = None;
    pairs.retain(|(k, v)| {
        if k == key {
            found = Some(v.clone());
            false
        } else {
            true
        }
    });
    found
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Splits a comma list, trimming entries and skipping empty ones.
fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.as_ref());
    }
    out
}

/// Enables the named scrubber; false if the name is unknown (`none` is accepted and does
/// nothing).
fn set_scrubber(out: &mut (bool, bool, bool), name: &str) -> bool {
    match name.trim().to_ascii_lowercase().as_str() {
        "email" => out.0 = true,
        "card" => out.1 = true,
        "ssn" => out.2 = true,
        "none" => {}
        _ => return false,
    }
    true
}

fn protocol_reason(s: &str) -> String {
    format!("unknown protocol {s:?} (expected grpc, http/protobuf or http/json)")
}

fn compression_reason(s: &str) -> String {
    format!("unknown compression {s:?} (expected gzip or none)")
}

/// Booleans: `true`/`false`, case-insensitive (the specification's only values).
fn parse_bool(s: &str) -> Result<bool, String> {
    if s.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err("expected true or false".to_string())
    }
}

/// A decimal integer in `min..=2³¹−1`.
fn parse_int(s: &str, min: u64) -> Result<u64, String> {
    let expected = || format!("expected an integer from {min} to {MAX_INT}");
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(expected());
    }
    match s.parse::<u64>() {
        Ok(n) if (min..=MAX_INT).contains(&n) => Ok(n),
        _ => Err(expected()),
    }
}

fn parsed<T>(r: Result<T, String>) -> Parsed<T> {
    match r {
        Ok(v) => Parsed::Ok(v),
        Err(e) => Parsed::Invalid(e),
    }
}

/// Formats a float the shortest way that round-trips (`1`, `0.25`, `100`).
fn fmt_float(x: f64) -> String {
    format!("{x}")
}

fn to_usize(n: u64) -> usize {
    // n <= 2^31-1 by construction, which fits every usize polytrace builds for.
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Builds the final endpoint URL. `generic` marks `OTEL_EXPORTER_OTLP_ENDPOINT` and the
/// `endpoint` option, which get `v1/traces` appended for OTLP/HTTP.
fn endpoint_url(
    raw: &str,
    protocol: Protocol,
    insecure: bool,
    generic: bool,
) -> Result<String, String> {
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("an endpoint URL cannot contain spaces or control characters".to_string());
    }
    let url = match raw.split_once("://") {
        Some((scheme, rest)) => {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return Err(format!(
                    "the endpoint scheme must be http or https, not {scheme:?}"
                ));
            }
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            check_authority(&rest[..authority_end])?;
            format!("{scheme}://{rest}")
        }
        None if protocol == Protocol::Grpc => {
            // gRPC accepts `host:port`; the scheme follows the `insecure` setting.
            check_authority(raw)?;
            let scheme = if insecure { "http" } else { "https" };
            format!("{scheme}://{raw}")
        }
        None => {
            return Err(
                "expected a URL with an http or https scheme, e.g. http://collector:4318"
                    .to_string(),
            )
        }
    };
    if generic && protocol.is_http() {
        Ok(append_traces_path(&url))
    } else {
        Ok(url)
    }
}

/// Checks `[userinfo@]host[:port]`: a non-empty host and, if present, a numeric port.
fn check_authority(authority: &str) -> Result<(), String> {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err("the endpoint has an unterminated IPv6 address".to_string());
        };
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return Err("the endpoint has garbage after its IPv6 address".to_string()),
            },
        };
        (v6, port)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("the endpoint has no host".to_string());
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the endpoint port {p:?} is not a number"));
        }
        if p.parse::<u32>().map_or(true, |n| n > 65535) {
            return Err(format!("the endpoint port {p} is out of range"));
        }
    }
    Ok(())
}

/// Appends `v1/traces` to a base URL, adding the `/` in between unless there is one already
/// (so `http://c:4318`, `http://c:4318/` both give `http://c:4318/v1/traces`). A query or
/// fragment stays at the end.
fn append_traces_path(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let tail_start = url[scheme_end..]
        .find(['?', '#'])
        .map_or(url.len(), |i| i + scheme_end);
    let (base, tail) = url.split_at(tail_start);
    let slash = if base.ends_with('/') { "" } else { "/" };
    format!("{base}{slash}{HTTP_TRACES_PATH}{tail}")
}

// ---------------------------------------------------------------------------------------------
// Option value conversions
// ---------------------------------------------------------------------------------------------

fn option_error(given: &str, reason: &str) -> Error {
    Error::invalid_config(format!(
        "invalid value for configuration option \"{given}\": {reason}"
    ))
}

/// Describes a value for an error message.
fn describe(v: &OptionValue) -> String {
    match v {
        OptionValue::Str(s) => format!("the string {s:?}"),
        OptionValue::Int(i) => format!("the integer {i}"),
        OptionValue::Float(f) => format!("the number {}", fmt_float(*f)),
        OptionValue::Bool(b) => format!("the boolean {b}"),
        OptionValue::List(_) => "a list".to_string(),
        OptionValue::Map(_) => "a map".to_string(),
    }
}

/// A non-empty string (trimmed).
fn opt_string(v: &OptionValue) -> Result<String, String> {
    match v {
        OptionValue::Str(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        OptionValue::Str(_) => Err("expected a non-empty string, got an empty string".to_string()),
        other => Err(format!("expected a string, got {}", describe(other))),
    }
}

fn opt_bool(v: &OptionValue) -> Result<bool, String> {
    match v {
        OptionValue::Bool(b) => Ok(*b),
        OptionValue::Str(s) => parse_bool(s.trim()).map_err(|e| format!("{e}, got {s:?}")),
        other => Err(format!("expected a boolean, got {}", describe(other))),
    }
}

/// An integer in `min..=2³¹−1`: `Int`, an integral `Float` (JavaScript numbers) or a numeric
/// string.
fn opt_int(v: &OptionValue, min: u64) -> Result<u64, String> {
    let expected = format!("expected an integer from {min} to {MAX_INT}");
    let n = match v {
        OptionValue::Int(i) => u64::try_from(*i).ok(),
        OptionValue::Float(f) if f.is_finite() && f.fract() == 0.0 && *f >= 0.0 => {
            // Integral, non-negative and compared against MAX_INT below; larger values
            // saturate, which the range check rejects.
            Some(*f as u64)
        }
        OptionValue::Str(s) => parse_int(s.trim(), min).ok(),
        _ => None,
    };
    match n {
        Some(n) if (min..=MAX_INT).contains(&n) => Ok(n),
        _ => Err(format!("{expected}, got {}", describe(v))),
    }
}

fn opt_float(v: &OptionValue) -> Result<f64, String> {
    match v {
        // Sampler arguments are small; i64 -> f64 rounding is irrelevant here.
        OptionValue::Int(i) => Ok(*i as f64),
        OptionValue::Float(f) => Ok(*f),
        OptionValue::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("expected a number, got {}", describe(v))),
        other => Err(format!("expected a number, got {}", describe(other))),
    }
}

/// A list: `List` (entries trimmed, none empty) or a comma-separated string.
fn opt_list(v: &OptionValue) -> Result<Vec<String>, String> {
    match v {
        OptionValue::List(items) => items
            .iter()
            .map(|s| {
                let t = s.trim();
                if t.is_empty() {
                    Err("the list has an empty entry".to_string())
                } else {
                    Ok(t.to_string())
                }
            })
            .collect(),
        OptionValue::Str(s) => Ok(split_list(s)),
        other => Err(format!(
            "expected a list or a comma-separated string, got {}",
            describe(other)
        )),
    }
}

/// Key/value pairs: `Map` (used as given, keys must be non-empty) or a `k=v,k2=v2` string
/// (percent-decoded like the environment variable, every entry must be valid).
fn opt_pairs(v: &OptionValue) -> Result<Vec<(String, String)>, String> {
    match v {
        OptionValue::Map(pairs) => {
            if pairs.iter().any(|(k, _)| k.trim().is_empty()) {
                return Err("the map has an empty key".to_string());
            }
            Ok(dedup_pairs(
                pairs
                    .iter()
                    .map(|(k, v)| (k.trim().to_string(), v.clone()))
                    .collect(),
            ))
        }
        OptionValue::Str(s) => {
            let (pairs, bad) = parse_pairs(s);
            if bad.is_empty() {
                Ok(dedup_pairs(pairs))
            } else {
                Err(format!(
                    "{} (expected key=value pairs separated by commas, with percent-encoded values)",
                    bad.join("; ")
                ))
            }
        }
        other => Err(format!(
            "expected a map or a \"key=value,key2=value2\" string, got {}",
            describe(other)
        )),
    }
}

/// `serviceName`, `service-name` and `service_name` all mean `service_name`.
fn normalize_option_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.trim().chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// `unknown_service:<executable name>` (the specification's default), or `unknown_service`
/// when the executable cannot be determined.
fn default_service_name() -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn resolve(
        options: &[(&str, OptionValue)],
        env: &[(&str, &str)],
    ) -> Result<(Config, Vec<ConfigWarning>)> {
        let options: Vec<(String, OptionValue)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Config::resolve(&options, &env_of(env))
    }

    fn effective_of(c: &Config, key: &str) -> String {
        c.effective()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap()
    }

    #[test]
    fn defaults() {
        let (c, w) = resolve(&[], &[]).unwrap();
        assert!(w.is_empty());
        let d = Config::default();
        assert_eq!(c, d);
        assert_eq!(c.otlp.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(c.otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.sampler.name(), "parentbased_always_on");
        assert!(c.service_name.starts_with("unknown_service"));
    }

    #[test]
    fn effective_covers_every_option_but_traces_endpoint() {
        let (c, _) = resolve(&[], &[]).unwrap();
        let keys: Vec<String> = c.effective().into_iter().map(|(k, _)| k).collect();
        let mut expected: Vec<String> = OPTION_NAMES
            .iter()
            .filter(|n| **n != "traces_endpoint")
            .map(|n| n.to_string())
            .collect();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2C%3D").unwrap(), "a b,=");
        assert_eq!(percent_decode("caf%C3%A9").unwrap(), "café");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%ff").is_err());
        assert_eq!(percent_decode("a+b").unwrap(), "a+b");
    }

    #[test]
    fn traces_path_is_appended_once() {
        assert_eq!(
            append_traces_path("http://c:4318"),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            append_traces_path("http://c:4318/"),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            append_traces_path("http://c:4318/base?x=1"),
            "http://c:4318/base/v1/traces?x=1"
        );
    }

    #[test]
    fn endpoint_validation() {
        let http = Protocol::HttpProtobuf;
        assert!(endpoint_url("collector:4318", http, false, false).is_err());
        assert!(endpoint_url("ftp://c", http, false, false).is_err());
        assert!(endpoint_url("http://", http, false, false).is_err());
        assert!(endpoint_url("http://c:99999", http, false, false).is_err());
        assert!(endpoint_url("http://c:x", http, false, false).is_err());
        assert_eq!(
            endpoint_url("HTTP://[::1]:4318", http, false, false).unwrap(),
            "http://[::1]:4318"
        );
        assert_eq!(
            endpoint_url("c:4317", Protocol::Grpc, true, true).unwrap(),
            "http://c:4317"
        );
        assert_eq!(
            endpoint_url("c:4317", Protocol::Grpc, false, true).unwrap(),
            "https://c:4317"
        );
    }

    #[test]
    fn option_names_are_normalized() {
        assert_eq!(normalize_option_name("maxQueueSize"), "max_queue_size");
        assert_eq!(normalize_option_name("max-queue-size"), "max_queue_size");
        assert_eq!(normalize_option_name("MaxQueueSize"), "max_queue_size");
        let (c, _) = resolve(&[("serviceName", OptionValue::Str("svc".into()))], &[]).unwrap();
        assert_eq!(c.service_name, "svc");
        let e = resolve(
            &[
                ("serviceName", OptionValue::Str("a".into())),
                ("service_name", OptionValue::Str("b".into())),
            ],
            &[],
        )
        .unwrap_err();
        assert!(e.message().contains("twice"), "{e}");
    }

    #[test]
    fn warning_names_variable_value_and_default() {
        let (c, w) = resolve(&[], &[("OTEL_BSP_MAX_QUEUE_SIZE", "lots")]).unwrap();
        assert_eq!(c.batch.max_queue_size, 2048);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].variable, "OTEL_BSP_MAX_QUEUE_SIZE");
        let msg = w[0].to_string();
        assert!(msg.contains("OTEL_BSP_MAX_QUEUE_SIZE"), "{msg}");
        assert!(msg.contains("\"lots\""), "{msg}");
        assert!(msg.contains("default 2048"), "{msg}");
    }

    #[test]
    fn invalid_per_signal_value_falls_back_to_generic() {
        let (c, w) = resolve(
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-5"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ],
        )
        .unwrap();
        assert_eq!(c.otlp.timeout, Duration::from_millis(2500));
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message
                .contains("2500 ms from OTEL_EXPORTER_OTLP_TIMEOUT"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn header_warnings_do_not_leak_values() {
        let (c, w) = resolve(
            &[],
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=s3cr3t,bad header=t0p%zz,token",
            )],
        )
        .unwrap();
        assert_eq!(c.otlp.headers, vec![("api-key".into(), "s3cr3t".into())]);
        assert_eq!(w.len(), 1);
        assert!(!w[0].message.contains("s3cr3t"), "{}", w[0]);
        assert!(!w[0].message.contains("t0p"), "{}", w[0]);
        assert!(!w[0].message.contains("token"), "{}", w[0]);
    }

    #[test]
    fn zero_timeout_is_indefinite() {
        let (c, w) = resolve(
            &[("timeout", OptionValue::Int(0))],
            &[("OTEL_BSP_EXPORT_TIMEOUT", "0")],
        )
        .unwrap();
        assert!(w.is_empty());
        assert_eq!(c.otlp.timeout, Duration::from_millis(MAX_INT));
        assert_eq!(c.batch.export_timeout, Duration::from_millis(MAX_INT));
    }

    #[test]
    fn option_type_errors_name_the_option() {
        for (name, value) in [
            ("max_queue_size", OptionValue::Str("ten".into())),
            ("max_queue_size", OptionValue::Float(1.5)),
            ("max_queue_size", OptionValue::Int(0)),
            ("disabled", OptionValue::Int(1)),
            ("headers", OptionValue::Bool(true)),
            ("sampler", OptionValue::Str("xray".into())),
            ("propagators", OptionValue::List(vec!["b3".into()])),
            ("endpoint", OptionValue::Str("collector:4318".into())),
            ("no_such_option", OptionValue::Int(1)),
        ] {
            let e = resolve(&[(name, value)], &[]).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidConfig);
            assert!(e.message().contains(name), "{e}");
        }
    }

    #[test]
    fn javascript_numbers_are_accepted() {
        let (c, _) = resolve(&[("max_queue_size", OptionValue::Float(100.0))], &[]).unwrap();
        assert_eq!(c.batch.max_queue_size, 100);
        assert_eq!(effective_of(&c, "max_queue_size"), "100");
    }

    #[test]
    fn from_env_reads_the_process_environment() {
        // No assertion on values (the test process may have OTEL_* set); it must not fail
        // for valid options.
        let r = Config::from_env(&[("service_name".to_string(), OptionValue::Str("x".into()))]);
        assert_eq!(r.unwrap().0.service_name, "x");
    }
}
