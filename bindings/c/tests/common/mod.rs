//! Helpers shared by the C ABI tests (called from Rust, exactly as C would call them).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use polytrace::*;
use std::ffi::{c_char, CStr};
use std::ptr;

/// A borrowed (ptr, len) string.
pub fn s(text: &str) -> polytrace_str_t {
    polytrace_str_t {
        ptr: text.as_ptr().cast(),
        len: text.len(),
    }
}

/// Panics with the error's message unless `err` is NULL.
pub fn ok(err: *mut polytrace_error_t) {
    if !err.is_null() {
        let msg = message(err);
        // SAFETY: an error from polytrace.
        unsafe { polytrace_error_free(err) };
        panic!("unexpected error: {msg}");
    }
}

pub fn message(err: *const polytrace_error_t) -> String {
    // SAFETY: never NULL, NUL-terminated.
    unsafe { CStr::from_ptr(polytrace_error_message(err)) }
        .to_string_lossy()
        .into_owned()
}

/// The error's kind and message; frees it. Panics when `err` is NULL.
pub fn fail(err: *mut polytrace_error_t) -> (polytrace_error_kind_t, String) {
    assert!(!err.is_null(), "expected an error, got success");
    // SAFETY: an error from polytrace.
    let kind = unsafe { polytrace_error_kind(err) };
    let msg = message(err);
    // SAFETY: as above.
    unsafe { polytrace_error_free(err) };
    (kind, msg)
}

/// Asserts `err` is an InvalidArgument error; returns its message.
pub fn invalid(err: *mut polytrace_error_t) -> String {
    let (kind, msg) = fail(err);
    assert_eq!(kind, POLYTRACE_ERROR_INVALID_ARGUMENT, "{msg}");
    msg
}

/// A provider that exports nowhere (`exporter=none`), whatever the environment says.
pub fn provider() -> *mut polytrace_provider_t {
    let opts = [
        polytrace_kv_t {
            key: s("service_name"),
            value: s("ffi-test"),
        },
        polytrace_kv_t {
            key: s("exporter"),
            value: s("none"),
        },
        polytrace_kv_t {
            key: s("sampler"),
            value: s("always_on"),
        },
    ];
    let mut p = ptr::null_mut();
    // SAFETY: valid arrays and out-pointer.
    ok(unsafe { polytrace_provider_new(opts.as_ptr(), opts.len(), &mut p) });
    assert!(!p.is_null());
    p
}

/// A provider of service `ffi-NAME` exporting OTLP JSON lines to a fresh file in the temporary
/// directory, and that file.
pub fn file_provider(name: &str) -> (*mut polytrace_provider_t, std::path::PathBuf) {
    let path =
        std::env::temp_dir().join(format!("polytrace-ffi-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let service = format!("ffi-{name}");
    let path_text = path.to_string_lossy().into_owned();
    let opts = [
        polytrace_kv_t {
            key: s("service_name"),
            value: s(&service),
        },
        polytrace_kv_t {
            key: s("exporter"),
            value: s("file"),
        },
        polytrace_kv_t {
            key: s("file_path"),
            value: s(&path_text),
        },
    ];
    let mut p = ptr::null_mut();
    // SAFETY: valid arrays and out-pointer; the strings are copied.
    ok(unsafe { polytrace_provider_new(opts.as_ptr(), opts.len(), &mut p) });
    (p, path)
}

pub fn tracer(p: *const polytrace_provider_t) -> *mut polytrace_tracer_t {
    let mut t = ptr::null_mut();
    // SAFETY: valid strings and out-pointer.
    ok(unsafe {
        polytrace_tracer_new(
            p,
            c"ffi-test".as_ptr(),
            POLYTRACE_NUL_TERMINATED,
            ptr::null(),
            0,
            &mut t,
        )
    });
    t
}

pub fn span(t: *const polytrace_tracer_t, name: &str) -> *mut polytrace_span_t {
    let mut sp = ptr::null_mut();
    // SAFETY: valid strings and out-pointer.
    ok(unsafe { polytrace_span_start(t, name.as_ptr().cast(), name.len(), ptr::null(), &mut sp) });
    sp
}

pub fn cstr(p: *const c_char) -> String {
    // SAFETY: polytrace returns NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A shared vector file, `tests/vectors/<name>` at the repository root.
pub fn vectors(name: &str) -> serde_json::Value {
    let path = format!("{}/../../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// The text of a string polytrace wrote (empty for NULL).
pub fn text_of(v: polytrace_str_t) -> String {
    if v.ptr.is_null() {
        return String::new();
    }
    // SAFETY: polytrace wrote `len` valid bytes at `ptr`.
    let bytes = unsafe { std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}
