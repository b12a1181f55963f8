//! Live spans: start, attributes, events, exceptions, status, name, end, free.
//!
//! The functions are written out one by one (cbindgen reads the source, not macro expansions,
//! to make the header); their shared body is [`update`], one helper for every setter.

use crate::context::{polytrace_context_t, CONTEXTS};
use crate::convert::{
    self, polytrace_attribute_t, polytrace_span_kind_t, polytrace_status_code_t, polytrace_str_t,
};
use crate::error::{call, getter, polytrace_error_t, report, try_call};
use crate::handle::{tag, Pool};
use crate::key::{key_text, polytrace_key_t};
use crate::tracer::{polytrace_tracer_t, TRACERS};
use polytrace_core::{
    Error, Event, Exception, Link, Result, Span, SpanContext, SpanId, StartOptions, TraceFlags,
    TraceId, Tracer, UnixNanos, Value,
};
use std::borrow::Cow;
use std::ffi::c_char;
use std::mem::MaybeUninit;

/// A live span: created by `polytrace_span_start`, ended by `polytrace_span_end`, freed by
/// `polytrace_span_free`.
///
/// Ownership: the caller owns the span and must free it (after ending it, or the span is
/// discarded unexported). Ending or freeing twice is detected and harmless.
///
/// Threading: every function may be called from any thread; calls on the same span from
/// several threads are serialized by a per-span lock, so they are safe but not parallel.
pub struct polytrace_span_t {
    _private: [u8; 0],
}

pub(crate) struct SpanObj {
    pub(crate) span: Span,
    ended: bool,
}

pub(crate) static SPANS: Pool<SpanObj, { tag::SPAN }> = Pool::new("polytrace_span_t");

/// How to start a span. Zero-initialize it (`polytrace_span_options_t o = {0};` in C, `{}` in
/// C++) and set what you need; passing NULL instead means all defaults.
///
/// Ownership: borrowed for the duration of `polytrace_span_start`; the parent handles stay the
/// caller's.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_span_options_t {
    /// A local parent span, or NULL.
    pub parent: *const polytrace_span_t,
    /// A remote parent (from `polytrace_provider_extract`), used when `parent` is NULL. NULL,
    /// or a context without a valid span context, starts a new trace.
    pub remote_parent: *const polytrace_context_t,
    /// `POLYTRACE_SPAN_KIND_*` (0 = internal).
    pub kind: polytrace_span_kind_t,
    /// Attributes known at start (the sampler sees them), or NULL.
    pub attributes: *const polytrace_attribute_t,
    /// The number of `attributes`.
    pub attributes_len: usize,
    /// Start time in nanoseconds since the Unix epoch; 0 = now.
    pub start_time_unix_nano: u64,
    /// Links to other spans known at start (the sampler sees them), or NULL.
    pub links: *const polytrace_link_t,
    /// The number of `links`.
    pub links_len: usize,
}

/// A link from a span to another span (of this trace or another one), e.g. from a batch
/// consumer to each message's producer. The linked span is named by the first of `span`,
/// `context` and `span_context` that is not NULL; all three NULL is an `InvalidArgument` error.
/// A link to an invalid span context (an unsampled parent's, a carrier without `traceparent`)
/// with no attributes is dropped silently, as the OpenTelemetry API specifies.
///
/// Ownership: borrowed for the duration of the call; the linked span context (with its
/// tracestate) and the attributes are copied, the handles stay the caller's.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_link_t {
    /// A live (or ended, not yet freed) span to link to, or NULL.
    pub span: *const polytrace_span_t,
    /// A context whose span context to link to (from `polytrace_provider_extract`), or NULL.
    pub context: *const polytrace_context_t,
    /// A span context given as plain values (ids kept from `polytrace_span_get_context`, or
    /// from another system), or NULL. Only `trace_id`, `span_id`, `trace_flags` and
    /// `is_remote` are read; it carries no tracestate.
    pub span_context: *const polytrace_span_context_t,
    /// Attributes of the link, or NULL.
    pub attributes: *const polytrace_attribute_t,
    /// The number of `attributes`.
    pub attributes_len: usize,
}

/// A span's identity, as plain values (filled by `polytrace_span_get_context` and friends).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct polytrace_span_context_t {
    /// The 16-byte trace id (all zero when invalid).
    pub trace_id: [u8; 16],
    /// The 8-byte span id (all zero when invalid).
    pub span_id: [u8; 8],
    /// W3C trace flags: bit 0 sampled, bit 1 random.
    pub trace_flags: u8,
    /// True when both ids are non-zero.
    pub is_valid: bool,
    /// True for a context extracted from a carrier.
    pub is_remote: bool,
    /// The trace id as 32 lowercase hex characters and a NUL.
    pub trace_id_hex: [c_char; 33],
    /// The span id as 16 lowercase hex characters and a NUL.
    pub span_id_hex: [c_char; 17],
}

