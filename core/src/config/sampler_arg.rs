//! The argument of the `jaeger_remote` and `parentbased_jaeger_remote` samplers
//! (`OTEL_TRACES_SAMPLER_ARG` / the `sampler_arg` option), as the OpenTelemetry SDK
//! environment-variable specification defines it: a comma-separated list of
//! `endpoint=…,pollingIntervalMs=…,initialSamplingRate=…`, every key optional.
//!
//! The table's `sampler_arg` row ([`Kind::SamplerArg`](super::Kind::SamplerArg)) parses its
//! value here when the resolved sampler is a Jaeger one; the samplers that take a number
//! (`traceidratio`, `ratelimiting`) are parsed in `parse.rs`.
//! The strategies the endpoint serves are parsed next to the sampler
//! (`trace/sampler/strategy.rs`).

use super::parse::{check_authority, fmt_float, parse_pairs, Parsed};
use super::SamplerConfig;
use std::time::Duration;

/// Default endpoint: the specification's gRPC form, as the Java SDK defaults it (Jaeger v1's
/// collector port; a Jaeger v2 `remote_sampling` extension serves gRPC on 5779 and HTTP on
/// 5778 by default).
pub const DEFAULT_JAEGER_REMOTE_ENDPOINT: &str = "http://localhost:14250";
/// Default polling interval: one minute (the Java and Go samplers' default).
pub const DEFAULT_JAEGER_REMOTE_POLLING_MS: u64 = 60_000;
/// Default sampling probability until the first strategy arrives (the Java and Go samplers'
/// default).
pub const DEFAULT_JAEGER_REMOTE_INITIAL_RATE: f64 = 0.001;

/// Longest accepted polling interval (2³¹−1 ms, the specification's integer range).
const MAX_POLLING_MS: u64 = i32::MAX as u64;

/// How the sampler reaches the strategy endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteTransport {
    /// `GET <endpoint>?service=NAME` returning JSON (Jaeger's remote-sampling HTTP API): an
    /// endpoint URL with a path, e.g. `http://jaeger:5778/sampling`.
    Http,
    /// `jaeger.api_v2.SamplingManager/GetSamplingStrategy`: an endpoint without a path,
    /// `http://host:port` or a bare `host:port` (the specification's form).
    Grpc,
}

/// The resolved `jaeger_remote` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct JaegerRemoteConfig {
    /// The strategy endpoint as a URL (`http://` added to a bare `host:port`). Default
    /// `http://localhost:14250` (gRPC).
    pub endpoint: String,
    /// How often the strategy is fetched (`pollingIntervalMs`, default 60 s).
    pub polling_interval: Duration,
    /// The probability used until the first strategy arrives (`initialSamplingRate`,
    /// default 0.001).
    pub initial_sampling_rate: f64,
}

impl Default for JaegerRemoteConfig {
    fn default() -> Self {
        JaegerRemoteConfig {
            endpoint: DEFAULT_JAEGER_REMOTE_ENDPOINT.to_string(),
            polling_interval: Duration::from_millis(DEFAULT_JAEGER_REMOTE_POLLING_MS),
            initial_sampling_rate: DEFAULT_JAEGER_REMOTE_INITIAL_RATE,
        }
    }
}

impl JaegerRemoteConfig {
    /// HTTP when the endpoint has a path (other than `/`), gRPC otherwise.
    pub fn transport(&self) -> RemoteTransport {
        let rest = self
            .endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, r)| r);
        match rest.find(['/', '?']) {
            Some(i) if !matches!(&rest[i..], "/" | "") => RemoteTransport::Http,
            _ => RemoteTransport::Grpc,
        }
    }

    /// The argument in the specification's form, as the effective configuration shows it.
    pub fn to_arg(&self) -> String {
        format!(
            "endpoint={},pollingIntervalMs={},initialSamplingRate={}",
            self.endpoint,
            self.polling_interval.as_millis(),
            fmt_float(self.initial_sampling_rate)
        )
    }

    /// Reads the keys of the argument; any bad or unknown key rejects the whole argument (the
    /// specification: invalid input is logged and the sampler behaves as if no argument was
    /// given).
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> std::result::Result<Self, String> {
        let mut cfg = JaegerRemoteConfig::default();
        for (key, value) in pairs {
            let value = value.trim();
            match key.trim() {
                "endpoint" => cfg.endpoint = endpoint(value)?,
                // `pollingInterval` is the key the Java SDK's autoconfiguration reads.
                "pollingIntervalMs" | "pollingInterval" => {
                    let ms = value
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| (1..=MAX_POLLING_MS).contains(ms));
                    let Some(ms) = ms else {
                        return Err(format!(
                            "pollingIntervalMs must be a whole number of milliseconds from 1 to \
                             {MAX_POLLING_MS}, got {value:?}"
                        ));
                    };
                    cfg.polling_interval = Duration::from_millis(ms);
                }
                "initialSamplingRate" => {
                    let rate = value
                        .parse::<f64>()
                        .ok()
                        .filter(|r| (0.0..=1.0).contains(r));
                    let Some(rate) = rate else {
                        return Err(format!(
                            "initialSamplingRate must be a number from 0 to 1, got {value:?}"
                        ));
                    };
                    cfg.initial_sampling_rate = rate;
                }
                other => {
                    return Err(format!(
                        "unknown key {other:?} (expected endpoint, pollingIntervalMs, \
                         initialSamplingRate)"
                    ))
                }
            }
        }
        Ok(cfg)
    }
}

