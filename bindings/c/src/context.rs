//! Propagation contexts: what `polytrace_provider_extract` found in incoming headers (a remote
//! parent and baggage), or baggage the caller builds to send on.

use crate::convert::{self, polytrace_kv_t, polytrace_str_t};
use crate::error::{call, polytrace_error_t, report};
use crate::handle::{tag, Pool};
use crate::span::polytrace_span_context_t;
use polytrace_core::propagation::Baggage;
use polytrace_core::{Error, SpanContext};
use std::ffi::c_char;

/// A propagation context: an optional remote span context and W3C baggage.
///
/// Ownership: created by `polytrace_provider_extract` or `polytrace_context_new`, freed by
/// `polytrace_context_free`.
///
/// Threading: any thread; concurrent reads are parallel, `polytrace_context_set_baggage` is
/// exclusive.
pub struct polytrace_context_t {
    _private: [u8; 0],
}

pub(crate) struct ContextObj {
    pub(crate) span_context: Option<SpanContext>,
    pub(crate) baggage: Baggage,
}

pub(crate) static CONTEXTS: Pool<ContextObj, { tag::CONTEXT }> = Pool::new("polytrace_context_t");

/// Moves a context into a new handle and writes it to `out`.
///
/// # Safety
/// `out` is NULL or valid for a write.
pub(crate) unsafe fn new_context(
    obj: ContextObj,
    out: *mut *mut polytrace_context_t,
) -> polytrace_core::Result<()> {
    // SAFETY: forwarded.
    unsafe { convert::write_out(out, std::ptr::null_mut(), "out_context") }?;
    let handle = CONTEXTS.insert(obj)?;
    // SAFETY: checked just above.
    unsafe { out.write(handle) };
    Ok(())
}

/// Creates an empty context (no remote parent, no baggage), e.g. to build baggage to inject.
///
/// Ownership: on success `*out_context` is a new context the caller owns (free it with
/// `polytrace_context_free`); on error it is NULL.
///
/// # Safety
/// `out_context` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_new(
    out_context: *mut *mut polytrace_context_t,
) -> *mut polytrace_error_t {
    call("polytrace_context_new", || {
        let obj = ContextObj {
            span_context: None,
            baggage: Baggage::default(),
        };
        // SAFETY: forwarded.
        unsafe { new_context(obj, out_context) }
    })
}

/// Writes the context's remote span context to `*out_context` (`is_valid` is false when the
/// carrier had no valid `traceparent`).
///
/// Ownership: borrows `context`; `*out_context` is a plain value the caller owns.
///
/// # Safety
/// `context` is NULL or a context handle; `out_context` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_get_span_context(
    context: *const polytrace_context_t,
    out_context: *mut polytrace_span_context_t,
) -> *mut polytrace_error_t {
    call("polytrace_context_get_span_context", || {
        let obj = CONTEXTS.get(context)?;
        let c = polytrace_span_context_t::from_core(obj.span_context.as_ref());
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_context, c, "out_context") }
    })
}

/// Sets baggage entry `key` to `value` (replacing an existing one). Keys that are not HTTP
/// tokens are skipped when injecting, as the W3C Baggage specification requires.
///
/// Ownership: borrows everything; key and value are copied. Strings previously returned by
/// `polytrace_context_get_baggage`/`_baggage_at` for this context become invalid.
///
/// # Safety
/// Strings are NULL or valid for their lengths.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_set_baggage(
    context: *mut polytrace_context_t,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_context_set_baggage", || {
        // SAFETY: forwarded: the caller promises `key` is valid for `key_len` bytes.
        let key = unsafe { convert::text(key, key_len, "key") }?;
        // SAFETY: likewise for `value`.
        let value = unsafe { convert::text(value, value_len, "value") }?;
        let mut obj = CONTEXTS.get_mut(context)?;
        obj.baggage = obj.baggage.with(key, value, "");
        Ok(())
    })
}

/// Sets the W3C tracestate entry `key` to `value` on the context's span context (a remote
/// parent from `polytrace_provider_extract`), following the W3C mutation rules: an existing
/// entry for `key` is replaced and the entry moves to the front; beyond 32 entries the oldest
/// are dropped. Spans started with this context as `remote_parent` (and their children) carry
/// the new tracestate, and `polytrace_provider_inject` sends it on. `key` and `value` must
/// match the W3C grammar (e.g. `vendor` or `tenant@vendor`, printable ASCII without `,` and
/// `=` in the value), else nothing changes and an `InvalidArgument` error says why; so does a
/// context without a valid span context (nothing was extracted into it).
///
/// Ownership: borrows everything; key and value are copied. Strings previously returned by
/// `polytrace_context_get_trace_state` for this context become invalid.
///
/// # Safety
/// Strings are NULL or valid for their lengths.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_set_trace_state(
    context: *mut polytrace_context_t,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_context_set_trace_state", || {
        // SAFETY: forwarded: the caller promises `key` is valid for `key_len` bytes.
        let key = unsafe { convert::text(key, key_len, "key") }?;
        // SAFETY: likewise for `value`.
        let value = unsafe { convert::text(value, value_len, "value") }?;
        let mut obj = CONTEXTS.get_mut(context)?;
        let sc = valid_span_context(&mut obj)?;
        sc.trace_state = sc.trace_state.insert(key, value)?;
        Ok(())
    })
}

