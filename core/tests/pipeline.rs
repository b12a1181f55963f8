//! The span pipeline end to end through the public API, with the SDK's in-memory exporter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, i, s, Collect, Gate};
use opentelemetry::trace as ot;

use polytrace_core::config::OptionValue;
use polytrace_core::*;
use std::time::{Duration, Instant};

fn provider(opts: &[(&str, OptionValue)]) -> (Provider, Collect) {
    let exporter = Collect::default();
    let p = Provider::with_exporter(config(opts), exporter.clone()).unwrap();
    (p, exporter)
}

fn finished(p: &Provider, e: &Collect) -> Vec<opentelemetry_sdk::trace::SpanData> {
    p.force_flush(Duration::from_secs(5)).unwrap();
    e.get_finished_spans().unwrap()
}

fn attr<'a>(
    span: &'a opentelemetry_sdk::trace::SpanData,
    key: &str,
) -> Option<&'a opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[test]
fn a_tree_of_spans_with_every_value_type() {
    let (p, e) = provider(&[("service_name", s("svc"))]);
    let t = p.tracer(
        "lib",
        Some("1.2".into()),
        Some("https://schema".into()),
        vec![("scope.attr".into(), Value::Int(1))],
    );
    let mut root = t.start_span(
        "root",
        StartOptions {
            kind: SpanKind::Server,
            ..Default::default()
        },
    );
    root.set_attribute("s", "x");
    root.set_attribute("b", true);
    root.set_attribute("i", 7i64);
    root.set_attribute("d", 1.5f64);
    root.set_attribute("sa", Value::StringArray(vec!["a".into(), "b".into()]));
    root.set_attribute("ba", Value::BoolArray(vec![true]));
    root.set_attribute("ia", Value::IntArray(vec![1, 2]));
    root.set_attribute("da", Value::DoubleArray(vec![0.5]));
    let mut child = t.start_span(
        "child",
        StartOptions {
            parent: Some(root.span_context()),
            kind: SpanKind::Client,
            ..Default::default()
        },
    );
    child.add_event(Event {
        name: "ev".into(),
        time: Some(1_700_000_000_000_000_000),
        attributes: vec![("k".into(), Value::from("v"))],
    });
    child.record_exception(Exception {
        type_name: "IOError".into(),
        message: "disk".into(),
        stacktrace: Some("at x".into()),
        escaped: Some(true),
        ..Default::default()
    });
    child.set_status(Status::Error("bad".into()));
    child.end(None);
    root.update_name("renamed");
    root.end(None);

    let spans = finished(&p, &e);
    assert_eq!(spans.len(), 2);
    let c = spans.iter().find(|s| s.name == "child").unwrap();
    let r = spans.iter().find(|s| s.name == "renamed").unwrap();
    assert_eq!(c.span_context.trace_id(), r.span_context.trace_id());
    assert_eq!(c.parent_span_id, r.span_context.span_id());
    assert_eq!(r.parent_span_id, ot::SpanId::INVALID);
    assert_eq!(r.span_kind, ot::SpanKind::Server);
    assert_eq!(c.span_kind, ot::SpanKind::Client);
    assert_eq!(attr(r, "s").unwrap().as_str(), "x");
    assert_eq!(attr(r, "b"), Some(&opentelemetry::Value::Bool(true)));
    assert_eq!(attr(r, "i"), Some(&opentelemetry::Value::I64(7)));
    assert_eq!(attr(r, "d"), Some(&opentelemetry::Value::F64(1.5)));
    assert_eq!(
        attr(r, "ia"),
        Some(&opentelemetry::Value::Array(opentelemetry::Array::I64(
            vec![1, 2]
        )))
    );
    assert_eq!(r.attributes.len(), 8);
    assert_eq!(c.events.len(), 2);
    assert_eq!(c.events[0].name, "ev");
    assert_eq!(
        c.events[0].timestamp,
        std::time::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000)
    );
    let ex = &c.events[1];
    assert_eq!(ex.name, "exception");
    let keys: Vec<&str> = ex.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "exception.type",
            "exception.message",
            "exception.stacktrace",
            "exception.escaped"
        ]
    );
    assert_eq!(c.status, ot::Status::error("bad"));
    assert_eq!(r.instrumentation_scope.name(), "lib");
    assert_eq!(r.instrumentation_scope.version(), Some("1.2"));
    assert_eq!(r.instrumentation_scope.schema_url(), Some("https://schema"));
    assert!(r.end_time >= r.start_time);
    assert!(r.span_context.is_sampled());
    let st = p.stats();
    assert_eq!(
        (
            st.spans_started,
            st.spans_ended,
            st.spans_exported,
            st.spans_dropped
        ),
        (2, 2, 2, 0)
    );
}

