//! The shared text vectors (`tests/vectors/text.json`) through the C ABI: each case's `utf8`
//! bytes given as a span name, an attribute key and value (one through the typed setter, one
//! through `polytrace_span_set_attributes`), an event name, an exception message, a status
//! description and an updated name are exported as the case's `text` — the core's rule for
//! text that is not valid Unicode, the same as every binding's (kept, U+FFFD for each invalid
//! part), not an error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use polytrace::*;
use serde_json::Value as Json;
use std::ptr::{null, null_mut};

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// Every text argument of a span given `b`; returns nothing, the file tells.
fn spans_with(t: *const polytrace_tracer_t, b: &[u8]) {
    let (ptr, len) = (b.as_ptr().cast(), b.len());
    let attr = [polytrace_attribute_t {
        key: polytrace_str_t { ptr, len },
        value: polytrace_value_t {
            type_: POLYTRACE_VALUE_STRING,
            data: polytrace_value_data_t {
                string: polytrace_str_t { ptr, len },
            },
        },
    }];
    // SAFETY: live handles; every buffer is valid for its length during the calls.
    unsafe {
        let mut sp = null_mut();
        ok(polytrace_span_start(t, ptr, len, null(), &mut sp));
        ok(polytrace_span_set_attribute_string(
            sp,
            c"v".as_ptr(),
            1,
            ptr,
            len,
        ));
        ok(polytrace_span_set_attribute_int64(sp, ptr, len, 7));
        ok(polytrace_span_add_event(sp, ptr, len, attr.as_ptr(), 1, 0));
        ok(polytrace_span_record_exception(
            sp,
            c"E".as_ptr(),
            1,
            ptr,
            len,
            null(),
            0,
            null(),
            0,
        ));
        ok(polytrace_span_set_status(
            sp,
            POLYTRACE_STATUS_ERROR,
            ptr,
            len,
        ));
        ok(polytrace_span_end(sp, 0));
        polytrace_span_free(sp);
        let mut renamed = null_mut();
        ok(polytrace_span_start(
            t,
            c"x".as_ptr(),
            1,
            null(),
            &mut renamed,
        ));
        ok(polytrace_span_update_name(renamed, ptr, len));
        ok(polytrace_span_set_attributes(renamed, attr.as_ptr(), 1));
        ok(polytrace_span_end(renamed, 0));
        polytrace_span_free(renamed);
        let mut key = null();
        ok(polytrace_key_intern(ptr, len, &mut key));
    }
}

fn attr(span: &Json, key: &str) -> Option<Json> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| a["value"].clone())
}

#[test]
fn text_vectors_through_the_c_abi() {
    let doc = vectors("text.json");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for (i, case) in cases.iter().enumerate() {
        let what = case["name"].as_str().unwrap();
        let want = Json::from(case["text"].as_str().unwrap());
        let (p, path) = file_provider(&format!("text-{i}"));
        let t = tracer(p);
        spans_with(t, &unhex(case["utf8"].as_str().unwrap()));
        // SAFETY: live handles, each freed once after the shutdown that flushes the file.
        unsafe {
            ok(polytrace_provider_shutdown(p, 10_000));
            polytrace_tracer_free(t);
            polytrace_provider_free(p);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let spans: Vec<Json> = text
            .lines()
            .flat_map(|l| {
                let req: Json = serde_json::from_str(l).unwrap();
                req["resourceSpans"][0]["scopeSpans"][0]["spans"]
                    .as_array()
                    .unwrap()
                    .clone()
            })
            .collect();
        let [first, renamed] = &spans[..] else {
            panic!("{what}: spans {spans:?}")
        };
        let string = |v: &Json| serde_json::json!({ "stringValue": v });
        assert_eq!(first["name"], want, "{what}: name");
        assert_eq!(attr(first, "v"), Some(string(&want)), "{what}: value");
        let key = want.as_str().unwrap();
        assert_eq!(
            attr(first, key),
            Some(serde_json::json!({"intValue": "7"})),
            "{what}: key"
        );
        let event = &first["events"][0];
        assert_eq!(event["name"], want, "{what}: event name");
        assert_eq!(
            attr(event, key),
            Some(string(&want)),
            "{what}: event attribute"
        );
        assert_eq!(
            attr(&first["events"][1], "exception.message"),
            Some(string(&want)),
            "{what}: exception message"
        );
        assert_eq!(first["status"]["message"], want, "{what}: status");
        assert_eq!(renamed["name"], want, "{what}: updated name");
        assert_eq!(
            attr(renamed, key),
            Some(string(&want)),
            "{what}: set_attributes"
        );
    }
}
