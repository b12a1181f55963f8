//! The table of options: one row per setting, with its option name, its `OTEL_*` variables,
//! its type (which says how environment text and typed option values are parsed, see
//! `parse.rs`), its default, its documentation and how [`Config::effective`] shows it.
//!
//! Everything else is derived from [`OPTIONS`]: the accepted names ([`OPTION_NAMES`]), the
//! lookup of an option however it is spelled ([`find_option`]), the effective configuration,
//! and the tables of `docs/configuration.md` ([`super::docs`]; a test fails when the page
//! drifts from this file). Resolution (`resolve.rs`) reads each setting through its row.
//!
//! To add an option: add a row (a `const` below, and its place in [`OPTIONS`]), a field to
//! [`Config`](super::Config) (or one of its parts), and the line of `resolve.rs` that fills the
//! field from the row; a new kind of value also needs its parsers in `parse.rs`. Then
//! regenerate the docs (`POLYTRACE_UPDATE_DOCS=1 cargo test -p polytrace-core --test
//! config_docs`) and add a case to `tests/vectors/config.json`.

use super::parse::{encode_pairs, join, masked_pairs};
use super::{Config, OptionValue};
use crate::error::{ConfigProblem, Error};
use std::path::Path;

/// Where an option's row appears in `docs/configuration.md` (one table per section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Service name, resource, SDK switch.
    General,
    /// Which exporter.
    Exporter,
    /// OTLP exporter settings.
    Otlp,
    /// Sampler and its argument.
    Sampler,
    /// Propagation formats.
    Propagators,
    /// Batch span processor (`OTEL_BSP_*`).
    Batch,
    /// Span limits.
    Limits,
    /// polytrace's redaction.
    Redaction,
}

impl Section {
    /// Every section, in the order of the page.
    pub const ALL: [Section; 8] = [
        Section::General,
        Section::Exporter,
        Section::Otlp,
        Section::Sampler,
        Section::Propagators,
        Section::Batch,
        Section::Limits,
        Section::Redaction,
    ];

    /// The section's id in the page's markers (`<!-- BEGIN options:otlp -->`).
    pub fn id(self) -> &'static str {
        match self {
            Section::General => "general",
            Section::Exporter => "exporter",
            Section::Otlp => "otlp",
            Section::Sampler => "sampler",
            Section::Propagators => "propagators",
            Section::Batch => "batch",
            Section::Limits => "limits",
            Section::Redaction => "redaction",
        }
    }
}

/// An environment variable an option reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable (`OTEL_BSP_MAX_QUEUE_SIZE`).
    pub name: &'static str,
    /// A remark for the docs (`obsolete, still honoured`), or `""`.
    pub note: &'static str,
}

const fn var(name: &'static str) -> EnvVar {
    EnvVar { name, note: "" }
}

const fn obsolete(name: &'static str) -> EnvVar {
    EnvVar {
        name,
        note: "obsolete, still honoured",
    }
}

/// The type of an option's value, which decides how it is parsed from environment text and
/// from a typed [`OptionValue`] (`parse.rs`), and how it is named in the docs.
///
/// An option value of a type the kind never accepts (a boolean for an integer) is a
/// [`ConfigProblem::WrongType`] error; a value of an accepted type that does not parse or is
/// out of range is [`ConfigProblem::BadValue`]. A string is accepted by every kind (it is
/// parsed like the environment variable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true`/`false`.
    Bool,
    /// An integer in `min..=2³¹−1`.
    Int {
        /// The smallest accepted value.
        min: u64,
    },
    /// A duration in milliseconds.
    Millis,
    /// A duration in milliseconds where `0` means indefinite (stored as 2³¹−1 ms).
    Timeout,
    /// A non-empty string.
    Text,
    /// A non-empty string, lowercased.
    LowerText,
    /// A file path.
    Path,
    /// A comma-separated list (duplicates removed).
    List,
    /// `key=value` pairs (percent-decoded): the resource attributes.
    Pairs,
    /// `key=value` pairs checked as HTTP headers / gRPC metadata (names lowercased).
    Headers,
    /// An exporter name (`ExporterKind`); the variable may list several.
    Exporter,
    /// An OTLP transport name (`Protocol`).
    Protocol,
    /// A compression name (`Compression`).
    Compression,
    /// An endpoint URL; a `generic` one gets `v1/traces` appended for OTLP/HTTP.
    Endpoint {
        /// True for the generic endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`).
        generic: bool,
    },
    /// A sampler name (`OTEL_TRACES_SAMPLER`).
    Sampler,
    /// The sampler's argument, a number checked against the resolved sampler.
    SamplerArg,
    /// Propagator names (`tracecontext`, `baggage`, `none`).
    Propagators,
    /// Scrubber names (`email`, `card`, `ssn`, `none`).
    Redact,
}

