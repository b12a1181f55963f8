//! Providers: configuration, flush, shutdown, stats, fork, and propagation (inject/extract).

use crate::context::{new_context, polytrace_context_t, ContextObj, CONTEXTS};
use crate::convert::{self, polytrace_kv_t};
use crate::error::{call, polytrace_error_t, report};
use crate::handle::{tag, Pool};
use crate::span::{polytrace_span_t, SPANS};
use polytrace_core::Provider;
use std::ffi::c_char;
use std::time::Duration;

/// A tracer provider: one configured pipeline (sampler, batch queue, exporter).
///
/// Ownership: created by `polytrace_provider_new` or `polytrace_provider_from_env`, freed by
/// `polytrace_provider_free`. Call `polytrace_provider_shutdown` before freeing it, or queued
/// spans may be lost: freeing never waits on export. Tracers and spans keep the pipeline alive
/// (not the handle), so the order of frees does not matter.
///
/// Threading: use it from any number of threads at once.
pub struct polytrace_provider_t {
    _private: [u8; 0],
}

pub(crate) static PROVIDERS: Pool<Provider, { tag::PROVIDER }> = Pool::new("polytrace_provider_t");

/// The pipeline's counters (`polytrace_provider_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct polytrace_stats_t {
    /// Recording spans started (sampled or record-only).
    pub spans_started: u64,
    /// Recording spans ended.
    pub spans_ended: u64,
    /// Spans the exporter confirmed.
    pub spans_exported: u64,
    /// Sum of every `dropped_*` reason below.
    pub spans_dropped: u64,
    /// Dropped because the queue was full (back end slow or down).
    pub dropped_queue_full: u64,
    /// Dropped because their export failed for good (after retries).
    pub dropped_export_failed: u64,
    /// Dropped at shutdown: ended after it began, or not sent by its deadline.
    pub dropped_shutdown: u64,
    /// Export calls that failed (each may carry many spans).
    pub export_failures: u64,
    /// Spans the sampler started with the `sampled` flag.
    pub spans_sampled: u64,
    /// Spans the sampler started without the `sampled` flag.
    pub spans_not_sampled: u64,
    /// Strategies fetched by the remote sampler (`jaeger_remote`).
    pub sampler_polls: u64,
    /// Failed fetches of the remote sampler's strategy.
    pub sampler_poll_failures: u64,
}

/// The most headers `polytrace_provider_inject` writes (`traceparent`, `tracestate`, `baggage`).
pub const POLYTRACE_INJECT_MAX_HEADERS: usize = 3;
/// A buffer size with which `polytrace_provider_inject` always succeeds: the largest
/// `traceparent`, `tracestate` (32 members) and `baggage` (8192 bytes) with their names and NULs.
pub const POLYTRACE_INJECT_BUFFER_SIZE: usize = 32768;

fn new_provider(
    options: &[(String, polytrace_core::config::OptionValue)],
    out: *mut *mut polytrace_provider_t,
) -> polytrace_core::Result<()> {
    // SAFETY: the entry points promise `out` is NULL or valid.
    unsafe { convert::write_out(out, std::ptr::null_mut(), "out_provider") }?;
    let provider = Provider::new(options)?;
    let handle = PROVIDERS.insert(provider)?;
    // SAFETY: checked above.
    unsafe { out.write(handle) };
    Ok(())
}

/// Creates a provider from explicit options over the `OTEL_*` environment (an option wins over
/// its variable). Option names are the core's (`service_name`, `exporter`, `endpoint`,
/// `protocol`, `sampler`, `max_queue_size`, ...; camelCase accepted; see
/// `docs/configuration.md`); every value is a string parsed like the environment variable. An
/// unknown option or bad value is an `InvalidConfig` error (`polytrace_error_config_problem`
/// and `polytrace_error_option` say what is wrong and with which option); a bad environment
/// value is only a warning (diagnostics handler) and its default is used.
///
/// Ownership: borrows `options`. On success `*out_provider` is a new provider the caller owns
/// (shut it down, then free it with `polytrace_provider_free`); on error it is NULL.
///
/// # Safety
/// `options` is NULL (with `options_len` 0) or points to `options_len` pairs whose strings are
/// valid for their lengths; `out_provider` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_new(
    options: *const polytrace_kv_t,
    options_len: usize,
    out_provider: *mut *mut polytrace_provider_t,
) -> *mut polytrace_error_t {
    call("polytrace_provider_new", || {
        // SAFETY: forwarded.
        let options = unsafe { convert::options(options, options_len) }?;
        new_provider(&options, out_provider)
    })
}