impl polytrace_span_context_t {
    pub(crate) fn from_core(sc: Option<&SpanContext>) -> Self {
        let invalid = SpanContext::invalid();
        let sc = sc.unwrap_or(&invalid);
        let mut out = polytrace_span_context_t {
            trace_id: sc.trace_id.0,
            span_id: sc.span_id.0,
            trace_flags: sc.trace_flags.0,
            is_valid: sc.is_valid(),
            is_remote: sc.is_remote,
            trace_id_hex: [0; POLYTRACE_TRACE_ID_HEX_SIZE],
            span_id_hex: [0; POLYTRACE_SPAN_ID_HEX_SIZE],
        };
        hex_into(&sc.trace_id.0, &mut out.trace_id_hex);
        hex_into(&sc.span_id.0, &mut out.span_id_hex);
        out
    }
}

/// The size of a buffer for a trace id as text: 32 lowercase hex characters and a NUL.
pub const POLYTRACE_TRACE_ID_HEX_SIZE: usize = 33;
/// The size of a buffer for a span id as text: 16 lowercase hex characters and a NUL.
pub const POLYTRACE_SPAN_ID_HEX_SIZE: usize = 17;

/// Writes `id` as lowercase hex and a NUL into `out`, which has room for `2 * id.len() + 1`
/// characters (no allocation: the log-line accessor runs once per log line).
#[inline(always)]
fn hex_into(id: &[u8], out: &mut [c_char]) {
    let mut hex = [0u8; 32];
    let hex = &mut hex[..2 * id.len().min(16)];
    polytrace_core::hex::encode_lower(id, hex);
    for (o, &h) in out.iter_mut().zip(hex.iter()) {
        *o = h as c_char;
    }
    if let Some(nul) = out.get_mut(2 * id.len()) {
        *nul = 0;
    }
}

fn time(ns: u64) -> Option<UnixNanos> {
    (ns != 0).then_some(ns)
}

impl polytrace_span_context_t {
    /// The core's span context from the plain values (no tracestate).
    pub(crate) fn core(&self) -> SpanContext {
        SpanContext {
            trace_id: TraceId(self.trace_id),
            span_id: SpanId(self.span_id),
            trace_flags: TraceFlags(self.trace_flags),
            trace_state: Default::default(),
            is_remote: self.is_remote,
        }
    }
}

/// A `polytrace_link_t` as a core link. Reads the linked handles under their own (shared)
/// locks, so a span may be linked to itself.
///
/// # Safety
/// `link` is a valid struct whose pointers are NULL or valid as documented.
pub(crate) unsafe fn link(link: &polytrace_link_t) -> Result<Link> {
    let context = if !link.span.is_null() {
        SPANS.get(link.span)?.span.span_context().clone()
    } else if !link.context.is_null() {
        CONTEXTS
            .get(link.context)?
            .span_context
            .clone()
            .unwrap_or_else(SpanContext::invalid)
    } else if !link.span_context.is_null() {
        // SAFETY: non-NULL; the caller promises a valid struct.
        unsafe { &*link.span_context }.core()
    } else {
        return Err(Error::invalid_argument(
            "the link has no target (span, context and span_context are all NULL)",
        ));
    };
    Ok(Link {
        context,
        // SAFETY: forwarded.
        attributes: unsafe { convert::attributes(link.attributes, link.attributes_len) }?,
    })
}

/// An array of `polytrace_link_t` as core links.
///
/// # Safety
/// As [`convert::slice`], and each element as [`link`].
pub(crate) unsafe fn links(ptr: *const polytrace_link_t, len: usize) -> Result<Vec<Link>> {
    // SAFETY: forwarded.
    let items = unsafe { convert::slice(ptr, len, "links") }?;
    items
        .iter()
        // SAFETY: forwarded.
        .map(|l| unsafe { link(l) })
        .collect()
}

/// The parent's context: the local span's, else the remote context's.
pub(crate) fn parent_context(
    parent: *const polytrace_span_t,
    remote: *const polytrace_context_t,
) -> Result<Option<SpanContext>> {
    if !parent.is_null() {
        return Ok(Some(SPANS.get(parent)?.span.span_context().clone()));
    }
    if !remote.is_null() {
        return Ok(CONTEXTS.get(remote)?.span_context.clone());
    }
    Ok(None)
}

/// The body of every span mutation: lock the span; when it is recording, run `f`.
#[inline]
fn update(span: *mut polytrace_span_t, f: impl FnOnce(&mut Span) -> Result<()>) -> Result<()> {
    let mut obj = SPANS.get_mut(span)?;
    if obj.span.is_recording() {
        f(&mut obj.span)?;
    }
    Ok(())
}

