//! `polytrace._native.Span`: a live core span behind a light pyclass. It is registered as a
//! virtual subclass of `opentelemetry.trace.Span` (see `polytrace/__init__.py`), so it *is* an
//! OpenTelemetry span for `isinstance` and for every instrumentation, with no Python wrapper
//! on the hot path. Its `SpanContext` is created on first request and cached.

use crate::context::otel;
use crate::convert;
use crate::entry;
use parking_lot::Mutex;
use polytrace_core::{Event, Exception, Link, Span as CoreSpan, SpanContext, SpanKind, Status};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

/// The recording state: the core span (which owns the record) and the name as given, for the
/// SDK-compatible `name` property.
struct Live {
    span: CoreSpan,
    name: Py<PyAny>,
}

const RECORD_EXCEPTION: u8 = 1;
const SET_STATUS_ON_EXCEPTION: u8 = 2;

/// A span. Spans come from `Tracer.start_span`; `extract` makes non-recording ones for remote
/// parents. Every method is a cheap no-op once the span has ended (or when it does not record).
#[pyclass(module = "polytrace._native", name = "Span", frozen, weakref)]
pub struct PySpan {
    /// The span's identity, readable without the lock.
    pub(crate) context: SpanContext,
    /// The live core span and the name object; `None` for a non-recording span made by the
    /// binding.
    live: Option<Box<Mutex<Live>>>,
    kind: SpanKind,
    /// Whether the span recorded when it started (it may have ended since).
    records: bool,
    flags: u8,
    py_context: PyOnceLock<Py<PyAny>>,
    /// The trace-context headers `inject` writes for this span (the core's `traceparent` and,
    /// when non-empty, `tracestate`, as Python strings), made on the first inject and reused:
    /// a span's context never changes, and with only the W3C formats they do not depend on
    /// the propagator's configuration.
    pub(crate) trace_headers: PyOnceLock<Vec<(&'static str, Py<PyString>)>>,
}

impl PySpan {
    pub(crate) fn new(
        span: CoreSpan,
        name: Py<PyAny>,
        kind: SpanKind,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> Self {
        let mut flags = 0;
        if record_exception {
            flags |= RECORD_EXCEPTION;
        }
        if set_status_on_exception {
            flags |= SET_STATUS_ON_EXCEPTION;
        }
        PySpan {
            context: span.span_context().clone(),
            records: span.is_recording(),
            // Boxed: the pyclass stays small, so creating it moves and zeroes little memory.
            live: Some(Box::new(Mutex::new(Live { span, name }))),
            kind,
            flags,
            py_context: PyOnceLock::new(),
            trace_headers: PyOnceLock::new(),
        }
    }

    /// A non-recording span carrying `context` (a remote parent from `extract`).
    pub(crate) fn non_recording(context: SpanContext) -> Self {
        PySpan {
            context,
            live: None,
            kind: SpanKind::Internal,
            records: false,
            flags: 0,
            py_context: PyOnceLock::new(),
            trace_headers: PyOnceLock::new(),
        }
    }

    /// Runs `f` on the live span if it records.
    #[inline]
    fn with_live(&self, f: impl FnOnce(&mut CoreSpan)) {
        if self.records {
            if let Some(live) = &self.live {
                f(&mut live.lock().span);
            }
        }
    }

    /// Ends the span now (no-op if it already ended).
    pub(crate) fn end_now(&self) {
        self.with_live(|s| s.end(None));
    }

    /// `end(end_time)` without the entry guard (for callers that already run under one).
    #[inline]
    pub(crate) fn end_inner(&self, end_time: Option<&Bound<'_, PyAny>>) {
        if self.records {
            let t = convert::time(end_time);
            self.with_live(|s| s.end(t));
        }
    }

    /// `set_attribute(key, value)` without the entry guard.
    #[inline]
    pub(crate) fn set_attribute_inner(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) {
        if self.records {
            if let Some((k, v)) = convert::attribute(key, value) {
                self.with_live(|s| s.set_attribute(k, v));
            }
        }
    }

    fn recording(&self) -> bool {
        self.records
            && self
                .live
                .as_ref()
                .is_some_and(|l| l.lock().span.is_recording())
    }

    fn exception(
        py: Python<'_>,
        exception: &Bound<'_, PyAny>,
        attributes: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
        escaped: bool,
    ) -> PyResult<Exception> {
        let o = otel(py)?;
        let ty = exception.get_type();
        let qualname = ty
            .qualname()
            .map(|q| q.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "Exception".into());
        let type_name = match ty.module() {
            Ok(m) => {
                let m = m.to_string_lossy();
                if m.is_empty() || m == "builtins" {
                    qualname
                } else {
                    format!("{m}.{qualname}")
                }
            }
            Err(_) => qualname,
        };
        let message = match exception.str() {
            Ok(s) => convert::text(s.as_any()),
            Err(_) => String::new(),
        };
        let stacktrace = o
            .format_exception
            .bind(py)
            .call1((ty, exception, exception.getattr("__traceback__").ok()))
            .and_then(|lines| {
                let parts: Vec<String> = lines.extract()?;
                Ok(parts.concat())
            })
            .ok();
        Ok(Exception {
            type_name,
            message,
            stacktrace,
            escaped: Some(escaped),
            attributes: convert::attributes(attributes),
            time: convert::time(timestamp),
        })
    }

    /// Records `exc` and sets the error status as the SDK's `__exit__` / `use_span` do.
    pub(crate) fn on_exception(
        &self,
        py: Python<'_>,
        exc: &Bound<'_, PyAny>,
        record: bool,
        set_status: bool,
        escaped: bool,
    ) -> PyResult<()> {
        if !self.recording() {
            return Ok(());
        }
        if record {
            let e = Self::exception(py, exc, None, None, escaped)?;
            self.with_live(|s| s.record_exception(e));
        }
        if set_status {
            let type_name = exc
                .get_type()
                .name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let msg = exc
                .str()
                .map(|s| convert::text(s.as_any()))
                .unwrap_or_default();
            self.with_live(|s| s.set_status(Status::Error(format!("{type_name}: {msg}"))));
        }
        Ok(())
    }
}

#[pymethods]
impl PySpan {
    /// The span's `opentelemetry.trace.SpanContext` (created once, then cached).
    fn get_span_context(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        entry!(py, {
            self.py_context
                .get_or_try_init(py, || {
                    let o = otel(py)?;
                    Ok::<_, PyErr>(convert::py_span_context(py, o, &self.context)?.unbind())
                })
                .map(|c| c.clone_ref(py))
        })
    }

