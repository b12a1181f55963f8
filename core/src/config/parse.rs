//! How values are parsed: environment text and typed option values, per [`Kind`] of option
//! (the table in `options.rs` gives each option its kind), and the helpers they share
//! (integers, booleans, percent-encoded key/value lists, endpoint URLs, sampler names).
//!
//! Environment text that cannot be used is [`Parsed::Invalid`] (a warning, the next source is
//! used) or [`Parsed::Partial`] (used, with a warning about the part ignored); a typed option
//! value that cannot be used is a [`Reject`] that becomes an error naming the option.

use super::options::Kind;
use super::sampler_arg::JaegerRemoteConfig;
use super::types::MAX_INT;
use super::{Compression, ExporterKind, OptionValue, PropagatorKind, Protocol};
use crate::error::{ConfigProblem, Error, Result};
use std::path::PathBuf;

/// The outcome of parsing one environment value.
pub(super) enum Parsed<T> {
    /// Valid.
    Ok(T),
    /// Usable, but part of it was ignored; the note says what (one warning).
    Partial(T, String),
    /// Unusable; the reason says why (one warning, the variable is treated as unset).
    Invalid(String),
}

/// Why a typed option value cannot be used: the problem ([`ConfigProblem::WrongType`] or
/// [`ConfigProblem::BadValue`]) and a reason for the message.
#[derive(Debug)]
pub(super) struct Reject {
    pub problem: ConfigProblem,
    pub reason: String,
}

/// A value whose type the option never accepts.
fn wrong_type(reason: impl Into<String>) -> Reject {
    Reject {
        problem: ConfigProblem::WrongType,
        reason: reason.into(),
    }
}

/// A value of an accepted type that the option cannot use.
fn bad_value(reason: impl Into<String>) -> Reject {
    Reject {
        problem: ConfigProblem::BadValue,
        reason: reason.into(),
    }
}

/// Which scrubbers are on: (email, card, ssn).
pub(super) type Scrubbers = (bool, bool, bool);

/// A parsed setting, before resolution puts it into its [`Config`](super::Config) field.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    /// No value: an unset path, an unlimited length.
    Unset,
    /// [`Kind::Bool`]
    Bool(bool),
    /// [`Kind::Int`], [`Kind::Millis`], [`Kind::Timeout`] (milliseconds, `0` already made
    /// indefinite).
    Int(u64),
    /// [`Kind::SamplerArg`] of the ratio and rate-limiting samplers
    Float(f64),
    /// [`Kind::SamplerArg`] of the Jaeger remote samplers
    Remote(JaegerRemoteConfig),
    /// [`Kind::Text`], [`Kind::LowerText`], [`Kind::Endpoint`] (the final URL).
    Text(String),
    /// [`Kind::Path`]
    Path(PathBuf),
    /// [`Kind::List`]
    List(Vec<String>),
    /// [`Kind::Pairs`], [`Kind::Headers`]
    Pairs(Vec<(String, String)>),
    /// [`Kind::Exporter`]
    Exporter(ExporterKind),
    /// [`Kind::Protocol`]
    Protocol(Protocol),
    /// [`Kind::Compression`]
    Compression(Compression),
    /// [`Kind::Sampler`]: the root and whether it is `parentbased_`.
    Sampler(RootSampler, bool),
    /// [`Kind::Propagators`]
    Propagators(Vec<PropagatorKind>),
    /// [`Kind::Redact`]
    Redact(Scrubbers),
}

/// A value of an unexpected variant: a row of the table whose kind does not match the field
/// resolution puts it in (a bug, which the table's tests catch).
fn mismatch(v: &Value, wanted: &str) -> Error {
    Error::internal(format!("configuration: expected {wanted}, resolved {v:?}"))
}

/// `Value::bool()` etc.: the value of one variant, or an internal error.
macro_rules! extractors {
    ($($name:ident: $variant:ident -> $t:ty, $what:literal;)*) => {
        impl Value {
            $(
                pub(super) fn $name(self) -> Result<$t> {
                    match self {
                        Value::$variant(x) => Ok(x),
                        v => Err(mismatch(&v, $what)),
                    }
                }
            )*
        }
    };
}