impl Kind {
    /// The value type as the docs' "Value types" table names it.
    pub fn label(self) -> String {
        match self {
            Kind::Bool => "boolean".to_string(),
            Kind::Int { min: 0 } => "integer".to_string(),
            Kind::Int { min } => format!("integer ≥ {min}"),
            Kind::Millis => "duration".to_string(),
            Kind::Timeout => "timeout".to_string(),
            Kind::Text | Kind::LowerText => "string".to_string(),
            Kind::Path => "path".to_string(),
            Kind::List | Kind::Propagators | Kind::Redact => "list".to_string(),
            Kind::Pairs | Kind::Headers => "key/value list".to_string(),
            Kind::Exporter | Kind::Protocol | Kind::Compression | Kind::Sampler => {
                "enum".to_string()
            }
            Kind::Endpoint { .. } => "URL".to_string(),
            Kind::SamplerArg => "number".to_string(),
        }
    }

    /// True for the millisecond kinds (the docs show their defaults with `ms`).
    pub fn is_millis(self) -> bool {
        matches!(self, Kind::Millis | Kind::Timeout)
    }
}

/// One row of the table of options.
#[derive(Clone, Copy, Debug)]
pub struct OptionDef {
    /// The canonical option name (snake_case). Bindings may spell it camelCase or kebab-case.
    pub name: &'static str,
    /// The environment variables, first match wins (per-signal before generic, specific
    /// before general). An invalid value falls through to the next variable, then the default.
    pub env: &'static [EnvVar],
    /// Why the option has no environment variable (when `env` is empty), else `""`.
    pub no_env: &'static str,
    /// The value type and its parsers.
    pub kind: Kind,
    /// The default as environment text (parsed like the variable), `Some("")` for an empty
    /// value, `None` when there is no value (an unset path, unlimited) or the resolution
    /// computes it from other settings (see `default_doc`).
    pub default: Option<&'static str>,
    /// The default as the docs show it (Markdown), when it is not simply `default` in code
    /// style.
    pub default_doc: &'static str,
    /// The docs section.
    pub section: Section,
    /// What the option does (Markdown).
    pub description: &'static str,
    /// What happens to an invalid environment value, and to an invalid option when that is
    /// more than "an error" (Markdown).
    pub invalid: &'static str,
    /// Warnings never repeat the raw value (it may be a credential).
    pub secret: bool,
    /// How [`Config::effective`] shows the resolved value; `None` for an option folded into
    /// another's (`traces_endpoint` into `endpoint`).
    pub effective: Option<fn(&Config) -> String>,
}

/// The fields most rows leave as they are.
const ROW: OptionDef = OptionDef {
    name: "",
    env: &[],
    no_env: "",
    kind: Kind::Text,
    default: None,
    default_doc: "",
    section: Section::General,
    description: "",
    invalid: "",
    secret: false,
    effective: None,
};

