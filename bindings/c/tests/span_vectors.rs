//! The shared span vectors (`tests/vectors/spans.json`) through the C ABI: every case runs
//! through the `extern "C"` functions only, as a C program would call them, and what the
//! `file` exporter wrote is compared with the case's `expect` by the same comparison as the
//! core's runner (`core/tests/common/span_vectors.rs`).
//!
//! How each part of a case maps onto the C API:
//! - `config`: `polytrace_provider_new` options, every value as its text (`4`, `true`), plus
//!   `exporter=file`, `file_path` and `service_name`;
//! - `parent`: an earlier span's handle (`polytrace_span_options_t.parent`), or a remote
//!   context as C gets one: `polytrace_provider_extract` of the `traceparent` (and
//!   `tracestate`) the vector's context is written as (checked to extract to those ids and
//!   flags);
//! - `kind`, `attributes`, `links`: the options struct (`polytrace_attribute_t` values,
//!   `polytrace_link_t` naming plain `polytrace_span_context_t` ids);
//! - `set_attribute`: the typed setter of the JSON value's type; `add_event`,
//!   `record_exception` (no stack trace), `set_status`, `update_name`, `end`: their functions;
//! - `check_recording`: `polytrace_span_is_recording`; `check_flags`, `check_traceparent`,
//!   `check_tracestate`: the headers `polytrace_provider_inject` writes for the span.
//!
//! Every case and every op of the file is expressible in C: nothing is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../../core/tests/common/span_vectors.rs"]
mod span_vectors;

use common::*;
use polytrace::*;
use serde_json::Value as Json;
use span_vectors::{compare, exported};
use std::collections::HashMap;
use std::ptr::{null, null_mut};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/spans.json"
));

/// A JSON attribute value sorted by its C type (arrays by their first element; numbers are
/// integers when every one is). Strings point into the vectors' JSON, which outlives the calls.
enum Typed {
    Str(polytrace_str_t),
    Bool(bool),
    Int(i64),
    Double(f64),
    StrArray(Vec<polytrace_str_t>),
    BoolArray(Vec<bool>),
    IntArray(Vec<i64>),
    DoubleArray(Vec<f64>),
}

fn typed(v: &Json) -> Typed {
    match v {
        Json::String(text) => Typed::Str(s(text)),
        Json::Bool(b) => Typed::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Typed::Int(i),
            None => Typed::Double(n.as_f64().unwrap()),
        },
        Json::Array(a) => match a.first() {
            Some(Json::String(_)) => {
                Typed::StrArray(a.iter().map(|t| s(t.as_str().unwrap())).collect())
            }
            Some(Json::Bool(_)) => {
                Typed::BoolArray(a.iter().map(|b| b.as_bool().unwrap()).collect())
            }
            Some(Json::Number(_)) if a.iter().all(|n| n.as_i64().is_some()) => {
                Typed::IntArray(a.iter().map(|n| n.as_i64().unwrap()).collect())
            }
            _ => Typed::DoubleArray(a.iter().map(|n| n.as_f64().unwrap()).collect()),
        },
        other => panic!("unsupported attribute value {other}"),
    }
}

/// Attributes as `polytrace_attribute_t`s, with the arrays their values point into (a `Vec`'s
/// elements stay where they are when the `Vec` moves into `arrays`).
#[derive(Default)]
struct Attributes {
    items: Vec<polytrace_attribute_t>,
    arrays: Vec<Typed>,
}

