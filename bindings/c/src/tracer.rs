//! Tracers, and finished spans recorded in one call.

use crate::context::polytrace_context_t;
use crate::convert::{
    self, key_of, polytrace_attribute_t, polytrace_span_kind_t, polytrace_status_code_t,
    polytrace_str_t,
};
use crate::error::{call, polytrace_error_t, report};
use crate::handle::{tag, Pool};
use crate::provider::{polytrace_provider_t, PROVIDERS};
use crate::span::{
    links, parent_context, polytrace_link_t, polytrace_span_context_t, polytrace_span_t,
};
use polytrace_core::now_unix_nanos;
use polytrace_core::{Event, FinishedSpan, Result, Tracer};
use std::ffi::c_char;

/// A tracer: creates spans for one instrumentation scope (a library or module name).
///
/// Ownership: created by `polytrace_tracer_new`, freed by `polytrace_tracer_free`. Spans keep
/// what they need alive, so a tracer may be freed while its spans are still open.
///
/// Threading: use it from any number of threads at once.
pub struct polytrace_tracer_t {
    _private: [u8; 0],
}

pub(crate) static TRACERS: Pool<Tracer, { tag::TRACER }> = Pool::new("polytrace_tracer_t");

/// An event of a finished span.
///
/// Ownership: borrowed for the duration of the call.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct polytrace_event_t {
    /// Event name.
    pub name: polytrace_str_t,
    /// When it happened, in nanoseconds since the Unix epoch; 0 = now.
    pub time_unix_nano: u64,
    /// Attributes, or NULL.
    pub attributes: *const polytrace_attribute_t,
    /// The number of `attributes`.
    pub attributes_len: usize,
}

/// A span that already happened, recorded with `polytrace_tracer_record_span` in one call.
/// Zero-initialize it and set what you need.
///
/// Ownership: borrowed for the duration of the call; everything is copied.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct polytrace_finished_span_t {
    /// Span name.
    pub name: polytrace_str_t,
    /// A local parent span, or NULL.
    pub parent: *const polytrace_span_t,
    /// A remote parent (from `polytrace_provider_extract`), used when `parent` is NULL.
    pub remote_parent: *const polytrace_context_t,
    /// `POLYTRACE_SPAN_KIND_*`.
    pub kind: polytrace_span_kind_t,
    /// Start, in nanoseconds since the Unix epoch; 0 = now.
    pub start_time_unix_nano: u64,
    /// End, in nanoseconds since the Unix epoch; 0 = now (clamped to be ≥ start).
    pub end_time_unix_nano: u64,
    /// Attributes, or NULL.
    pub attributes: *const polytrace_attribute_t,
    /// The number of `attributes`.
    pub attributes_len: usize,
    /// Events, or NULL.
    pub events: *const polytrace_event_t,
    /// The number of `events`.
    pub events_len: usize,
    /// `POLYTRACE_STATUS_*`.
    pub status_code: polytrace_status_code_t,
    /// The status description (kept for `POLYTRACE_STATUS_ERROR`); may be empty.
    pub status_description: polytrace_str_t,
    /// Links to other spans (see `polytrace_link_t`), or NULL.
    pub links: *const polytrace_link_t,
    /// The number of `links`.
    pub links_len: usize,
}

