//! Resolution: explicit option > `OTEL_*` environment variable > default, one setting at a
//! time through its row of the table (`options.rs`), in dependency order (the protocol and
//! `insecure` before the endpoint, the sampler before its argument, the queue size before the
//! batch size).

use super::options::{self as o, OptionDef, OPTIONS, OPTION_NAMES};
use super::parse::{dedup_pairs, opt_pairs, opt_string, parse_pairs, take_key, to_usize};
use super::parse::{Ctx, Parsed, Reject, RootSampler, Value};
use super::types::{default_service_name, ConfigWarning, DEFAULT_RATE_LIMIT};
use super::{
    BatchConfig, Config, JaegerRemoteConfig, LimitsConfig, OptionValue, OtlpConfig,
    RedactionConfig, SamplerConfig,
};
use crate::error::{ConfigProblem, Error, Result};
use std::collections::HashMap;
use std::time::Duration;

/// An environment variable of this process as text: values that are not valid UTF-8 repaired
/// by the core's rule ([`crate::text`]), then usually rejected with a warning by the variable's
/// parser. The lookup of [`Config::from_env`], for bindings that look elsewhere first.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| crate::text::lossy_utf8(v.as_encoded_bytes()).into_owned())
}

impl Config {
    /// explicit option > OTEL_* env > spec default. `env` is a lookup function so tests and
    /// vectors can inject a fake environment.
    ///
    /// Invalid environment values produce [`ConfigWarning`]s and fall back; invalid options
    /// (unknown name, wrong type, bad value, given twice) return an
    /// [`ErrorKind::InvalidConfig`](crate::error::ErrorKind::InvalidConfig) error naming the
    /// option, with its [`ConfigProblem`] and name (see [`Error::config_problem`]).
    pub fn resolve(
        options: &[(String, OptionValue)],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<ConfigWarning>)> {
        let mut r = Resolver::new(options, env)?;
        let config = r.config()?;
        Ok((config, r.warnings))
    }

    /// resolve with the real process environment ([`env_var`])
    pub fn from_env(options: &[(String, OptionValue)]) -> Result<(Config, Vec<ConfigWarning>)> {
        Config::resolve(options, &env_var)
    }

    /// The effective configuration flattened as canonical (option name, string value) pairs,
    /// sorted by name — used by the shared vectors in every language.
    ///
    /// Keys are option names (every one except `traces_endpoint`: `endpoint` is the final URL).
    /// Formats: booleans `true`/`false`; durations in whole milliseconds; unset paths and an
    /// unlimited value length as `""`; maps as `k=v,k2=v2` with `%`, `,` and `=` in keys and
    /// values percent-encoded; lists comma-separated; `propagators` is `none` when empty;
    /// `sampler_arg` is `""` for samplers without an argument; `redact` lists the enabled
    /// scrubbers in the order `email,card,ssn`. Each row of the table of options says how its
    /// value is shown.
    pub fn effective(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = OPTIONS
            .iter()
            .filter_map(|o| o.effective.map(|show| (o.name.to_string(), show(self))))
            .collect();
        out.sort();
        out
    }
}

/// Where a resolved value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// An explicit option.
    Option,
    /// An environment variable.
    Env(&'static str),
    /// The default.
    Default,
}

/// A problem with one environment value: (variable, raw value, reason or note).
type EnvProblem = (&'static str, String, String);

/// One resolution in progress: the validated options, the environment, what parsing depends
/// on so far and the warnings.
struct Resolver<'a> {
    /// Canonical option name → (name as the caller spelled it, value).
    options: HashMap<&'static str, (&'a str, &'a OptionValue)>,
    env: &'a dyn Fn(&str) -> Option<String>,
    ctx: Ctx,
    warnings: Vec<ConfigWarning>,
}

/// The error for an option value the option's kind rejected.
fn rejected(given: &str, row: &OptionDef, reject: Reject) -> Error {
    Error::config(
        reject.problem,
        given,
        Some(row.name),
        format!(
            "invalid value for configuration option \"{given}\": {}",
            reject.reason
        ),
    )
}

