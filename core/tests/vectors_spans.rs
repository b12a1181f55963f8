//! Runs the language-neutral span vectors (`tests/vectors/spans.json`): operations on spans
//! through an API, and the spans the core exports. Every binding runs the same file through
//! its own API; this is the Rust runner, and it runs each case twice:
//!
//! - through the live [`Span`] API (what Rust, C and Python use), and
//! - as a binding that keeps live spans on its side does (Node, Java, Erlang): decisions from
//!   the start plan (or `begin`), every call recorded, the finished spans written with
//!   [`finished::Encoder`] and handed to [`finished::Decoder`]. Both must export the same.
//!
//! Exported spans are read back from the `file` exporter's OTLP/JSON lines and compared with
//! `expect` by `common/span_vectors.rs` (the C ABI's runner uses the same comparison).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[path = "common/span_vectors.rs"]
mod span_vectors;

use polytrace_core::api::{new_span_id, new_trace_id, Planned, StartPlan};
use polytrace_core::config::OptionValue;
use polytrace_core::finished::{self, EncodedEvent, EncodedSpan};
use polytrace_core::propagation::{Baggage, TraceState};
use polytrace_core::{
    now_unix_nanos, Event, Exception, Link, Provider, Span, SpanContext, SpanId, SpanKind,
    StartOptions, Status, TraceFlags, TraceId, Tracer, Value,
};
use serde_json::Value as Json;
use span_vectors::{compare, exported};
use std::collections::HashMap;
use std::time::Duration;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/vectors/spans.json"
));

fn option_value(v: &Json) -> OptionValue {
    match v {
        Json::String(s) => OptionValue::Str(s.clone()),
        Json::Bool(b) => OptionValue::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => OptionValue::Int(i),
            None => OptionValue::Float(n.as_f64().unwrap()),
        },
        other => panic!("unsupported option value {other}"),
    }
}

fn provider(case: &Json, path: &std::path::Path) -> Provider {
    let mut opts: Vec<(String, OptionValue)> = case
        .get("config")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), option_value(v)))
                .collect()
        })
        .unwrap_or_default();
    opts.push(("exporter".into(), OptionValue::Str("file".into())));
    opts.push((
        "file_path".into(),
        OptionValue::Str(path.display().to_string()),
    ));
    opts.push(("service_name".into(), OptionValue::Str("vectors".into())));
    Provider::new(&opts).unwrap()
}

/// A JSON attribute value as the core's.
fn value(v: &Json) -> Value {
    match v {
        Json::String(s) => Value::from(s.clone()),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap()),
        },
        Json::Array(a) => match a.first() {
            Some(Json::String(_)) => {
                Value::StringArray(a.iter().map(|s| s.as_str().unwrap().into()).collect())
            }
            Some(Json::Bool(_)) => {
                Value::BoolArray(a.iter().map(|b| b.as_bool().unwrap()).collect())
            }
            Some(Json::Number(_)) if a.iter().all(|n| n.as_i64().is_some()) => {
                Value::IntArray(a.iter().map(|n| n.as_i64().unwrap()).collect())
            }
            _ => Value::DoubleArray(a.iter().map(|n| n.as_f64().unwrap()).collect()),
        },
        other => panic!("unsupported attribute value {other}"),
    }
}

fn attributes(v: Option<&Json>) -> Vec<(std::borrow::Cow<'static, str>, Value)> {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone().into(), value(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn context(v: &Json, remote: bool) -> SpanContext {
    SpanContext {
        trace_id: TraceId::from_hex(v["trace_id"].as_str().unwrap()).unwrap(),
        span_id: SpanId::from_hex(v["span_id"].as_str().unwrap()).unwrap(),
        trace_flags: TraceFlags(v["flags"].as_u64().unwrap() as u8),
        trace_state: v
            .get("tracestate")
            .and_then(Json::as_str)
            .and_then(TraceState::parse)
            .unwrap_or_default(),
        is_remote: remote,
    }
}