/// Checks and normalizes an endpoint: `http(s)://host[:port][/path]`, or a bare `host:port`
/// (which gets `http://`).
fn endpoint(raw: &str) -> std::result::Result<String, String> {
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "endpoint must be a URL (http://host:port/path for HTTP, host:port or \
             http://host:port for gRPC), got {raw:?}"
        ));
    }
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, rest)) => (s.to_ascii_lowercase(), rest),
        None => ("http".to_string(), raw),
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "the endpoint scheme must be http or https, not {scheme:?}"
        ));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    check_authority(authority).map_err(|e| format!("{e} ({raw:?})"))?;
    if !raw.contains("://") && !authority.contains(':') {
        return Err(format!(
            "a bare endpoint needs a port (host:port), got {raw:?}"
        ));
    }
    Ok(format!("{scheme}://{rest}"))
}

impl SamplerConfig {
    /// The sampler argument as the effective configuration shows it: the ratio or rate, the
    /// `jaeger_remote` argument list, or `""` for samplers without an argument.
    pub fn arg_text(&self) -> String {
        match self {
            SamplerConfig::JaegerRemote(r) => r.to_arg(),
            SamplerConfig::ParentBased(root) => root.arg_text(),
            other => other.arg().map(fmt_float).unwrap_or_default(),
        }
    }
}

