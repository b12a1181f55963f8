//! `polytrace._native.Tracer` (a virtual subclass of `opentelemetry.trace.Tracer`) and the
//! context manager returned by `start_as_current_span`, which activates the span through
//! `opentelemetry.context` and is also usable as a decorator (sync and async functions).

use crate::context::{otel, Otel};
use crate::convert;
use crate::entry;
use crate::provider::PyProvider;
use crate::span::PySpan;
use polytrace_core::{Link, SpanContext, StartOptions, Tracer as CoreTracer};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

/// A tracer for one instrumentation scope; get it from `TracerProvider.get_tracer`.
#[pyclass(module = "polytrace._native", name = "Tracer", frozen)]
pub struct PyTracer {
    tracer: CoreTracer,
    /// Keeps the provider (and so its exit flush) alive as long as a tracer is in use.
    #[allow(dead_code)]
    provider: Py<PyProvider>,
}

impl PyTracer {
    pub(crate) fn new(tracer: CoreTracer, provider: Py<PyProvider>) -> Self {
        PyTracer { tracer, provider }
    }
}

/// The parent span context found in `context` (or the current context).
#[inline]
fn parent(
    py: Python<'_>,
    o: &Otel,
    context: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<SpanContext>> {
    let ctx = o.or_current(py, context)?;
    let Some(span) = o.get(py, &ctx, &o.span_key)? else {
        return Ok(None);
    };
    if let Ok(s) = span.cast::<PySpan>() {
        let c = &s.get().context;
        return Ok(c.is_valid().then(|| c.clone()));
    }
    // Another `opentelemetry.trace.Span` implementation (e.g. a `NonRecordingSpan`).
    Ok(span
        .call_method0("get_span_context")
        .ok()
        .and_then(|sc| convert::span_context(&sc)))
}

fn links(links: Option<&Bound<'_, PyAny>>) -> Vec<Link> {
    let Some(links) = links.filter(|l| !l.is_none()) else {
        return Vec::new();
    };
    let Ok(iter) = links.try_iter() else {
        return Vec::new();
    };
    iter.flatten()
        .filter_map(|link| {
            let ctx = link.getattr("context").ok()?;
            let context = match ctx.cast::<PySpan>() {
                Ok(s) => s.get().context.clone(),
                Err(_) => convert::span_context(&ctx).unwrap_or_default(),
            };
            let attrs = link.getattr("attributes").ok();
            Some(Link {
                context,
                attributes: convert::attributes(attrs.as_ref()),
            })
        })
        .collect()
}

impl PyTracer {
    /// `start_span` without the entry guard (the fastcall entry point has its own).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn start(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
        kind: Option<&Bound<'_, PyAny>>,
        attributes: Option<&Bound<'_, PyAny>>,
        links_: Option<&Bound<'_, PyAny>>,
        start_time: Option<&Bound<'_, PyAny>>,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> PyResult<PySpan> {
        let o = otel(py)?;
        let parent = parent(py, o, context)?;
        let kind = convert::kind(o, kind);
        let options = StartOptions {
            parent: parent.as_ref(),
            kind,
            attributes: convert::attributes(attributes),
            links: links(links_),
            start_time: convert::time(start_time),
        };
        let span = self.tracer.start_span(convert::name_key(name), options);
        Ok(PySpan::new(
            span,
            name.clone().unbind(),
            kind,
            record_exception,
            set_status_on_exception,
        ))
    }
}

#[pymethods]
impl PyTracer {
    /// Starts a span (not made current). The parent is the span in `context`, or in the
    /// current context when `context` is `None`.
    #[pyo3(signature = (name, context=None, kind=None, attributes=None, links=None,
        start_time=None, record_exception=true, set_status_on_exception=true))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_span(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
        kind: Option<&Bound<'_, PyAny>>,
        attributes: Option<&Bound<'_, PyAny>>,
        links: Option<&Bound<'_, PyAny>>,
        start_time: Option<&Bound<'_, PyAny>>,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> PyResult<PySpan> {
        entry!(py, {
            self.start(
                py,
                name,
                context,
                kind,
                attributes,
                links,
                start_time,
                record_exception,
                set_status_on_exception,
            )
        })
    }

    /// A context manager (and decorator) that starts a span, makes it current for the block
    /// through `opentelemetry.context`, and ends it on exit (unless `end_on_exit=False`).
    #[pyo3(signature = (name, context=None, kind=None, attributes=None, links=None,
        start_time=None, record_exception=true, set_status_on_exception=true, end_on_exit=true))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_as_current_span(
        slf: Py<Self>,
        name: Py<PyAny>,
        context: Option<Py<PyAny>>,
        kind: Option<Py<PyAny>>,
        attributes: Option<Py<PyAny>>,
        links: Option<Py<PyAny>>,
        start_time: Option<Py<PyAny>>,
        record_exception: bool,
        set_status_on_exception: bool,
        end_on_exit: bool,
    ) -> CurrentSpan {
        CurrentSpan {
            args: Args {
                tracer: slf,
                name,
                context,
                kind,
                attributes,
                links,
                start_time,
                record_exception,
                set_status_on_exception,
                end_on_exit,
            },
            active: None,
        }
    }
}