/// Creates a tracer for the instrumentation scope `name`, with an optional `version` (NULL or
/// length 0 for none).
///
/// Ownership: borrows `provider` and the strings. On success `*out_tracer` is a new tracer the
/// caller owns (free it with `polytrace_tracer_free`); on error it is NULL.
///
/// # Safety
/// Strings are NULL or valid for their lengths; `out_tracer` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_tracer_new(
    provider: *const polytrace_provider_t,
    name: *const c_char,
    name_len: usize,
    version: *const c_char,
    version_len: usize,
    out_tracer: *mut *mut polytrace_tracer_t,
) -> *mut polytrace_error_t {
    call("polytrace_tracer_new", || {
        // SAFETY: the caller promises a valid place (or NULL, which is an error).
        unsafe { convert::write_out(out_tracer, std::ptr::null_mut(), "out_tracer") }?;
        let provider = PROVIDERS.get(provider)?;
        // SAFETY: forwarded.
        let name = unsafe { convert::text(name, name_len, "name") }?.to_owned();
        let version = if version.is_null() {
            None
        } else {
            // SAFETY: forwarded.
            Some(unsafe { convert::text(version, version_len, "version") }?)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let tracer = provider.tracer(name, version, None, Vec::new());
        let handle = TRACERS.insert(tracer)?;
        // SAFETY: checked above.
        unsafe { out_tracer.write(handle) };
        Ok(())
    })
}

/// # Safety
/// As `polytrace_tracer_record_span`.
unsafe fn finished(span: &polytrace_finished_span_t) -> Result<FinishedSpan> {
    let now = now_unix_nanos();
    let or_now = |t: u64| if t == 0 { now } else { t };
    // SAFETY: (every call) forwarded from the caller's promise about the struct.
    unsafe {
        let events = convert::slice(span.events, span.events_len, "events")?
            .iter()
            .map(|e| {
                Ok(Event {
                    name: key_of(convert::str_arg(&e.name, "event name")?),
                    time: (e.time_unix_nano != 0).then_some(e.time_unix_nano),
                    attributes: convert::attributes(e.attributes, e.attributes_len)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let description = convert::str_arg(&span.status_description, "status_description")?;
        Ok(FinishedSpan {
            context: None,
            parent: parent_context(span.parent, span.remote_parent)?,
            name: key_of(convert::str_arg(&span.name, "name")?),
            kind: convert::span_kind(span.kind)?,
            start_time: or_now(span.start_time_unix_nano),
            end_time: or_now(span.end_time_unix_nano),
            attributes: convert::attributes(span.attributes, span.attributes_len)?,
            events,
            links: links(span.links, span.links_len)?,
            status: convert::status(span.status_code, description)?,
        })
    }
}

/// Records a span that already finished, in one call: ids and sampling are decided now, limits
/// are applied as for a live span, and it is queued for export. The cheapest way to trace an
/// operation whose timing the caller measured itself.
///
/// Ownership: borrows everything. `out_context` may be NULL; otherwise the new span's identity
/// is written there (a plain value the caller owns).
///
/// # Safety
/// `span` points to a valid struct whose strings and arrays are valid for their lengths;
/// `out_context` is NULL or valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_tracer_record_span(
    tracer: *const polytrace_tracer_t,
    span: *const polytrace_finished_span_t,
    out_context: *mut polytrace_span_context_t,
) -> *mut polytrace_error_t {
    call("polytrace_tracer_record_span", || {
        let tracer = TRACERS.get(tracer)?;
        if span.is_null() {
            return Err(polytrace_core::Error::invalid_argument("span is NULL"));
        }
        // SAFETY: non-NULL; the caller promises a valid struct.
        let finished = unsafe { finished(&*span) }?;
        let ctx = tracer.record_span(finished)?;
        if !out_context.is_null() {
            // SAFETY: the caller promises a valid place.
            unsafe { out_context.write(polytrace_span_context_t::from_core(Some(&ctx))) };
        }
        Ok(())
    })
}

/// Frees a tracer. NULL is ignored; a second free is detected, reported once through the
/// diagnostics handler, and ignored.
///
/// Ownership: takes `tracer`.
///
/// # Safety
/// `tracer` is NULL or a value returned by `polytrace_tracer_new`.
#[no_mangle]
pub unsafe extern "C" fn polytrace_tracer_free(tracer: *mut polytrace_tracer_t) {
    crate::error::getter((), || {
        if tracer.is_null() {
            return;
        }
        if let Err(e) = TRACERS.free(tracer) {
            report("polytrace_tracer_free", &e);
        }
    })
}
