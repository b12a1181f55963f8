//! Test-only entry points (feature `testing`): they let the Node suite prove the error and
//! panic mapping and run the shared configuration vectors against the core's resolver.

use crate::convert::{self, OptionArg};
use crate::error::{guard, guard_js, throw, Code};
use napi::bindgen_prelude::Env;
use napi::Result;
use napi_derive::napi;
use polytrace_core::config::Config;
use polytrace_core::error::testing;

/// Panics inside the core, under the guard: must throw `code: 'Internal'`.
#[napi(namespace = "_testing")]
pub fn panic_now() -> Result<(), Code> {
    guard(testing::panic_now)
}

/// Returns a core error of the named kind: must throw `code: kind`.
#[napi(namespace = "_testing")]
pub fn error(kind: String) -> Result<(), Code> {
    guard(|| testing::error(&kind))
}

/// The outcome of resolving a configuration against a fake environment.
#[napi(object, namespace = "_testing")]
pub struct Resolved {
    /// `Config::effective()` as `[option, value]` pairs.
    pub effective: Vec<Vec<String>>,
    /// The environment variables that produced a warning.
    pub warnings: Vec<String>,
}

/// `Config::resolve(options, env)` with `env` given as `[name, value]` pairs (every other
/// variable unset): the shared vectors' `tests/vectors/config.json` runner.
/// Errors are thrown as the provider constructor throws them.
#[napi(namespace = "_testing")]
pub fn resolve_config(
    js: Env,
    env: Vec<Vec<String>>,
    options: Vec<OptionArg>,
) -> Result<Resolved, Code> {
    guard_js(|| {
        let options = convert::options(options).map_err(|e| throw(&js, e))?;
        let lookup = |name: &str| {
            env.iter()
                .find(|kv| kv.first().map(String::as_str) == Some(name))
                .and_then(|kv| kv.get(1).cloned())
        };
        let (config, warnings) = Config::resolve(&options, &lookup).map_err(|e| throw(&js, e))?;
        Ok(Resolved {
            effective: config
                .effective()
                .into_iter()
                .map(|(k, v)| vec![k, v])
                .collect(),
            warnings: warnings.into_iter().map(|w| w.variable).collect(),
        })
    })
}
