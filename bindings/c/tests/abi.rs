//! The C ABI called as C calls it: every entry point tolerates NULL, freed and foreign
//! handles, invalid UTF-8 (repaired in span text, refused in options), double end and double
//! free; spans, propagation and stats work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use polytrace::*;
use std::ffi::{c_char, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn every_entry_point_tolerates_null() {
    // SAFETY: (whole test) NULL is what is being tested; other pointers are valid.
    unsafe {
        let mut p = null_mut();
        invalid(polytrace_provider_new(null(), 0, null_mut()));
        invalid(polytrace_provider_new(null(), 2, &mut p));
        assert!(p.is_null());
        invalid(polytrace_provider_from_env(null_mut()));
        invalid(polytrace_provider_force_flush(null(), 10));
        invalid(polytrace_provider_shutdown(null(), 10));
        invalid(polytrace_provider_stats(null(), null_mut()));
        invalid(polytrace_provider_after_fork(null()));
        let mut n = 7usize;
        invalid(polytrace_provider_inject(
            null(),
            null(),
            null(),
            null_mut(),
            0,
            null_mut(),
            0,
            &mut n,
        ));
        assert_eq!(n, 0);
        invalid(polytrace_provider_inject(
            null(),
            null(),
            null(),
            null_mut(),
            0,
            null_mut(),
            0,
            null_mut(),
        ));
        let mut c = null_mut();
        invalid(polytrace_provider_extract(null(), null(), 0, &mut c));
        invalid(polytrace_provider_extract(null(), null(), 0, null_mut()));
        polytrace_provider_free(null_mut());

        let mut t = null_mut();
        invalid(polytrace_tracer_new(
            null(),
            c"x".as_ptr(),
            1,
            null(),
            0,
            &mut t,
        ));
        invalid(polytrace_tracer_new(
            null(),
            null(),
            0,
            null(),
            0,
            null_mut(),
        ));
        invalid(polytrace_tracer_record_span(null(), null(), null_mut()));
        polytrace_tracer_free(null_mut());

        let mut sp = null_mut();
        invalid(polytrace_span_start(
            null(),
            c"x".as_ptr(),
            1,
            null(),
            &mut sp,
        ));
        invalid(polytrace_span_start(null(), null(), 0, null(), null_mut()));
        let k = c"k".as_ptr();
        invalid(polytrace_span_set_attribute_string(null_mut(), k, 1, k, 1));
        invalid(polytrace_span_set_attribute_bool(null_mut(), k, 1, true));
        invalid(polytrace_span_set_attribute_int64(null_mut(), k, 1, 1));
        invalid(polytrace_span_set_attribute_double(null_mut(), k, 1, 1.0));
        invalid(polytrace_span_set_attribute_string_array(
            null_mut(),
            k,
            1,
            null(),
            0,
        ));
        invalid(polytrace_span_set_attribute_bool_array(
            null_mut(),
            k,
            1,
            null(),
            0,
        ));
        invalid(polytrace_span_set_attribute_int64_array(
            null_mut(),
            k,
            1,
            null(),
            0,
        ));
        invalid(polytrace_span_set_attribute_double_array(
            null_mut(),
            k,
            1,
            null(),
            0,
        ));
        invalid(polytrace_span_set_attributes(null_mut(), null(), 0));
        invalid(polytrace_span_add_event(null_mut(), k, 1, null(), 0, 0));
        invalid(polytrace_span_record_exception(
            null_mut(),
            k,
            1,
            k,
            1,
            null(),
            0,
            null(),
            0,
        ));
        invalid(polytrace_span_set_status(
            null_mut(),
            POLYTRACE_STATUS_OK,
            null(),
            0,
        ));
        invalid(polytrace_span_update_name(null_mut(), k, 1));
        invalid(polytrace_span_end(null_mut(), 0));
        assert!(!polytrace_span_is_recording(null()));
        invalid(polytrace_span_get_context(null(), null_mut()));
        invalid(polytrace_span_get_ids_hex(
            null(),
            null_mut(),
            0,
            null_mut(),
            0,
            null_mut(),
        ));
        polytrace_span_free(null_mut());

        invalid(polytrace_context_new(null_mut()));
        invalid(polytrace_context_get_span_context(null(), null_mut()));
        invalid(polytrace_context_set_baggage(null_mut(), k, 1, k, 1));
        invalid(polytrace_context_get_baggage(null(), k, 1, null_mut()));
        assert_eq!(polytrace_context_baggage_len(null()), 0);
        invalid(polytrace_context_baggage_at(null(), 0, null_mut()));
        invalid(polytrace_context_set_trace_state(null_mut(), k, 1, k, 1));
        invalid(polytrace_context_delete_trace_state(null_mut(), k, 1));
        invalid(polytrace_context_get_trace_state(null(), k, 1, null_mut()));

        invalid(polytrace_span_add_link(null_mut(), null()));
        invalid(polytrace_span_set_attribute_string_by_key(
            null_mut(),
            null(),
            k,
            1,
        ));
        invalid(polytrace_span_set_attribute_bool_by_key(
            null_mut(),
            null(),
            true,
        ));
        invalid(polytrace_span_set_attribute_int64_by_key(
            null_mut(),
            null(),
            1,
        ));
        invalid(polytrace_span_set_attribute_double_by_key(
            null_mut(),
            null(),
            1.0,
        ));
        invalid(polytrace_key_intern(null(), 1, null_mut()));
        let mut key = std::ptr::dangling::<polytrace_key_t>();
        invalid(polytrace_key_intern(null(), 1, &mut key));
        assert!(key.is_null(), "the out-pointer is NULL on error");
        invalid(polytrace_key_text(null(), null_mut()));
        polytrace_context_free(null_mut());

        assert_eq!(polytrace_error_kind(null()), POLYTRACE_ERROR_NONE);
        assert_eq!(cstr(polytrace_error_message(null())), "");
        assert_eq!(cstr(polytrace_error_kind_name(99)), "Unknown");
        polytrace_error_free(null_mut());
        // (polytrace_diag_set_handler(NULL) is process-wide: tested at the end of
        // double_free_and_stale_handles_are_harmless, not here, so parallel tests do not race.)
        assert_eq!(cstr(polytrace_version()), env!("CARGO_PKG_VERSION"));
    }
}

#[test]
fn null_arguments_on_live_handles() {
    let p = provider();
    let t = tracer(p);
    let sp = span(t, "live");
    // SAFETY: (whole block) NULL arguments with valid handles.
    unsafe {
        invalid(polytrace_provider_stats(p, null_mut()));
        let mut c = null_mut();
        invalid(polytrace_tracer_new(p, null(), 3, null(), 0, &mut c));
        invalid(polytrace_tracer_record_span(t, null(), null_mut()));
        let mut out = null_mut();
        invalid(polytrace_span_start(t, null(), 4, null(), &mut out));
        invalid(polytrace_span_start(
            t,
            c"x".as_ptr(),
            1,
            null(),
            null_mut(),
        ));
        invalid(polytrace_span_set_attribute_int64(sp, null(), 3, 1));
        invalid(polytrace_span_set_attribute_string(
            sp,
            c"k".as_ptr(),
            1,
            null(),
            2,
        ));
        invalid(polytrace_span_set_attribute_string_array(
            sp,
            c"k".as_ptr(),
            1,
            null(),
            2,
        ));
        invalid(polytrace_span_set_attribute_int64_array(
            sp,
            c"k".as_ptr(),
            1,
            null(),
            2,
        ));
        invalid(polytrace_span_set_attributes(sp, null(), 1));
        invalid(polytrace_span_add_event(sp, null(), 1, null(), 0, 0));
        invalid(polytrace_span_record_exception(
            sp,
            null(),
            1,
            null(),
            1,
            null(),
            0,
            null(),
            0,
        ));
        invalid(polytrace_span_update_name(sp, null(), 1));
        invalid(polytrace_span_get_context(sp, null_mut()));
        // The log-line accessor: NULL or short buffers are errors that still leave printable
        // (empty) strings and zero flags behind.
        let mut tid = [b'x' as c_char; POLYTRACE_TRACE_ID_HEX_SIZE];
        let mut sid = [b'x' as c_char; POLYTRACE_SPAN_ID_HEX_SIZE];
        let mut flags = 0xffu8;
        let msg = invalid(polytrace_span_get_ids_hex(
            sp,
            null_mut(),
            0,
            sid.as_mut_ptr(),
            sid.len(),
            &mut flags,
        ));
        assert!(msg.contains("trace_id_hex is NULL"), "{msg}");
        assert_eq!((sid[0], flags), (0, 0));
        sid[0] = b'x' as c_char;
        flags = 0xff;
        let msg = invalid(polytrace_span_get_ids_hex(
            sp,
            tid.as_mut_ptr(),
            tid.len(),
            sid.as_mut_ptr(),
            POLYTRACE_SPAN_ID_HEX_SIZE - 1,
            &mut flags,
        ));
        assert!(
            msg.contains("span_id_hex has 16 bytes, it needs 17"),
            "{msg}"
        );
        assert_eq!((tid[0], sid[0], flags), (0, 0, 0));
        let msg = invalid(polytrace_span_get_ids_hex(
            sp,
            tid.as_mut_ptr(),
            32,
            sid.as_mut_ptr(),
            sid.len(),
            null_mut(),
        ));
        assert!(
            msg.contains("trace_id_hex has 32 bytes, it needs 33"),
            "{msg}"
        );
        // NULL flags are fine: not every log line prints them.
        ok(polytrace_span_get_ids_hex(
            sp,
            tid.as_mut_ptr(),
            tid.len(),
            sid.as_mut_ptr(),
            sid.len(),
            null_mut(),
        ));
        assert_eq!(cstr(tid.as_ptr()).len(), 32);
        // NULL with length 0 is the empty string, and fine.
        ok(polytrace_span_set_attribute_string(
            sp,
            c"empty".as_ptr(),
            5,
            null(),
            0,
        ));
        ok(polytrace_span_set_status(
            sp,
            POLYTRACE_STATUS_ERROR,
            null(),
            0,
        ));
        ok(polytrace_span_end(sp, 0));
        polytrace_span_free(sp);
        polytrace_tracer_free(t);
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
    }
}

#[test]
fn span_lifecycle_and_stats() {
    let p = provider();
    let t = tracer(p);
    // SAFETY: (whole block) valid handles and arrays.
    unsafe {
        let root = span(t, "root");
        assert!(polytrace_span_is_recording(root));
        let attrs = [
            polytrace_attribute_t {
                key: s("a.str"),
                value: polytrace_value_t {
                    type_: POLYTRACE_VALUE_STRING,
                    data: polytrace_value_data_t { string: s("v") },
                },
            },
            polytrace_attribute_t {
                key: s("a.ints"),
                value: polytrace_value_t {
                    type_: POLYTRACE_VALUE_INT64_ARRAY,
                    data: polytrace_value_data_t {
                        int64_array: polytrace_int64_array_t {
                            items: [1i64, 2].as_ptr(),
                            len: 2,
                        },
                    },
                },
            },
        ];
        let opts = polytrace_span_options_t {
            parent: root,
            remote_parent: null(),
            kind: POLYTRACE_SPAN_KIND_CLIENT,
            attributes: attrs.as_ptr(),
            attributes_len: attrs.len(),
            start_time_unix_nano: 0,
            links: null(),
            links_len: 0,
        };
        let mut child = null_mut();
        ok(polytrace_span_start(
            t,
            c"child".as_ptr(),
            POLYTRACE_NUL_TERMINATED,
            &opts,
            &mut child,
        ));
        let mut rc = std::mem::zeroed::<polytrace_span_context_t>();
        let mut cc = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_span_get_context(root, &mut rc));
        ok(polytrace_span_get_context(child, &mut cc));
        assert!(rc.is_valid && cc.is_valid && !cc.is_remote);
        assert_eq!(rc.trace_id, cc.trace_id, "child is in the parent's trace");
        assert_ne!(rc.span_id, cc.span_id);
        assert_eq!(cstr(cc.trace_id_hex.as_ptr()).len(), 32);
        assert_eq!(cstr(cc.span_id_hex.as_ptr()).len(), 16);

        let k = |s: &str| (s.as_ptr().cast(), s.len());
        let (kp, kl) = k("s");
        ok(polytrace_span_set_attribute_string(
            child,
            kp,
            kl,
            c"x".as_ptr(),
            1,
        ));
        ok(polytrace_span_set_attribute_bool(child, kp, kl, true));
        ok(polytrace_span_set_attribute_int64(child, kp, kl, 3));
        ok(polytrace_span_set_attribute_double(child, kp, kl, 1.5));
        let strs = [s("a"), s("b")];
        ok(polytrace_span_set_attribute_string_array(
            child,
            kp,
            kl,
            strs.as_ptr(),
            2,
        ));
        ok(polytrace_span_set_attribute_bool_array(
            child,
            kp,
            kl,
            [true, false].as_ptr(),
            2,
        ));
        ok(polytrace_span_set_attribute_int64_array(
            child,
            kp,
            kl,
            [1i64].as_ptr(),
            1,
        ));
        ok(polytrace_span_set_attribute_double_array(
            child,
            kp,
            kl,
            [1.0f64].as_ptr(),
            1,
        ));
        ok(polytrace_span_set_attributes(
            child,
            attrs.as_ptr(),
            attrs.len(),
        ));
        ok(polytrace_span_add_event(
            child,
            kp,
            kl,
            attrs.as_ptr(),
            attrs.len(),
            0,
        ));
        ok(polytrace_span_record_exception(
            child,
            c"E".as_ptr(),
            1,
            c"boom".as_ptr(),
            4,
            c"at main".as_ptr(),
            POLYTRACE_NUL_TERMINATED,
            null(),
            0,
        ));
        ok(polytrace_span_update_name(child, c"child2".as_ptr(), 6));
        ok(polytrace_span_set_status(
            child,
            POLYTRACE_STATUS_ERROR,
            c"bad".as_ptr(),
            3,
        ));
        // Unknown constants are rejected, not undefined behaviour.
        invalid(polytrace_span_set_status(child, 42, null(), 0));
        let bad_value = polytrace_attribute_t {
            key: s("k"),
            value: polytrace_value_t {
                type_: 99,
                data: polytrace_value_data_t { int64: 0 },
            },
        };
        invalid(polytrace_span_set_attributes(child, &bad_value, 1));
        let bad_kind = polytrace_span_options_t { kind: 17, ..opts };
        let mut x = null_mut();
        invalid(polytrace_span_start(t, c"x".as_ptr(), 1, &bad_kind, &mut x));
        assert!(x.is_null());

        ok(polytrace_span_end(child, 0));
        assert!(!polytrace_span_is_recording(child));
        // Double end: harmless and reported.
        let msg = invalid(polytrace_span_end(child, 0));
        assert!(msg.contains("already ended"), "{msg}");
        // Calls after end are no-ops.
        ok(polytrace_span_set_attribute_int64(child, kp, kl, 4));
        ok(polytrace_span_end(root, 0));
        polytrace_span_free(child);
        polytrace_span_free(root);

        let mut st = polytrace_stats_t::default();
        ok(polytrace_provider_stats(p, &mut st));
        assert_eq!((st.spans_started, st.spans_ended), (2, 2));

        // One-call finished span, as the child of nothing, with an event.
        let ev = polytrace_event_t {
            name: s("ev"),
            time_unix_nano: 0,
            attributes: attrs.as_ptr(),
            attributes_len: attrs.len(),
        };
        let fin = polytrace_finished_span_t {
            name: s("done"),
            parent: null(),
            remote_parent: null(),
            kind: POLYTRACE_SPAN_KIND_SERVER,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000,
            attributes: attrs.as_ptr(),
            attributes_len: attrs.len(),
            events: &ev,
            events_len: 1,
            status_code: POLYTRACE_STATUS_OK,
            status_description: s(""),
            links: null(),
            links_len: 0,
        };
        let mut fc = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_tracer_record_span(t, &fin, &mut fc));
        assert!(fc.is_valid);
        ok(polytrace_tracer_record_span(t, &fin, null_mut()));

        ok(polytrace_provider_force_flush(p, 10_000));
        ok(polytrace_provider_shutdown(p, 10_000));
        let (kind, _) = fail(polytrace_provider_shutdown(p, 10_000));
        assert_eq!(kind, POLYTRACE_ERROR_ALREADY_SHUTDOWN);
        // After shutdown span calls are no-ops, never errors.
        let late = span(t, "late");
        assert!(!polytrace_span_is_recording(late));
        ok(polytrace_span_end(late, 0));
        polytrace_span_free(late);
        polytrace_tracer_free(t);
        polytrace_provider_free(p);
    }
}

