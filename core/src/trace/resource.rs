//! The resource every span of a provider carries: service, SDK, process and host.

use crate::config::Config;
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

/// Version of polytrace-core, reported as `telemetry.sdk.version`.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
}

fn executable() -> (Option<String>, Option<String>) {
    match std::env::current_exe() {
        Ok(p) => (
            p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Some(p.to_string_lossy().into_owned()),
        ),
        Err(_) => (None, None),
    }
}

/// Builds the resource: user attributes first, then what polytrace knows; `service.name` and
/// the `telemetry.sdk.*` attributes always win.
pub fn build(config: &Config) -> Resource {
    let mut attrs: Vec<KeyValue> = Vec::new();
    for (k, v) in &config.resource_attributes {
        if k != "service.name" {
            attrs.push(KeyValue::new(k.clone(), v.clone()));
        }
    }
    let has = |attrs: &[KeyValue], key: &str| attrs.iter().any(|kv| kv.key.as_str() == key);
    let (exe_name, exe_path) = executable();
    let mut auto: Vec<KeyValue> = vec![KeyValue::new("process.pid", i64::from(std::process::id()))];
    if let Some(n) = exe_name {
        auto.push(KeyValue::new("process.executable.name", n));
    }
    if let Some(p) = exe_path {
        auto.push(KeyValue::new("process.executable.path", p));
    }
    if let Some(h) = host_name() {
        auto.push(KeyValue::new("host.name", h));
    }
    auto.push(KeyValue::new("host.arch", std::env::consts::ARCH));
    auto.push(KeyValue::new("os.type", std::env::consts::OS));
    for kv in auto {
        if !has(&attrs, kv.key.as_str()) {
            attrs.push(kv);
        }
    }
    attrs.push(KeyValue::new("service.name", config.service_name.clone()));
    attrs.push(KeyValue::new("telemetry.sdk.name", "polytrace"));
    attrs.push(KeyValue::new(
        "telemetry.sdk.language",
        config.sdk_language.clone(),
    ));
    attrs.push(KeyValue::new("telemetry.sdk.version", SDK_VERSION));
    Resource::builder_empty().with_attributes(attrs).build()
}