impl JaegerRemoteConfig {
    /// `OTEL_TRACES_SAMPLER_ARG` for a Jaeger remote sampler: an invalid list is ignored as a
    /// whole (a warning; the next source is used).
    pub(super) fn parse_env(raw: &str) -> Parsed<JaegerRemoteConfig> {
        let (pairs, bad) = parse_pairs(raw);
        if !bad.is_empty() {
            return Parsed::Invalid(format!(
                "{} (expected endpoint=…,pollingIntervalMs=…,initialSamplingRate=…)",
                bad.join("; ")
            ));
        }
        match JaegerRemoteConfig::from_pairs(&pairs) {
            Ok(c) => Parsed::Ok(c),
            Err(e) => Parsed::Invalid(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, OptionValue};

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn remote(c: &Config) -> (&JaegerRemoteConfig, bool) {
        match &c.sampler {
            SamplerConfig::JaegerRemote(r) => (r, false),
            SamplerConfig::ParentBased(root) => match root.as_ref() {
                SamplerConfig::JaegerRemote(r) => (r, true),
                other => panic!("not jaeger_remote: {other:?}"),
            },
            other => panic!("not jaeger_remote: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_sdks() {
        let vars = [("OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote")];
        let (c, w) = Config::resolve(&[], &env(&vars)).unwrap();
        assert!(w.is_empty(), "{w:?}");
        let (r, pb) = remote(&c);
        assert!(pb);
        assert_eq!(r.endpoint, "http://localhost:14250");
        assert_eq!(r.polling_interval, Duration::from_secs(60));
        assert_eq!(r.initial_sampling_rate, 0.001);
        assert_eq!(r.transport(), RemoteTransport::Grpc);
        assert_eq!(c.sampler.name(), "parentbased_jaeger_remote");
        let eff: std::collections::HashMap<_, _> = c.effective().into_iter().collect();
        assert_eq!(
            eff["sampler_arg"],
            "endpoint=http://localhost:14250,pollingIntervalMs=60000,initialSamplingRate=0.001"
        );
    }

    #[test]
    fn the_specification_example_and_the_http_form() {
        let vars = [
            ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
            (
                "OTEL_TRACES_SAMPLER_ARG",
                "endpoint=http://localhost:14250,pollingIntervalMs=5000,initialSamplingRate=0.25",
            ),
        ];
        let (c, w) = Config::resolve(&[], &env(&vars)).unwrap();
        assert!(w.is_empty(), "{w:?}");
        let (r, pb) = remote(&c);
        assert!(!pb);
        assert_eq!(r.polling_interval, Duration::from_millis(5000));
        assert_eq!(r.initial_sampling_rate, 0.25);
        assert_eq!(r.transport(), RemoteTransport::Grpc);
        assert_eq!(c.sampler.name(), "jaeger_remote");

        for (ep, want, transport) in [
            (
                "http://127.0.0.1:5778/sampling",
                "http://127.0.0.1:5778/sampling",
                RemoteTransport::Http,
            ),
            (
                "HTTPS://jaeger:5778/api/sampling",
                "https://jaeger:5778/api/sampling",
                RemoteTransport::Http,
            ),
            ("jaeger:5779", "http://jaeger:5779", RemoteTransport::Grpc),
            (
                "http://jaeger:5779/",
                "http://jaeger:5779/",
                RemoteTransport::Grpc,
            ),
            ("[::1]:5779", "http://[::1]:5779", RemoteTransport::Grpc),
        ] {
            let arg = format!("endpoint={ep}");
            let vars = [
                ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
                ("OTEL_TRACES_SAMPLER_ARG", &arg),
            ];
            let (c, w) = Config::resolve(&[], &env(&vars)).unwrap();
            assert!(w.is_empty(), "{ep}: {w:?}");
            let (r, _) = remote(&c);
            assert_eq!(
                (r.endpoint.as_str(), r.transport()),
                (want, transport),
                "{ep}"
            );
        }
    }

    #[test]
    fn an_invalid_env_argument_is_ignored_as_a_whole_with_a_warning() {
        for bad in [
            "endpoint=ftp://x:1",
            "endpoint=jaeger",
            "endpoint=",
            "endpoint=http://:5778/sampling",
            "pollingIntervalMs=0",
            "pollingIntervalMs=-5",
            "pollingIntervalMs=1.5",
            "pollingIntervalMs=99999999999",
            "initialSamplingRate=1.5",
            "initialSamplingRate=NaN",
            "initialSamplingRate=abc",
            "endpoint=http://x:1/s,colour=blue",
            "garbage",
        ] {
            let vars = [
                ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
                ("OTEL_TRACES_SAMPLER_ARG", bad),
            ];
            let (c, w) = Config::resolve(&[], &env(&vars)).unwrap();
            assert_eq!(remote(&c).0, &JaegerRemoteConfig::default(), "{bad}");
            assert_eq!(w.len(), 1, "{bad}: {w:?}");
            assert_eq!(w[0].variable, "OTEL_TRACES_SAMPLER_ARG");
        }
    }

    #[test]
    fn the_option_takes_a_string_or_a_map_and_rejects_bad_values() {
        let opts = vec![
            (
                "sampler".to_string(),
                OptionValue::Str("parentbased_jaeger_remote".into()),
            ),
            (
                "samplerArg".to_string(),
                OptionValue::Map(vec![
                    ("endpoint".into(), "http://127.0.0.1:5778/sampling".into()),
                    ("pollingIntervalMs".into(), "250".into()),
                ]),
            ),
        ];
        // The option wins over the environment.
        let vars = [("OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=9")];
        let (c, _) = Config::resolve(&opts, &env(&vars)).unwrap();
        let (r, _) = remote(&c);
        assert_eq!(r.endpoint, "http://127.0.0.1:5778/sampling");
        assert_eq!(r.polling_interval, Duration::from_millis(250));
        assert_eq!(r.initial_sampling_rate, 0.001);

        let opts = vec![
            (
                "sampler".to_string(),
                OptionValue::Str("jaeger_remote".into()),
            ),
            (
                "sampler_arg".to_string(),
                OptionValue::Str("initialSamplingRate=2".into()),
            ),
        ];
        let e = Config::resolve(&opts, &|_| None).unwrap_err();
        assert!(e.to_string().contains("initialSamplingRate"), "{e}");
    }
}