struct Args {
    tracer: Py<PyTracer>,
    name: Py<PyAny>,
    context: Option<Py<PyAny>>,
    kind: Option<Py<PyAny>>,
    attributes: Option<Py<PyAny>>,
    links: Option<Py<PyAny>>,
    start_time: Option<Py<PyAny>>,
    record_exception: bool,
    set_status_on_exception: bool,
    end_on_exit: bool,
}

impl Args {
    fn clone_ref(&self, py: Python<'_>) -> Args {
        let c = |o: &Option<Py<PyAny>>| o.as_ref().map(|o| o.clone_ref(py));
        Args {
            tracer: self.tracer.clone_ref(py),
            name: self.name.clone_ref(py),
            context: c(&self.context),
            kind: c(&self.kind),
            attributes: c(&self.attributes),
            links: c(&self.links),
            start_time: c(&self.start_time),
            record_exception: self.record_exception,
            set_status_on_exception: self.set_status_on_exception,
            end_on_exit: self.end_on_exit,
        }
    }
}

/// What `start_as_current_span` returns: use it once in a `with` block, or as a decorator.
#[pyclass(module = "polytrace._native", name = "CurrentSpan")]
pub struct CurrentSpan {
    args: Args,
    /// The span and the context token while the block runs.
    active: Option<(Py<PySpan>, Py<PyAny>)>,
}

static DECORATE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl CurrentSpan {
    pub(crate) fn __enter__(&mut self, py: Python<'_>) -> PyResult<Py<PySpan>> {
        entry!(py, {
            if self.active.is_some() {
                return Err(PyRuntimeError::new_err(
                    "this start_as_current_span() context manager is already in use",
                ));
            }
            let a = &self.args;
            let o = otel(py)?;
            // The new span becomes current in the *current* context (as `use_span` does), also
            // when its parent came from an explicit `context`; read the current context once.
            let current = o.current(py)?;
            let parent_ctx = match &a.context {
                Some(c) if !c.bind(py).is_none() => c.bind(py).clone(),
                _ => current.clone(),
            };
            let span = a.tracer.get().start(
                py,
                a.name.bind(py),
                Some(&parent_ctx),
                a.kind.as_ref().map(|c| c.bind(py)),
                a.attributes.as_ref().map(|c| c.bind(py)),
                a.links.as_ref().map(|c| c.bind(py)),
                a.start_time.as_ref().map(|c| c.bind(py)),
                a.record_exception,
                a.set_status_on_exception,
            )?;
            let span = Bound::new(py, span)?;
            let ctx = o.with_value(py, Some(&current), &o.span_key, span.as_any())?;
            let token = o.attach(py, &ctx)?;
            let out = span.clone().unbind();
            self.active = Some((span.unbind(), token.unbind()));
            Ok(out)
        })
    }

    /// Restores the previous context; an `Exception` escaping the block is recorded and sets
    /// the status (as `opentelemetry.trace.use_span` does); then the span ends.
    pub(crate) fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        exc_val: &Bound<'_, PyAny>,
        _exc_tb: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        entry!(py, {
            let Some((span, token)) = self.active.take() else {
                return Ok(());
            };
            // As `Bound`s, they are released right here (a `Py` dropped in a fastcall entry
            // point would be queued in pyo3's deferred-decref pool).
            let (span, token) = (span.into_bound(py), token.into_bound(py));
            let o = otel(py)?;
            o.detach(py, &token);
            let span = span.get();
            if !exc_val.is_none() && exc_val.is_instance_of::<pyo3::exceptions::PyException>() {
                span.on_exception(
                    py,
                    exc_val,
                    self.args.record_exception,
                    self.args.set_status_on_exception,
                    false,
                )?;
            }
            if self.args.end_on_exit {
                span.end_now();
            }
            Ok(())
        })
    }

    /// A fresh, unused context manager with the same arguments (one per decorated call).
    fn _recreate(&self, py: Python<'_>) -> CurrentSpan {
        CurrentSpan {
            args: self.args.clone_ref(py),
            active: None,
        }
    }

    /// Decorates a function (or coroutine function): each call runs in a new current span.
    fn __call__(slf: &Bound<'_, Self>, func: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let decorate = DECORATE.get_or_try_init(py, || {
            Ok::<_, PyErr>(
                py.import("polytrace._decorate")?
                    .getattr(pyo3::intern!(py, "decorate"))?
                    .unbind(),
            )
        })?;
        Ok(decorate.bind(py).call1((slf, func))?.unbind())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let name = self
            .args
            .name
            .bind(py)
            .cast::<PyString>()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("polytrace.CurrentSpan({name:?})")
    }
}