/// As [`update`], for a setter of one attribute.
///
/// # Safety
/// `key` as in [`convert::text`].
#[inline]
unsafe fn set_attribute(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    value: impl FnOnce() -> Result<Value>,
) -> Result<()> {
    update(span, |s| {
        // SAFETY: forwarded.
        let key = unsafe { convert::key_arg(key, key_len, "key") }?;
        s.set_attribute(key, value()?);
        Ok(())
    })
}

/// The fast path of the one-attribute setters: the span's lock at the first try, the key
/// (and a string value) from the intern tables' pointer caches. `None` when any of that is not
/// so: the caller then runs its general path, which starts over with every check.
#[inline(always)]
fn set_fast(
    function: &'static str,
    span: *mut polytrace_span_t,
    key: impl FnOnce() -> Option<&'static str>,
    value: impl FnOnce() -> Option<Value>,
) -> Option<*mut polytrace_error_t> {
    try_call(function, || {
        let Some(mut obj) = SPANS.try_get_mut(span) else {
            return false;
        };
        // Not recording: nothing else is read (as on the general path).
        if !obj.span.is_recording() {
            return true;
        }
        let Some(key) = key() else {
            return false;
        };
        let Some(value) = value() else {
            return false;
        };
        obj.span.set_attribute(Cow::Borrowed(key), value);
        true
    })
}

/// The general path of a setter whose key is a (pointer, length) string (out of line).
///
/// # Safety
/// `key` as in [`convert::text`].
#[inline(never)]
unsafe fn set_slow(
    function: &'static str,
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    value: impl FnOnce() -> Result<Value>,
) -> *mut polytrace_error_t {
    // SAFETY: forwarded.
    call(function, || unsafe {
        set_attribute(span, key, key_len, value)
    })
}

/// The general path of a setter whose key is a `polytrace_key_t` (out of line).
#[inline(never)]
fn set_by_key_slow(
    function: &'static str,
    span: *mut polytrace_span_t,
    key: *const polytrace_key_t,
    value: impl FnOnce() -> Result<Value>,
) -> *mut polytrace_error_t {
    call(function, || set_attribute_by_key(span, key, value))
}

/// Starts a span named `name` (`name_len` bytes of UTF-8, or `POLYTRACE_NUL_TERMINATED`).
/// Never blocks. An unsampled span is returned too (not recording, with a valid context, so
/// propagation continues).
///
/// Ownership: borrows `tracer`, `name` and `options`. On success `*out_span` is a new span the
/// caller owns (free it with `polytrace_span_free`); on error `*out_span` is NULL and the
/// caller owns the returned error.
///
/// # Safety
/// Pointers are NULL or valid for the given lengths; `out_span` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_start(
    tracer: *const polytrace_tracer_t,
    name: *const c_char,
    name_len: usize,
    options: *const polytrace_span_options_t,
    out_span: *mut *mut polytrace_span_t,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_start";
    // The common call (no options, a name passed before) at the first try; anything else goes
    // to the general path, which starts over with every check.
    try_call(F, || {
        if out_span.is_null() || !options.is_null() {
            return false;
        }
        // SAFETY: non-NULL; the caller promises a valid place. (NULL until the span exists, so
        // a panic below leaves NULL there, as the general path does.)
        unsafe { out_span.write(std::ptr::null_mut()) };
        let Some(tracer) = TRACERS.try_get(tracer) else {
            return false;
        };
        // SAFETY: forwarded.
        let Some(name) = (unsafe { convert::cached_key(name, name_len) }) else {
            return false;
        };
        let Some(handle) = SPANS.try_insert_in(|slot| {
            start_in(&tracer, Cow::Borrowed(name), StartOptions::default(), slot)
        }) else {
            return false;
        };
        // SAFETY: checked above.
        unsafe { out_span.write(handle) };
        true
    })
    // SAFETY: forwarded.
    .unwrap_or_else(|| unsafe { start_slow(tracer, name, name_len, options, out_span) })
}

/// The general path of `polytrace_span_start` (out of line): options, every check, every
/// message.
///
/// # Safety
/// As `polytrace_span_start`.
#[inline(never)]
unsafe fn start_slow(
    tracer: *const polytrace_tracer_t,
    name: *const c_char,
    name_len: usize,
    options: *const polytrace_span_options_t,
    out_span: *mut *mut polytrace_span_t,
) -> *mut polytrace_error_t {
    call("polytrace_span_start", || {
        // SAFETY: the caller promises a valid place (or NULL, which is an error).
        unsafe { convert::write_out(out_span, std::ptr::null_mut(), "out_span") }?;
        let tracer = TRACERS.get(tracer)?;
        // SAFETY: forwarded.
        let name = unsafe { convert::key_arg(name, name_len, "name") }?;
        // The span goes into a pool slot (no allocation). Without options, no intermediate
        // options struct is built: the common call stays as short as the core's own.
        let handle = if options.is_null() {
            SPANS.insert_in(|slot| start_in(&tracer, name, StartOptions::default(), slot))?
        } else {
            // SAFETY: the caller promises a valid options struct.
            let o = unsafe { &*options };
            let kind = convert::span_kind(o.kind)?;
            // SAFETY: forwarded.
            let attributes = unsafe { convert::attributes(o.attributes, o.attributes_len) }?;
            // SAFETY: forwarded.
            let links = unsafe { links(o.links, o.links_len) }?;
            let parent = parent_context(o.parent, o.remote_parent)?;
            let start = StartOptions {
                parent: parent.as_ref(),
                kind,
                attributes,
                links,
                start_time: time(o.start_time_unix_nano),
            };
            SPANS.insert_in(|slot| start_in(&tracer, name, start, slot))?
        };
        // SAFETY: checked above.
        unsafe { out_span.write(handle) };
        Ok(())
    })
}