extractors! {
    bool: Bool -> bool, "a boolean";
    int: Int -> u64, "an integer";
    float: Float -> f64, "a number";
    text: Text -> String, "a string";
    path: Path -> PathBuf, "a path";
    list: List -> Vec<String>, "a list";
    pairs: Pairs -> Vec<(String, String)>, "key/value pairs";
    exporter: Exporter -> ExporterKind, "an exporter";
    protocol: Protocol -> Protocol, "a protocol";
    compression: Compression -> Compression, "a compression";
    propagators: Propagators -> Vec<PropagatorKind>, "propagators";
    redact: Redact -> Scrubbers, "scrubbers";
    remote: Remote -> JaegerRemoteConfig, "a jaeger_remote argument";
}

impl Value {
    /// An integer, or `None` when unset (unlimited).
    pub(super) fn opt_int(self) -> Result<Option<u64>> {
        match self {
            Value::Unset => Ok(None),
            v => v.int().map(Some),
        }
    }

    /// A path, or `None` when unset.
    pub(super) fn opt_path(self) -> Result<Option<PathBuf>> {
        match self {
            Value::Unset => Ok(None),
            v => v.path().map(Some),
        }
    }

    /// The sampler's root and whether it is `parentbased_`.
    pub(super) fn sampler(self) -> Result<(RootSampler, bool)> {
        match self {
            Value::Sampler(root, parent_based) => Ok((root, parent_based)),
            v => Err(mismatch(&v, "a sampler")),
        }
    }
}

/// What parsing may depend on: settings resolved earlier (the endpoint follows the protocol
/// and `insecure`, the sampler argument's range follows the sampler).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx {
    pub protocol: Protocol,
    pub insecure: bool,
    pub sampler: RootSampler,
}

impl Default for Ctx {
    /// The defaults of those settings.
    fn default() -> Self {
        Ctx {
            protocol: Protocol::HttpProtobuf,
            insecure: false,
            sampler: RootSampler::AlwaysOn,
        }
    }
}

/// What the resolved sampler expects of its argument: a range check and its description.
fn sampler_arg_range(root: RootSampler) -> (fn(f64) -> bool, &'static str) {
    match root {
        RootSampler::TraceIdRatio => (
            |x| (0.0..=1.0).contains(&x),
            "traceidratio expects a ratio between 0 and 1",
        ),
        RootSampler::RateLimiting => (
            |x| x > 0.0,
            "ratelimiting expects a positive number of traces per second",
        ),
        // Not read for samplers without a numeric argument.
        RootSampler::AlwaysOn | RootSampler::AlwaysOff | RootSampler::JaegerRemote => {
            (|_| true, "expected a number")
        }
    }
}

/// Checks a sampler argument against the resolved sampler.
fn sampler_arg_check(root: RootSampler, x: f64) -> std::result::Result<f64, String> {
    let (valid, expected) = sampler_arg_range(root);
    if x.is_finite() && valid(x) {
        Ok(x)
    } else {
        Err(format!("{expected}, got {}", fmt_float(x)))
    }
}

/// `0` means indefinite for timeouts.
fn timeout(ms: u64) -> u64 {
    if ms == 0 {
        MAX_INT
    } else {
        ms
    }
}