impl Attributes {
    fn new(v: Option<&Json>) -> Self {
        let mut out = Self::default();
        for (key, value) in v.and_then(Json::as_object).into_iter().flatten() {
            let t = typed(value);
            let (type_, data) = match &t {
                Typed::Str(text) => (
                    POLYTRACE_VALUE_STRING,
                    polytrace_value_data_t { string: *text },
                ),
                Typed::Bool(b) => (POLYTRACE_VALUE_BOOL, polytrace_value_data_t { boolean: *b }),
                Typed::Int(i) => (POLYTRACE_VALUE_INT64, polytrace_value_data_t { int64: *i }),
                Typed::Double(d) => (
                    POLYTRACE_VALUE_DOUBLE,
                    polytrace_value_data_t { float64: *d },
                ),
                Typed::StrArray(a) => (
                    POLYTRACE_VALUE_STRING_ARRAY,
                    polytrace_value_data_t {
                        string_array: polytrace_str_array_t {
                            items: a.as_ptr(),
                            len: a.len(),
                        },
                    },
                ),
                Typed::BoolArray(a) => (
                    POLYTRACE_VALUE_BOOL_ARRAY,
                    polytrace_value_data_t {
                        bool_array: polytrace_bool_array_t {
                            items: a.as_ptr(),
                            len: a.len(),
                        },
                    },
                ),
                Typed::IntArray(a) => (
                    POLYTRACE_VALUE_INT64_ARRAY,
                    polytrace_value_data_t {
                        int64_array: polytrace_int64_array_t {
                            items: a.as_ptr(),
                            len: a.len(),
                        },
                    },
                ),
                Typed::DoubleArray(a) => (
                    POLYTRACE_VALUE_DOUBLE_ARRAY,
                    polytrace_value_data_t {
                        double_array: polytrace_double_array_t {
                            items: a.as_ptr(),
                            len: a.len(),
                        },
                    },
                ),
            };
            out.items.push(polytrace_attribute_t {
                key: s(key),
                value: polytrace_value_t { type_, data },
            });
            out.arrays.push(t);
        }
        out
    }
}

/// A vector's span context (`{trace_id, span_id, flags}`) as plain C values.
fn plain_context(c: &Json) -> polytrace_span_context_t {
    let trace_id = u128::from_str_radix(c["trace_id"].as_str().unwrap(), 16).unwrap();
    let span_id = u64::from_str_radix(c["span_id"].as_str().unwrap(), 16).unwrap();
    polytrace_span_context_t {
        trace_id: trace_id.to_be_bytes(),
        span_id: span_id.to_be_bytes(),
        trace_flags: u8::try_from(c["flags"].as_u64().unwrap()).unwrap(),
        is_valid: trace_id != 0 && span_id != 0,
        is_remote: true,
        trace_id_hex: [0; 33],
        span_id_hex: [0; 17],
    }
}

/// A span spec's links as `polytrace_link_t`s, with the contexts and attributes they point to
/// (filled before the links point into them, so they do not move).
struct Links {
    items: Vec<polytrace_link_t>,
    _contexts: Vec<polytrace_span_context_t>,
    _attributes: Vec<Attributes>,
}

impl Links {
    fn new(spec: &Json) -> Self {
        let specs = spec.get("links").and_then(Json::as_array);
        let specs: &[Json] = specs.map_or(&[], Vec::as_slice);
        let contexts: Vec<_> = specs.iter().map(|l| plain_context(&l["context"])).collect();
        let attributes: Vec<_> = specs
            .iter()
            .map(|l| Attributes::new(l.get("attributes")))
            .collect();
        let items = contexts
            .iter()
            .zip(&attributes)
            .map(|(context, attrs)| polytrace_link_t {
                span: null(),
                context: null(),
                span_context: context,
                attributes: attrs.items.as_ptr(),
                attributes_len: attrs.items.len(),
            })
            .collect();
        Self {
            items,
            _contexts: contexts,
            _attributes: attributes,
        }
    }
}

