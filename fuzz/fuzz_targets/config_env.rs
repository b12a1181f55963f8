//! Every `OTEL_*` / `POLYTRACE_*` variable parser (resource attributes, headers, sampler and
//! argument, endpoints, limits, timeouts, propagators, redaction, ...) through the one public
//! entry, `Config::resolve`: the input is `NAME=value` lines. Never panics (a bad value is a
//! warning and the default), and a configuration that resolves has an effective form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use polytrace_core::config::Config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let env: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("OTEL_") || k.starts_with("POLYTRACE_"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if let Ok((config, _warnings)) = Config::resolve(&[], &lookup) {
        let _ = config.effective();
    }
});
