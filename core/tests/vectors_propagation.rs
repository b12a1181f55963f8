//! Runs the language-neutral propagation vectors (`tests/vectors/propagation.json`) against the
//! core's W3C propagator, the same cases every binding's suite runs through its own API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace_core::config::PropagatorKind;
use polytrace_core::propagation::{Baggage, Extracted, Propagators, TraceState};
use polytrace_core::{SpanContext, SpanId, TraceFlags, TraceId};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/propagation.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn propagators() -> Propagators {
    Propagators::new(&[PropagatorKind::TraceContext, PropagatorKind::Baggage])
}

fn str_of(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

/// `[[a, b], ...]` or `[[a, b, c], ...]` as rows of strings.
fn rows(v: &Value) -> Vec<Vec<String>> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap_or_else(|| panic!("expected a row, got {row}"))
                .iter()
                .map(|s| str_of(s).to_string())
                .collect()
        })
        .collect()
}

fn carrier(v: &Value) -> Vec<(String, String)> {
    rows(v)
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), 2, "carrier rows are [name, value]");
            (r[0].clone(), r[1].clone())
        })
        .collect()
}

fn baggage_rows(b: &Baggage) -> Vec<Vec<String>> {
    b.entries()
        .iter()
        .map(|e| vec![e.key.clone(), e.value.clone(), e.metadata.clone()])
        .collect()
}

fn build_baggage(v: &Value) -> Baggage {
    rows(v).iter().fold(Baggage::default(), |b, r| {
        assert_eq!(r.len(), 3, "baggage rows are [key, value, metadata]");
        b.with(&r[0], &r[1], &r[2])
    })
}

fn inject(span_context: Option<&SpanContext>, baggage: &Baggage) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    propagators().inject(span_context, baggage, &mut |name, value| {
        out.push(vec![name.to_string(), value]);
    });
    out
}

/// Compares one extract result with its expectation; returns a description of each mismatch.
fn check_extracted(got: &Extracted, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let valid = expect["valid"].as_bool().unwrap();
    match (&got.span_context, valid) {
        (None, false) => {}
        (None, true) => problems.push("expected a valid span context, got none".to_string()),
        (Some(sc), false) => problems.push(format!("expected no span context, got {sc:?}")),
        (Some(sc), true) => {
            if sc.trace_id.to_hex() != str_of(&expect["trace_id"]) {
                problems.push(format!("trace_id {}", sc.trace_id));
            }
            if sc.span_id.to_hex() != str_of(&expect["span_id"]) {
                problems.push(format!("span_id {}", sc.span_id));
            }
            if u64::from(sc.trace_flags.0) != expect["flags"].as_u64().unwrap() {
                problems.push(format!("flags {}", sc.trace_flags.0));
            }
            if sc.is_sampled() != expect["sampled"].as_bool().unwrap() {
                problems.push(format!("sampled {}", sc.is_sampled()));
            }
            if !sc.is_remote {
                problems.push("is_remote is false".to_string());
            }
        }
    }
    let tracestate = got
        .span_context
        .as_ref()
        .map(|sc| sc.trace_state.header())
        .unwrap_or_default();
    if tracestate != str_of(&expect["tracestate"]) {
        problems.push(format!("tracestate {tracestate:?}"));
    }
    if baggage_rows(&got.baggage) != rows(&expect["baggage"]) {
        problems.push(format!("baggage {:?}", baggage_rows(&got.baggage)));
    }
    problems
}

#[test]
fn extract_vectors() {
    let v = vectors();
    let cases = v["extract"].as_array().unwrap();
    assert!(cases.len() >= 60, "only {} extract cases", cases.len());
    let p = propagators();
    let mut failures = Vec::new();
    for case in cases {
        let name = str_of(&case["name"]);
        let got = p.extract(&carrier(&case["carrier"]));
        let problems = check_extracted(&got, &case["expect"]);
        if !problems.is_empty() {
            failures.push(format!("extract {name:?}: {}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn inject_vectors() {
    let v = vectors();
    let mut failures = Vec::new();
    for case in v["inject"].as_array().unwrap() {
        let name = str_of(&case["name"]);
        let context = &case["context"];
        let span_context = (!context.is_null()).then(|| SpanContext {
            trace_id: TraceId::from_hex(str_of(&context["trace_id"])).unwrap(),
            span_id: SpanId::from_hex(str_of(&context["span_id"])).unwrap(),
            trace_flags: TraceFlags(u8::try_from(context["flags"].as_u64().unwrap()).unwrap()),
            trace_state: TraceState::parse(str_of(&context["tracestate"]))
                .unwrap_or_else(|| panic!("{name}: invalid tracestate in the vector")),
            is_remote: false,
        });
        let got = inject(span_context.as_ref(), &build_baggage(&case["baggage"]));
        if got != rows(&case["expect"]) {
            failures.push(format!("inject {name:?}: got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn round_trip_vectors() {
    let v = vectors();
    let p = propagators();
    let mut failures = Vec::new();
    for case in v["round_trip"].as_array().unwrap() {
        let name = str_of(&case["name"]);
        let extracted = p.extract(&carrier(&case["carrier"]));
        let got = inject(extracted.span_context.as_ref(), &extracted.baggage);
        if got != rows(&case["expect"]) {
            failures.push(format!("round_trip {name:?}: got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Every name is unique, so a failure message points at exactly one case.
#[test]
fn vector_names_are_unique() {
    let v = vectors();
    let mut seen = std::collections::HashSet::new();
    for section in ["extract", "inject", "round_trip"] {
        for case in v[section].as_array().unwrap() {
            let name = str_of(&case["name"]);
            assert!(
                seen.insert((section, name)),
                "duplicate {section} case {name:?}"
            );
        }
    }
}

/// The round-trip cases named `W3C suite <Class>.<test> #n` cover all 41 tests of the official
/// suite (w3c/trace-context `test/test.py` at `SPEC_LEVEL=2`), each with at least one request.
#[test]
fn suite_cases_cover_every_test_of_the_w3c_suite() {
    let v = vectors();
    let tests: std::collections::BTreeSet<&str> = v["round_trip"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|case| str_of(&case["name"]).strip_prefix("W3C suite "))
        .map(|rest| rest.split(' ').next().unwrap())
        .collect();
    assert_eq!(tests.len(), 41, "{tests:?}");
    for class in ["TraceContextTest.", "AdvancedTest.", "TraceContext2Test."] {
        assert!(
            tests.iter().any(|t| t.starts_with(class)),
            "no {class} case"
        );
    }
}