/// Starts a span of `tracer` directly in a pool slot: the core builds it there, so the few
/// hundred bytes of a span are not copied on their way in.
#[inline(always)]
fn start_in(
    tracer: &Tracer,
    name: Cow<'static, str>,
    options: StartOptions<'_>,
    slot: &mut MaybeUninit<SpanObj>,
) {
    let obj = slot.as_mut_ptr();
    // SAFETY: `obj` points to the slot's (uninitialized) SpanObj; the field pointers stay in
    // it and each field is written exactly once, so the whole value is initialized after.
    unsafe {
        let span = &mut *std::ptr::addr_of_mut!((*obj).span).cast::<MaybeUninit<Span>>();
        tracer.start_span_in(name, options, span);
        std::ptr::addr_of_mut!((*obj).ended).write(false);
    }
}

/// Sets a string attribute (an existing key is overwritten). On a span that is not recording
/// (unsampled or ended) this does nothing and returns NULL without reading the other arguments.
///
/// Ownership: borrows everything; key and value are copied (or interned).
///
/// # Safety
/// `key`/`value` are NULL or valid for their lengths (or NUL-terminated with
/// `POLYTRACE_NUL_TERMINATED`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_string(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_string";
    // SAFETY: forwarded (the caller's promises on `key` and the value hold for both paths).
    unsafe {
        set_fast(
            F,
            span,
            || convert::cached_key(key, key_len),
            || {
                Some(Value::String(Cow::Borrowed(convert::cached_value(
                    value, value_len,
                )?)))
            },
        )
        .unwrap_or_else(|| {
            set_slow(F, span, key, key_len, || {
                convert::string_value_arg(value, value_len, "value")
            })
        })
    }
}

/// Sets a boolean attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_bool(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    value: bool,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_bool";
    // SAFETY: forwarded (the caller's promises on `key` and the value hold for both paths).
    unsafe {
        set_fast(
            F,
            span,
            || convert::cached_key(key, key_len),
            || Some(Value::Bool(value)),
        )
        .unwrap_or_else(|| set_slow(F, span, key, key_len, || Ok(Value::Bool(value))))
    }
}

/// Sets a 64-bit integer attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_int64(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    value: i64,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_int64";
    // SAFETY: forwarded (the caller's promises on `key` and the value hold for both paths).
    unsafe {
        set_fast(
            F,
            span,
            || convert::cached_key(key, key_len),
            || Some(Value::Int(value)),
        )
        .unwrap_or_else(|| set_slow(F, span, key, key_len, || Ok(Value::Int(value))))
    }
}

/// Sets a double attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_double(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    value: f64,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_double";
    // SAFETY: forwarded (the caller's promises on `key` and the value hold for both paths).
    unsafe {
        set_fast(
            F,
            span,
            || convert::cached_key(key, key_len),
            || Some(Value::Double(value)),
        )
        .unwrap_or_else(|| set_slow(F, span, key, key_len, || Ok(Value::Double(value))))
    }
}

/// Sets a string-array attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything; the strings are copied.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `values` is NULL (with `len` 0) or points to
/// `len` strings, each valid for its length.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_string_array(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    values: *const polytrace_str_t,
    len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_set_attribute_string_array", || {
        // SAFETY: forwarded.
        unsafe {
            set_attribute(span, key, key_len, || {
                Ok(Value::StringArray(convert::strings(values, len, "values")?))
            })
        }
    })
}

/// Sets a boolean-array attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything; the values are copied.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `values` is NULL (with `len` 0) or points to
/// `len` booleans.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_bool_array(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    values: *const bool,
    len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_set_attribute_bool_array", || {
        // SAFETY: forwarded.
        unsafe {
            set_attribute(span, key, key_len, || {
                Ok(Value::BoolArray(convert::bools(values, len, "values")?))
            })
        }
    })
}