impl Kind {
    /// Parses environment text (already trimmed, never empty) — also how a row's textual
    /// default is read.
    pub(super) fn parse_env(self, ctx: &Ctx, raw: &str) -> Parsed<Value> {
        match self {
            Kind::Bool => parsed(parse_bool(raw).map(Value::Bool)),
            Kind::Int { min } => parsed(parse_int(raw, min).map(Value::Int)),
            Kind::Millis => parsed(parse_int(raw, 0).map(Value::Int)),
            Kind::Timeout => parsed(parse_int(raw, 0).map(|ms| Value::Int(timeout(ms)))),
            Kind::Text => Parsed::Ok(Value::Text(raw.to_string())),
            Kind::LowerText => Parsed::Ok(Value::Text(raw.to_ascii_lowercase())),
            Kind::Path => Parsed::Ok(Value::Path(PathBuf::from(raw))),
            Kind::List => Parsed::Ok(Value::List(dedup(split_list(raw)))),
            Kind::Pairs => {
                let (pairs, bad) = parse_pairs(raw);
                if bad.is_empty() {
                    Parsed::Ok(Value::Pairs(dedup_pairs(pairs)))
                } else {
                    // The specification: on any error the entire value is discarded.
                    Parsed::Invalid(format!(
                        "{} (expected key=value pairs separated by commas, with percent-encoded \
                         values)",
                        bad.join("; ")
                    ))
                }
            }
            Kind::Headers => map_parsed(parse_headers_env(raw), Value::Pairs),
            Kind::Exporter => map_parsed(parse_exporter_list(raw), Value::Exporter),
            Kind::Protocol => match Protocol::from_name(raw) {
                Some(p) => Parsed::Ok(Value::Protocol(p)),
                None => Parsed::Invalid(protocol_reason(raw)),
            },
            Kind::Compression => match Compression::from_name(raw) {
                Some(c) => Parsed::Ok(Value::Compression(c)),
                None => Parsed::Invalid(compression_reason(raw)),
            },
            Kind::Endpoint { generic } => {
                parsed(endpoint_url(raw, ctx.protocol, ctx.insecure, generic).map(Value::Text))
            }
            Kind::Sampler => parsed(parse_sampler(raw).map(|(r, pb)| Value::Sampler(r, pb))),
            Kind::SamplerArg if ctx.sampler == RootSampler::JaegerRemote => {
                map_parsed(JaegerRemoteConfig::parse_env(raw), Value::Remote)
            }
            Kind::SamplerArg => parsed(
                raw.parse::<f64>()
                    .map_err(|_| format!("{}, got a non-number", sampler_arg_range(ctx.sampler).1))
                    .and_then(|x| sampler_arg_check(ctx.sampler, x))
                    .map(Value::Float),
            ),
            Kind::Propagators => map_parsed(parse_propagators_env(raw), Value::Propagators),
            Kind::Redact => parse_redact_env(raw),
        }
    }

    /// Parses a typed option value (a string is parsed like the environment variable, but
    /// strictly: anything the variable would only warn about is rejected).
    pub(super) fn parse_option(
        self,
        ctx: &Ctx,
        v: &OptionValue,
    ) -> std::result::Result<Value, Reject> {
        let bad = |r: String| bad_value(r);
        Ok(match self {
            Kind::Bool => Value::Bool(opt_bool(v)?),
            Kind::Int { min } => Value::Int(opt_int(v, min)?),
            Kind::Millis => Value::Int(opt_int(v, 0)?),
            Kind::Timeout => Value::Int(timeout(opt_int(v, 0)?)),
            Kind::Text => Value::Text(opt_string(v)?),
            Kind::LowerText => Value::Text(opt_string(v)?.to_ascii_lowercase()),
            Kind::Path => Value::Path(PathBuf::from(opt_string(v)?)),
            Kind::List => Value::List(dedup(opt_list(v)?)),
            Kind::Pairs => Value::Pairs(opt_pairs(v)?),
            Kind::Headers => {
                let mut out = Vec::new();
                for (k, val) in opt_pairs(v)? {
                    out.push(check_header(&k, &val).map_err(|e| bad(format!("header {e}")))?);
                }
                Value::Pairs(dedup_pairs(out))
            }
            Kind::Exporter => {
                let s = opt_string(v)?;
                Value::Exporter(ExporterKind::from_name(&s).ok_or_else(|| {
                    bad(format!(
                        "unknown exporter {s:?} (expected otlp, console, file, otlp_file or none)"
                    ))
                })?)
            }
            Kind::Protocol => {
                let s = opt_string(v)?;
                Value::Protocol(Protocol::from_name(&s).ok_or_else(|| bad(protocol_reason(&s)))?)
            }
            Kind::Compression => {
                let s = opt_string(v)?;
                Value::Compression(
                    Compression::from_name(&s).ok_or_else(|| bad(compression_reason(&s)))?,
                )
            }
            Kind::Endpoint { generic } => {
                let s = opt_string(v)?;
                Value::Text(endpoint_url(&s, ctx.protocol, ctx.insecure, generic).map_err(bad)?)
            }
            Kind::Sampler => {
                let s = opt_string(v)?;
                let (root, parent_based) = parse_sampler(&s).map_err(bad)?;
                Value::Sampler(root, parent_based)
            }
            Kind::SamplerArg if ctx.sampler == RootSampler::JaegerRemote => {
                Value::Remote(JaegerRemoteConfig::from_pairs(&opt_pairs(v)?).map_err(bad)?)
            }
            Kind::SamplerArg => {
                Value::Float(sampler_arg_check(ctx.sampler, opt_float(v)?).map_err(bad)?)
            }
            Kind::Propagators => Value::Propagators(opt_propagators(v)?),
            Kind::Redact => {
                let mut out = (false, false, false);
                for item in opt_list(v)? {
                    if !set_scrubber(&mut out, &item) {
                        return Err(bad(format!(
                            "unknown redaction {item:?} (expected email, card, ssn or none)"
                        )));
                    }
                }
                Value::Redact(out)
            }
        })
    }