#[test]
fn attributes_overwrite_and_respect_limits() {
    let (p, e) = provider(&[
        ("attribute_count_limit", i(2)),
        ("attribute_value_length_limit", i(3)),
        ("event_count_limit", i(1)),
        ("link_count_limit", i(1)),
        ("event_attribute_count_limit", i(1)),
    ]);
    let t = p.tracer("lib", None, None, vec![]);
    let other = t.start_span("other", StartOptions::default());
    let mut sp = t.start_span("s", StartOptions::default());
    sp.set_attribute("a", "abcdef");
    sp.set_attribute(
        "b",
        Value::StringArray(vec!["xyzw".into(), "é日本語".into()]),
    );
    sp.set_attribute("a", "zz"); // overwrite, not a new key
    sp.set_attribute("c", 1i64); // over the count limit
    sp.add_event(Event {
        name: "e1".into(),
        time: None,
        attributes: vec![("x".into(), 1i64.into()), ("y".into(), 2i64.into())],
    });
    sp.add_event(Event {
        name: "e2".into(),
        time: None,
        attributes: vec![],
    });
    sp.add_link(Link {
        context: other.span_context().clone(),
        attributes: vec![],
    });
    sp.add_link(Link {
        context: other.span_context().clone(),
        attributes: vec![],
    });
    sp.end(None);
    let spans = finished(&p, &e);
    let d = &spans[0];
    assert_eq!(attr(d, "a").unwrap().as_str(), "zz");
    assert_eq!(
        attr(d, "b"),
        Some(&opentelemetry::Value::Array(opentelemetry::Array::String(
            vec!["xyz".into(), "é日本".into()]
        )))
    );
    assert!(attr(d, "c").is_none());
    assert_eq!(d.dropped_attributes_count, 1);
    assert_eq!(d.events.len(), 1);
    assert_eq!(d.events.dropped_count, 1);
    assert_eq!(d.events[0].dropped_attributes_count, 1);
    assert_eq!(d.links.len(), 1);
    assert_eq!(d.links.dropped_count, 1);
}

#[test]
fn status_ok_is_final_and_unset_is_ignored() {
    let (p, e) = provider(&[]);
    let t = p.tracer("lib", None, None, vec![]);
    let mut a = t.start_span("a", StartOptions::default());
    a.set_status(Status::Error("x".into()));
    a.set_status(Status::Unset);
    a.end(None);
    let mut b = t.start_span("b", StartOptions::default());
    b.set_status(Status::Ok);
    b.set_status(Status::Error("late".into()));
    b.end(None);
    let spans = finished(&p, &e);
    let get = |n: &str| spans.iter().find(|s| s.name == n).unwrap().status.clone();
    assert_eq!(get("a"), ot::Status::error("x"));
    assert_eq!(get("b"), ot::Status::Ok);
}

#[test]
fn ending_twice_and_calls_after_end_are_harmless() {
    let (p, e) = provider(&[]);
    let t = p.tracer("lib", None, None, vec![]);
    let mut a = t.start_span("a", StartOptions::default());
    a.end(None);
    assert!(!a.is_recording());
    a.set_attribute("late", 1i64);
    a.end(None);
    let spans = finished(&p, &e);
    assert_eq!(spans.len(), 1);
    assert!(spans[0].attributes.is_empty());
}

#[test]
fn always_off_spans_are_not_recording_but_propagate() {
    let (p, e) = provider(&[("sampler", s("always_off"))]);
    let t = p.tracer("lib", None, None, vec![]);
    let mut a = t.start_span("a", StartOptions::default());
    assert!(!a.is_recording());
    assert!(a.span_context().is_valid());
    assert!(!a.span_context().is_sampled());
    let b = t.start_span(
        "b",
        StartOptions {
            parent: Some(a.span_context()),
            ..Default::default()
        },
    );
    assert_eq!(b.span_context().trace_id, a.span_context().trace_id);
    a.end(None);
    assert!(finished(&p, &e).is_empty());
    assert_eq!(p.stats().spans_started, 0);
}