/// Sets an int64-array attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything; the values are copied.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `values` is NULL (with `len` 0) or points to
/// `len` integers.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_int64_array(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    values: *const i64,
    len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_set_attribute_int64_array", || {
        // SAFETY: forwarded.
        unsafe {
            set_attribute(span, key, key_len, || {
                Ok(Value::IntArray(
                    convert::slice(values, len, "values")?.to_vec(),
                ))
            })
        }
    })
}

/// Sets a double-array attribute. See `polytrace_span_set_attribute_string`.
///
/// Ownership: borrows everything; the values are copied.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `values` is NULL (with `len` 0) or points to
/// `len` doubles.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_double_array(
    span: *mut polytrace_span_t,
    key: *const c_char,
    key_len: usize,
    values: *const f64,
    len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_set_attribute_double_array", || {
        // SAFETY: forwarded.
        unsafe {
            set_attribute(span, key, key_len, || {
                Ok(Value::DoubleArray(
                    convert::slice(values, len, "values")?.to_vec(),
                ))
            })
        }
    })
}

/// As [`update`], for a setter of one attribute whose key is a `polytrace_key_t`.
#[inline(always)]
fn set_attribute_by_key(
    span: *mut polytrace_span_t,
    key: *const polytrace_key_t,
    value: impl FnOnce() -> Result<Value>,
) -> Result<()> {
    update(span, |s| {
        s.set_attribute(Cow::Borrowed(key_text(key)?), value()?);
        Ok(())
    })
}

/// Sets a string attribute whose key was interned by `polytrace_key_intern`: the same as
/// `polytrace_span_set_attribute_string`, without checking or looking up the key's text on
/// every call (the fastest way to set an attribute). On a span that is not recording this does
/// nothing and returns NULL.
///
/// Ownership: borrows everything; the value is copied (or interned).
///
/// # Safety
/// `value` is NULL or valid for `value_len` bytes (or NUL-terminated).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_string_by_key(
    span: *mut polytrace_span_t,
    key: *const polytrace_key_t,
    value: *const c_char,
    value_len: usize,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_string_by_key";
    // SAFETY: forwarded (the caller's promises on the value hold for both paths).
    unsafe {
        set_fast(
            F,
            span,
            || key_text(key).ok(),
            || {
                Some(Value::String(Cow::Borrowed(convert::cached_value(
                    value, value_len,
                )?)))
            },
        )
        .unwrap_or_else(|| {
            set_by_key_slow(F, span, key, || {
                convert::string_value_arg(value, value_len, "value")
            })
        })
    }
}

/// Sets a boolean attribute with an interned key. See
/// `polytrace_span_set_attribute_string_by_key`.
///
/// Ownership: borrows everything.
///
/// # Safety
/// None beyond passing handles from polytrace (other values are detected).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_bool_by_key(
    span: *mut polytrace_span_t,
    key: *const polytrace_key_t,
    value: bool,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_bool_by_key";
    set_fast(F, span, || key_text(key).ok(), || Some(Value::Bool(value)))
        .unwrap_or_else(|| set_by_key_slow(F, span, key, || Ok(Value::Bool(value))))
}

/// Sets a 64-bit integer attribute with an interned key. See
/// `polytrace_span_set_attribute_string_by_key`.
///
/// Ownership: borrows everything.
///
/// # Safety
/// None beyond passing handles from polytrace (other values are detected).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_int64_by_key(
    span: *mut polytrace_span_t,
    key: *const polytrace_key_t,
    value: i64,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_int64_by_key";
    set_fast(F, span, || key_text(key).ok(), || Some(Value::Int(value)))
        .unwrap_or_else(|| set_by_key_slow(F, span, key, || Ok(Value::Int(value))))
}

/// Sets a double attribute with an interned key. See
/// `polytrace_span_set_attribute_string_by_key`.
///
/// Ownership: borrows everything.
///
/// # Safety
/// None beyond passing handles from polytrace (other values are detected).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attribute_double_by_key(
    span: *mut polytrace_span_t,
    key: *const polytrace_key_t,
    value: f64,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_set_attribute_double_by_key";
    set_fast(
        F,
        span,
        || key_text(key).ok(),
        || Some(Value::Double(value)),
    )
    .unwrap_or_else(|| set_by_key_slow(F, span, key, || Ok(Value::Double(value))))
}

/// Adds a link to another span after start (see `polytrace_link_t`; links known at start are
/// better passed in `polytrace_span_options_t`, where the sampler sees them). Links beyond the
/// configured limit (`OTEL_SPAN_LINK_COUNT_LIMIT`, default 128) are dropped and counted. On a
/// span that is not recording this does nothing and returns NULL (the link is still checked).
///
/// Ownership: borrows everything; the linked span context and the attributes are copied.
///
/// # Safety
/// `link` is NULL or a valid struct whose handles and arrays are NULL or valid as documented
/// for `polytrace_link_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_add_link(
    span: *mut polytrace_span_t,
    link: *const polytrace_link_t,
) -> *mut polytrace_error_t {
    call("polytrace_span_add_link", || {
        if link.is_null() {
            // Checked before the span, like every other argument: NULL is never accepted.
            return Err(Error::invalid_argument("link is NULL"));
        }
        // Resolved before the span is locked: the link may name the span itself.
        // SAFETY: non-NULL; the caller promises a valid struct.
        let l = unsafe { self::link(&*link) }?;
        update(span, |s| {
            s.add_link(l);
            Ok(())
        })
    })
}