/// Creates a provider configured by the `OTEL_*` environment alone (same as
/// `polytrace_provider_new` with no options).
///
/// Ownership: as `polytrace_provider_new`.
///
/// # Safety
/// `out_provider` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_from_env(
    out_provider: *mut *mut polytrace_provider_t,
) -> *mut polytrace_error_t {
    call("polytrace_provider_from_env", || {
        new_provider(&[], out_provider)
    })
}

/// Pass as the timeout of [`polytrace_provider_shutdown`] to mean "the exit bound": the core's
/// `Provider::exit_timeout`, the OTLP timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`, default 10 s) or
/// `OTEL_BSP_EXPORT_TIMEOUT` if that is smaller.
pub const POLYTRACE_TIMEOUT_EXIT: u32 = u32::MAX;

fn provider_of(p: *const polytrace_provider_t) -> polytrace_core::Result<Provider> {
    // A clone (shared pipeline), so a long flush does not hold the handle's lock.
    Ok(PROVIDERS.get(p)?.clone())
}

/// Exports everything queued now, blocking at most `timeout_millis`. `Timeout` error when the
/// back end did not take it in time (the spans stay queued; nothing hangs). A no-op after
/// shutdown.
///
/// Ownership: borrows `provider`.
///
/// # Safety
/// `provider` is NULL or a provider handle.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_force_flush(
    provider: *const polytrace_provider_t,
    timeout_millis: u32,
) -> *mut polytrace_error_t {
    call("polytrace_provider_force_flush", || {
        provider_of(provider)?.force_flush(Duration::from_millis(u64::from(timeout_millis)))
    })
}

/// Exports what is queued and stops the export thread, everything within `timeout_millis`
/// (`POLYTRACE_TIMEOUT_EXIT`: the core's exit bound, the OTLP timeout or
/// `OTEL_BSP_EXPORT_TIMEOUT` if smaller) plus at most 0.4 s. What the back end did not take by
/// then is counted as dropped (`polytrace_provider_stats`); a back end that refuses
/// connections is not retried. Afterwards every span call is a no-op. A second call returns
/// `AlreadyShutdown`.
///
/// Ownership: borrows `provider` (it must still be freed).
///
/// # Safety
/// `provider` is NULL or a provider handle.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_shutdown(
    provider: *const polytrace_provider_t,
    timeout_millis: u32,
) -> *mut polytrace_error_t {
    call("polytrace_provider_shutdown", || {
        let p = provider_of(provider)?;
        let timeout = if timeout_millis == POLYTRACE_TIMEOUT_EXIT {
            p.exit_timeout()
        } else {
            Duration::from_millis(u64::from(timeout_millis))
        };
        p.shutdown(timeout)
    })
}

/// Writes the pipeline's counters to `*out_stats`.
///
/// Ownership: borrows `provider`; `*out_stats` is a plain value the caller owns.
///
/// # Safety
/// `out_stats` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_stats(
    provider: *const polytrace_provider_t,
    out_stats: *mut polytrace_stats_t,
) -> *mut polytrace_error_t {
    call("polytrace_provider_stats", || {
        let s = PROVIDERS.get(provider)?.stats();
        let out = polytrace_stats_t {
            spans_started: s.spans_started,
            spans_ended: s.spans_ended,
            spans_exported: s.spans_exported,
            spans_dropped: s.spans_dropped,
            dropped_queue_full: s.dropped_queue_full,
            dropped_export_failed: s.dropped_export_failed,
            dropped_shutdown: s.dropped_shutdown,
            export_failures: s.export_failures,
            spans_sampled: s.spans_sampled,
            spans_not_sampled: s.spans_not_sampled,
            sampler_polls: s.sampler_polls,
            sampler_poll_failures: s.sampler_poll_failures,
        };
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_stats, out, "out_stats") }
    })
}

/// Restarts the pipeline in a forked child: call it first thing in the child after `fork()`
/// (e.g. from a `pthread_atfork` child handler). The parent is unaffected; the child's counters
/// restart at zero. Spans that another thread of the parent was in the middle of changing at
/// the fork must not be used in the child.
///
/// Ownership: borrows `provider`.
///
/// # Safety
/// `provider` is NULL or a provider handle.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_after_fork(
    provider: *const polytrace_provider_t,
) -> *mut polytrace_error_t {
    call("polytrace_provider_after_fork", || {
        PROVIDERS.get(provider)?.after_fork_child()
    })
}

