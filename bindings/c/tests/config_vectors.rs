//! The shared configuration vectors (`tests/vectors/config.json`) through the C ABI.
//!
//! The public C API exposes no effective configuration (`polytrace_provider_new` says only
//! whether the options were valid), so this runner uses the `testing` build's
//! `polytrace_testing_resolve_config`, the C counterpart of the resolvers the Python and Node
//! suites call: the core's resolution over a fake environment, without building a pipeline.
//! C passes every option as a string (parsed like its environment variable); the cases whose
//! options are JSON numbers, booleans, lists or maps cannot be expressed in C and are counted,
//! not run. Error cases also go through `polytrace_provider_new`, the public entry point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use polytrace::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::CStr;
use std::ptr::null_mut;

/// `{name: value}` as `(name, value)` strings; `None` when a value is not a JSON string.
fn string_pairs(v: &Value) -> Option<Vec<(String, String)>> {
    let Some(map) = v.as_object() else {
        return Some(Vec::new());
    };
    map.iter()
        .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect()
}

fn kvs(pairs: &[(String, String)]) -> Vec<polytrace_kv_t> {
    pairs
        .iter()
        .map(|(k, v)| polytrace_kv_t {
            key: s(k),
            value: s(v),
        })
        .collect()
}

/// What resolving gave: `Ok((effective pairs, warned variables))` or `Err((kind name, message))`.
type Outcome = Result<(Vec<(String, String)>, BTreeSet<String>), (String, String)>;

fn resolve(options: &[(String, String)], env: &[(String, String)]) -> Outcome {
    let (options, env) = (kvs(options), kvs(env));
    let empty = polytrace_kv_t {
        key: s(""),
        value: s(""),
    };
    let mut pairs = vec![empty; 256];
    let mut buf = vec![0 as std::ffi::c_char; 1 << 16];
    let (mut n_effective, mut n_warnings) = (0usize, 0usize);
    // SAFETY: arrays valid for their lengths; the kvs borrow strings alive for the call.
    let err = unsafe {
        polytrace_testing_resolve_config(
            options.as_ptr(),
            options.len(),
            env.as_ptr(),
            env.len(),
            pairs.as_mut_ptr(),
            pairs.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut n_effective,
            &mut n_warnings,
        )
    };
    if !err.is_null() {
        let (kind, msg) = fail(err);
        // SAFETY: a static string.
        let name = unsafe { CStr::from_ptr(polytrace_error_kind_name(kind)) };
        return Err((name.to_string_lossy().into_owned(), msg));
    }
    let effective = pairs[..n_effective]
        .iter()
        .map(|kv| (text_of(kv.key), text_of(kv.value)))
        .collect();
    let warned = pairs[n_effective..n_effective + n_warnings]
        .iter()
        .map(|kv| text_of(kv.key))
        .collect();
    Ok((effective, warned))
}

/// A failed `polytrace_provider_new`: kind name, message, configuration problem name and the
/// option it names.
type Refusal = (String, String, String, Option<String>);

/// `polytrace_provider_new` with the case's (string) options and an environment without
/// `OTEL_*` influence on the options checked: the public path of an invalid option.
fn provider_new_error(options: &[(String, String)]) -> Option<Refusal> {
    let options = kvs(options);
    let mut p = null_mut();
    // SAFETY: valid arrays and out-pointer.
    let err = unsafe { polytrace_provider_new(options.as_ptr(), options.len(), &mut p) };
    if err.is_null() {
        // SAFETY: the provider made above (exports nothing: no span was started).
        unsafe {
            let _ = polytrace_provider_shutdown(p, 1000);
            polytrace_provider_free(p);
        }
        return None;
    }
    // SAFETY: an error from polytrace, read before it is freed; the names are static strings.
    let (problem, option) = unsafe {
        let problem = polytrace_config_problem_name(polytrace_error_config_problem(err));
        let option = polytrace_error_option(err);
        (
            CStr::from_ptr(problem).to_string_lossy().into_owned(),
            (!option.is_null()).then(|| CStr::from_ptr(option).to_string_lossy().into_owned()),
        )
    };
    let (kind, msg) = fail(err);
    // SAFETY: a static string.
    let name = unsafe { CStr::from_ptr(polytrace_error_kind_name(kind)) };
    Some((name.to_string_lossy().into_owned(), msg, problem, option))
}