/// Sets several attributes of any type at once (each as `polytrace_span_set_attribute_*`). If
/// one is invalid, none is set.
///
/// Ownership: borrows everything; keys and values are copied.
///
/// # Safety
/// `attributes` is NULL (with `len` 0) or points to `len` attributes whose strings and arrays
/// are valid for their lengths.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_attributes(
    span: *mut polytrace_span_t,
    attributes: *const polytrace_attribute_t,
    len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_set_attributes", || {
        update(span, |s| {
            // SAFETY: forwarded.
            let attributes = unsafe { convert::attributes(attributes, len) }?;
            s.set_attributes(attributes);
            Ok(())
        })
    })
}

/// Adds an event named `name` with `attributes`, at `time_unix_nano` (0 = now).
///
/// Ownership: borrows everything; name and attributes are copied.
///
/// # Safety
/// `name` is NULL or valid for `name_len` bytes; `attributes` as in
/// `polytrace_span_set_attributes`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_add_event(
    span: *mut polytrace_span_t,
    name: *const c_char,
    name_len: usize,
    attributes: *const polytrace_attribute_t,
    attributes_len: usize,
    time_unix_nano: u64,
) -> *mut polytrace_error_t {
    call("polytrace_span_add_event", || {
        update(span, |s| {
            // SAFETY: forwarded.
            let name = unsafe { convert::key_arg(name, name_len, "name") }?;
            // SAFETY: forwarded.
            let attributes = unsafe { convert::attributes(attributes, attributes_len) }?;
            s.add_event(Event {
                name,
                time: time(time_unix_nano),
                attributes,
            });
            Ok(())
        })
    })
}

/// Records an exception as an `exception` event with the semantic-convention attributes
/// `exception.type`, `exception.message` and (when `stacktrace` is not NULL)
/// `exception.stacktrace`, plus `attributes`. Does not change the status: call
/// `polytrace_span_set_status` too if the operation failed.
///
/// Ownership: borrows everything; the strings are copied.
///
/// # Safety
/// String arguments are NULL or valid for their lengths; `attributes` as in
/// `polytrace_span_set_attributes`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_record_exception(
    span: *mut polytrace_span_t,
    type_name: *const c_char,
    type_name_len: usize,
    message: *const c_char,
    message_len: usize,
    stacktrace: *const c_char,
    stacktrace_len: usize,
    attributes: *const polytrace_attribute_t,
    attributes_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_record_exception", || {
        update(span, |s| {
            // SAFETY: forwarded: the caller promises each pointer is valid for its length.
            let type_name = unsafe { convert::span_text(type_name, type_name_len, "type_name") }?;
            // SAFETY: as above.
            let message = unsafe { convert::span_text(message, message_len, "message") }?;
            let stacktrace = if stacktrace.is_null() {
                None
            } else {
                // SAFETY: as above.
                Some(unsafe { convert::span_text(stacktrace, stacktrace_len, "stacktrace") }?)
            };
            // SAFETY: as above.
            let attributes = unsafe { convert::attributes(attributes, attributes_len) }?;
            s.record_exception(Exception {
                type_name: type_name.into_owned(),
                message: message.into_owned(),
                stacktrace: stacktrace.map(Cow::into_owned),
                escaped: None,
                attributes,
                time: None,
            });
            Ok(())
        })
    })
}

/// Sets the status: `POLYTRACE_STATUS_UNSET` is ignored, `POLYTRACE_STATUS_OK` is final, and
/// `description` is kept only for `POLYTRACE_STATUS_ERROR` (it may be NULL with length 0).
///
/// Ownership: borrows everything; the description is copied.
///
/// # Safety
/// `description` is NULL or valid for `description_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_set_status(
    span: *mut polytrace_span_t,
    code: polytrace_status_code_t,
    description: *const c_char,
    description_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_set_status", || {
        update(span, |s| {
            // SAFETY: forwarded.
            let d = unsafe { convert::span_text(description, description_len, "description") }?;
            s.set_status(convert::status(code, &d)?);
            Ok(())
        })
    })
}

/// Replaces the span's name.
///
/// Ownership: borrows everything; the name is copied (or interned).
///
/// # Safety
/// `name` is NULL or valid for `name_len` bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_update_name(
    span: *mut polytrace_span_t,
    name: *const c_char,
    name_len: usize,
) -> *mut polytrace_error_t {
    call("polytrace_span_update_name", || {
        update(span, |s| {
            // SAFETY: forwarded.
            s.update_name(unsafe { convert::key_arg(name, name_len, "name") }?);
            Ok(())
        })
    })
}