    /// A value as warnings show it ("using the default 2048", "using 500 ms from ...").
    pub(super) fn show(self, v: &Value) -> String {
        match (self, v) {
            (Kind::Int { .. }, Value::Unset) => "unlimited".to_string(),
            (Kind::Millis | Kind::Timeout, Value::Int(ms)) => format!("{ms} ms"),
            (_, Value::Unset) => "none".to_string(),
            (_, Value::Bool(b)) => b.to_string(),
            (_, Value::Int(n)) => n.to_string(),
            (_, Value::Float(x)) => fmt_float(*x),
            (_, Value::Remote(r)) => r.to_arg(),
            (_, Value::Text(s)) => s.clone(),
            (_, Value::Path(p)) => format!("{:?}", p.to_string_lossy()),
            (_, Value::List(items)) => items.join(","),
            (_, Value::Pairs(pairs)) if pairs.is_empty() => "none".to_string(),
            (Kind::Headers, Value::Pairs(pairs)) => {
                // Names only: header values may be credentials.
                format!(
                    "the headers {}",
                    join(pairs.iter().map(|(k, _)| k.as_str()))
                )
            }
            (_, Value::Pairs(pairs)) => encode_pairs(pairs),
            (_, Value::Exporter(e)) => e.as_str().to_string(),
            (_, Value::Protocol(p)) => p.as_str().to_string(),
            (_, Value::Compression(c)) => c.as_str().to_string(),
            (_, Value::Sampler(root, parent_based)) => sampler_name(*root, *parent_based),
            (_, Value::Propagators(p)) if p.is_empty() => "none".to_string(),
            (_, Value::Propagators(p)) => join(p.iter().map(|k| k.as_str())),
            (_, Value::Redact((e, c, s))) => {
                let on: Vec<&str> = [(*e, "email"), (*c, "card"), (*s, "ssn")]
                    .iter()
                    .filter(|(b, _)| *b)
                    .map(|(_, n)| *n)
                    .collect();
                if on.is_empty() {
                    "no redaction".to_string()
                } else {
                    on.join(",")
                }
            }
        }
    }
}

fn map_parsed<T>(p: Parsed<T>, f: impl FnOnce(T) -> Value) -> Parsed<Value> {
    match p {
        Parsed::Ok(v) => Parsed::Ok(f(v)),
        Parsed::Partial(v, note) => Parsed::Partial(f(v), note),
        Parsed::Invalid(reason) => Parsed::Invalid(reason),
    }
}