/// A provider configured by the case, exporting to `path` with the `file` exporter.
fn provider(case: &Json, path: &std::path::Path) -> *mut polytrace_provider_t {
    let mut options: Vec<(String, String)> = case
        .get("config")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let text = match v {
                Json::String(text) => text.clone(),
                Json::Bool(_) | Json::Number(_) => v.to_string(),
                other => panic!("unsupported option value {other}"),
            };
            (k.clone(), text)
        })
        .collect();
    options.push(("exporter".into(), "file".into()));
    options.push(("file_path".into(), path.display().to_string()));
    options.push(("service_name".into(), "vectors".into()));
    let kvs: Vec<polytrace_kv_t> = options
        .iter()
        .map(|(k, v)| polytrace_kv_t {
            key: s(k),
            value: s(v),
        })
        .collect();
    let mut p = null_mut();
    // SAFETY: `kvs` holds `kvs.len()` pairs whose strings live in `options`; `p` is writable.
    ok(unsafe { polytrace_provider_new(kvs.as_ptr(), kvs.len(), &mut p) });
    p
}

/// A remote parent as C gets one: extracted from the `traceparent` (and `tracestate`) headers
/// that carry the vector's context. The caller frees it.
fn remote_parent(p: *const polytrace_provider_t, c: &Json) -> *mut polytrace_context_t {
    let (trace_id, span_id) = (
        c["trace_id"].as_str().unwrap(),
        c["span_id"].as_str().unwrap(),
    );
    let flags = c["flags"].as_u64().unwrap();
    let traceparent = format!("00-{trace_id}-{span_id}-{flags:02x}");
    let mut carrier = vec![polytrace_kv_t {
        key: s("traceparent"),
        value: s(&traceparent),
    }];
    if let Some(ts) = c.get("tracestate").and_then(Json::as_str) {
        carrier.push(polytrace_kv_t {
            key: s("tracestate"),
            value: s(ts),
        });
    }
    let mut ctx = null_mut();
    // SAFETY: `carrier` holds `carrier.len()` pairs of live strings; `ctx` is writable.
    ok(unsafe { polytrace_provider_extract(p, carrier.as_ptr(), carrier.len(), &mut ctx) });
    let mut got = plain_context(c);
    // SAFETY: `ctx` is the context just created; `got` is writable.
    ok(unsafe { polytrace_context_get_span_context(ctx, &mut got) });
    assert_eq!(
        (
            cstr(got.trace_id_hex.as_ptr()),
            cstr(got.span_id_hex.as_ptr()),
            u64::from(got.trace_flags)
        ),
        (trace_id.to_string(), span_id.to_string(), flags),
        "the remote parent {traceparent} did not extract to its own ids and flags"
    );
    ctx
}

fn kind(spec: &Json) -> polytrace_span_kind_t {
    match spec.get("kind").and_then(Json::as_str) {
        Some("server") => POLYTRACE_SPAN_KIND_SERVER,
        Some("client") => POLYTRACE_SPAN_KIND_CLIENT,
        Some("producer") => POLYTRACE_SPAN_KIND_PRODUCER,
        Some("consumer") => POLYTRACE_SPAN_KIND_CONSUMER,
        _ => POLYTRACE_SPAN_KIND_INTERNAL,
    }
}

/// Starts a span spec: its parent (an earlier span's handle, or an extracted remote context),
/// kind, attributes and links, all through `polytrace_span_options_t`.
fn start(
    p: *const polytrace_provider_t,
    t: *const polytrace_tracer_t,
    spec: &Json,
    spans: &HashMap<String, *mut polytrace_span_t>,
) -> *mut polytrace_span_t {
    let name = spec["name"].as_str().unwrap();
    let (parent, remote) = match spec.get("parent") {
        None | Some(Json::Null) => (null(), null_mut()),
        Some(Json::String(earlier)) => (spans[earlier].cast_const(), null_mut()),
        Some(c) => (null(), remote_parent(p, c)),
    };
    let attributes = Attributes::new(spec.get("attributes"));
    let links = Links::new(spec);
    let options = polytrace_span_options_t {
        parent,
        remote_parent: remote,
        kind: kind(spec),
        attributes: attributes.items.as_ptr(),
        attributes_len: attributes.items.len(),
        start_time_unix_nano: 0,
        links: links.items.as_ptr(),
        links_len: links.items.len(),
    };
    let mut span = null_mut();
    // SAFETY: every pointer in `options` points into `attributes`, `links`, the JSON or a live
    // handle, all alive for the call; `name` is valid for its length; `span` is writable.
    ok(unsafe { polytrace_span_start(t, name.as_ptr().cast(), name.len(), &options, &mut span) });
    // SAFETY: NULL or the context `remote_parent` created, not used after this.
    unsafe { polytrace_context_free(remote) };
    span
}