impl<'a> Resolver<'a> {
    /// Checks option names (unknown or duplicated names are errors) and indexes them.
    fn new(
        options: &'a [(String, OptionValue)],
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let mut map: HashMap<&'static str, (&'a str, &'a OptionValue)> = HashMap::new();
        for (given, value) in options {
            let Some(row) = o::find_option(given) else {
                return Err(Error::config(
                    ConfigProblem::UnknownOption,
                    given,
                    None,
                    format!(
                        "unknown configuration option \"{given}\"; accepted options are: {}",
                        OPTION_NAMES.join(", ")
                    ),
                ));
            };
            let canonical = row.name;
            if let Some((first, _)) = map.insert(canonical, (given.as_str(), value)) {
                // The canonical name: which of the two spellings came second depends on the
                // host's map order.
                return Err(Error::config(
                    ConfigProblem::DuplicateOption,
                    canonical,
                    Some(canonical),
                    format!(
                        "configuration option \"{canonical}\" was given twice (as \"{first}\" \
                         and \"{given}\")"
                    ),
                ));
            }
        }
        Ok(Resolver {
            options: map,
            env,
            ctx: Ctx::default(),
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
    fn option(&self, name: &str) -> Option<(&'a str, &'a OptionValue)> {
        self.options.get(name).copied()
    }

    /// Resolves one setting read through `rows` (one row, or a row and the rows it overrides,
    /// like `traces_endpoint` over `endpoint`): the first given option (parsed by its row's
    /// kind; an error fails the resolution), else the first environment variable of the rows
    /// that parses (invalid ones are warned about and skipped), else `default` or the last
    /// row's own default.
    fn get(&mut self, rows: &[&OptionDef], default: Option<Value>) -> Result<(Value, Source)> {
        for row in rows {
            if !OPTIONS.iter().any(|known| known.name == row.name) {
                return Err(Error::internal(format!(
                    "configuration: the option {} is missing from OPTIONS",
                    row.name
                )));
            }
        }
        for row in rows {
            if let Some((given, value)) = self.option(row.name) {
                return match row.kind.parse_option(&self.ctx, value) {
                    Ok(v) => Ok((v, Source::Option)),
                    Err(reject) => Err(rejected(given, row, reject)),
                };
            }
        }
        let mut problems: Vec<EnvProblem> = Vec::new();
        let mut found: Option<(Value, Source, &OptionDef, Option<EnvProblem>)> = None;
        'rows: for row in rows {
            for var in row.env {
                let Some(raw) = self.env_var(var.name) else {
                    continue;
                };
                match row.kind.parse_env(&self.ctx, &raw) {
                    Parsed::Ok(v) => {
                        found = Some((v, Source::Env(var.name), row, None));
                        break 'rows;
                    }
                    Parsed::Partial(v, note) => {
                        found = Some((v, Source::Env(var.name), row, Some((var.name, raw, note))));
                        break 'rows;
                    }
                    Parsed::Invalid(reason) => problems.push((var.name, raw, reason)),
                }
            }
        }
        let last = rows
            .last()
            .ok_or_else(|| Error::internal("configuration: a setting without a row"))?;
        let (value, source, row, partial) = match found {
            Some(f) => f,
            None => (
                self.default_of(last, default)?,
                Source::Default,
                *last,
                None,
            ),
        };
        let shown = row.kind.show(&value);
        let using = match source {
            Source::Env(var) => format!("{shown} from {var}"),
            Source::Option | Source::Default => format!("the default {shown}"),
        };
        let secret = rows.iter().any(|r| r.secret);
        let quote = |raw: &str| {
            if secret {
                "(value not shown)".to_string()
            } else {
                format!("{raw:?}")
            }
        };
        for (var, raw, reason) in problems {
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

    /// The default of `row`: the one resolution computed, else the row's textual default,
    /// else no value.
    fn default_of(&self, row: &OptionDef, computed: Option<Value>) -> Result<Value> {
        if let Some(v) = computed {
            return Ok(v);
        }
        match row.default {
            None => Ok(Value::Unset),
            Some(text) => match row.kind.parse_env(&self.ctx, text) {
                Parsed::Ok(v) => Ok(v),
                _ => Err(Error::internal(format!(
                    "configuration: the default {text:?} of {} does not parse",
                    row.name
                ))),
            },
        }
    }

    /// One row, its own default.
    fn value(&mut self, row: &OptionDef) -> Result<Value> {
        Ok(self.get(&[row], None)?.0)
    }

    fn warn(&mut self, variable: &str, message: String) {
        self.warnings.push(ConfigWarning {
            variable: variable.to_string(),
            message,
        });
    }

    /// Resolves everything, in dependency order.
    fn config(&mut self) -> Result<Config> {
        let disabled = self.value(&o::DISABLED)?.bool()?;
        let (resource_attributes, service_name) = self.resource()?;
        let exporter = self.value(&o::EXPORTER)?.exporter()?;
        let otlp = self.otlp()?;
        let file_path = self.value(&o::FILE_PATH)?.path()?;
        let sampler = self.sampler()?;
        let propagators = self.value(&o::PROPAGATORS)?.propagators()?;
        let batch = self.batch()?;
        let limits = self.limits()?;
        let (email, card, ssn) = self.value(&o::REDACT)?.redact()?;
        let redaction = RedactionConfig {
            email,
            card,
            ssn,
            hash_keys: self.value(&o::REDACT_HASH_KEYS)?.list()?,
        };
        let sdk_language = self.value(&o::SDK_LANGUAGE)?.text()?;
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

    /// Resource attributes (env merged under the option) and the service name: two rows read
    /// together, which is why they do not go through [`get`](Self::get).
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
        if let Some((given, value)) = self.option(o::RESOURCE_ATTRIBUTES.name) {
            let mut pairs =
                opt_pairs(value).map_err(|r| rejected(given, &o::RESOURCE_ATTRIBUTES, r))?;
            option_service = take_key(&mut pairs, "service.name");
            for (k, v) in pairs {
                match attrs.iter_mut().find(|(ek, _)| *ek == k) {
                    Some(slot) => slot.1 = v,
                    None => attrs.push((k, v)),
                }
            }
        }
        let explicit = match self.option(o::SERVICE_NAME.name) {
            Some((given, value)) => {
                Some(opt_string(value).map_err(|r| rejected(given, &o::SERVICE_NAME, r))?)
            }
            None => None,
        };
        let env_name = o::SERVICE_NAME
            .env
            .iter()
            .find_map(|v| self.env_var(v.name));
        let service_name = explicit
            .or(option_service.filter(|s| !s.is_empty()))
            .or(env_name)
            .or(env_service.filter(|s| !s.is_empty()))
            .unwrap_or_else(default_service_name);
        Ok((attrs, service_name))
    }

    fn otlp(&mut self) -> Result<OtlpConfig> {
        let protocol = self.value(&o::PROTOCOL)?.protocol()?;
        self.ctx.protocol = protocol;
        let insecure = self.value(&o::INSECURE)?.bool()?;
        self.ctx.insecure = insecure;
        let default_endpoint = Value::Text(protocol.default_endpoint().to_string());
        let endpoint = self
            .get(&[&o::TRACES_ENDPOINT, &o::ENDPOINT], Some(default_endpoint))?
            .0
            .text()?;
        Ok(OtlpConfig {
            endpoint,
            protocol,
            headers: self.value(&o::HEADERS)?.pairs()?,
            timeout: Duration::from_millis(self.value(&o::TIMEOUT)?.int()?),
            compression: self.value(&o::COMPRESSION)?.compression()?,
            certificate: self.value(&o::CERTIFICATE)?.opt_path()?,
            client_key: self.value(&o::CLIENT_KEY)?.opt_path()?,
            client_certificate: self.value(&o::CLIENT_CERTIFICATE)?.opt_path()?,
            insecure,
        })
    }

    fn sampler(&mut self) -> Result<SamplerConfig> {
        let (root, parent_based) = self.value(&o::SAMPLER)?.sampler()?;
        self.ctx.sampler = root;
        let arg = |r: &mut Self, default: f64| -> Result<f64> {
            r.get(&[&o::SAMPLER_ARG], Some(Value::Float(default)))?
                .0
                .float()
        };
        let root = match root {
            RootSampler::AlwaysOn => SamplerConfig::AlwaysOn,
            RootSampler::AlwaysOff => SamplerConfig::AlwaysOff,
            RootSampler::TraceIdRatio => SamplerConfig::TraceIdRatio(arg(self, 1.0)?),
            RootSampler::RateLimiting => {
                SamplerConfig::RateLimiting(arg(self, DEFAULT_RATE_LIMIT)?)
            }
            RootSampler::JaegerRemote => SamplerConfig::JaegerRemote(
                self.get(
                    &[&o::SAMPLER_ARG],
                    Some(Value::Remote(JaegerRemoteConfig::default())),
                )?
                .0
                .remote()?,
            ),
        };
        Ok(if parent_based {
            SamplerConfig::ParentBased(Box::new(root))
        } else {
            root
        })
    }

    fn batch(&mut self) -> Result<BatchConfig> {
        let schedule_delay = Duration::from_millis(self.value(&o::SCHEDULE_DELAY)?.int()?);
        let export_timeout = Duration::from_millis(self.value(&o::EXPORT_TIMEOUT)?.int()?);
        let (queue, queue_source) = self.get(&[&o::MAX_QUEUE_SIZE], None)?;
        let queue = queue.int()?;
        let (batch, batch_source) = self.get(&[&o::MAX_EXPORT_BATCH_SIZE], None)?;
        let mut batch = batch.int()?;
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
                    let row = &o::MAX_EXPORT_BATCH_SIZE;
                    let given = self.option(row.name).map_or(row.name, |(g, _)| g);
                    return Err(rejected(
                        given,
                        row,
                        Reject {
                            problem: ConfigProblem::BadValue,
                            reason: format!("{batch} exceeds the maximum queue size {queue}"),
                        },
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
        let attribute_count = self.count(&o::ATTRIBUTE_COUNT_LIMIT)?;
        let attribute_value_length = self
            .value(&o::ATTRIBUTE_VALUE_LENGTH_LIMIT)?
            .opt_int()?
            .map(to_usize);
        Ok(LimitsConfig {
            attribute_count,
            attribute_value_length,
            event_count: self.count(&o::EVENT_COUNT_LIMIT)?,
            link_count: self.count(&o::LINK_COUNT_LIMIT)?,
            attributes_per_event: self.count(&o::EVENT_ATTRIBUTE_COUNT_LIMIT)?,
            attributes_per_link: self.count(&o::LINK_ATTRIBUTE_COUNT_LIMIT)?,
        })
    }

    fn count(&mut self, row: &OptionDef) -> Result<usize> {
        Ok(to_usize(self.value(row)?.int()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{normalize_option_name, Protocol, MAX_INT};
    use crate::error::ErrorKind;

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
        // Neither the effective configuration nor Debug shows a header's value.
        let effective: HashMap<String, String> = c.effective().into_iter().collect();
        assert_eq!(effective["headers"], "api-key=***");
        let debug = format!("{c:?}");
        assert!(debug.contains("api-key"), "{debug}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
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
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
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

    /// The problem, the option as given and its canonical name of a failed resolution.
    fn problem_of(
        options: &[(&str, OptionValue)],
    ) -> (ConfigProblem, Option<String>, Option<&'static str>) {
        let e = resolve(options, &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
        (
            e.config_problem()
                .unwrap_or_else(|| panic!("no problem in {e}")),
            e.option().map(str::to_string),
            e.canonical_option(),
        )
    }

    #[test]
    fn unknown_option_problem() {
        let (p, given, canonical) = problem_of(&[("maxQueueSise", OptionValue::Int(1))]);
        assert_eq!(p, ConfigProblem::UnknownOption);
        assert_eq!(given.as_deref(), Some("maxQueueSise"));
        assert_eq!(canonical, None);
    }

    #[test]
    fn duplicate_option_problem() {
        let (p, given, canonical) = problem_of(&[
            ("serviceName", OptionValue::Str("a".into())),
            ("service-name", OptionValue::Str("b".into())),
        ]);
        assert_eq!(p, ConfigProblem::DuplicateOption);
        assert_eq!(given.as_deref(), Some("service_name"));
        assert_eq!(canonical, Some("service_name"));
    }

    #[test]
    fn wrong_type_problem_for_every_kind_of_value() {
        for (name, value) in [
            ("maxQueueSize", OptionValue::Bool(true)),
            ("max_queue_size", OptionValue::List(vec!["1".into()])),
            ("disabled", OptionValue::Int(1)),
            ("serviceName", OptionValue::Int(42)),
            ("sdk_language", OptionValue::Bool(false)),
            ("file_path", OptionValue::Map(vec![])),
            ("headers", OptionValue::Bool(true)),
            ("headers", OptionValue::List(vec!["a=b".into()])),
            ("resource_attributes", OptionValue::Int(1)),
            ("propagators", OptionValue::Int(5)),
            ("redact", OptionValue::Float(1.0)),
            ("redact_hash_keys", OptionValue::Map(vec![])),
            ("exporter", OptionValue::Bool(true)),
            ("protocol", OptionValue::Int(1)),
            ("compression", OptionValue::List(vec![])),
            ("endpoint", OptionValue::Int(4318)),
            ("sampler", OptionValue::Float(0.5)),
            ("schedule_delay", OptionValue::Bool(true)),
            ("timeout", OptionValue::Map(vec![])),
        ] {
            let (p, given, canonical) = problem_of(&[(name, value.clone())]);
            assert_eq!(p, ConfigProblem::WrongType, "{name} = {value:?}");
            assert_eq!(given.as_deref(), Some(name));
            assert_eq!(
                canonical,
                Some(normalize_option_name(name).as_str())
                    .map(|n| { crate::config::find_option(n).unwrap().name })
            );
        }
        let (p, _, _) = problem_of(&[
            ("sampler", OptionValue::Str("traceidratio".into())),
            ("sampler_arg", OptionValue::Bool(true)),
        ]);
        assert_eq!(p, ConfigProblem::WrongType);
    }

    #[test]
    fn bad_value_problem_for_values_of_an_accepted_type() {
        for (name, value) in [
            ("maxQueueSize", OptionValue::Int(-1)),
            ("max_queue_size", OptionValue::Int(0)),
            ("max_queue_size", OptionValue::Str("ten".into())),
            ("schedule_delay", OptionValue::Float(1.5)),
            ("disabled", OptionValue::Str("yes".into())),
            ("serviceName", OptionValue::Str("".into())),
            ("headers", OptionValue::Str("no-equals".into())),
            (
                "headers",
                OptionValue::Map(vec![("bad header".into(), "v".into())]),
            ),
            (
                "resource_attributes",
                OptionValue::Map(vec![("".into(), "v".into())]),
            ),
            ("propagators", OptionValue::List(vec!["b3".into()])),
            ("propagators", OptionValue::Str("none,baggage".into())),
            ("redact", OptionValue::List(vec!["phone".into()])),
            ("exporter", OptionValue::Str("zipkin".into())),
            ("protocol", OptionValue::Str("http/xml".into())),
            ("compression", OptionValue::Str("br".into())),
            ("endpoint", OptionValue::Str("collector:4318".into())),
            ("traces_endpoint", OptionValue::Str("ftp://c".into())),
            ("sampler", OptionValue::Str("xray".into())),
        ] {
            let (p, given, _) = problem_of(&[(name, value.clone())]);
            assert_eq!(p, ConfigProblem::BadValue, "{name} = {value:?}");
            assert_eq!(given.as_deref(), Some(name));
        }
        let (p, given, canonical) = problem_of(&[
            ("sampler", OptionValue::Str("traceidratio".into())),
            ("samplerArg", OptionValue::Float(1.5)),
        ]);
        assert_eq!(p, ConfigProblem::BadValue);
        assert_eq!(given.as_deref(), Some("samplerArg"));
        assert_eq!(canonical, Some("sampler_arg"));
        let (p, given, canonical) = problem_of(&[
            ("maxQueueSize", OptionValue::Int(10)),
            ("maxExportBatchSize", OptionValue::Int(20)),
        ]);
        assert_eq!(p, ConfigProblem::BadValue);
        assert_eq!(given.as_deref(), Some("maxExportBatchSize"));
        assert_eq!(canonical, Some("max_export_batch_size"));
    }

    #[test]
    fn environment_problems_are_never_errors() {
        let (c, w) = resolve(
            &[],
            &[
                ("OTEL_BSP_MAX_QUEUE_SIZE", "true"),
                ("OTEL_SDK_DISABLED", "1"),
                ("OTEL_TRACES_SAMPLER", "xray"),
            ],
        )
        .unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(w.len(), 3);
    }
}
