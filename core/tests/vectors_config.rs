//! Runs the language-neutral configuration vectors (`tests/vectors/config.json`) through
//! [`Config::resolve`] with a fake environment. Every binding runs the same file; this is the
//! Rust runner.
//!
//! A case gives `env` (variable → value), `options` (name → JSON value, mapped onto
//! [`OptionValue`]) and either `expect` (a subset of [`Config::effective`]; a value ending in
//! `*` is a prefix match) plus `warnings` (the exact set of variables expected to warn, empty
//! when absent), or `error` (the expected error kind name) plus optional `error_mentions`
//! (a substring of the error message), `problem` (the `ConfigProblem` name) and `option` (the
//! option the error names). `header_values` (the decoded headers, which the effective
//! configuration masks) is checked here only: the bindings see the effective configuration.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use polytrace_core::config::{Config, OptionValue};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/vectors/config.json"
));

/// JSON → option value: string→Str, integer→Int, float→Float, bool→Bool, array→List,
/// object→Map.
fn option_value(v: &Value) -> Result<OptionValue, String> {
    Ok(match v {
        Value::String(s) => OptionValue::Str(s.clone()),
        Value::Bool(b) => OptionValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => OptionValue::Int(i),
            None => OptionValue::Float(n.as_f64().ok_or("unrepresentable number")?),
        },
        Value::Array(items) => OptionValue::List(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or("list entries must be strings")
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => OptionValue::Map(
            map.iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_string()))
                        .ok_or("map values must be strings")
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Null => return Err("null is not an option value".to_string()),
    })
}

