//! `polytrace._native.Propagator`: the core's configured W3C propagators (`OTEL_PROPAGATORS`)
//! as an `opentelemetry.propagators.textmap.TextMapPropagator` (registered as a virtual
//! subclass), so `opentelemetry.propagate.inject/extract` and every instrumentation use the
//! core's parsing and formatting.
//!
//! Baggage lives in the context as OpenTelemetry Python keeps it (a `dict` of values under the
//! API's baggage key). W3C properties (metadata), which that API cannot hold, are kept under a
//! private key by `extract` and written again by `inject` for entries whose value is unchanged.

use crate::context::{otel, Otel};
use crate::convert;
use crate::entry;
use crate::span::PySpan;
use polytrace_core::config::PropagatorKind;
use polytrace_core::propagation::Baggage;
use polytrace_core::{Provider as CoreProvider, SpanContext, SpanId, TraceFlags, TraceId};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySet, PyString};

/// The propagator of a provider's configuration.
#[pyclass(module = "polytrace._native", name = "Propagator", frozen)]
pub struct PyPropagator {
    provider: CoreProvider,
}

/// W3C properties of extracted baggage entries, stored in the context next to the baggage.
#[pyclass(module = "polytrace._native", name = "_BaggageMetadata", frozen)]
struct BaggageMetadata {
    baggage: Baggage,
}

impl PyPropagator {
    pub(crate) fn new(provider: CoreProvider) -> Self {
        PyPropagator { provider }
    }

    fn has(&self, kind: PropagatorKind) -> bool {
        self.provider.propagators().kinds().contains(&kind)
    }
}

/// The core span context of `span` (a span from a context), if it has a readable one.
fn span_context_of(span: &Bound<'_, PyAny>) -> Option<SpanContext> {
    if let Ok(s) = span.cast::<PySpan>() {
        return Some(s.get().context.clone());
    }
    span.call_method0("get_span_context")
        .ok()
        .and_then(|sc| convert::span_context(&sc))
}

/// The core baggage of `ctx`: the API's values, with the metadata `extract` saw for entries
/// that kept their value.
fn baggage_in(py: Python<'_>, o: &Otel, ctx: &Bound<'_, PyAny>) -> PyResult<Baggage> {
    let Some(values) = o.get(py, ctx, &o.baggage_key)? else {
        return Ok(Baggage::default());
    };
    let metadata = o.get(py, ctx, &o.metadata_key)?;
    let metadata = metadata
        .as_ref()
        .and_then(|m| m.cast::<BaggageMetadata>().ok())
        .map(|m| &m.get().baggage);
    let items = match values.cast::<PyDict>() {
        Ok(d) => d.items().into_any(),
        Err(_) => values.call_method0(pyo3::intern!(py, "items"))?,
    };
    let mut out = Baggage::default();
    for kv in items.try_iter()?.flatten() {
        let Ok((k, v)) = kv.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() else {
            continue;
        };
        let key = convert::name(&k);
        let value = convert::name(&v);
        let meta = metadata
            .and_then(|m| {
                m.entries()
                    .iter()
                    .find(|e| e.key == key && e.value == value)
            })
            .map(|e| e.metadata.as_str())
            .unwrap_or("");
        out = out.with(&key, &value, meta);
    }
    Ok(out)
}

/// The values of `carrier` for the propagation fields, as `(field, str object)` pairs in
/// carrier order (the objects stay alive so their text can be borrowed without copying).
fn carrier_values<'py>(
    py: Python<'py>,
    o: &Otel,
    fields: &[&'static str],
    carrier: &Bound<'py, PyAny>,
    getter: Option<&Bound<'py, PyAny>>,
) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
    let mut out: Vec<(&'static str, Bound<'py, PyAny>)> = Vec::new();
    let mut push_values = |field: &'static str, v: Bound<'py, PyAny>| {
        if v.is_instance_of::<PyString>() {
            out.push((field, v));
        } else if let Ok(iter) = v.try_iter() {
            for item in iter.flatten() {
                if item.is_instance_of::<PyString>() {
                    out.push((field, item));
                }
            }
        }
    };
    let default_getter = getter.is_none_or(|g| g.is(o.default_getter.bind(py)));
    if default_getter {
        if let Ok(d) = carrier.cast_exact::<PyDict>() {
            // The common case: a dict of headers. Names match case-insensitively (the core's
            // rule), so a dict with `TraceParent` works too.
            let names = header_names(py);
            for (k, v) in d.iter() {
                // A key `inject` wrote is one of the interned header names: known by identity,
                // without reading its text.
                if let Some(i) = names.iter().position(|n| k.is(n)) {
                    if let Some(field) = fields.iter().find(|f| **f == HEADERS[i]) {
                        push_values(field, v);
                    }
                    continue;
                }
                if !k.is_instance_of::<PyString>() {
                    continue;
                }
                let Some(name) = convert::utf8_borrowed(&k) else {
                    continue;
                };
                if let Some(field) = fields.iter().find(|f| f.eq_ignore_ascii_case(name)) {
                    push_values(field, v);
                }
            }
            return Ok(out);
        }
    }
    let getter = match getter {
        Some(g) => g.clone(),
        None => o.default_getter.bind(py).clone(),
    };
    for field in fields {
        let Ok(v) = getter.call_method1(pyo3::intern!(py, "get"), (carrier, *field)) else {
            continue;
        };
        if !v.is_none() {
            push_values(field, v);
        }
    }
    Ok(out)
}