#[test]
fn invalid_utf8_is_repaired_in_span_text_refused_in_options_ignored_in_carriers() {
    let p = provider();
    let t = tracer(p);
    let sp = span(t, "utf8");
    let bad = [0x66u8, 0xff, 0xfe];
    // SAFETY: valid handles and buffers.
    unsafe {
        // Span text follows the core's rule (tests/text_vectors.rs has every case): kept.
        ok(polytrace_span_set_attribute_int64(
            sp,
            bad.as_ptr().cast(),
            3,
            1,
        ));
        ok(polytrace_span_set_attribute_string(
            sp,
            c"k".as_ptr(),
            1,
            bad.as_ptr().cast(),
            3,
        ));
        ok(polytrace_span_update_name(sp, bad.as_ptr().cast(), 3));
        let mut x = null_mut();
        ok(polytrace_span_start(
            t,
            bad.as_ptr().cast(),
            3,
            null(),
            &mut x,
        ));
        ok(polytrace_span_end(x, 0));
        polytrace_span_free(x);
        // Options must be UTF-8.
        let opt = [polytrace_kv_t {
            key: polytrace_str_t {
                ptr: bad.as_ptr().cast(),
                len: 3,
            },
            value: s("x"),
        }];
        let mut q = null_mut();
        let msg = invalid(polytrace_provider_new(opt.as_ptr(), 1, &mut q));
        assert!(msg.contains("UTF-8"), "{msg}");
        // Unknown options are InvalidConfig.
        let opt = [polytrace_kv_t {
            key: s("no_such_option"),
            value: s("1"),
        }];
        let (kind, msg) = fail(polytrace_provider_new(opt.as_ptr(), 1, &mut q));
        assert_eq!(kind, POLYTRACE_ERROR_INVALID_CONFIG, "{msg}");
        assert!(q.is_null());
        // In a carrier, invalid UTF-8 is ignored like any malformed header.
        let carrier = [polytrace_kv_t {
            key: s("traceparent"),
            value: polytrace_str_t {
                ptr: bad.as_ptr().cast(),
                len: 3,
            },
        }];
        let mut c = null_mut();
        ok(polytrace_provider_extract(p, carrier.as_ptr(), 1, &mut c));
        let mut sc = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_context_get_span_context(c, &mut sc));
        assert!(!sc.is_valid);
        polytrace_context_free(c);
        ok(polytrace_span_end(sp, 0));
        polytrace_span_free(sp);
        polytrace_tracer_free(t);
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
    }
}