fn strings(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs one case; returns a description of every mismatch.
fn run_case(case: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let env: HashMap<String, String> = strings(case.get("env")).into_iter().collect();
    let lookup = |name: &str| env.get(name).cloned();
    let mut options = Vec::new();
    if let Some(map) = case.get("options").and_then(Value::as_object) {
        for (k, v) in map {
            match option_value(v) {
                Ok(v) => options.push((k.clone(), v)),
                Err(e) => problems.push(format!("bad option {k} in the vector: {e}")),
            }
        }
    }
    let result = Config::resolve(&options, &lookup);
    if let Some(kind) = case.get("error").and_then(Value::as_str) {
        match result {
            Ok((config, _)) => problems.push(format!(
                "expected a {kind} error, got a config: {:?}",
                config.effective()
            )),
            Err(e) => {
                if e.kind().name() != kind {
                    problems.push(format!("expected a {kind} error, got {e}"));
                }
                if let Some(m) = case.get("error_mentions").and_then(Value::as_str) {
                    if !e.message().contains(m) {
                        problems.push(format!("error message does not mention {m:?}: {e}"));
                    }
                }
                if let Some(p) = case.get("problem").and_then(Value::as_str) {
                    let got = e.config_problem().map(|p| p.name());
                    if got != Some(p) {
                        problems.push(format!("expected the problem {p}, got {got:?}: {e}"));
                    }
                }
                if let Some(o) = case.get("option").and_then(Value::as_str) {
                    if e.option() != Some(o) {
                        problems.push(format!(
                            "expected the option {o:?}, got {:?}: {e}",
                            e.option()
                        ));
                    }
                }
            }
        }
        return problems;
    }
    let (config, warnings) = match result {
        Ok(r) => r,
        Err(e) => {
            problems.push(format!("unexpected error: {e}"));
            return problems;
        }
    };
    if let Some(want) = case.get("header_values").and_then(Value::as_array) {
        let want: Vec<(String, String)> = want
            .iter()
            .map(|pair| {
                let text = |i: usize| pair[i].as_str().unwrap_or_default().to_string();
                (text(0), text(1))
            })
            .collect();
        if config.otlp.headers != want {
            problems.push(format!(
                "header values: expected {want:?}, got {:?}",
                config.otlp.headers
            ));
        }
    }
    let effective: HashMap<String, String> = config.effective().into_iter().collect();
    for (key, want) in strings(case.get("expect")) {
        match effective.get(&key) {
            None => problems.push(format!("effective() has no key {key:?}")),
            Some(got) => {
                let ok = match want.strip_suffix('*') {
                    Some(prefix) => got.starts_with(prefix),
                    None => *got == want,
                };
                if !ok {
                    problems.push(format!("{key}: expected {want:?}, got {got:?}"));
                }
            }
        }
    }
    let want_warnings: BTreeSet<String> = case
        .get("warnings")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let got_warnings: BTreeSet<String> = warnings.iter().map(|w| w.variable.clone()).collect();
    if want_warnings != got_warnings {
        problems.push(format!(
            "warnings: expected {want_warnings:?}, got {:?}",
            warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>()
        ));
    }
    for w in &warnings {
        if !w.message.contains(&w.variable) {
            problems.push(format!("warning does not name its variable: {w}"));
        }
    }
    problems
}

#[test]
fn config_vectors() {
    let doc: Value = serde_json::from_str(VECTORS).expect("config.json is valid JSON");
    let cases = doc["cases"]
        .as_array()
        .expect("config.json has a cases array");
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut names = BTreeSet::new();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("every case has a name");
        assert!(names.insert(name), "duplicate case name {name:?}");
        let problems = run_case(case);
        if !problems.is_empty() {
            failures.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} config vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The variable (`"env"`) or option (`"options"`) names the vectors set somewhere.
fn names_used(field: &str) -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(VECTORS).expect("config.json is valid JSON");
    doc["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.get(field).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

#[test]
fn every_option_name_is_exercised_by_a_vector() {
    let used = names_used("options");
    let missing: Vec<&str> = polytrace_core::config::OPTION_NAMES
        .iter()
        .copied()
        .filter(|n| !used.contains(*n))
        .collect();
    assert!(missing.is_empty(), "options without a vector: {missing:?}");
}

#[test]
fn every_documented_variable_is_exercised_by_a_vector() {
    let docs = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/configuration.md"
    ));
    let used = names_used("env");
    let mut documented = BTreeSet::new();
    for word in docs.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')) {
        if (word.starts_with("OTEL_") || word.starts_with("POLYTRACE_")) && !word.ends_with('_') {
            documented.insert(word.to_string());
        }
    }
    assert!(documented.len() > 40, "found only {documented:?}");
    let missing: Vec<&String> = documented.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "documented variables without a vector: {missing:?}"
    );
}

#[test]
fn every_variable_of_the_table_of_options_is_exercised_by_a_vector() {
    let used = names_used("env");
    let missing: Vec<&str> = polytrace_core::config::OPTIONS
        .iter()
        .flat_map(|o| o.env.iter().map(|v| v.name))
        .filter(|v| !used.contains(*v))
        .collect();
    assert!(
        missing.is_empty(),
        "variables without a vector: {missing:?}"
    );
}

#[test]
fn runner_detects_mismatches() {
    let case: Value = serde_json::json!({
        "name": "deliberately wrong",
        "env": {"OTEL_BSP_MAX_QUEUE_SIZE": "lots"},
        "options": {"service_name": "svc"},
        "expect": {"service_name": "other", "max_queue_size": "2048", "no_such_key": "x"}
    });
    let problems = run_case(&case);
    assert_eq!(problems.len(), 3, "{problems:?}");
    let error_case: Value = serde_json::json!({
        "name": "error expected but none",
        "options": {"service_name": "svc"},
        "error": "InvalidConfig"
    });
    assert_eq!(run_case(&error_case).len(), 1);
    let wrong_detail: Value = serde_json::json!({
        "name": "wrong problem and option",
        "options": {"maxQueueSize": 0},
        "error": "InvalidConfig",
        "problem": "WrongType",
        "option": "max_queue_size"
    });
    assert_eq!(run_case(&wrong_detail).len(), 2);
}