fn path(p: &Option<std::path::PathBuf>) -> String {
    p.as_deref().map(path_text).unwrap_or_default()
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn ms(d: std::time::Duration) -> String {
    d.as_millis().to_string()
}

// ---------------------------------------------------------------------------------------------
// General
// ---------------------------------------------------------------------------------------------

pub(super) const DISABLED: OptionDef = OptionDef {
    name: "disabled",
    env: &[var("OTEL_SDK_DISABLED")],
    kind: Kind::Bool,
    default: Some("false"),
    section: Section::General,
    description: "When true the provider only creates non-recording spans; propagation still \
                  works.",
    invalid: "warning, `false`",
    effective: Some(|c| c.disabled.to_string()),
    ..ROW
};

pub(super) const SERVICE_NAME: OptionDef = OptionDef {
    name: "service_name",
    env: &[var("OTEL_SERVICE_NAME")],
    kind: Kind::Text,
    default_doc: "`service.name` from the resource attributes, else \
                  `unknown_service:<executable name>` (e.g. `unknown_service:python3`)",
    section: Section::General,
    description: "The `service.name` resource attribute. Order: option `service_name`, \
                  `service.name` in the `resource_attributes` option, `OTEL_SERVICE_NAME`, \
                  `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, default.",
    invalid: "option: an empty string is an error",
    effective: Some(|c| c.service_name.clone()),
    ..ROW
};

pub(super) const RESOURCE_ATTRIBUTES: OptionDef = OptionDef {
    name: "resource_attributes",
    env: &[var("OTEL_RESOURCE_ATTRIBUTES")],
    kind: Kind::Pairs,
    default: Some(""),
    section: Section::General,
    description: "Resource attributes as a key/value list. The option is merged over the \
                  variable (the option wins per key). `service.name` is taken out and used for \
                  the service name.",
    invalid: "warning, and the **whole** variable is ignored (the specification's rule) if any \
              entry has no `=`, an empty key or a bad percent-encoding",
    effective: Some(|c| encode_pairs(&c.resource_attributes)),
    ..ROW
};

pub(super) const SDK_LANGUAGE: OptionDef = OptionDef {
    name: "sdk_language",
    no_env: "set by the binding, not by the user: each passes its own language",
    kind: Kind::LowerText,
    default: Some("rust"),
    section: Section::General,
    description: "`telemetry.sdk.language`; each binding passes its own (e.g. `python`, \
                  `nodejs`, `java`, `erlang`, `cpp`).",
    invalid: "option: an empty string is an error",
    effective: Some(|c| c.sdk_language.clone()),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// Exporter
// ---------------------------------------------------------------------------------------------

pub(super) const EXPORTER: OptionDef = OptionDef {
    name: "exporter",
    env: &[var("OTEL_TRACES_EXPORTER")],
    kind: Kind::Exporter,
    default: Some("otlp"),
    section: Section::Exporter,
    description: "`otlp`, `console` (human-readable lines on stdout), `file` (OTLP JSON lines \
                  appended to a file; `otlp_file` is accepted as an alias) or `none` (spans are \
                  created and counted, not exported). A comma list is accepted: polytrace uses \
                  one exporter, the first supported entry.",
    invalid: "unknown names (`zipkin`, `logging`, `otlp/stdout`) are warned about and skipped; \
              none supported: warning, `otlp`",
    effective: Some(|c| c.exporter.as_str().to_string()),
    ..ROW
};

pub(super) const FILE_PATH: OptionDef = OptionDef {
    name: "file_path",
    env: &[var("POLYTRACE_EXPORTER_FILE_PATH")],
    kind: Kind::Path,
    default: Some("polytrace-traces.jsonl"),
    section: Section::Exporter,
    description: "File written by the `file` exporter (relative to the working directory).",
    invalid: "—",
    effective: Some(|c| path_text(&c.file_path)),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// OTLP exporter
// ---------------------------------------------------------------------------------------------

pub(super) const PROTOCOL: OptionDef = OptionDef {
    name: "protocol",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
        var("OTEL_EXPORTER_OTLP_PROTOCOL"),
    ],
    kind: Kind::Protocol,
    default: Some("http/protobuf"),
    section: Section::Otlp,
    description: "`grpc`, `http/protobuf` or `http/json`.",
    invalid: "warning, next variable, then `http/protobuf`",
    effective: Some(|c| c.otlp.protocol.as_str().to_string()),
    ..ROW
};

pub(super) const TRACES_ENDPOINT: OptionDef = OptionDef {
    name: "traces_endpoint",
    env: &[var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")],
    kind: Kind::Endpoint { generic: false },
    default_doc: "—",
    section: Section::Otlp,
    description: "Full URL, **used as-is** (no path is added). Wins over `endpoint` (the \
                  effective configuration shows the result as `endpoint`).",
    invalid: "warning, then the generic endpoint, then the default",
    ..ROW
};

pub(super) const ENDPOINT: OptionDef = OptionDef {
    name: "endpoint",
    env: &[var("OTEL_EXPORTER_OTLP_ENDPOINT")],
    kind: Kind::Endpoint { generic: true },
    default_doc: "`http://localhost:4318/v1/traces` (HTTP), `http://localhost:4317` (gRPC)",
    section: Section::Otlp,
    description: "Base URL. For `http/protobuf` and `http/json`, `v1/traces` is appended \
                  (`http://c:4318` and `http://c:4318/` both give `http://c:4318/v1/traces`; \
                  `http://c:4318/otlp` gives `http://c:4318/otlp/v1/traces`). For gRPC it is \
                  used as-is. The path rule follows the *resolved* protocol, whichever source \
                  set it.",
    invalid: "warning, default",
    effective: Some(|c| c.otlp.endpoint.clone()),
    ..ROW
};

pub(super) const HEADERS: OptionDef = OptionDef {
    name: "headers",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
        var("OTEL_EXPORTER_OTLP_HEADERS"),
    ],
    kind: Kind::Headers,
    default: Some(""),
    section: Section::Otlp,
    description: "Headers (HTTP) or metadata (gRPC) as a key/value list, values \
                  percent-decoded. Names are lowercased (gRPC metadata and HTTP/2 require it). \
                  The per-signal variable replaces the generic one (no merge). The effective \
                  configuration shows the names with `***` for each value.",
    invalid: "invalid entries (no `=`, a name that is not an HTTP token, a value with \
              non-printable or non-ASCII characters, bad percent-encoding) are skipped with a \
              warning that does not repeat values; if none is valid, the next variable is used",
    secret: true,
    // Names only: header values are credentials (API keys, tokens), and the effective
    // configuration is what users print and log (docs/security.md).
    effective: Some(|c| masked_pairs(&c.otlp.headers)),
    ..ROW
};

pub(super) const TIMEOUT: OptionDef = OptionDef {
    name: "timeout",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"),
        var("OTEL_EXPORTER_OTLP_TIMEOUT"),
    ],
    kind: Kind::Timeout,
    default: Some("10000"),
    section: Section::Otlp,
    description: "Time limit of one export, retries included (`0` means indefinite).",
    invalid: "warning, next variable, then 10000",
    effective: Some(|c| ms(c.otlp.timeout)),
    ..ROW
};

pub(super) const COMPRESSION: OptionDef = OptionDef {
    name: "compression",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
        var("OTEL_EXPORTER_OTLP_COMPRESSION"),
    ],
    kind: Kind::Compression,
    default: Some("none"),
    section: Section::Otlp,
    description: "`gzip` or `none`.",
    invalid: "warning, next variable, then `none`",
    effective: Some(|c| c.otlp.compression.as_str().to_string()),
    ..ROW
};