/// Ends the span at `end_time_unix_nano` (0 = now) and queues it for export. Never blocks on
/// export. The handle stays valid (its context can still be read and injected) until
/// `polytrace_span_free`. A second end changes nothing and returns an `InvalidArgument` error.
///
/// Ownership: borrows `span`.
///
/// # Safety
/// `span` is NULL or a value returned by `polytrace_span_start`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_end(
    span: *mut polytrace_span_t,
    end_time_unix_nano: u64,
) -> *mut polytrace_error_t {
    try_call("polytrace_span_end", || {
        let Some(mut obj) = SPANS.try_get_mut(span) else {
            return false;
        };
        if obj.ended {
            return false;
        }
        obj.ended = true;
        obj.span.end(time(end_time_unix_nano));
        true
    })
    .unwrap_or_else(|| end_slow(span, end_time_unix_nano))
}

/// The general path of `polytrace_span_end` (out of line): waits for the lock, reports errors.
#[inline(never)]
fn end_slow(span: *mut polytrace_span_t, end_time_unix_nano: u64) -> *mut polytrace_error_t {
    call("polytrace_span_end", || {
        let mut obj = SPANS.get_mut(span)?;
        if obj.ended {
            return Err(Error::invalid_argument("the span was already ended"));
        }
        obj.ended = true;
        obj.span.end(time(end_time_unix_nano));
        Ok(())
    })
}

/// Whether the span records (sampled or record-only, and not yet ended). False for NULL or a
/// freed span.
///
/// Ownership: borrows `span`.
///
/// # Safety
/// `span` is NULL or a value returned by `polytrace_span_start`.
#[no_mangle]
pub unsafe extern "C" fn polytrace_span_is_recording(span: *const polytrace_span_t) -> bool {
    getter(false, || {
        SPANS
            .get(span)
            .map(|s| s.span.is_recording())
            .unwrap_or(false)
    })
}

/// Writes the span's identity to `*out_context` (also after the span ended).
///
/// Ownership: borrows `span`; `*out_context` is a plain value the caller owns.
///
/// # Safety
/// `span` is NULL or a value returned by `polytrace_span_start`; `out_context` is valid for a
/// write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_get_context(
    span: *const polytrace_span_t,
    out_context: *mut polytrace_span_context_t,
) -> *mut polytrace_error_t {
    call("polytrace_span_get_context", || {
        let obj = SPANS.get(span)?;
        let c = polytrace_span_context_t::from_core(Some(obj.span.span_context()));
        // SAFETY: the caller promises a valid place.
        unsafe { convert::write_out(out_context, c, "out_context") }
    })
}

/// Writes the span's ids as text for a log line, so that logs and traces can be joined: the
/// trace id as 32 lowercase hex characters and a NUL into `trace_id_hex`, the span id as 16
/// and a NUL into `span_id_hex`, and, unless `out_trace_flags` is NULL, the W3C trace flags
/// (bit 0: sampled) into `*out_trace_flags`. These are the `trace_id`, `span_id` and
/// `trace_flags` fields that OpenTelemetry's log correlation writes into each log line.
///
/// C has no "current span": pass the span of the work being logged (kept in the request's
/// struct, or in a `_Thread_local` of the application while the span is active; see
/// README.md, "Log correlation"). The span may be ended (until it is freed) or unsampled
/// (its ids are valid; bit 0 of the flags is clear). A span started after the provider's
/// shutdown has all-zero ids.
///
/// Errors (`InvalidArgument`): a NULL or freed span, a NULL buffer, or a buffer smaller than
/// `POLYTRACE_TRACE_ID_HEX_SIZE` / `POLYTRACE_SPAN_ID_HEX_SIZE`. Even then every buffer with
/// room for it holds the empty string, and `*out_trace_flags` is 0, so a log line printed with
/// them anyway is well-formed.
///
/// Ownership: borrows `span`; the buffers stay the caller's.
///
/// # Safety
/// `span` is NULL or a value returned by `polytrace_span_start`; `trace_id_hex` is NULL or
/// valid for `trace_id_hex_len` bytes, `span_id_hex` NULL or valid for `span_id_hex_len`
/// bytes, `out_trace_flags` NULL or valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_span_get_ids_hex(
    span: *const polytrace_span_t,
    trace_id_hex: *mut c_char,
    trace_id_hex_len: usize,
    span_id_hex: *mut c_char,
    span_id_hex_len: usize,
    out_trace_flags: *mut u8,
) -> *mut polytrace_error_t {
    const F: &str = "polytrace_span_get_ids_hex";
    // The fast path: buffers that fit, the span's reader lock at the first try.
    try_call(F, || {
        if trace_id_hex.is_null()
            || span_id_hex.is_null()
            || trace_id_hex_len < POLYTRACE_TRACE_ID_HEX_SIZE
            || span_id_hex_len < POLYTRACE_SPAN_ID_HEX_SIZE
        {
            return false;
        }
        let Some(obj) = SPANS.try_get(span) else {
            return false;
        };
        // SAFETY: the caller promises the buffers' lengths (checked against the sizes above)
        // and a valid place for the flags.
        unsafe {
            write_ids(
                obj.span.span_context(),
                trace_id_hex,
                span_id_hex,
                out_trace_flags,
            )
        };
        true
    })
    // SAFETY: forwarded.
    .unwrap_or_else(|| unsafe {
        get_ids_hex_slow(
            span,
            trace_id_hex,
            trace_id_hex_len,
            span_id_hex,
            span_id_hex_len,
            out_trace_flags,
        )
    })
}