#[test]
fn parent_based_follows_a_remote_parent() {
    let (p, e) = provider(&[]);
    let t = p.tracer("lib", None, None, vec![]);
    let unsampled = p
        .extract(&[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        )])
        .span_context
        .unwrap();
    let sampled = p
        .extract(&[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )])
        .span_context
        .unwrap();
    let a = t.start_span(
        "a",
        StartOptions {
            parent: Some(&unsampled),
            ..Default::default()
        },
    );
    assert!(!a.is_recording());
    let mut b = t.start_span(
        "b",
        StartOptions {
            parent: Some(&sampled),
            kind: SpanKind::Server,
            ..Default::default()
        },
    );
    assert!(b.is_recording());
    b.end(None);
    let spans = finished(&p, &e);
    assert_eq!(spans.len(), 1);
    assert_eq!(
        spans[0].span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(spans[0].parent_span_id.to_string(), "00f067aa0ba902b7");
    assert!(spans[0].parent_span_is_remote);
}

#[test]
fn inject_then_extract_round_trips() {
    let (p, _e) = provider(&[]);
    let t = p.tracer("lib", None, None, vec![]);
    let a = t.start_span("a", StartOptions::default());
    let mut carrier: Vec<(String, String)> = Vec::new();
    p.inject(Some(a.span_context()), &Default::default(), &mut |k, v| {
        carrier.push((k.to_string(), v))
    });
    let got = p.extract(&carrier).span_context.unwrap();
    assert_eq!(got.trace_id, a.span_context().trace_id);
    assert_eq!(got.span_id, a.span_context().span_id);
    assert!(got.is_remote && got.is_sampled());
}

#[test]
fn record_span_in_one_call() {
    let (p, e) = provider(&[]);
    let t = p.tracer("lib", None, None, vec![]);
    let begun = t.begin(None, "host-span", SpanKind::Producer, &[]);
    assert!(begun.recording);
    let ctx = t
        .record_span(FinishedSpan {
            context: Some(begun.context.clone()),
            parent: None,
            name: "host-span".into(),
            kind: SpanKind::Producer,
            start_time: 1_000,
            end_time: 3_000,
            attributes: vec![("k".into(), Value::from("v"))],
            events: vec![Event {
                name: "e".into(),
                time: Some(2_000),
                attributes: vec![],
            }],
            links: vec![],
            status: Status::Ok,
        })
        .unwrap();
    assert_eq!(ctx, begun.context);
    let child = t
        .record_span(FinishedSpan {
            parent: Some(ctx.clone()),
            name: "child".into(),
            start_time: 1_500,
            end_time: 1_000, // before start: clamped
            ..Default::default()
        })
        .unwrap();
    assert_eq!(child.trace_id, ctx.trace_id);
    let spans = finished(&p, &e);
    assert_eq!(spans.len(), 2);
    let h = spans.iter().find(|s| s.name == "host-span").unwrap();
    assert_eq!(
        h.start_time,
        std::time::UNIX_EPOCH + Duration::from_nanos(1_000)
    );
    assert_eq!(
        h.end_time,
        std::time::UNIX_EPOCH + Duration::from_nanos(3_000)
    );
    assert_eq!(h.span_kind, ot::SpanKind::Producer);
    assert_eq!(h.status, ot::Status::Ok);
    let c = spans.iter().find(|s| s.name == "child").unwrap();
    assert_eq!(c.parent_span_id.to_string(), ctx.span_id.to_hex());
    assert_eq!(c.end_time, c.start_time);
    let bad = t.record_span(FinishedSpan {
        context: Some(SpanContext::invalid()),
        ..Default::default()
    });
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn record_finished_fills_the_record_under_the_limits() {
    let (p, e) = provider(&[("attribute_count_limit", OptionValue::Int(2))]);
    let t = p.tracer("lib", None, None, vec![]);
    let begun = t.begin(None, "decoded", SpanKind::Client, &[]);
    let parent = SpanId([9; 8]);
    let head = |name: &'static str| FinishedHead {
        context: begun.context.clone(),
        parent_span_id: parent,
        parent_is_remote: true,
        name: name.into(),
        kind: SpanKind::Client,
        start_time: 5_000,
        end_time: 4_000, // before start: clamped
    };
    t.record_finished(head("decoded"), |r| {
        r.set_attribute("a", 1i64);
        r.set_attribute("b", "x");
        r.set_attribute("a", 2i64); // a later duplicate overwrites
        r.set_attribute("c", true); // past the limit of 2: dropped
        r.add_event(Event {
            name: "e".into(),
            time: Some(4_500),
            attributes: vec![],
        });
        // Status calls in order: Unset ignored, a later Error replaces an earlier one.
        r.set_status(Status::Error("first".into()));
        r.set_status(Status::Unset);
        r.set_status(Status::Error("boom".into()));
        r.discarded(3, 0, 0);
        Ok(())
    })
    .unwrap();
    // A failing fill records nothing and its error comes back.
    let failed = t.record_finished(head("failed"), |r| {
        r.set_attribute("a", 1i64);
        Err(Error::internal("corrupt input"))
    });
    assert_eq!(failed.unwrap_err().kind(), ErrorKind::Internal);
    // An invalid context is refused before `fill` runs.
    let mut called = false;
    let bad = t.record_finished(
        FinishedHead {
            context: SpanContext::invalid(),
            ..head("bad")
        },
        |_| {
            called = true;
            Ok(())
        },
    );
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert!(!called);

    let spans = finished(&p, &e);
    assert_eq!(spans.len(), 1, "only the span whose fill succeeded");
    let s = &spans[0];
    assert_eq!(s.name, "decoded");
    assert_eq!(
        s.span_context.span_id().to_string(),
        begun.context.span_id.to_hex()
    );
    assert_eq!(s.parent_span_id.to_string(), parent.to_hex());
    assert!(s.parent_span_is_remote);
    assert_eq!(s.end_time, s.start_time);
    assert_eq!(s.status, ot::Status::error("boom"));
    assert_eq!(attr(s, "a"), Some(&opentelemetry::Value::I64(2)));
    assert_eq!(attr(s, "b"), Some(&opentelemetry::Value::from("x")));
    assert_eq!(attr(s, "c"), None);
    assert_eq!(
        s.dropped_attributes_count, 4,
        "one dropped by the core, three discarded by the binding"
    );
    assert_eq!(s.events.len(), 1);
    assert_eq!(p.stats().spans_ended, 1);
}