/// `[set_attribute, key, value]` through the typed setter of the value's type.
fn set_attribute(span: *mut polytrace_span_t, key: &str, value: &Json) {
    let (k, n) = (key.as_ptr().cast(), key.len());
    // SAFETY: `span` is a live handle, `key` is valid for `n` bytes and every value or array
    // is valid for its length.
    ok(unsafe {
        match typed(value) {
            Typed::Str(v) => polytrace_span_set_attribute_string(span, k, n, v.ptr, v.len),
            Typed::Bool(v) => polytrace_span_set_attribute_bool(span, k, n, v),
            Typed::Int(v) => polytrace_span_set_attribute_int64(span, k, n, v),
            Typed::Double(v) => polytrace_span_set_attribute_double(span, k, n, v),
            Typed::StrArray(a) => {
                polytrace_span_set_attribute_string_array(span, k, n, a.as_ptr(), a.len())
            }
            Typed::BoolArray(a) => {
                polytrace_span_set_attribute_bool_array(span, k, n, a.as_ptr(), a.len())
            }
            Typed::IntArray(a) => {
                polytrace_span_set_attribute_int64_array(span, k, n, a.as_ptr(), a.len())
            }
            Typed::DoubleArray(a) => {
                polytrace_span_set_attribute_double_array(span, k, n, a.as_ptr(), a.len())
            }
        }
    });
}

/// The `traceparent` and `tracestate` headers `polytrace_provider_inject` writes for a span
/// (empty when it writes none).
fn injected(p: *const polytrace_provider_t, span: *const polytrace_span_t) -> (String, String) {
    let mut headers = [polytrace_kv_t {
        key: s(""),
        value: s(""),
    }; POLYTRACE_INJECT_MAX_HEADERS];
    let mut buf = vec![0; POLYTRACE_INJECT_BUFFER_SIZE];
    let mut n = 0;
    // SAFETY: `headers` and `buf` are valid for the lengths passed; `n` is writable.
    ok(unsafe {
        polytrace_provider_inject(
            p,
            span,
            null(),
            headers.as_mut_ptr(),
            headers.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut n,
        )
    });
    let (mut traceparent, mut tracestate) = (String::new(), String::new());
    for kv in &headers[..n] {
        // The written pairs are NUL-terminated, in `buf`.
        match cstr(kv.key.ptr).as_str() {
            "traceparent" => traceparent = cstr(kv.value.ptr),
            "tracestate" => tracestate = cstr(kv.value.ptr),
            _ => {}
        }
    }
    (traceparent, tracestate)
}