/// Writes the propagation headers (as configured by `OTEL_PROPAGATORS`; by default W3C
/// `traceparent`, `tracestate`, `baggage`) into the caller's arrays: the span context of `span`
/// (or, when `span` is NULL, of `context`) and the baggage of `context` (either may be NULL).
///
/// The caller provides `headers` (room for `headers_cap` pairs) and `buf` (`buf_len` bytes).
/// On success `*out_headers_len` pairs were written; their keys and values point into `buf`,
/// NUL-terminated (the lengths exclude the NUL). `POLYTRACE_INJECT_MAX_HEADERS` pairs and
/// `POLYTRACE_INJECT_BUFFER_SIZE` bytes always suffice; if the space is too small, nothing is
/// written, `*out_headers_len` is 0 and an `InvalidArgument` error says how much is needed.
///
/// Ownership: borrows everything; the written pairs point into `buf`, which stays the caller's.
///
/// # Safety
/// `headers` is valid for `headers_cap` pairs, `buf` for `buf_len` bytes, `out_headers_len` for
/// a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_inject(
    provider: *const polytrace_provider_t,
    span: *const polytrace_span_t,
    context: *const polytrace_context_t,
    headers: *mut polytrace_kv_t,
    headers_cap: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_headers_len: *mut usize,
) -> *mut polytrace_error_t {
    call("polytrace_provider_inject", || {
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_headers_len, 0, "out_headers_len") }?;
        let provider = PROVIDERS.get(provider)?;
        let (mut span_context, baggage) = if context.is_null() {
            (None, Default::default())
        } else {
            let c = CONTEXTS.get(context)?;
            (c.span_context.clone(), c.baggage.clone())
        };
        if !span.is_null() {
            span_context = Some(SPANS.get(span)?.span.span_context().clone());
        }
        let mut pairs: Vec<(&'static str, String)> = Vec::with_capacity(3);
        provider.inject(span_context.as_ref(), &baggage, &mut |k, v| {
            pairs.push((k, v))
        });
        // SAFETY: forwarded.
        unsafe {
            convert::write_pairs(
                &pairs,
                headers,
                headers_cap,
                buf,
                buf_len,
                "the headers",
                "POLYTRACE_INJECT_MAX_HEADERS and POLYTRACE_INJECT_BUFFER_SIZE always suffice",
            )
        }?;
        // SAFETY: checked at the top.
        unsafe { out_headers_len.write(pairs.len()) };
        Ok(())
    })
}

/// Reads a remote parent and baggage from a carrier of `carrier_len` (name, value) pairs
/// (header names are matched case-insensitively; no NUL terminators needed). Malformed headers
/// are ignored, as the W3C specifications say, and so are pairs that are not UTF-8: the result
/// is then a context without a valid span context. Use it as `remote_parent` when starting the
/// server span.
///
/// Ownership: borrows the carrier (nothing is kept pointing into it). On success
/// `*out_context` is a new context the caller owns (free it with `polytrace_context_free`).
///
/// # Safety
/// `carrier` is NULL (with `carrier_len` 0) or points to `carrier_len` pairs whose strings are
/// valid for their lengths; `out_context` is valid for a write.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn polytrace_provider_extract(
    provider: *const polytrace_provider_t,
    carrier: *const polytrace_kv_t,
    carrier_len: usize,
    out_context: *mut *mut polytrace_context_t,
) -> *mut polytrace_error_t {
    call("polytrace_provider_extract", || {
        // SAFETY: forwarded.
        unsafe { convert::write_out(out_context, std::ptr::null_mut(), "out_context") }?;
        let provider = PROVIDERS.get(provider)?;
        // SAFETY: forwarded.
        let pairs = unsafe { convert::carrier(carrier, carrier_len) }?;
        let extracted = provider.extract(&pairs);
        let obj = ContextObj {
            span_context: extracted.span_context,
            baggage: extracted.baggage,
        };
        // SAFETY: forwarded.
        unsafe { new_context(obj, out_context) }
    })
}

/// Frees the provider handle. Never waits on export: call `polytrace_provider_shutdown` first
/// to flush. NULL is ignored; a second free is detected, reported once through the diagnostics
/// handler, and ignored.
///
/// Ownership: takes `provider`.
///
/// # Safety
/// `provider` is NULL or a provider handle.
#[no_mangle]
pub unsafe extern "C" fn polytrace_provider_free(provider: *mut polytrace_provider_t) {
    crate::error::getter((), || {
        if provider.is_null() {
            return;
        }
        if let Err(e) = PROVIDERS.free(provider) {
            report("polytrace_provider_free", &e);
        }
    })
}