    /// True until `end()` for a sampled (or record-only) span.
    fn is_recording(&self) -> bool {
        self.recording()
    }

    /// Sets an attribute; invalid keys or values are dropped with a warning (once per cause).
    pub(crate) fn set_attribute(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            if let Some((k, v)) = convert::attribute(key, value) {
                self.with_live(|s| s.set_attribute(k, v));
            }
            Ok(())
        })
    }

    /// Sets every attribute of a mapping.
    fn set_attributes(&self, py: Python<'_>, attributes: &Bound<'_, PyAny>) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let attrs = convert::attributes(Some(attributes));
            self.with_live(|s| s.set_attributes(attrs));
            Ok(())
        })
    }

    /// Adds an event (`timestamp` in nanoseconds since the epoch; default now).
    #[pyo3(signature = (name, attributes=None, timestamp=None))]
    fn add_event(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        attributes: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let event = Event {
                name: convert::name_key(name),
                time: convert::time(timestamp),
                attributes: convert::attributes(attributes),
            };
            self.with_live(|s| s.add_event(event));
            Ok(())
        })
    }

    /// Adds a link to another span's `SpanContext`.
    #[pyo3(signature = (context, attributes=None))]
    fn add_link(
        &self,
        py: Python<'_>,
        context: &Bound<'_, PyAny>,
        attributes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let attributes = convert::attributes(attributes);
            let context = match context.cast::<PySpan>() {
                Ok(s) => Some(s.get().context.clone()),
                Err(_) => convert::span_context(context),
            };
            let link = Link {
                context: context.unwrap_or_default(),
                attributes,
            };
            self.with_live(|s| s.add_link(link));
            Ok(())
        })
    }

    /// Replaces the span's name.
    fn update_name(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let text = convert::name_key(name);
            if let Some(live) = &self.live {
                let mut l = live.lock();
                l.span.update_name(text);
                l.name = name.clone().unbind();
            }
            Ok(())
        })
    }

    /// `set_status(Status(...))` or `set_status(StatusCode.X, description)`. `UNSET` is
    /// ignored and `OK` is final.
    #[pyo3(signature = (status, description=None))]
    fn set_status(
        &self,
        py: Python<'_>,
        status: &Bound<'_, PyAny>,
        description: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let o = otel(py)?;
            match convert::status(o, status, description) {
                Some(st) => self.with_live(|s| s.set_status(st)),
                None => polytrace_core::diag::emit_once(
                    polytrace_core::diag::Level::Warn,
                    "py-bad-status",
                    "set_status: the argument is neither a Status nor a StatusCode; ignored",
                ),
            }
            Ok(())
        })
    }

    /// Records an exception as an `exception` event (type, message, stack trace, escaped).
    #[pyo3(signature = (exception, attributes=None, timestamp=None, escaped=false))]
    fn record_exception(
        &self,
        py: Python<'_>,
        exception: &Bound<'_, PyAny>,
        attributes: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
        escaped: bool,
    ) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let e = Self::exception(py, exception, attributes, timestamp, escaped)?;
            self.with_live(|s| s.record_exception(e));
            Ok(())
        })
    }

    /// Ends the span (at `end_time` nanoseconds since the epoch, default now). Ending twice is
    /// harmless.
    #[pyo3(signature = (end_time=None))]
    pub(crate) fn end(&self, py: Python<'_>, end_time: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        if !self.records {
            return Ok(());
        }
        entry!(py, {
            let t = convert::time(end_time);
            self.with_live(|s| s.end(t));
            Ok(())
        })
    }

    /// The span's kind (`opentelemetry.trace.SpanKind`), as the SDK's spans expose it.
    #[getter]
    fn kind(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let i = match self.kind {
            SpanKind::Internal => 0,
            SpanKind::Server => 1,
            SpanKind::Client => 2,
            SpanKind::Producer => 3,
            SpanKind::Consumer => 4,
        };
        Ok(otel(py)?.span_kinds[i].clone_ref(py))
    }

    /// The span's name (empty for a non-recording span).
    #[getter]
    fn name(&self, py: Python<'_>) -> Py<PyAny> {
        match &self.live {
            Some(l) => l.lock().name.clone_ref(py),
            None => pyo3::types::PyString::new(py, "").into_any().unbind(),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Ends the span; an exception escaping the block is recorded and sets the status, as
    /// chosen by `record_exception` / `set_status_on_exception` at start.
    pub(crate) fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        exc_val: &Bound<'_, PyAny>,
        _exc_tb: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        entry!(py, {
            if !exc_val.is_none() {
                self.on_exception(
                    py,
                    exc_val,
                    self.flags & RECORD_EXCEPTION != 0,
                    self.flags & SET_STATUS_ON_EXCEPTION != 0,
                    true,
                )?;
            }
            self.with_live(|s| s.end(None));
            Ok(())
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "polytrace.Span(trace_id=0x{}, span_id=0x{}, recording={})",
            self.context.trace_id,
            self.context.span_id,
            if self.recording() { "True" } else { "False" }
        )
    }
}