pub(super) const CERTIFICATE: OptionDef = OptionDef {
    name: "certificate",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"),
        var("OTEL_EXPORTER_OTLP_CERTIFICATE"),
    ],
    kind: Kind::Path,
    default_doc: "none (system roots)",
    section: Section::Otlp,
    description: "PEM file of the CA(s) that verify the server.",
    invalid: "— (a missing file is reported by the exporter)",
    effective: Some(|c| path(&c.otlp.certificate)),
    ..ROW
};

pub(super) const CLIENT_KEY: OptionDef = OptionDef {
    name: "client_key",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY"),
        var("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
    ],
    kind: Kind::Path,
    default_doc: "none",
    section: Section::Otlp,
    description: "PEM private key for mTLS.",
    invalid: "—",
    effective: Some(|c| path(&c.otlp.client_key)),
    ..ROW
};

pub(super) const CLIENT_CERTIFICATE: OptionDef = OptionDef {
    name: "client_certificate",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE"),
        var("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
    ],
    kind: Kind::Path,
    default_doc: "none",
    section: Section::Otlp,
    description: "PEM certificate chain for mTLS.",
    invalid: "—",
    effective: Some(|c| path(&c.otlp.client_certificate)),
    ..ROW
};

pub(super) const INSECURE: OptionDef = OptionDef {
    name: "insecure",
    env: &[
        var("OTEL_EXPORTER_OTLP_TRACES_INSECURE"),
        obsolete("OTEL_EXPORTER_OTLP_SPAN_INSECURE"),
        var("OTEL_EXPORTER_OTLP_INSECURE"),
    ],
    kind: Kind::Bool,
    default: Some("false"),
    section: Section::Otlp,
    description: "gRPC only: plaintext for an endpoint given without a scheme. An `http://` or \
                  `https://` scheme always wins.",
    invalid: "warning, next variable, then `false`",
    effective: Some(|c| c.otlp.insecure.to_string()),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// Sampler
// ---------------------------------------------------------------------------------------------

pub(super) const SAMPLER: OptionDef = OptionDef {
    name: "sampler",
    env: &[var("OTEL_TRACES_SAMPLER")],
    kind: Kind::Sampler,
    default: Some("parentbased_always_on"),
    section: Section::Sampler,
    description: "`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, \
                  `parentbased_always_off`, `parentbased_traceidratio`, `jaeger_remote`, \
                  `parentbased_jaeger_remote` (below), and polytrace's own \
                  `ratelimiting` and `parentbased_ratelimiting` (at most N new traces per \
                  second per process, from a lock-free token bucket with a burst of N; spans \
                  with a parent keep the parent's decision, so traces are never cut in pieces \
                  and both names behave the same; not part of the OpenTelemetry \
                  specification).",
    invalid: "unsupported samplers (`xray`) and unknown names: warning, \
              `parentbased_always_on`",
    effective: Some(|c| c.sampler.name()),
    ..ROW
};

pub(super) const SAMPLER_ARG: OptionDef = OptionDef {
    name: "sampler_arg",
    env: &[var("OTEL_TRACES_SAMPLER_ARG")],
    kind: Kind::SamplerArg,
    default_doc: "`1.0` for the ratio samplers, `100` for the rate-limiting ones, \
                  `endpoint=http://localhost:14250,pollingIntervalMs=60000,\
                  initialSamplingRate=0.001` for the Jaeger ones",
    section: Section::Sampler,
    description: "Ratio in [0, 1] for `*traceidratio`; traces per second (> 0) for \
                  `*ratelimiting`; for `*jaeger_remote` a comma-separated list of `endpoint`, \
                  `pollingIntervalMs` and `initialSamplingRate`, each optional (below; as an \
                  option also a map of those keys to strings). Ignored by the other samplers. \
                  The argument applies to the resolved sampler, whichever source set it.",
    invalid: "warning, the sampler's default argument (for `*jaeger_remote`: any bad or \
              unknown key ignores the whole list, as the specification says)",
    effective: Some(|c| c.sampler.arg_text()),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// Propagators
// ---------------------------------------------------------------------------------------------

pub(super) const PROPAGATORS: OptionDef = OptionDef {
    name: "propagators",
    env: &[var("OTEL_PROPAGATORS")],
    kind: Kind::Propagators,
    default: Some("tracecontext,baggage"),
    section: Section::Propagators,
    description: "W3C `tracecontext` and/or `baggage`, or `none`. Duplicates are removed, order \
                  is kept.",
    invalid: "unsupported entries (`b3`, `b3multi`, `jaeger`, `xray`, `ottrace`, unknown) are \
              skipped with a warning; if none is left: warning, default. `none` with other \
              entries: warning, `none`. Option: any unsupported entry, or `none` mixed with \
              others, is an error",
    effective: Some(|c| {
        if c.propagators.is_empty() {
            "none".to_string()
        } else {
            join(c.propagators.iter().map(|p| p.as_str()))
        }
    }),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// Batch span processor
// ---------------------------------------------------------------------------------------------

pub(super) const SCHEDULE_DELAY: OptionDef = OptionDef {
    name: "schedule_delay",
    env: &[var("OTEL_BSP_SCHEDULE_DELAY")],
    kind: Kind::Millis,
    default: Some("5000"),
    section: Section::Batch,
    description: "Delay between two consecutive exports.",
    invalid: "warning, default",
    effective: Some(|c| ms(c.batch.schedule_delay)),
    ..ROW
};

pub(super) const EXPORT_TIMEOUT: OptionDef = OptionDef {
    name: "export_timeout",
    env: &[var("OTEL_BSP_EXPORT_TIMEOUT")],
    kind: Kind::Timeout,
    default: Some("30000"),
    section: Section::Batch,
    description: "Time limit of one export (`0` means indefinite).",
    invalid: "warning, default",
    effective: Some(|c| ms(c.batch.export_timeout)),
    ..ROW
};

pub(super) const MAX_QUEUE_SIZE: OptionDef = OptionDef {
    name: "max_queue_size",
    env: &[var("OTEL_BSP_MAX_QUEUE_SIZE")],
    kind: Kind::Int { min: 1 },
    default: Some("2048"),
    section: Section::Batch,
    description: "Spans held while waiting for export; more are dropped and counted.",
    invalid: "warning, default",
    effective: Some(|c| c.batch.max_queue_size.to_string()),
    ..ROW
};

pub(super) const MAX_EXPORT_BATCH_SIZE: OptionDef = OptionDef {
    name: "max_export_batch_size",
    env: &[var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")],
    kind: Kind::Int { min: 1 },
    default: Some("512"),
    section: Section::Batch,
    description: "Spans per export. At most the queue size.",
    invalid: "`0` or not a number: warning, default. Larger than the queue size: clamped to \
              it, with a warning when the batch size came from the variable (or, for an \
              option, when the queue size came from the variable); a `max_export_batch_size` \
              option larger than the queue size given by option or default is an error. The \
              default batch size silently follows a smaller queue.",
    effective: Some(|c| c.batch.max_export_batch_size.to_string()),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// Span limits
// ---------------------------------------------------------------------------------------------

pub(super) const ATTRIBUTE_COUNT_LIMIT: OptionDef = OptionDef {
    name: "attribute_count_limit",
    env: &[
        var("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"),
        var("OTEL_ATTRIBUTE_COUNT_LIMIT"),
    ],
    kind: Kind::Int { min: 0 },
    default: Some("128"),
    section: Section::Limits,
    description: "Attributes per span; more are dropped.",
    invalid: "warning, next variable, then default",
    effective: Some(|c| c.limits.attribute_count.to_string()),
    ..ROW
};

pub(super) const ATTRIBUTE_VALUE_LENGTH_LIMIT: OptionDef = OptionDef {
    name: "attribute_value_length_limit",
    env: &[
        var("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
        var("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
    ],
    kind: Kind::Int { min: 0 },
    default_doc: "unlimited",
    section: Section::Limits,
    description: "Longer string values are truncated.",
    invalid: "warning, next variable, then unlimited",
    effective: Some(|c| {
        c.limits
            .attribute_value_length
            .map(|n| n.to_string())
            .unwrap_or_default()
    }),
    ..ROW
};

pub(super) const EVENT_COUNT_LIMIT: OptionDef = OptionDef {
    name: "event_count_limit",
    env: &[var("OTEL_SPAN_EVENT_COUNT_LIMIT")],
    kind: Kind::Int { min: 0 },
    default: Some("128"),
    section: Section::Limits,
    description: "Events per span.",
    invalid: "warning, default",
    effective: Some(|c| c.limits.event_count.to_string()),
    ..ROW
};

pub(super) const LINK_COUNT_LIMIT: OptionDef = OptionDef {
    name: "link_count_limit",
    env: &[var("OTEL_SPAN_LINK_COUNT_LIMIT")],
    kind: Kind::Int { min: 0 },
    default: Some("128"),
    section: Section::Limits,
    description: "Links per span.",
    invalid: "warning, default",
    effective: Some(|c| c.limits.link_count.to_string()),
    ..ROW
};

pub(super) const EVENT_ATTRIBUTE_COUNT_LIMIT: OptionDef = OptionDef {
    name: "event_attribute_count_limit",
    env: &[
        var("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT"),
        var("OTEL_ATTRIBUTE_COUNT_LIMIT"),
    ],
    kind: Kind::Int { min: 0 },
    default: Some("128"),
    section: Section::Limits,
    description: "Attributes per event.",
    invalid: "warning, next variable, then default",
    effective: Some(|c| c.limits.attributes_per_event.to_string()),
    ..ROW
};

pub(super) const LINK_ATTRIBUTE_COUNT_LIMIT: OptionDef = OptionDef {
    name: "link_attribute_count_limit",
    env: &[
        var("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"),
        var("OTEL_ATTRIBUTE_COUNT_LIMIT"),
    ],
    kind: Kind::Int { min: 0 },
    default: Some("128"),
    section: Section::Limits,
    description: "Attributes per link.",
    invalid: "warning, next variable, then default",
    effective: Some(|c| c.limits.attributes_per_link.to_string()),
    ..ROW
};

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

pub(super) const REDACT: OptionDef = OptionDef {
    name: "redact",
    env: &[var("POLYTRACE_REDACT")],
    kind: Kind::Redact,
    default: Some("none"),
    default_doc: "off",
    section: Section::Redaction,
    description: "Comma list of scrubbers applied to attribute values before export: `email` \
                  (e-mail addresses), `card` (Luhn-valid payment card numbers), `ssn` (US \
                  social security numbers); `none` is accepted.",
    invalid: "unknown entries are skipped with a warning; option: an error",
    effective: Some(|c| {
        let r = &c.redaction;
        let on = [(r.email, "email"), (r.card, "card"), (r.ssn, "ssn")];
        join(on.iter().filter(|(b, _)| *b).map(|(_, n)| *n))
    }),
    ..ROW
};

pub(super) const REDACT_HASH_KEYS: OptionDef = OptionDef {
    name: "redact_hash_keys",
    env: &[var("POLYTRACE_REDACT_HASH_KEYS")],
    kind: Kind::List,
    default: Some(""),
    section: Section::Redaction,
    description: "Comma list of attribute keys whose values are replaced by a hash (duplicates \
                  removed).",
    invalid: "—",
    effective: Some(|c| c.redaction.hash_keys.join(",")),
    ..ROW
};

/// Every option. The order is that of [`OPTION_NAMES`] (a public list that predates the
/// table) and of the rows within each section of `docs/configuration.md`.
pub const OPTIONS: &[OptionDef] = &[
    DISABLED,
    SERVICE_NAME,
    RESOURCE_ATTRIBUTES,
    EXPORTER,
    ENDPOINT,
    TRACES_ENDPOINT,
    PROTOCOL,
    HEADERS,
    TIMEOUT,
    COMPRESSION,
    CERTIFICATE,
    CLIENT_KEY,
    CLIENT_CERTIFICATE,
    INSECURE,
    FILE_PATH,
    SAMPLER,
    SAMPLER_ARG,
    PROPAGATORS,
    SCHEDULE_DELAY,
    EXPORT_TIMEOUT,
    MAX_QUEUE_SIZE,
    MAX_EXPORT_BATCH_SIZE,
    ATTRIBUTE_COUNT_LIMIT,
    ATTRIBUTE_VALUE_LENGTH_LIMIT,
    EVENT_COUNT_LIMIT,
    LINK_COUNT_LIMIT,
    EVENT_ATTRIBUTE_COUNT_LIMIT,
    LINK_ATTRIBUTE_COUNT_LIMIT,
    REDACT,
    REDACT_HASH_KEYS,
    SDK_LANGUAGE,
];

const fn names<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = OPTIONS[i].name;
        i += 1;
    }
    out
}

const NAMES: [&str; OPTIONS.len()] = names();

/// Every accepted explicit option name (snake_case), in the table's order. Bindings may also
/// pass them camelCase or kebab-case (`maxQueueSize`, `max-queue-size`); see
/// [`normalize_option_name`].
pub const OPTION_NAMES: &[&str] = &NAMES;

/// The one spelling rule for option names: `serviceName`, `ServiceName`, `service-name` and
/// `service_name` all become `service_name` (an uppercase letter starts a new word, `-` is
/// `_`, surrounding whitespace is dropped). Every binding relies on this rather than its own.
pub fn normalize_option_name(name: &str) -> String {
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

/// The row of the option `name`, spelled any way [`normalize_option_name`] accepts.
pub fn find_option(name: &str) -> Option<&'static OptionDef> {
    let normalized = normalize_option_name(name);
    OPTIONS.iter().find(|o| o.name == normalized)
}

/// An [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) error about the option
/// `given` (as the caller spelled it), for bindings that find a problem before the core sees
/// the value (a host value with no [`OptionValue`] form). The canonical name comes from the
/// table.
pub fn option_error(problem: ConfigProblem, given: &str, message: impl Into<String>) -> Error {
    Error::config(
        problem,
        given,
        find_option(given).map(|o| o.name),
        message.into(),
    )
}

/// Adds `name = value` unless `options` already gives that option in any spelling: how a
/// binding supplies its own default, e.g. `sdk_language` = `python`, while a user's option
/// still wins.
pub fn add_default_option(
    options: &mut Vec<(String, OptionValue)>,
    name: &str,
    value: OptionValue,
) {
    let wanted = normalize_option_name(name);
    if !options
        .iter()
        .any(|(k, _)| normalize_option_name(k) == wanted)
    {
        options.push((wanted, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::{Ctx, Parsed};
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_canonical() {
        let mut seen = BTreeSet::new();
        for o in OPTIONS {
            assert!(seen.insert(o.name), "{} is in the table twice", o.name);
            assert_eq!(
                normalize_option_name(o.name),
                o.name,
                "{} is not canonical",
                o.name
            );
        }
        assert_eq!(OPTION_NAMES.len(), OPTIONS.len());
        for (n, o) in OPTION_NAMES.iter().zip(OPTIONS) {
            assert_eq!(*n, o.name);
        }
    }

    #[test]
    fn every_option_has_a_variable_or_says_why_not() {
        for o in OPTIONS {
            assert_ne!(
                o.env.is_empty(),
                o.no_env.is_empty(),
                "{}: give environment variables, or (only) a reason for having none",
                o.name
            );
        }
    }

    #[test]
    fn variables_are_unique_per_option_and_shared_only_as_fallbacks() {
        let mut first: Vec<&str> = Vec::new();
        for o in OPTIONS {
            let names: BTreeSet<&str> = o.env.iter().map(|v| v.name).collect();
            assert_eq!(
                names.len(),
                o.env.len(),
                "{} lists a variable twice",
                o.name
            );
            for v in o.env {
                assert!(
                    v.name.starts_with("OTEL_") || v.name.starts_with("POLYTRACE_"),
                    "{}",
                    v.name
                );
            }
            if let Some(v) = o.env.first() {
                assert!(
                    !first.contains(&v.name),
                    "{} is the first variable twice",
                    v.name
                );
                first.push(v.name);
            }
        }
    }

    #[test]
    fn defaults_parse_and_are_documented() {
        for o in OPTIONS {
            match o.default {
                Some(text) => match o.kind.parse_env(&Ctx::default(), text) {
                    Parsed::Ok(_) => {}
                    _ => panic!("{}: the default {text:?} does not parse", o.name),
                },
                None => assert!(
                    !o.default_doc.is_empty(),
                    "{}: a computed or absent default needs default_doc",
                    o.name
                ),
            }
            assert!(!o.description.is_empty(), "{} has no description", o.name);
            assert!(
                !o.invalid.is_empty(),
                "{} does not say what an invalid value does",
                o.name
            );
        }
    }

    #[test]
    fn every_option_but_traces_endpoint_is_in_the_effective_config() {
        let missing: Vec<&str> = OPTIONS
            .iter()
            .filter(|o| o.effective.is_none())
            .map(|o| o.name)
            .collect();
        assert_eq!(missing, ["traces_endpoint"]);
    }

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize_option_name("maxQueueSize"), "max_queue_size");
        assert_eq!(normalize_option_name("max-queue-size"), "max_queue_size");
        assert_eq!(normalize_option_name("MaxQueueSize"), "max_queue_size");
        assert_eq!(normalize_option_name(" max_queue_size "), "max_queue_size");
        assert_eq!(
            find_option("sdkLanguage").map(|o| o.name),
            Some("sdk_language")
        );
        assert!(find_option("maxQueueSise").is_none());
    }

    #[test]
    fn default_options_yield_to_the_callers_spelling() {
        let mut opts = vec![("sdkLanguage".to_string(), OptionValue::Str("x".into()))];
        add_default_option(&mut opts, "sdk_language", OptionValue::Str("python".into()));
        assert_eq!(opts.len(), 1);
        let mut opts = Vec::new();
        add_default_option(&mut opts, "sdk_language", OptionValue::Str("python".into()));
        assert_eq!(
            opts,
            [(
                "sdk_language".to_string(),
                OptionValue::Str("python".into())
            )]
        );
    }

    #[test]
    fn option_errors_carry_the_canonical_name() {
        let e = option_error(ConfigProblem::WrongType, "maxQueueSize", "x");
        assert_eq!(e.canonical_option(), Some("max_queue_size"));
        assert_eq!(e.option(), Some("maxQueueSize"));
        let e = option_error(ConfigProblem::UnknownOption, "nope", "x");
        assert_eq!(e.canonical_option(), None);
    }
}