static REPORTS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_reports(
    _level: polytrace_diag_level_t,
    message: *const std::ffi::c_char,
    _len: usize,
    _user: *mut c_void,
) {
    if cstr(message).contains("already freed") {
        REPORTS.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn double_free_and_stale_handles_are_harmless() {
    let p = provider();
    let t = tracer(p);
    // SAFETY: (whole block) freed handles are what is tested; they are never dereferenced.
    unsafe {
        polytrace_diag_set_handler(Some(count_reports), null_mut());
        let a = span(t, "a");
        ok(polytrace_span_end(a, 0));
        polytrace_span_free(a);
        polytrace_span_free(a); // double free: reported, ignored
                                // The slot is reused by the next span; the stale handle still does not reach it.
        let b = span(t, "b");
        assert_ne!(a, b);
        let msg = invalid(polytrace_span_set_attribute_int64(a, c"k".as_ptr(), 1, 1));
        assert!(msg.contains("already freed"), "{msg}");
        invalid(polytrace_span_end(a, 0));
        let mut tid = [0 as c_char; POLYTRACE_TRACE_ID_HEX_SIZE];
        let mut sid = [0 as c_char; POLYTRACE_SPAN_ID_HEX_SIZE];
        let msg = invalid(polytrace_span_get_ids_hex(
            a,
            tid.as_mut_ptr(),
            tid.len(),
            sid.as_mut_ptr(),
            sid.len(),
            null_mut(),
        ));
        assert!(msg.contains("already freed"), "{msg}");
        polytrace_span_free(a);
        assert!(
            polytrace_span_is_recording(b),
            "b is untouched by the stale calls"
        );
        ok(polytrace_span_end(b, 0));
        polytrace_span_free(b);

        // A handle of another type, or any other pointer, is rejected without being read.
        invalid(polytrace_span_end(t.cast(), 0));
        invalid(polytrace_span_end(0x1234usize as *mut polytrace_span_t, 0));
        let local = 5u64;
        invalid(polytrace_tracer_record_span(
            (&local as *const u64).cast(),
            null(),
            null_mut(),
        ));

        // Errors, contexts, tracers, providers: double free is harmless too.
        let e = polytrace_span_end(null_mut(), 0);
        polytrace_error_free(e);
        polytrace_error_free(e);
        assert_eq!(polytrace_error_kind(e), POLYTRACE_ERROR_INVALID_ARGUMENT);
        assert!(cstr(polytrace_error_message(e)).contains("invalid"));
        let mut c = null_mut();
        ok(polytrace_context_new(&mut c));
        polytrace_context_free(c);
        polytrace_context_free(c);
        polytrace_tracer_free(t);
        polytrace_tracer_free(t);
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
        polytrace_provider_free(p);
        invalid(polytrace_provider_force_flush(p, 10));
        polytrace_diag_set_handler(None, null_mut());
    }
    // Reported once per function (span, error, context, tracer, provider).
    assert!(
        REPORTS.load(Ordering::SeqCst) >= 5,
        "{}",
        REPORTS.load(Ordering::SeqCst)
    );
}

#[test]
fn inject_extract_round_trip() {
    let p = provider();
    let t = tracer(p);
    // SAFETY: (whole block) valid handles and buffers.
    unsafe {
        let carrier = [
            polytrace_kv_t {
                key: s("TraceParent"),
                value: s("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            },
            polytrace_kv_t {
                key: s("tracestate"),
                value: s("congo=t61rcWkgMzE"),
            },
            polytrace_kv_t {
                key: s("baggage"),
                value: s("user=alice,plan=gold%20plus"),
            },
        ];
        let mut ctx = null_mut();
        ok(polytrace_provider_extract(
            p,
            carrier.as_ptr(),
            carrier.len(),
            &mut ctx,
        ));
        let mut sc = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_context_get_span_context(ctx, &mut sc));
        assert!(sc.is_valid && sc.is_remote);
        assert_eq!(
            cstr(sc.trace_id_hex.as_ptr()),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(polytrace_context_baggage_len(ctx), 2);
        let mut v = polytrace_str_t {
            ptr: null(),
            len: 0,
        };
        ok(polytrace_context_get_baggage(
            ctx,
            c"plan".as_ptr(),
            4,
            &mut v,
        ));
        assert_eq!(
            std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len),
            b"gold plus"
        );
        ok(polytrace_context_get_baggage(
            ctx,
            c"none".as_ptr(),
            4,
            &mut v,
        ));
        assert!(v.ptr.is_null());
        let mut kv = polytrace_kv_t {
            key: s(""),
            value: s(""),
        };
        ok(polytrace_context_baggage_at(ctx, 0, &mut kv));
        invalid(polytrace_context_baggage_at(ctx, 2, &mut kv));
        ok(polytrace_context_set_baggage(
            ctx,
            c"step".as_ptr(),
            4,
            c"2".as_ptr(),
            1,
        ));

        // This service's tracestate entry: moved to the front, sent on by inject.
        ok(polytrace_context_set_trace_state(
            ctx,
            c"polytrace".as_ptr(),
            9,
            c"c1".as_ptr(),
            2,
        ));
        let msg = invalid(polytrace_context_set_trace_state(
            ctx,
            c"Bad Key".as_ptr(),
            7,
            c"v".as_ptr(),
            1,
        ));
        assert!(msg.contains("tracestate"), "{msg}");
        let value_of = |key: &str| {
            let mut v = polytrace_str_t {
                ptr: null(),
                len: 0,
            };
            ok(polytrace_context_get_trace_state(
                ctx,
                key.as_ptr().cast(),
                key.len(),
                &mut v,
            ));
            (!v.ptr.is_null()).then(|| {
                String::from_utf8(std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len).to_vec())
                    .unwrap()
            })
        };
        assert_eq!(value_of("polytrace").as_deref(), Some("c1"));
        assert_eq!(value_of("congo").as_deref(), Some("t61rcWkgMzE"));
        assert_eq!(value_of("none"), None);

        // A server span under the remote parent, and inject for the outgoing call.
        let opts = polytrace_span_options_t {
            parent: null(),
            remote_parent: ctx,
            kind: POLYTRACE_SPAN_KIND_SERVER,
            attributes: null(),
            attributes_len: 0,
            start_time_unix_nano: 0,
            links: null(),
            links_len: 0,
        };
        let mut server = null_mut();
        ok(polytrace_span_start(
            t,
            c"server".as_ptr(),
            6,
            &opts,
            &mut server,
        ));
        let mut own = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_span_get_context(server, &mut own));
        assert_eq!(own.trace_id, sc.trace_id);

        let mut headers = [polytrace_kv_t {
            key: s(""),
            value: s(""),
        }; POLYTRACE_INJECT_MAX_HEADERS];
        let mut buf = [0 as std::ffi::c_char; 512];
        let mut n = 0usize;
        ok(polytrace_provider_inject(
            p,
            server,
            ctx,
            headers.as_mut_ptr(),
            headers.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut n,
        ));
        assert_eq!(n, 3);
        let text = |x: polytrace_str_t| {
            let b = std::slice::from_raw_parts(x.ptr.cast::<u8>(), x.len);
            assert_eq!(*x.ptr.add(x.len), 0, "NUL-terminated");
            String::from_utf8(b.to_vec()).unwrap()
        };
        let got: Vec<(String, String)> = headers[..n]
            .iter()
            .map(|h| (text(h.key), text(h.value)))
            .collect();
        assert_eq!(got[0].0, "traceparent");
        assert_eq!(
            got[0].1,
            format!(
                "00-{}-{}-01",
                cstr(own.trace_id_hex.as_ptr()),
                cstr(own.span_id_hex.as_ptr())
            )
        );
        assert_eq!(
            got[1],
            ("tracestate".into(), "polytrace=c1,congo=t61rcWkgMzE".into())
        );
        assert_eq!(
            got[2],
            (
                "baggage".into(),
                "user=alice,plan=gold%20plus,step=2".into()
            )
        );

        // Too small: nothing written, a clear error.
        let msg = invalid(polytrace_provider_inject(
            p,
            server,
            ctx,
            headers.as_mut_ptr(),
            3,
            buf.as_mut_ptr(),
            20,
            &mut n,
        ));
        assert_eq!(n, 0);
        assert!(msg.contains("buffer bytes"), "{msg}");
        // Nothing to inject: fine with no space at all.
        ok(polytrace_provider_inject(
            p,
            null(),
            null(),
            null_mut(),
            0,
            null_mut(),
            0,
            &mut n,
        ));
        assert_eq!(n, 0);

        ok(polytrace_span_end(server, 0));
        polytrace_span_free(server);
        polytrace_context_free(ctx);
        polytrace_tracer_free(t);
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
    }
}

#[test]
fn spans_are_safe_to_share_between_threads() {
    let p = provider();
    let t = tracer(p);
    let sp = span(t, "shared") as usize;
    let workers: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                for j in 0..500i64 {
                    let key = format!("k{}", j % 8);
                    // SAFETY: a live span handle; calls are serialized by polytrace.
                    ok(unsafe {
                        polytrace_span_set_attribute_int64(
                            sp as *mut _,
                            key.as_ptr().cast(),
                            key.len(),
                            i * j,
                        )
                    });
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    // SAFETY: valid handles.
    unsafe {
        ok(polytrace_span_end(sp as *mut _, 0));
        polytrace_span_free(sp as *mut _);
        polytrace_tracer_free(t);
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
    }
}

/// For the span named `name` in OTLP JSON lines: the text from its name to its links (its
/// attributes), its `"links":[...]` array, and the text from its span id to its name (where its
/// `traceState` is).
fn span_json<'a>(json: &'a str, name: &str) -> (&'a str, &'a str, &'a str) {
    let at = json
        .find(&format!("\"name\":\"{name}\""))
        .unwrap_or_else(|| panic!("span {name} not exported: {json}"));
    let links = at + json[at..].find("\"links\":[").unwrap();
    assert!(
        !json[at + 1..links].contains("\"name\""),
        "{name} has no links"
    );
    let mut depth = 0;
    let mut end = links;
    for (i, c) in json[links..].char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth == 1 => {
                end = links + i + 1;
                break;
            }
            ']' => depth -= 1,
            _ => {}
        }
    }
    let head = &json[..at];
    let id = head.rfind("\"spanId\"").unwrap();
    (&json[at..links], &json[links..end], &head[id..])
}

