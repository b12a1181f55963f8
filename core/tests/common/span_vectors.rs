//! What the span vectors (`tests/vectors/spans.json`) expect, checked against what a `file`
//! exporter wrote: the exported spans read back from its OTLP/JSON lines and compared with a
//! case's `expect` (as a set matched by name; ids and times are not compared). One comparison
//! for every Rust runner of the vectors: included by path from the core's
//! (`core/tests/vectors_spans.rs`) and the C ABI's (`bindings/c/tests/span_vectors.rs`), so
//! both read the vectors the same way.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

/// An OTLP/JSON `AnyValue` as plain JSON.
fn any_value(v: &Json) -> Json {
    let (k, inner) = v.as_object().unwrap().iter().next().unwrap();
    match k.as_str() {
        "stringValue" | "boolValue" => inner.clone(),
        "intValue" => json!(inner
            .as_str()
            .map(|s| s.parse::<i64>().unwrap())
            .or_else(|| inner.as_i64())
            .unwrap()),
        "doubleValue" => json!(inner.as_f64().unwrap()),
        "arrayValue" => Json::Array(
            inner
                .get("values")
                .and_then(Json::as_array)
                .map(|a| a.iter().map(any_value).collect())
                .unwrap_or_default(),
        ),
        other => panic!("unexpected value kind {other}"),
    }
}

fn attribute_map(v: Option<&Json>, ignore: &[&str]) -> Json {
    let mut m = Map::new();
    for kv in v.and_then(Json::as_array).into_iter().flatten() {
        let k = kv["key"].as_str().unwrap();
        if !ignore.contains(&k) {
            m.insert(k.to_string(), any_value(&kv["value"]));
        }
    }
    Json::Object(m)
}

fn count(v: &Json, key: &str) -> u64 {
    v.get(key).and_then(Json::as_u64).unwrap_or(0)
}

/// The exported spans of a file exporter's output, each as the vectors' normalized form.
pub fn exported(path: &std::path::Path) -> Vec<Json> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut spans = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let req: Json = serde_json::from_str(line).unwrap();
        for rs in req["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                spans.extend(ss["spans"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    spans
}

const KINDS: [&str; 6] = [
    "unspecified",
    "internal",
    "server",
    "client",
    "producer",
    "consumer",
];
const CODES: [&str; 3] = ["unset", "ok", "error"];

/// Compares the exported spans with the case's expectations.
pub fn compare(case: &Json, spans: &[Json], how: &str) {
    let what = format!("{} ({how})", case["name"].as_str().unwrap());
    let expect = case["expect"].as_array().unwrap();
    assert_eq!(spans.len(), expect.len(), "{what}: exported {spans:#?}");
    let by_id: HashMap<&str, &str> = spans
        .iter()
        .map(|s| (s["spanId"].as_str().unwrap(), s["name"].as_str().unwrap()))
        .collect();
    for e in expect {
        let name = e["name"].as_str().unwrap();
        let s = spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{what}: no span {name}"));
        let what = format!("{what}, span {name}");
        if let Some(k) = e.get("kind") {
            let got = s.get("kind").and_then(Json::as_u64).unwrap_or(1) as usize;
            assert_eq!(KINDS[got], k, "{what}: kind");
        }
        if let Some(p) = e.get("parent") {
            let parent = s.get("parentSpanId").and_then(Json::as_str).unwrap_or("");
            let got = if parent.is_empty() {
                Json::Null
            } else {
                by_id.get(parent).map_or(json!("remote"), |n| json!(n))
            };
            assert_eq!(&got, p, "{what}: parent");
        }
        if let Some(t) = e.get("trace_id") {
            assert_eq!(&s["traceId"], t, "{what}: trace id");
        }
        if let Some(a) = e.get("attributes") {
            assert_eq!(
                &attribute_map(s.get("attributes"), &[]),
                a,
                "{what}: attributes"
            );
        }
        for (key, otlp) in [
            ("dropped_attributes", "droppedAttributesCount"),
            ("dropped_events", "droppedEventsCount"),
            ("dropped_links", "droppedLinksCount"),
        ] {
            assert_eq!(count(s, otlp), count(e, key), "{what}: {key}");
        }
        if let Some(events) = e.get("events") {
            let got: Vec<Json> = s
                .get("events")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|ev| {
                    json!({
                        "name": ev["name"],
                        "attributes": attribute_map(
                            ev.get("attributes"),
                            &["exception.stacktrace", "exception.escaped"],
                        ),
                    })
                })
                .collect();
            assert_eq!(&Json::Array(got), events, "{what}: events");
        }
        if let Some(links) = e.get("links") {
            let got: Vec<Json> = s
                .get("links")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|l| {
                    json!({
                        "trace_id": l["traceId"],
                        "span_id": l["spanId"],
                        "attributes": attribute_map(l.get("attributes"), &[]),
                    })
                })
                .collect();
            assert_eq!(&Json::Array(got), links, "{what}: links");
        }
        let st = s.get("status");
        let code = st
            .and_then(|s| s.get("code"))
            .and_then(Json::as_u64)
            .unwrap_or(0) as usize;
        let message = st
            .and_then(|s| s.get("message"))
            .and_then(Json::as_str)
            .unwrap_or("");
        let want = e
            .get("status")
            .cloned()
            .unwrap_or(json!({"code": "unset", "message": ""}));
        assert_eq!(
            json!({"code": CODES[code], "message": message}),
            want,
            "{what}: status"
        );
    }
}