fn check(case: &Value, options: &[(String, String)]) -> Vec<String> {
    let env = string_pairs(&case["env"]).expect("environment values are strings");
    let mut problems = Vec::new();
    match (resolve(options, &env), case["error"].as_str()) {
        (Err((kind, msg)), Some(want)) => {
            if kind != want {
                problems.push(format!("error kind {kind} ({msg})"));
            }
            if let Some(m) = case["error_mentions"].as_str() {
                if !msg.contains(m) {
                    problems.push(format!("error {msg:?} does not mention {m:?}"));
                }
            }
            // The public entry point refuses the same options the same way, and says what is
            // wrong with which option.
            match provider_new_error(options) {
                Some((k, _, problem, option)) if k == want => {
                    if let Some(p) = case["problem"].as_str() {
                        if problem != p {
                            problems.push(format!("problem {problem}, expected {p}"));
                        }
                    }
                    if let Some(o) = case["option"].as_str() {
                        if option.as_deref() != Some(o) {
                            problems.push(format!("option {option:?}, expected {o:?}"));
                        }
                    }
                }
                other => problems.push(format!("polytrace_provider_new gave {other:?}")),
            }
        }
        (Err(e), None) => problems.push(format!("unexpected error {e:?}")),
        (Ok(_), Some(want)) => problems.push(format!("expected a {want} error")),
        (Ok((effective, warned)), None) => {
            for (k, v) in case["expect"].as_object().into_iter().flatten() {
                let v = v.as_str().unwrap();
                let got = effective
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.as_str());
                let matched = match (got, v.strip_suffix('*')) {
                    (Some(g), Some(prefix)) => g.starts_with(prefix),
                    (Some(g), None) => g == v,
                    (None, _) => false,
                };
                if !matched {
                    problems.push(format!("{k} = {got:?}, expected {v:?}"));
                }
            }
            let want: BTreeSet<String> = case["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| w.as_str().unwrap().to_owned())
                .collect();
            if warned != want {
                problems.push(format!("warnings for {warned:?}, expected {want:?}"));
            }
        }
    }
    problems
}

#[test]
fn config_vectors_through_the_c_abi() {
    let v = vectors("config.json");
    let cases = v["cases"].as_array().unwrap();
    let (mut ran, mut typed, mut failures) = (0, Vec::new(), Vec::new());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let Some(options) = string_pairs(&case["options"]) else {
            typed.push(name);
            continue;
        };
        ran += 1;
        let problems = check(case, &options);
        if !problems.is_empty() {
            failures.push(format!("{name:?}: {}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(
        typed.len() * 4 < cases.len(),
        "too many cases not run: {typed:?}"
    );
    eprintln!(
        "C ABI: {ran} config vectors passed; {} have typed (non-string) options, which C \
         cannot pass: {typed:?}",
        typed.len()
    );
}

/// Too little room is an `InvalidArgument` error naming what is needed, and nothing is written.
#[test]
fn resolve_config_reports_the_room_it_needs() {
    let empty = polytrace_kv_t {
        key: s(""),
        value: s(""),
    };
    let mut pairs = [empty; 4];
    let mut buf = [0 as std::ffi::c_char; 64];
    let (mut a, mut b) = (7usize, 7usize);
    // SAFETY: arrays valid for their lengths, valid out-pointers.
    let msg = invalid(unsafe {
        polytrace_testing_resolve_config(
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            pairs.as_mut_ptr(),
            pairs.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut a,
            &mut b,
        )
    });
    assert!(msg.contains("pairs and"), "{msg}");
    assert_eq!((a, b), (0, 0));
}