/// Runs one op of a span spec; returns whether it ended the span.
fn op(
    p: *const polytrace_provider_t,
    span: *mut polytrace_span_t,
    op: &[Json],
    what: &str,
) -> bool {
    let text = |i: usize| op[i].as_str().unwrap();
    match text(0) {
        "set_attribute" => set_attribute(span, text(1), &op[2]),
        "add_event" => {
            let attributes = Attributes::new(op.get(2));
            // SAFETY: a live handle; the name and attributes are valid for their lengths.
            ok(unsafe {
                polytrace_span_add_event(
                    span,
                    text(1).as_ptr().cast(),
                    text(1).len(),
                    attributes.items.as_ptr(),
                    attributes.items.len(),
                    0,
                )
            });
        }
        "record_exception" => {
            let (type_name, message) = (text(1), text(2));
            // SAFETY: a live handle; the strings are valid for their lengths, no stack trace
            // and no attributes (NULL with length 0).
            ok(unsafe {
                polytrace_span_record_exception(
                    span,
                    type_name.as_ptr().cast(),
                    type_name.len(),
                    message.as_ptr().cast(),
                    message.len(),
                    null(),
                    0,
                    null(),
                    0,
                )
            });
        }
        "set_status" => {
            let code = match text(1) {
                "ok" => POLYTRACE_STATUS_OK,
                "error" => POLYTRACE_STATUS_ERROR,
                "unset" => POLYTRACE_STATUS_UNSET,
                other => panic!("{what}: unknown status {other}"),
            };
            let description = op.get(2).and_then(Json::as_str).unwrap_or("");
            // SAFETY: a live handle; the description is valid for its length.
            ok(unsafe {
                polytrace_span_set_status(
                    span,
                    code,
                    description.as_ptr().cast(),
                    description.len(),
                )
            });
        }
        "update_name" => {
            // SAFETY: a live handle; the name is valid for its length.
            ok(unsafe { polytrace_span_update_name(span, text(1).as_ptr().cast(), text(1).len()) });
        }
        "end" => {
            // SAFETY: a live handle, not ended yet (the runner ends each span once).
            ok(unsafe { polytrace_span_end(span, 0) });
            return true;
        }
        "check_recording" => {
            // SAFETY: a live handle.
            let recording = unsafe { polytrace_span_is_recording(span) };
            assert_eq!(recording, op[1].as_bool().unwrap(), "{what}: is_recording");
        }
        check @ ("check_flags" | "check_traceparent" | "check_tracestate") => {
            let (traceparent, tracestate) = injected(p, span);
            let got = match check {
                "check_flags" => &traceparent[traceparent.len().saturating_sub(2)..],
                "check_traceparent" => &traceparent,
                _ => &tracestate,
            };
            assert_eq!(
                got,
                text(1),
                "{what}: {check} (traceparent {traceparent:?})"
            );
        }
        other => panic!("{what}: unknown op {other}"),
    }
    false
}

/// Runs one case: a provider and tracer, its spans in order with their ops, each ended unless
/// the vector says otherwise; then every span is freed and the provider shut down (flushing
/// the file exporter).
fn run(case: &Json, path: &std::path::Path) {
    let p = provider(case, path);
    let t = tracer(p);
    let mut spans = HashMap::new();
    for spec in case["spans"].as_array().unwrap() {
        let name = spec["name"].as_str().unwrap();
        let what = format!("{}, span {name} (C ABI)", case["name"].as_str().unwrap());
        let span = start(p, t, spec, &spans);
        spans.insert(name.to_string(), span);
        let mut ended = false;
        for o in spec
            .get("ops")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            ended |= op(p, span, o.as_array().unwrap(), &what);
        }
        if !ended && spec.get("end") != Some(&Json::Bool(false)) {
            // SAFETY: a live handle, not ended yet.
            ok(unsafe { polytrace_span_end(span, 0) });
        }
    }
    for span in spans.into_values() {
        // SAFETY: each handle is freed once (a span never ended is discarded).
        unsafe { polytrace_span_free(span) };
    }
    // SAFETY: live handles, each freed once after the shutdown that flushes the exporter.
    unsafe {
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_tracer_free(t);
        polytrace_provider_free(p);
    }
}

#[test]
fn span_vectors_through_the_c_abi() {
    let doc: Json = serde_json::from_str(VECTORS).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(!cases.is_empty(), "no span vectors");
    let dir = std::env::temp_dir().join(format!("polytrace-c-span-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("case-{i}.jsonl"));
        let _ = std::fs::remove_file(&path);
        run(case, &path);
        compare(case, &exported(&path), "C ABI");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