/// Writes a span context's ids and flags into the caller's places.
///
/// # Safety
/// `trace_id_hex` is valid for `POLYTRACE_TRACE_ID_HEX_SIZE` bytes, `span_id_hex` for
/// `POLYTRACE_SPAN_ID_HEX_SIZE`, `out_trace_flags` NULL or valid for a write.
#[inline(always)]
unsafe fn write_ids(
    sc: &SpanContext,
    trace_id_hex: *mut c_char,
    span_id_hex: *mut c_char,
    out_trace_flags: *mut u8,
) {
    // SAFETY: the caller's promises.
    unsafe {
        hex_into(
            &sc.trace_id.0,
            std::slice::from_raw_parts_mut(trace_id_hex, POLYTRACE_TRACE_ID_HEX_SIZE),
        );
        hex_into(
            &sc.span_id.0,
            std::slice::from_raw_parts_mut(span_id_hex, POLYTRACE_SPAN_ID_HEX_SIZE),
        );
        if !out_trace_flags.is_null() {
            out_trace_flags.write(sc.trace_flags.0);
        }
    }
}

/// The general path of `polytrace_span_get_ids_hex` (out of line): empties the outputs, then
/// checks every argument and waits for the span's lock.
///
/// # Safety
/// As `polytrace_span_get_ids_hex`.
#[inline(never)]
unsafe fn get_ids_hex_slow(
    span: *const polytrace_span_t,
    trace_id_hex: *mut c_char,
    trace_id_hex_len: usize,
    span_id_hex: *mut c_char,
    span_id_hex_len: usize,
    out_trace_flags: *mut u8,
) -> *mut polytrace_error_t {
    call("polytrace_span_get_ids_hex", || {
        // SAFETY: the caller promises each non-NULL place is valid for its length.
        unsafe {
            if !trace_id_hex.is_null() && trace_id_hex_len > 0 {
                trace_id_hex.write(0);
            }
            if !span_id_hex.is_null() && span_id_hex_len > 0 {
                span_id_hex.write(0);
            }
            if !out_trace_flags.is_null() {
                out_trace_flags.write(0);
            }
        }
        for (what, buf, len, size) in [
            (
                "trace_id_hex",
                trace_id_hex,
                trace_id_hex_len,
                POLYTRACE_TRACE_ID_HEX_SIZE,
            ),
            (
                "span_id_hex",
                span_id_hex,
                span_id_hex_len,
                POLYTRACE_SPAN_ID_HEX_SIZE,
            ),
        ] {
            if buf.is_null() {
                return Err(Error::invalid_argument(format!("{what} is NULL")));
            }
            if len < size {
                return Err(Error::invalid_argument(format!(
                    "{what} has {len} bytes, it needs {size} (the hex digits and a NUL)"
                )));
            }
        }
        let obj = SPANS.get(span)?;
        // SAFETY: the lengths were checked above; the flags' place is the caller's promise.
        unsafe {
            write_ids(
                obj.span.span_context(),
                trace_id_hex,
                span_id_hex,
                out_trace_flags,
            )
        };
        Ok(())
    })
}

/// Frees the span. A span that was not ended is discarded (not exported). NULL is ignored; a
/// second free is detected, reported once through the diagnostics handler, and ignored.
///
/// Ownership: takes `span`; every copy of the handle is invalid afterwards.
///
/// # Safety
/// `span` is NULL or a value returned by `polytrace_span_start`.
#[no_mangle]
pub unsafe extern "C" fn polytrace_span_free(span: *mut polytrace_span_t) {
    getter((), || {
        if !SPANS.try_free(span) {
            free_slow(span);
        }
    })
}

/// The general path of `polytrace_span_free` (out of line): NULL, waiting for the lock, misuse
/// reported.
#[inline(never)]
fn free_slow(span: *mut polytrace_span_t) {
    if span.is_null() {
        return;
    }
    if let Err(e) = SPANS.free(span) {
        report("polytrace_span_free", &e);
    }
}