#[test]
fn after_shutdown_everything_is_a_cheap_no_op() {
    let (p, e) = provider(&[]);
    let t = p.tracer("lib", None, None, vec![]);
    let mut before = t.start_span("before", StartOptions::default());
    before.end(None);
    let mut late = t.start_span("late", StartOptions::default());
    p.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(
        e.get_finished_spans().unwrap().len(),
        1,
        "shutdown exports what was queued"
    );
    late.end(None);
    assert_eq!(p.stats().dropped_shutdown, 1);
    let after = t.start_span("after", StartOptions::default());
    assert!(!after.is_recording());
    assert!(!t.is_enabled());
    assert_eq!(
        p.shutdown(Duration::from_secs(1)).unwrap_err().kind(),
        ErrorKind::AlreadyShutdown
    );
    p.force_flush(Duration::from_secs(1)).unwrap();
}

#[test]
fn disabled_sdk_creates_nothing_and_keeps_the_parent() {
    let (p, e) = provider(&[("disabled", OptionValue::Bool(true))]);
    let t = p.tracer("lib", None, None, vec![]);
    let remote = p
        .extract(&[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )])
        .span_context
        .unwrap();
    let mut a = t.start_span(
        "a",
        StartOptions {
            parent: Some(&remote),
            ..Default::default()
        },
    );
    assert!(!a.is_recording());
    assert_eq!(a.span_context().span_id, remote.span_id);
    a.end(None);
    p.force_flush(Duration::from_secs(1)).unwrap();
    assert!(e.get_finished_spans().unwrap().is_empty());
    p.shutdown(Duration::from_secs(1)).unwrap();
}

#[test]
fn flush_and_shutdown_are_bounded_when_the_back_end_hangs() {
    let gate = Gate::default();
    let p = Provider::with_exporter(
        config(&[("max_queue_size", i(10)), ("max_export_batch_size", i(5))]),
        gate.clone(),
    )
    .unwrap();
    let t = p.tracer("lib", None, None, vec![]);
    for _ in 0..100 {
        let mut sp = t.start_span("s", StartOptions::default());
        sp.end(None);
    }
    let st = p.stats();
    assert_eq!(st.spans_ended, 100);
    // At most the queue plus one taken swap in the export thread's hands (each ≤ the queue
    // size) survive; the rest are counted.
    assert!(st.dropped_queue_full >= 100 - 2 * 10, "{st:?}");
    let t0 = Instant::now();
    let r = p.force_flush(Duration::from_millis(300));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(t0.elapsed() < Duration::from_secs(2));
    let t0 = Instant::now();
    assert_eq!(
        p.shutdown(Duration::from_millis(300)).unwrap_err().kind(),
        ErrorKind::Timeout
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
    gate.release();
}

#[test]
fn dropping_the_provider_does_not_wait() {
    let gate = Gate::default();
    let p = Provider::with_exporter(config(&[]), gate.clone()).unwrap();
    let t = p.tracer("lib", None, None, vec![]);
    let mut sp = t.start_span("s", StartOptions::default());
    sp.end(None);
    let t0 = Instant::now();
    drop(t);
    drop(p);
    assert!(t0.elapsed() < Duration::from_millis(500));
    gate.release();
}
