//! Test-only entry points (feature `testing`): a forced panic and a forced error of each kind
//! (the error mapping), JSON decoding of the shared vectors (OTP 25 has no JSON parser), and
//! configuration resolution against a fake environment (`tests/vectors/config.json`) through
//! the same option conversion as `polytrace:start/1`.

use crate::convert;
use crate::error::{guard, unit, Failure};
use polytrace_core::config::Config;
use rustler::{Atom, Encoder, Env, NifResult, Term};
use std::collections::HashMap;

rustler::atoms! {
    ok,
    null,
    start,
}

/// Panics inside the guard: the caller sees `{error, {internal, _}}`.
#[rustler::nif]
fn testing_panic(env: Env<'_>) -> NifResult<Term<'_>> {
    guard(env, || {
        unit(env, polytrace_core::error::testing::panic_now())
    })
}

/// `{error, {Kind, _}}` for the kind named (`"InvalidConfig"`, ...).
#[rustler::nif]
fn testing_error<'a>(env: Env<'a>, kind: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let kind = convert::string(kind).ok_or(Failure::BadArg)?;
        unit(env, polytrace_core::error::testing::error(&kind))
    })
}

fn json<'a>(env: Env<'a>, v: &serde_json::Value) -> NifResult<Term<'a>> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => null().encode(env),
        J::Bool(b) => b.encode(env),
        J::Number(n) => match n.as_i64() {
            Some(i) => i.encode(env),
            None => n.as_f64().unwrap_or(0.0).encode(env),
        },
        J::String(s) => convert::binary(env, s.as_bytes()),
        J::Array(a) => a
            .iter()
            .map(|x| json(env, x))
            .collect::<NifResult<Vec<Term<'a>>>>()?
            .encode(env),
        J::Object(o) => {
            let keys: Vec<Term<'a>> = o
                .keys()
                .map(|k| convert::binary(env, k.as_bytes()))
                .collect();
            let values = o
                .values()
                .map(|x| json(env, x))
                .collect::<NifResult<Vec<_>>>()?;
            Term::map_from_term_arrays(env, &keys, &values)?
        }
    })
}

/// A JSON file as terms: objects are maps with binary keys, arrays lists, strings binaries,
/// `null` the atom `null`.
#[rustler::nif(schedule = "DirtyIo")]
fn testing_json<'a>(env: Env<'a>, path: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let path = convert::string(path).ok_or(Failure::BadArg)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| polytrace_core::Error::invalid_argument(format!("{path}: {e}")))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| polytrace_core::Error::invalid_argument(format!("{path}: {e}")))?;
        Ok(json(env, &v)?)
    })
}

/// A JSON-lines file (the file exporter's and `polytrace receive --out`'s format) as a list of
/// terms, one per non-empty line; `[]` when the file does not exist yet.
#[rustler::nif(schedule = "DirtyIo")]
fn testing_json_lines<'a>(env: Env<'a>, path: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let path = convert::string(path).ok_or(Failure::BadArg)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(polytrace_core::Error::invalid_argument(format!("{path}: {e}")).into())
            }
        };
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| polytrace_core::Error::invalid_argument(format!("{path}: {e}")))?;
            out.push(json(env, &v)?);
        }
        Ok(out.encode(env))
    })
}

/// Resolves options (as `polytrace:start/1` takes them) over a fake environment (a map of
/// binaries): `{ok, Effective, WarnedVariables}` or `{error, {Kind, Message}}`.
#[rustler::nif]
fn testing_resolve<'a>(env: Env<'a>, options: Term<'a>, fake_env: Term<'a>) -> NifResult<Term<'a>> {
    guard(env, || {
        let options = convert::options(options)?;
        let mut vars = HashMap::new();
        for (k, v) in rustler::MapIterator::new(fake_env).ok_or(Failure::BadArg)? {
            vars.insert(
                convert::string(k).ok_or(Failure::BadArg)?,
                convert::string(v).ok_or(Failure::BadArg)?,
            );
        }
        let lookup = |name: &str| vars.get(name).cloned();
        let (config, warnings) = Config::resolve(&options, &lookup)?;
        let warned: Vec<Term<'a>> = warnings
            .iter()
            .map(|w| convert::binary(env, w.variable.as_bytes()))
            .collect();
        Ok((
            ok(),
            crate::provider::effective_pairs(env, &config.effective()),
            warned,
        )
            .encode(env))
    })
}

/// Whether this library was built with the `testing` feature (always true here).
#[rustler::nif]
fn testing_enabled() -> Atom {
    ok()
}

/// Blocks this normal scheduler for `Ms` milliseconds: the scheduler test's proof that a NIF
/// that blocks is seen (by `long_schedule` and by the NIF timing).
#[rustler::nif]
fn testing_sleep(env: Env<'_>, ms: u64) -> NifResult<Term<'_>> {
    guard(env, || {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        Ok(ok().encode(env))
    })
}

/// `start`: times every NIF call on a normal scheduler from now on (see `timing.rs`); `stop`:
/// stops. Returns what was timed until now, one map per NIF call site: `#{file, line, calls,
/// max_own_ns, max_cpu_ns, slow, slow_slept, slow_faulted}`.
#[rustler::nif]
fn testing_nif_timing<'a>(env: Env<'a>, what: Atom) -> NifResult<Term<'a>> {
    let mut out: Vec<Term<'a>> = Vec::new();
    for (file, line, s) in crate::timing::table() {
        let keys = [
            "file",
            "line",
            "calls",
            "max_own_ns",
            "max_cpu_ns",
            "slow",
            "slow_slept",
            "slow_faulted",
        ]
        .iter()
        .map(|k| Atom::from_str(env, k).map(|a| a.encode(env)))
        .collect::<NifResult<Vec<_>>>()?;
        let values = [
            convert::binary(env, file.as_bytes()),
            line.encode(env),
            s.calls.encode(env),
            s.max_own_ns.encode(env),
            s.max_cpu_ns.encode(env),
            s.slow.encode(env),
            s.slow_slept.encode(env),
            s.slow_faulted.encode(env),
        ];
        out.push(Term::map_from_term_arrays(env, &keys, &values)?);
    }
    crate::timing::set(what == start());
    Ok(out.encode(env))
}