/// The W3C header names, in the order of [`header_names`].
const HEADERS: [&str; 3] = [
    polytrace_core::propagation::TRACEPARENT,
    polytrace_core::propagation::TRACESTATE,
    polytrace_core::propagation::BAGGAGE,
];

/// [`HEADERS`] as Python strings, interned once: `inject` writes these objects as keys, so
/// `extract` recognizes them by identity.
#[inline]
fn header_names(py: Python<'_>) -> &'static [Py<PyString>; 3] {
    static NAMES: pyo3::sync::PyOnceLock<[Py<PyString>; 3]> = pyo3::sync::PyOnceLock::new();
    NAMES.get_or_init(py, || HEADERS.map(|h| PyString::intern(py, h).unbind()))
}

/// The header name as a cached Python string (see [`header_names`]).
#[inline]
fn header_name<'py>(py: Python<'py>, name: &'static str) -> Bound<'py, PyString> {
    match HEADERS.iter().position(|h| *h == name) {
        Some(i) => header_names(py)[i].bind(py).clone(),
        None => PyString::new(py, name),
    }
}

/// A core span context as a tuple `(trace_id_hex, span_id_hex, flags, tracestate)`.
fn context_tuple(sc: &SpanContext) -> (String, String, u8, String) {
    (
        sc.trace_id.to_hex(),
        sc.span_id.to_hex(),
        sc.trace_flags.0,
        sc.trace_state.header(),
    )
}

#[pymethods]
impl PyPropagator {
    /// Writes `traceparent`/`tracestate`/`baggage` for `context` (default: the current one)
    /// into `carrier` through `setter` (default: `carrier[name] = value`).
    #[pyo3(signature = (carrier, context=None, setter=None))]
    pub(crate) fn inject(
        &self,
        py: Python<'_>,
        carrier: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
        setter: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        entry!(py, {
            let o = otel(py)?;
            let ctx = o.or_current(py, context)?;
            let span = if self.has(PropagatorKind::TraceContext) {
                o.get(py, &ctx, &o.span_key)?
            } else {
                None
            };
            let baggage = if self.has(PropagatorKind::Baggage) {
                baggage_in(py, o, &ctx)?
            } else {
                Baggage::default()
            };
            let fast = setter.is_none_or(|s| s.is(o.default_setter.bind(py)));
            let dict = carrier.cast_exact::<PyDict>().ok().filter(|_| fast);
            if let (Some(d), Some(ours), true) = (
                &dict,
                span.as_ref().and_then(|s| s.cast::<PySpan>().ok()),
                baggage.is_empty(),
            ) {
                // The common case (a dict of headers, one of our spans, no baggage): the
                // headers the core wrote for this span the first time, as they are.
                let ours = ours.get();
                let headers = ours.trace_headers.get_or_init(py, || {
                    let mut out = Vec::with_capacity(2);
                    self.provider
                        .inject(Some(&ours.context), &baggage, &mut |k, v| {
                            out.push((k, PyString::new(py, &v).unbind()))
                        });
                    out
                });
                for (k, v) in headers {
                    d.set_item(header_name(py, k), v.bind(py))?;
                }
                return Ok(());
            }
            let span_context = span.as_ref().and_then(span_context_of);
            let mut headers: Vec<(&'static str, String)> = Vec::with_capacity(3);
            self.provider
                .inject(span_context.as_ref(), &baggage, &mut |k, v| {
                    headers.push((k, v))
                });
            match dict {
                Some(d) => {
                    for (k, v) in headers {
                        d.set_item(header_name(py, k), v)?;
                    }
                }
                None => {
                    let setter = match setter {
                        Some(s) => s.clone(),
                        None => o.default_setter.bind(py).clone(),
                    };
                    for (k, v) in headers {
                        setter.call_method1(pyo3::intern!(py, "set"), (carrier, k, v))?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Reads a remote parent and baggage from `carrier` through `getter` (default: dict
    /// lookup) into a new context based on `context`. Malformed headers are ignored as the W3C
    /// specifications say. The remote parent is a non-recording span.
    #[pyo3(signature = (carrier, context=None, getter=None))]
    pub(crate) fn extract<'py>(
        &self,
        py: Python<'py>,
        carrier: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        getter: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        entry!(py, {
            let o = otel(py)?;
            let (base, fresh) = match context.filter(|c| !c.is_none()) {
                Some(c) => (c.clone(), false),
                // As the API's propagators: trace context starts from an empty context;
                // baggage alone extends the current one.
                None if self.has(PropagatorKind::TraceContext) => (o.empty_context(py)?, true),
                None => (o.current(py)?, false),
            };
            let values =
                carrier_values(py, o, self.provider.propagators().fields(), carrier, getter)?;
            if values.is_empty() {
                return Ok(base);
            }
            // Borrowed text: values with lone surrogates are malformed headers, ignored. A
            // carrier has a few matching headers: on the stack, unless there are many.
            let texts = values
                .iter()
                .filter_map(|(k, v)| convert::utf8_borrowed(v).map(|s| (*k, s)));
            let extracted = if values.len() <= 4 {
                let mut pairs = [("", ""); 4];
                let mut n = 0;
                for (slot, pair) in pairs.iter_mut().zip(texts) {
                    *slot = pair;
                    n += 1;
                }
                self.provider.extract(&pairs[..n])
            } else {
                self.provider.extract(&texts.collect::<Vec<_>>())
            };
            if extracted.span_context.is_none() && extracted.baggage.is_empty() {
                return Ok(base);
            }
            // A context nobody has seen yet can be filled in place; otherwise copy.
            let ctx = if fresh {
                base.clone()
            } else {
                o.context_from(py, &base)?
            };
            let d = ctx.cast::<PyDict>()?;
            if let Some(sc) = extracted.span_context {
                let span = Bound::new(py, PySpan::non_recording(sc))?;
                d.set_item(o.span_key.bind(py), span)?;
            }
            if !extracted.baggage.is_empty() {
                // Merged over the baggage already in `context`, as `set_baggage` would.
                let values = PyDict::new(py);
                if let Some(old) = o.get(py, &base, &o.baggage_key)? {
                    values.call_method1(pyo3::intern!(py, "update"), (old,))?;
                }
                for e in extracted.baggage.entries() {
                    values.set_item(&e.key, &e.value)?;
                }
                d.set_item(o.baggage_key.bind(py), values)?;
                if extracted
                    .baggage
                    .entries()
                    .iter()
                    .any(|e| !e.metadata.is_empty())
                {
                    let meta = Bound::new(
                        py,
                        BaggageMetadata {
                            baggage: extracted.baggage,
                        },
                    )?;
                    d.set_item(o.metadata_key.bind(py), meta)?;
                }
            }
            Ok(ctx)
        })
    }

    /// The header names this propagator reads and writes.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PySet>> {
        PySet::new(py, self.provider.propagators().fields())
    }

    /// Vector-test entry: extracts from `[(name, value)]` and returns
    /// `((trace_id, span_id, flags, tracestate) | None, [(key, value, metadata)])`.
    #[allow(clippy::type_complexity)]
    fn _extract_raw(
        &self,
        carrier: Vec<(String, String)>,
    ) -> (
        Option<(String, String, u8, String)>,
        Vec<(String, String, String)>,
    ) {
        let e = self.provider.extract(&carrier);
        (
            e.span_context.as_ref().map(context_tuple),
            e.baggage
                .entries()
                .iter()
                .map(|b| (b.key.clone(), b.value.clone(), b.metadata.clone()))
                .collect(),
        )
    }

    /// Vector-test entry: injects `(trace_id, span_id, flags, tracestate) | None` and
    /// `[(key, value, metadata)]`; returns the headers written, in order.
    fn _inject_raw(
        &self,
        py: Python<'_>,
        context: Option<(String, String, u8, String)>,
        baggage: Vec<(String, String, String)>,
    ) -> PyResult<Vec<(String, String)>> {
        entry!(py, {
            let sc = context.map(|(t, s, f, ts)| SpanContext {
                trace_id: TraceId::from_hex(&t).unwrap_or_default(),
                span_id: SpanId::from_hex(&s).unwrap_or_default(),
                trace_flags: TraceFlags(f),
                trace_state: polytrace_core::propagation::TraceState::parse(&ts)
                    .unwrap_or_default(),
                is_remote: false,
            });
            let mut b = Baggage::default();
            for (k, v, m) in &baggage {
                b = b.with(k, v, m);
            }
            let mut out = Vec::new();
            self.provider
                .inject(sc.as_ref(), &b, &mut |k, v| out.push((k.to_string(), v)));
            Ok(out)
        })
    }

    fn __repr__(&self) -> String {
        let kinds: Vec<&str> = self
            .provider
            .propagators()
            .kinds()
            .iter()
            .map(|k| k.as_str())
            .collect();
        format!("polytrace.Propagator({})", kinds.join(","))
    }
}