#[test]
fn links_trace_state_and_keys_reach_the_exporter() {
    let (p, path) = file_provider("links");
    let first_id;
    let linked_id;
    // SAFETY: (whole test) valid handles, strings and out-pointers, except where the test
    // passes invalid ones on purpose.
    unsafe {
        let t = tracer(p);

        // Keys: interned once, the same handle for the same text, foreign values rejected.
        let mut tier = null();
        ok(polytrace_key_intern(
            c"app.tier".as_ptr(),
            POLYTRACE_NUL_TERMINATED,
            &mut tier,
        ));
        let mut again = null();
        ok(polytrace_key_intern(c"app.tier".as_ptr(), 8, &mut again));
        assert_eq!(tier, again);
        let mut count = null();
        ok(polytrace_key_intern(c"app.count".as_ptr(), 9, &mut count));
        assert_ne!(tier, count);
        let mut text = polytrace_str_t {
            ptr: null(),
            len: 0,
        };
        ok(polytrace_key_text(count, &mut text));
        assert_eq!(
            std::slice::from_raw_parts(text.ptr.cast::<u8>(), text.len),
            b"app.count"
        );
        let mut bad = null();
        ok(polytrace_key_intern(c"\xff".as_ptr(), 1, &mut bad));
        ok(polytrace_key_text(bad, &mut text));
        assert_eq!(
            text_of(text),
            "\u{fffd}",
            "a key that is not UTF-8 is repaired"
        );
        bad = null();
        let long = "k".repeat(POLYTRACE_KEY_MAX_LEN + 1);
        invalid(polytrace_key_intern(
            long.as_ptr().cast(),
            long.len(),
            &mut bad,
        ));
        assert!(bad.is_null());

        // A remote context with tracestate, to link to and to parent on.
        let carrier = [
            polytrace_kv_t {
                key: s("traceparent"),
                value: s("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            },
            polytrace_kv_t {
                key: s("tracestate"),
                value: s("other=1"),
            },
        ];
        let mut remote = null_mut();
        ok(polytrace_provider_extract(
            p,
            carrier.as_ptr(),
            carrier.len(),
            &mut remote,
        ));
        ok(polytrace_context_set_trace_state(
            remote,
            c"ours".as_ptr(),
            4,
            c"x9".as_ptr(),
            2,
        ));
        ok(polytrace_context_set_trace_state(
            remote,
            c"gone".as_ptr(),
            4,
            c"1".as_ptr(),
            1,
        ));
        ok(polytrace_context_delete_trace_state(
            remote,
            c"gone".as_ptr(),
            4,
        ));
        ok(polytrace_context_delete_trace_state(
            remote,
            c"absent".as_ptr(),
            6,
        ));
        // No span context, no tracestate.
        let mut empty = null_mut();
        ok(polytrace_context_new(&mut empty));
        invalid(polytrace_context_set_trace_state(
            empty,
            c"ours".as_ptr(),
            4,
            c"1".as_ptr(),
            1,
        ));

        let first = span(t, "first");
        let mut first_ctx = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_span_get_context(first, &mut first_ctx));
        first_id = cstr(first_ctx.span_id_hex.as_ptr());
        let link_attr = [polytrace_attribute_t {
            key: s("link.why"),
            value: polytrace_value_t {
                type_: POLYTRACE_VALUE_STRING,
                data: polytrace_value_data_t { string: s("batch") },
            },
        }];
        let at_start = [polytrace_link_t {
            span: first,
            context: null(),
            span_context: null(),
            attributes: link_attr.as_ptr(),
            attributes_len: 1,
        }];
        let start = polytrace_span_options_t {
            parent: null(),
            remote_parent: remote,
            kind: POLYTRACE_SPAN_KIND_CONSUMER,
            attributes: null(),
            attributes_len: 0,
            start_time_unix_nano: 0,
            links: at_start.as_ptr(),
            links_len: 1,
        };
        let mut linked = null_mut();
        ok(polytrace_span_start(
            t,
            c"linked".as_ptr(),
            6,
            &start,
            &mut linked,
        ));
        // After start: to the remote context, to plain ids, to the span itself.
        let to_remote = polytrace_link_t {
            span: null(),
            context: remote,
            span_context: null(),
            attributes: null(),
            attributes_len: 0,
        };
        ok(polytrace_span_add_link(linked, &to_remote));
        let to_ids = polytrace_link_t {
            context: null(),
            span_context: &first_ctx,
            ..to_remote
        };
        ok(polytrace_span_add_link(linked, &to_ids));
        let to_self = polytrace_link_t {
            span: linked,
            ..to_ids
        };
        ok(polytrace_span_add_link(linked, &to_self));
        let nothing = polytrace_link_t {
            span_context: null(),
            ..to_ids
        };
        let msg = invalid(polytrace_span_add_link(linked, &nothing));
        assert!(msg.contains("no target"), "{msg}");
        invalid(polytrace_span_add_link(linked, null()));
        let stale = polytrace_link_t {
            context: empty,
            ..nothing
        };
        polytrace_context_free(empty);
        invalid(polytrace_span_add_link(linked, &stale));

        ok(polytrace_span_set_attribute_string_by_key(
            linked,
            tier,
            c"gold".as_ptr(),
            4,
        ));
        ok(polytrace_span_set_attribute_int64_by_key(linked, count, 7));
        ok(polytrace_span_set_attribute_bool_by_key(
            linked, count, true,
        )); // overwrites
        invalid(polytrace_span_set_attribute_int64_by_key(
            linked,
            first.cast(),
            1,
        ));
        invalid(polytrace_span_set_attribute_int64_by_key(
            linked,
            (tier as usize ^ 1) as *const _,
            1,
        ));
        let mut linked_ctx = std::mem::zeroed::<polytrace_span_context_t>();
        ok(polytrace_span_get_context(linked, &mut linked_ctx));
        linked_id = cstr(linked_ctx.span_id_hex.as_ptr());

        // A finished span with a link.
        let fin_links = [polytrace_link_t {
            span: linked,
            ..nothing
        }];
        let mut fin: polytrace_finished_span_t = std::mem::zeroed();
        fin.name = s("recorded");
        fin.links = fin_links.as_ptr();
        fin.links_len = 1;
        ok(polytrace_tracer_record_span(t, &fin, null_mut()));

        ok(polytrace_span_end(linked, 0));
        // Ended: a no-op, but the link is still checked.
        ok(polytrace_span_add_link(linked, &to_ids));
        invalid(polytrace_span_add_link(linked, &nothing));
        ok(polytrace_span_end(first, 0));
        polytrace_span_free(linked);
        polytrace_span_free(first);
        polytrace_context_free(remote);
        polytrace_tracer_free(t);
        ok(polytrace_provider_shutdown(p, 10_000));
        polytrace_provider_free(p);
    }

    let json = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let (linked_body, links, linked_state) = span_json(&json, "linked");
    // The remote parent's tracestate, changed by this service, is the span's.
    assert!(
        linked_state.contains("\"traceState\":\"ours=x9,other=1\""),
        "{linked_state}"
    );
    assert_eq!(links.matches("\"spanId\"").count(), 4, "{links}");
    assert_eq!(
        links.matches(&format!("\"spanId\":\"{first_id}\"")).count(),
        2,
        "{links}"
    );
    assert!(links.contains("\"spanId\":\"b7ad6b7169203331\""), "{links}");
    assert!(
        links.contains("\"traceState\":\"ours=x9,other=1\""),
        "{links}"
    );
    assert!(
        links.contains("link.why") && links.contains("batch"),
        "{links}"
    );
    assert!(
        linked_body.contains("app.tier") && linked_body.contains("gold"),
        "{linked_body}"
    );
    assert!(linked_body.contains("\"boolValue\":true"), "{linked_body}");
    let (_, rec_links, _) = span_json(&json, "recorded");
    assert_eq!(rec_links.matches("\"spanId\"").count(), 1, "{rec_links}");
    assert!(rec_links.contains(&linked_id), "{rec_links}");
}

/// `polytrace_provider_new` with these options: the error's kind, problem and option name
/// (the error is freed).
fn config_failure(options: &[(&str, &str)]) -> (polytrace_error_kind_t, u32, Option<String>) {
    let kv: Vec<polytrace_kv_t> = options
        .iter()
        .map(|(k, v)| polytrace_kv_t {
            key: s(k),
            value: s(v),
        })
        .collect();
    let mut p = null_mut();
    // SAFETY: valid options and out-pointer; the error is read, then freed once.
    unsafe {
        let err = polytrace_provider_new(kv.as_ptr(), kv.len(), &mut p);
        assert!(!err.is_null(), "{options:?} should fail");
        assert!(p.is_null());
        let problem = polytrace_error_config_problem(err);
        let option = polytrace_error_option(err);
        let option = (!option.is_null()).then(|| cstr(option).to_string());
        let (kind, _) = fail(err);
        (kind, problem, option)
    }
}

#[test]
fn config_errors_say_what_is_wrong_and_with_which_option() {
    let invalid_config = POLYTRACE_ERROR_INVALID_CONFIG;
    assert_eq!(
        config_failure(&[("maxQueueSise", "10")]),
        (
            invalid_config,
            POLYTRACE_CONFIG_PROBLEM_UNKNOWN_OPTION,
            Some("maxQueueSise".to_string())
        )
    );
    assert_eq!(
        config_failure(&[("serviceName", "a"), ("service-name", "b")]),
        (
            invalid_config,
            POLYTRACE_CONFIG_PROBLEM_DUPLICATE_OPTION,
            Some("service_name".to_string())
        )
    );
    for (name, value) in [
        ("maxQueueSize", "0"),
        ("max_queue_size", "ten"),
        ("sampler", "sometimes"),
        ("endpoint", "collector:4318"),
    ] {
        assert_eq!(
            config_failure(&[(name, value)]),
            (
                invalid_config,
                POLYTRACE_CONFIG_PROBLEM_BAD_VALUE,
                Some(name.to_string())
            ),
            "{name}={value}"
        );
    }
    // No problem and no option: NULL, other errors, freed errors.
    // SAFETY: NULL and freed errors are what is tested.
    unsafe {
        assert_eq!(
            polytrace_error_config_problem(null()),
            POLYTRACE_CONFIG_PROBLEM_NONE
        );
        assert!(polytrace_error_option(null()).is_null());
        let mut p = null_mut();
        let err = polytrace_provider_new(null(), 1, &mut p);
        assert_eq!(polytrace_error_kind(err), POLYTRACE_ERROR_INVALID_ARGUMENT);
        assert_eq!(
            polytrace_error_config_problem(err),
            POLYTRACE_CONFIG_PROBLEM_NONE
        );
        assert!(polytrace_error_option(err).is_null());
        polytrace_error_free(err);
        assert_eq!(
            polytrace_error_config_problem(err),
            POLYTRACE_CONFIG_PROBLEM_NONE
        );
        assert!(polytrace_error_option(err).is_null());
    }
}

#[test]
fn config_problem_names_are_the_cores() {
    let codes = [
        POLYTRACE_CONFIG_PROBLEM_UNKNOWN_OPTION,
        POLYTRACE_CONFIG_PROBLEM_DUPLICATE_OPTION,
        POLYTRACE_CONFIG_PROBLEM_WRONG_TYPE,
        POLYTRACE_CONFIG_PROBLEM_BAD_VALUE,
    ];
    assert_eq!(codes.len(), polytrace_core::ConfigProblem::ALL.len());
    for (code, problem) in codes.into_iter().zip(polytrace_core::ConfigProblem::ALL) {
        assert_eq!(cstr(polytrace_config_problem_name(code)), problem.name());
    }
    assert_eq!(
        cstr(polytrace_config_problem_name(POLYTRACE_CONFIG_PROBLEM_NONE)),
        "None"
    );
    assert_eq!(cstr(polytrace_config_problem_name(99)), "Unknown");
}

/// A span's ids as a C logger prints them: `polytrace_span_get_ids_hex` into stack buffers.
///
/// # Safety
/// `span` is a live (or ended, not freed) span handle.
unsafe fn log_line(span: *const polytrace_span_t, message: &str) -> String {
    let mut tid = [b'x' as c_char; POLYTRACE_TRACE_ID_HEX_SIZE];
    let mut sid = [b'x' as c_char; POLYTRACE_SPAN_ID_HEX_SIZE];
    let mut flags = 0xffu8;
    // SAFETY: the buffers have the sizes passed.
    ok(unsafe {
        polytrace_span_get_ids_hex(
            span,
            tid.as_mut_ptr(),
            tid.len(),
            sid.as_mut_ptr(),
            sid.len(),
            &mut flags,
        )
    });
    format!(
        "level=info trace_id={} span_id={} trace_flags={flags:02x} msg={message:?}",
        cstr(tid.as_ptr()),
        cstr(sid.as_ptr())
    )
}

/// The trace id, span id and W3C trace flags (as a log line prints them) of the exported span
/// named `name` (OTLP JSON lines, where a span's ids and flags come before its name, and its
/// links and events after it).
fn exported_ids(json: &str, name: &str) -> (String, String, String) {
    let at = json
        .find(&format!("\"name\":\"{name}\""))
        .unwrap_or_else(|| panic!("span {name} not exported: {json}"));
    let field = |key: &str| {
        let from = json[..at].rfind(&format!("\"{key}\":")).unwrap() + key.len() + 3;
        let text = &json[from..];
        let end = text[1..].find(['"', ',']).unwrap() + 1;
        text[..end].trim_matches('"').to_lowercase()
    };
    // OTLP's span flags: the W3C trace flags in the low byte, then the is-remote bits.
    let flags = field("flags").parse::<u32>().unwrap() & 0xff;
    (field("traceId"), field("spanId"), format!("{flags:02x}"))
}

#[test]
fn log_ids_are_the_exported_span_ids() {
    let (p, path) = file_provider("logs");
    let (root_line, child_line, ended_line, unsampled_line);
    // SAFETY: (whole block) valid handles, strings, buffers and out-pointers.
    unsafe {
        let t = tracer(p);
        let root = span(t, "handle-request");
        root_line = log_line(root, "request received");
        let child_opts = polytrace_span_options_t {
            parent: root,
            remote_parent: null(),
            kind: POLYTRACE_SPAN_KIND_INTERNAL,
            attributes: null(),
            attributes_len: 0,
            start_time_unix_nano: 0,
            links: null(),
            links_len: 0,
        };
        let start = |name: &CStr, opts: &polytrace_span_options_t| {
            let mut sp = null_mut();
            ok(polytrace_span_start(
                t,
                name.as_ptr(),
                POLYTRACE_NUL_TERMINATED,
                opts,
                &mut sp,
            ));
            sp
        };
        let child = start(c"load-cart", &child_opts);
        child_line = log_line(child, "cart loaded");
        ok(polytrace_span_end(child, 0));
        // Ended but not freed: a line logged after the span's end still names it.
        ended_line = log_line(child, "after end");
        polytrace_span_free(child);

        // Under a remote parent that was not sampled: valid ids, the sampled bit clear, and
        // nothing exported (the default sampler is parent-based).
        let carrier = [polytrace_kv_t {
            key: s("traceparent"),
            value: s("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
        }];
        let mut remote = null_mut();
        ok(polytrace_provider_extract(
            p,
            carrier.as_ptr(),
            1,
            &mut remote,
        ));
        let unsampled_opts = polytrace_span_options_t {
            parent: null(),
            remote_parent: remote,
            ..child_opts
        };
        let unsampled = start(c"not-sampled", &unsampled_opts);
        unsampled_line = log_line(unsampled, "unsampled work");
        ok(polytrace_span_end(unsampled, 0));
        polytrace_span_free(unsampled);
        polytrace_context_free(remote);

        ok(polytrace_span_end(root, 0));
        polytrace_span_free(root);
        ok(polytrace_provider_shutdown(p, 10_000));
        // After shutdown spans are no-ops with an invalid context: all-zero ids, no error.
        let late = span(t, "late");
        assert_eq!(
            log_line(late, "late"),
            format!(
                "level=info trace_id={} span_id={} trace_flags=00 msg=\"late\"",
                "0".repeat(32),
                "0".repeat(16)
            )
        );
        polytrace_span_free(late);
        polytrace_tracer_free(t);
        polytrace_provider_free(p);
    }
    let json = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);

    let (trace, root_id, root_flags) = exported_ids(&json, "handle-request");
    let (child_trace, child_id, child_flags) = exported_ids(&json, "load-cart");
    assert_eq!(child_trace, trace);
    assert_eq!(
        u8::from_str_radix(&root_flags, 16).unwrap() & 1,
        1,
        "sampled"
    );
    let line = |span_id: &str, flags: &str, msg: &str| {
        format!("level=info trace_id={trace} span_id={span_id} trace_flags={flags} msg={msg:?}")
    };
    assert_eq!(root_line, line(&root_id, &root_flags, "request received"));
    assert_eq!(child_line, line(&child_id, &child_flags, "cart loaded"));
    assert_eq!(ended_line, line(&child_id, &child_flags, "after end"));
    assert!(!json.contains("not-sampled"), "{json}");
    assert!(
        unsampled_line.starts_with("level=info trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=")
            && unsampled_line.ends_with(" trace_flags=00 msg=\"unsampled work\""),
        "{unsampled_line}"
    );
    assert!(
        !unsampled_line.contains("span_id=00f067aa0ba902b7"),
        "a new span id, not the parent's"
    );
}