/// Removes the W3C tracestate entry `key` from the context's span context (absent: nothing
/// changes, not an error). A context without a valid span context is an `InvalidArgument`
/// error.
///
/// Ownership: borrows everything. Strings previously returned by
/// `polytrace_context_get_trace_state` for this context become invalid.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_delete_trace_state(
    context: *mut polytrace_context_t,
    key: *const c_char,
    key_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_context_delete_trace_state", || {
        // SAFETY: forwarded.
        let key = unsafe { convert::text(key, key_len, "key") }?;
        let mut obj = CONTEXTS.get_mut(context)?;
        let sc = valid_span_context(&mut obj)?;
        sc.trace_state = sc.trace_state.delete(key);
        Ok(())
    })
}

fn valid_span_context(obj: &mut ContextObj) -> polytrace_core::Result<&mut SpanContext> {
    match obj.span_context.as_mut() {
        Some(sc) if sc.is_valid() => Ok(sc),
        _ => Err(Error::invalid_argument(
            "the context has no valid span context (no traceparent was extracted into it), so \
             it has no tracestate",
        )),
    }
}

/// Looks up the W3C tracestate entry `key` of the context's span context (as extracted, or as
/// changed by `polytrace_context_set_trace_state`). Found: `*out_value` points to its value
/// (not NUL-terminated). Not found, or no span context: `out_value->ptr` is NULL and
/// `out_value->len` 0; that is not an error.
///
/// Ownership: the value belongs to `context`; valid until the context is changed or freed.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `out_value` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_get_trace_state(
    context: *const polytrace_context_t,
    key: *const c_char,
    key_len: usize,
    out_value: *mut polytrace_str_t,
) -> *mut polytrace_error_t {
    call("polytrace_context_get_trace_state", || {
        // SAFETY: forwarded.
        let key = unsafe { convert::text(key, key_len, "key") }?;
        let obj = CONTEXTS.get(context)?;
        let found = obj
            .span_context
            .as_ref()
            .and_then(|sc| sc.trace_state.get(key));
        let v = polytrace_str_t::borrow_or_null(found);
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_value, v, "out_value") }
    })
}

/// Looks up baggage entry `key`. Found: `*out_value` points to its value (not NUL-terminated).
/// Not found: `out_value->ptr` is NULL and `out_value->len` 0; that is not an error.
///
/// Ownership: the value belongs to `context`; valid until the context is changed or freed.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `out_value` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_get_baggage(
    context: *const polytrace_context_t,
    key: *const c_char,
    key_len: usize,
    out_value: *mut polytrace_str_t,
) -> *mut polytrace_error_t {
    call("polytrace_context_get_baggage", || {
        // SAFETY: forwarded.
        let key = unsafe { convert::text(key, key_len, "key") }?;
        let obj = CONTEXTS.get(context)?;
        let v = polytrace_str_t::borrow_or_null(obj.baggage.get(key));
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_value, v, "out_value") }
    })
}

/// The number of baggage entries, for iterating with `polytrace_context_baggage_at`. 0 for NULL
/// or a freed context.
///
/// Ownership: borrows `context`.
///
/// # Safety
/// `context` is NULL or a context handle.
#[no_mangle]
pub unsafe extern "C" fn polytrace_context_baggage_len(
    context: *const polytrace_context_t,
) -> usize {
    crate::error::getter(0, || {
        CONTEXTS
            .get(context)
            .map(|c| c.baggage.entries().len())
            .unwrap_or(0)
    })
}

/// Baggage entry number `index` (in propagation order) as a key/value pair.
///
/// Ownership: the strings belong to `context`; valid until it is changed or freed. Not
/// NUL-terminated.
///
/// # Safety
/// `out_entry` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_context_baggage_at(
    context: *const polytrace_context_t,
    index: usize,
    out_entry: *mut polytrace_kv_t,
) -> *mut polytrace_error_t {
    call("polytrace_context_baggage_at", || {
        let obj = CONTEXTS.get(context)?;
        let e = obj.baggage.entries().get(index).ok_or_else(|| {
            Error::invalid_argument(format!(
                "index {index} is out of range (the context has {} baggage entries)",
                obj.baggage.entries().len()
            ))
        })?;
        let kv = polytrace_kv_t {
            key: polytrace_str_t::borrow(&e.key),
            value: polytrace_str_t::borrow(&e.value),
        };
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_entry, kv, "out_entry") }
    })
}

/// Frees a context. NULL is ignored; a second free is detected, reported once through the
/// diagnostics handler, and ignored.
///
/// Ownership: takes `context`.
///
/// # Safety
/// `context` is NULL or a context handle.
#[no_mangle]
pub unsafe extern "C" fn polytrace_context_free(context: *mut polytrace_context_t) {
    crate::error::getter((), || {
        if context.is_null() {
            return;
        }
        if let Err(e) = CONTEXTS.free(context) {
            report("polytrace_context_free", &e);
        }
    })
}