/// `POLYTRACE_REDACT`: unknown entries are skipped with a warning.
fn parse_redact_env(raw: &str) -> Parsed<Value> {
    let mut out = (false, false, false);
    let mut unknown = Vec::new();
    for item in split_list(raw) {
        if !set_scrubber(&mut out, &item) {
            unknown.push(format!("{item:?}"));
        }
    }
    if unknown.is_empty() {
        Parsed::Ok(Value::Redact(out))
    } else {
        Parsed::Partial(
            Value::Redact(out),
            format!(
                "ignoring unknown redaction {} (expected email, card, ssn or none)",
                unknown.join(", ")
            ),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Parsers shared by options and environment values
// ---------------------------------------------------------------------------------------------

/// The root of a sampler name (the `parentbased_` prefix is a separate flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RootSampler {
    /// `always_on`
    AlwaysOn,
    /// `always_off`
    AlwaysOff,
    /// `traceidratio`
    TraceIdRatio,
    /// `ratelimiting`
    RateLimiting,
    /// `jaeger_remote`
    JaegerRemote,
}

pub(super) fn sampler_name(root: RootSampler, parent_based: bool) -> String {
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
fn opt_propagators(v: &OptionValue) -> Result<Vec<PropagatorKind>, Reject> {
    let items = opt_list(v)?;
    let mut out = Vec::new();
    let mut none = false;
    for item in &items {
        if item.eq_ignore_ascii_case("none") {
            none = true;
        } else {
            let p = PropagatorKind::from_name(item).ok_or_else(|| {
                bad_value(format!(
                    "unsupported propagator {item:?} (expected tracecontext, baggage or none)"
                ))
            })?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    if none && !out.is_empty() {
        return Err(bad_value(
            "\"none\" cannot be combined with other propagators",
        ));
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
pub(super) fn parse_pairs(raw: &str) -> (Vec<(String, String)>, Vec<String>) {
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
pub(super) fn percent_decode(s: &str) -> Result<String, String> {
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

pub(super) fn encode_pairs(pairs: &[(String, String)]) -> String {
    join(pairs.iter().map(|(k, v)| {
        format!(
            "{}={}",
            percent_encode_pair_part(k),
            percent_encode_pair_part(v)
        )
    }))
}

/// Later duplicates replace the earlier value, keeping the first position.
pub(super) fn dedup_pairs(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
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
pub(super) fn take_key(pairs: &mut Vec<(String, String)>, key: &str) -> Option<String> {
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

/// `name=***,…`: the names of key/value pairs whose values must not be shown.
pub(super) fn masked_pairs(pairs: &[(String, String)]) -> String {
    join(
        pairs
            .iter()
            .map(|(k, _)| format!("{}=***", percent_encode_pair_part(k))),
    )
}

pub(super) fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
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
pub(super) fn parse_bool(s: &str) -> Result<bool, String> {
    if s.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err("expected true or false".to_string())
    }
}

/// A decimal integer in `min..=2³¹−1`.
pub(super) fn parse_int(s: &str, min: u64) -> Result<u64, String> {
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
pub(super) fn fmt_float(x: f64) -> String {
    format!("{x}")
}

pub(super) fn to_usize(n: u64) -> usize {
    // n <= 2^31-1 by construction, which fits every usize polytrace builds for.
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Builds the final endpoint URL. `generic` marks `OTEL_EXPORTER_OTLP_ENDPOINT` and the
/// `endpoint` option, which get `v1/traces` appended for OTLP/HTTP.
pub(super) fn endpoint_url(
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
pub(super) fn check_authority(authority: &str) -> Result<(), String> {
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
pub(super) fn append_traces_path(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let tail_start = url[scheme_end..]
        .find(['?', '#'])
        .map_or(url.len(), |i| i + scheme_end);
    let (base, tail) = url.split_at(tail_start);
    let slash = if base.ends_with('/') { "" } else { "/" };
    format!("{base}{slash}v1/traces{tail}")
}

// ---------------------------------------------------------------------------------------------
// Typed option values
// ---------------------------------------------------------------------------------------------

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
pub(super) fn opt_string(v: &OptionValue) -> Result<String, Reject> {
    match v {
        OptionValue::Str(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        OptionValue::Str(_) => Err(bad_value(
            "expected a non-empty string, got an empty string",
        )),
        other => Err(wrong_type(format!(
            "expected a string, got {}",
            describe(other)
        ))),
    }
}

fn opt_bool(v: &OptionValue) -> Result<bool, Reject> {
    match v {
        OptionValue::Bool(b) => Ok(*b),
        OptionValue::Str(s) => {
            parse_bool(s.trim()).map_err(|e| bad_value(format!("{e}, got {s:?}")))
        }
        other => Err(wrong_type(format!(
            "expected a boolean, got {}",
            describe(other)
        ))),
    }
}

/// An integer in `min..=2³¹−1`: `Int`, an integral `Float` (JavaScript numbers) or a numeric
/// string.
fn opt_int(v: &OptionValue, min: u64) -> Result<u64, Reject> {
    let expected = format!("expected an integer from {min} to {MAX_INT}");
    let n = match v {
        OptionValue::Bool(_) | OptionValue::List(_) | OptionValue::Map(_) => {
            return Err(wrong_type(format!("{expected}, got {}", describe(v))));
        }
        OptionValue::Int(i) => u64::try_from(*i).ok(),
        OptionValue::Float(f) if f.is_finite() && f.fract() == 0.0 && *f >= 0.0 => {
            // Integral, non-negative and compared against MAX_INT below; larger values
            // saturate, which the range check rejects.
            Some(*f as u64)
        }
        OptionValue::Str(s) => parse_int(s.trim(), min).ok(),
        OptionValue::Float(_) => None,
    };
    match n {
        Some(n) if (min..=MAX_INT).contains(&n) => Ok(n),
        _ => Err(bad_value(format!("{expected}, got {}", describe(v)))),
    }
}

fn opt_float(v: &OptionValue) -> Result<f64, Reject> {
    match v {
        // Sampler arguments are small; i64 -> f64 rounding is irrelevant here.
        OptionValue::Int(i) => Ok(*i as f64),
        OptionValue::Float(f) => Ok(*f),
        OptionValue::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| bad_value(format!("expected a number, got {}", describe(v)))),
        other => Err(wrong_type(format!(
            "expected a number, got {}",
            describe(other)
        ))),
    }
}

/// A list: `List` (entries trimmed, none empty) or a comma-separated string.
fn opt_list(v: &OptionValue) -> Result<Vec<String>, Reject> {
    match v {
        OptionValue::List(items) => items
            .iter()
            .map(|s| {
                let t = s.trim();
                if t.is_empty() {
                    Err(bad_value("the list has an empty entry"))
                } else {
                    Ok(t.to_string())
                }
            })
            .collect(),
        OptionValue::Str(s) => Ok(split_list(s)),
        other => Err(wrong_type(format!(
            "expected a list or a comma-separated string, got {}",
            describe(other)
        ))),
    }
}

/// Key/value pairs: `Map` (used as given, keys must be non-empty) or a `k=v,k2=v2` string
/// (percent-decoded like the environment variable, every entry must be valid).
pub(super) fn opt_pairs(v: &OptionValue) -> Result<Vec<(String, String)>, Reject> {
    match v {
        OptionValue::Map(pairs) => {
            if pairs.iter().any(|(k, _)| k.trim().is_empty()) {
                return Err(bad_value("the map has an empty key"));
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
                Err(bad_value(format!(
                    "{} (expected key=value pairs separated by commas, with percent-encoded values)",
                    bad.join("; ")
                )))
            }
        }
        other => Err(wrong_type(format!(
            "expected a map or a \"key=value,key2=value2\" string, got {}",
            describe(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