fn links(spec: &Json) -> Vec<Link> {
    spec.get("links")
        .and_then(Json::as_array)
        .map(|ls| {
            ls.iter()
                .map(|l| Link {
                    context: context(&l["context"], true),
                    attributes: attributes(l.get("attributes")),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn kind(spec: &Json) -> SpanKind {
    match spec.get("kind").and_then(Json::as_str) {
        Some("server") => SpanKind::Server,
        Some("client") => SpanKind::Client,
        Some("producer") => SpanKind::Producer,
        Some("consumer") => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn status(op: &[Json]) -> Status {
    match op[1].as_str().unwrap() {
        "ok" => Status::Ok,
        "error" => Status::Error(op.get(2).and_then(Json::as_str).unwrap_or("").into()),
        _ => Status::Unset,
    }
}

/// The parent of a span spec: none, an earlier span's context, or a remote one.
fn parent(spec: &Json, contexts: &HashMap<String, SpanContext>) -> Option<SpanContext> {
    match spec.get("parent") {
        None | Some(Json::Null) => None,
        Some(Json::String(name)) => Some(contexts[name].clone()),
        Some(remote) => Some(context(remote, true)),
    }
}

/// The `traceparent` and `tracestate` an inject of `ctx` writes.
fn injected(p: &Provider, ctx: &SpanContext) -> (String, String) {
    let (mut tp, mut ts) = (String::new(), String::new());
    p.inject(Some(ctx), &Baggage::default(), &mut |k, v| match k {
        "traceparent" => tp = v,
        "tracestate" => ts = v,
        _ => {}
    });
    (tp, ts)
}

/// The checks shared by both runs: `check_*` ops against a span's context and recording.
fn check(p: &Provider, op: &[Json], ctx: &SpanContext, recording: bool, what: &str) {
    let (tp, ts) = injected(p, ctx);
    match op[0].as_str().unwrap() {
        "check_recording" => assert_eq!(recording, op[1].as_bool().unwrap(), "{what}"),
        "check_flags" => assert_eq!(&tp[tp.len().saturating_sub(2)..], op[1], "{what}"),
        "check_traceparent" => assert_eq!(tp, op[1], "{what}"),
        "check_tracestate" => assert_eq!(ts, op[1], "{what}"),
        other => panic!("{what}: unknown op {other}"),
    }
}

/// Runs a case through the live span API.
fn run_live(case: &Json, p: &Provider, tracer: &Tracer) {
    let mut contexts = HashMap::new();
    for spec in case["spans"].as_array().unwrap() {
        let name = spec["name"].as_str().unwrap().to_string();
        let parent = parent(spec, &contexts);
        let mut span: Span = tracer.start_span(
            name.clone(),
            StartOptions {
                parent: parent.as_ref(),
                kind: kind(spec),
                attributes: attributes(spec.get("attributes")),
                links: links(spec),
                start_time: None,
            },
        );
        contexts.insert(name.clone(), span.span_context().clone());
        for op in spec
            .get("ops")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let op = op.as_array().unwrap();
            match op[0].as_str().unwrap() {
                "set_attribute" => {
                    span.set_attribute(op[1].as_str().unwrap().to_string(), value(&op[2]))
                }
                "add_event" => span.add_event(Event {
                    name: op[1].as_str().unwrap().to_string().into(),
                    time: None,
                    attributes: attributes(op.get(2)),
                }),
                "record_exception" => span.record_exception(Exception {
                    type_name: op[1].as_str().unwrap().into(),
                    message: op[2].as_str().unwrap().into(),
                    ..Default::default()
                }),
                "set_status" => span.set_status(status(op)),
                "update_name" => span.update_name(op[1].as_str().unwrap().to_string()),
                "end" => span.end(None),
                _ => {
                    let ctx = span.span_context().clone();
                    check(p, op, &ctx, span.is_recording(), &name);
                }
            }
        }
        if spec.get("end") != Some(&Json::Bool(false)) {
            span.end(None);
        }
    }
}

/// A live span on "the binding's side".
struct HostSpan {
    span: EncodedSpan,
    recording: bool,
    ended: bool,
}

/// Runs a case as a binding that keeps live spans on its side: the start plan (or `begin`),
/// every call recorded in call order, the finished spans encoded in the core's format.
fn run_finished(case: &Json, p: &Provider, tracer: &Tracer) {
    let plan: StartPlan = p.start_plan();
    let mut contexts = HashMap::new();
    let mut enc = finished::Encoder::new();
    let mut started = 0;
    for spec in case["spans"].as_array().unwrap() {
        let name = spec["name"].as_str().unwrap().to_string();
        let parent = parent(spec, &contexts).filter(SpanContext::is_valid);
        let (context, recording) = if plan.noop {
            (parent.clone().unwrap_or_default(), false)
        } else {
            let case = match &parent {
                None => plan.root,
                Some(pc) if pc.is_sampled() => plan.sampled_parent,
                Some(_) => plan.unsampled_parent,
            };
            if case.decision == Planned::Ask {
                let b = tracer.begin(parent.as_ref(), &name, kind(spec), &[]);
                (b.context, b.recording)
            } else {
                let pflags = parent.as_ref().map_or(0, |c| c.trace_flags.0);
                let ctx = SpanContext {
                    trace_id: parent.as_ref().map_or_else(new_trace_id, |c| c.trace_id),
                    span_id: new_span_id(),
                    trace_flags: TraceFlags(case.flags(pflags)),
                    trace_state: parent
                        .as_ref()
                        .map(|c| c.trace_state.clone())
                        .unwrap_or_default(),
                    is_remote: false,
                };
                if case.records() {
                    started += 1;
                }
                (ctx, case.records())
            }
        };
        contexts.insert(name.clone(), context.clone());
        let mut host = HostSpan {
            span: EncodedSpan {
                context: context.clone(),
                parent: parent.as_ref().map(|c| (c.span_id, c.is_remote)),
                kind: kind(spec),
                name: name.clone(),
                start: now_unix_nanos(),
                attributes: attributes(spec.get("attributes"))
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v))
                    .collect(),
                links: links(spec),
                ..Default::default()
            },
            recording,
            ended: false,
        };
        let ops = spec.get("ops").and_then(Json::as_array);
        for op in ops.into_iter().flatten() {
            let op = op.as_array().unwrap();
            let live = host.recording && !host.ended;
            let s = &mut host.span;
            match op[0].as_str().unwrap() {
                "set_attribute" if live => s
                    .attributes
                    .push((op[1].as_str().unwrap().into(), value(&op[2]))),
                "add_event" if live => s.events.push(EncodedEvent::Event(Event {
                    name: op[1].as_str().unwrap().to_string().into(),
                    time: Some(now_unix_nanos()),
                    attributes: attributes(op.get(2)),
                })),
                "record_exception" if live => s.events.push(EncodedEvent::Exception(Exception {
                    type_name: op[1].as_str().unwrap().into(),
                    message: op[2].as_str().unwrap().into(),
                    time: Some(now_unix_nanos()),
                    ..Default::default()
                })),
                "set_status" if live => s.status_calls.push(status(op)),
                "update_name" if live => s.name = op[1].as_str().unwrap().into(),
                "set_attribute" | "add_event" | "record_exception" | "set_status"
                | "update_name" => {}
                "end" => {
                    if live {
                        s.end = now_unix_nanos();
                        enc.span(s);
                    }
                    host.ended = true;
                }
                _ => check(p, op, &context, live, &name),
            }
        }
        if host.recording && !host.ended && spec.get("end") != Some(&Json::Bool(false)) {
            host.span.end = now_unix_nanos();
            enc.span(&host.span);
        }
    }
    enc.started(started);
    let batch = enc.finish();
    // fuzz/run.sh seeds the finished-span decoder's fuzzer with these batches.
    if let Some(dir) = std::env::var_os("POLYTRACE_FUZZ_SEEDS") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        let name: String = case["name"]
            .as_str()
            .unwrap()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        std::fs::write(dir.join(name), &batch).unwrap();
    }
    let mut decoder = finished::Decoder::new();
    decoder
        .submit(p, std::slice::from_ref(tracer), &batch)
        .unwrap();
}

fn run_all(how: &str, run: fn(&Json, &Provider, &Tracer)) {
    let doc: Json = serde_json::from_str(VECTORS).unwrap();
    let dir = std::env::temp_dir().join(format!("polytrace-vectors-{how}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let path = dir.join(format!("case-{i}.jsonl"));
        let _ = std::fs::remove_file(&path);
        let p = provider(case, &path);
        let tracer = p.tracer("vectors", None, None, vec![]);
        run(case, &p, &tracer);
        p.shutdown(Duration::from_secs(10)).unwrap();
        compare(case, &exported(&path), how);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn span_vectors_through_the_live_span_api() {
    run_all("live", run_live);
}

#[test]
fn span_vectors_through_the_finished_span_format() {
    run_all("finished", run_finished);
}
