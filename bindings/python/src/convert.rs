//! Conversions between Python values and the core's plain values: attribute keys and values,
//! configuration options, span contexts, kinds, statuses and timestamps.
//!
//! Bad attribute input never raises: as the OpenTelemetry API specifies, the attribute is
//! dropped and a warning goes to Python `logging` (logger `polytrace`) once per cause for the
//! process, through the core's [`diag::emit_once`]. A `str` holding lone surrogates is not bad
//! input: it is text the core repairs ([`text`]: one U+FFFD per lone surrogate), as in every
//! binding.

use crate::context::Otel;
use polytrace_core::config::{self, OptionValue};
use polytrace_core::diag;
use polytrace_core::intern;
use polytrace_core::propagation::TraceState;
use polytrace_core::text::lossy_utf8;
use polytrace_core::ConfigProblem;
use polytrace_core::{
    Attribute, Key, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, Value,
};
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PySequence, PyString, PyTuple,
};
use std::borrow::Cow;
use std::os::raw::c_char;

unsafe extern "C" {
    // Part of the stable ABI since 3.10 and exported by every CPython 3.x; pyo3 only declares
    // it for abi3 ≥ 3.10. It returns the string's cached UTF-8 form (no temporary `bytes`),
    // which matters on the attribute hot path.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const c_char;
}

/// The UTF-8 text of a `str` (or subclass), or `None` when it holds lone surrogates (the
/// pending `UnicodeEncodeError` is cleared).
#[inline]
pub(crate) fn utf8(s: &Bound<'_, PyAny>) -> Option<String> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` (callers check the type) and we hold the GIL; the returned
    // buffer is owned by the string and valid while it lives; we copy it at once.
    unsafe {
        let p = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if p.is_null() {
            let _ = PyErr::take(s.py());
            return None;
        }
        let bytes = std::slice::from_raw_parts(p.cast::<u8>(), size as usize);
        Some(std::str::from_utf8_unchecked(bytes).to_owned())
    }
}

/// The UTF-8 text of a `str` borrowed from the string itself (no copy), or `None` when it
/// holds lone surrogates. Valid while `s` lives.
#[inline]
pub(crate) fn utf8_borrowed<'a>(s: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: as in `utf8`; the buffer is cached in (and owned by) the string object, which
    // outlives the returned borrow.
    unsafe {
        let p = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if p.is_null() {
            let _ = PyErr::take(s.py());
            return None;
        }
        let bytes = std::slice::from_raw_parts(p.cast::<u8>(), size as usize);
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

/// The text of a `str` (or subclass): as is, or when it holds lone surrogates, repaired by the
/// core's rule (`polytrace_core::text`): each lone surrogate one U+FFFD.
pub(crate) fn text(s: &Bound<'_, PyAny>) -> String {
    utf8(s).unwrap_or_else(|| repaired(s))
}

/// A `str` with lone surrogates: `surrogatepass` writes each as the three bytes of its code
/// point, which the core's rule turns into one U+FFFD.
#[cold]
fn repaired(s: &Bound<'_, PyAny>) -> String {
    // SAFETY: `s` is a live `str` and we hold the GIL; the codec names are NUL-terminated
    // literals. The result is a new reference (or NULL with an exception set).
    let encoded = unsafe {
        Bound::from_owned_ptr_or_err(
            s.py(),
            ffi::PyUnicode_AsEncodedString(
                s.as_ptr(),
                c"utf-8".as_ptr(),
                c"surrogatepass".as_ptr(),
            ),
        )
    };
    match encoded.as_ref().map(|b| b.cast::<PyBytes>()) {
        Ok(Ok(b)) => lossy_utf8(b.as_bytes()).into_owned(),
        _ => String::new(),
    }
}

/// A span or event name as the core keeps it ([`name`]'s text, interned when it fits).
#[inline]
pub(crate) fn name_key(obj: &Bound<'_, PyAny>) -> Key {
    if obj.is_instance_of::<PyString>() {
        if let Some(t) = utf8_borrowed(obj) {
            return intern::KEYS.share_cached(t);
        }
    }
    Cow::Owned(name(obj))
}

/// Text for a name (span, event): a `str` as [`text`] gives it; anything else through `str()`.
pub(crate) fn name(obj: &Bound<'_, PyAny>) -> String {
    if obj.is_instance_of::<PyString>() {
        return text(obj);
    }
    match obj.str() {
        Ok(s) => text(s.as_any()),
        Err(_) => String::new(),
    }
}

/// Why an attribute was dropped. Each cause is reported once per process.
pub(crate) enum Bad {
    KeyType(String),
    KeyEmpty,
    ValueNone,
    ValueType(String),
    Mixed,
    NoneInSequence,
    IntRange,
    Bytes,
}

impl Bad {
    fn cause(&self) -> String {
        match self {
            Bad::KeyType(t) => format!("py-attr-key-type:{t}"),
            Bad::KeyEmpty => "py-attr-key-empty".into(),
            Bad::ValueNone => "py-attr-none".into(),
            Bad::ValueType(t) => format!("py-attr-type:{t}"),
            Bad::Mixed => "py-attr-mixed".into(),
            Bad::NoneInSequence => "py-attr-none-in-sequence".into(),
            Bad::IntRange => "py-attr-int-range".into(),
            Bad::Bytes => "py-attr-bytes".into(),
        }
    }

    fn reason(&self) -> String {
        match self {
            Bad::KeyType(t) => format!("the key is a {t}, not a str"),
            Bad::KeyEmpty => "the key is empty".into(),
            Bad::ValueNone => "the value is None".into(),
            Bad::ValueType(t) => format!(
                "a value of type {t} is not supported (use bool, int, float, str or a \
                 homogeneous sequence of one of them)"
            ),
            Bad::Mixed => "the sequence mixes types (sequences must be homogeneous)".into(),
            Bad::NoneInSequence => "the sequence contains None".into(),
            Bad::IntRange => "the int does not fit in 64 bits".into(),
            Bad::Bytes => "the bytes are not valid UTF-8".into(),
        }
    }
}

/// Reports a dropped attribute through `logging`, once per cause.
#[cold]
pub(crate) fn report(bad: &Bad, key: &str) {
    diag::emit_once(
        diag::Level::Warn,
        &bad.cause(),
        &format!(
            "attribute {key:?} dropped: {}; later attributes dropped for this reason are not \
             reported",
            bad.reason()
        ),
    );
}

/// A key: a non-empty `str`, interned when it fits. A Python `str` caches its UTF-8 form inside
/// the object, so the same `str` (a literal key in a loop) gives the same pointer again and the
/// table's pointer cache answers: no allocation per call, and no free on the export thread.
#[inline]
pub(crate) fn key(k: &Bound<'_, PyAny>) -> Result<Key, Bad> {
    if !k.is_instance_of::<PyString>() {
        let t = type_name(k);
        return Err(Bad::KeyType(t));
    }
    match utf8_borrowed(k) {
        Some("") => Err(Bad::KeyEmpty),
        Some(s) => Ok(intern::KEYS.share_cached(s)),
        None => Ok(intern::KEYS.share(&repaired(k))),
    }
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .qualname()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "?".into())
}

/// What one element of a sequence is.
enum Elem {
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
}

fn elem(v: &Bound<'_, PyAny>) -> Result<Elem, Bad> {
    if v.is_instance_of::<PyString>() {
        return Ok(Elem::Str(text(v)));
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Elem::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().map(Elem::Int).map_err(|_| Bad::IntRange);
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(Elem::Double(f.value()));
    }
    if v.is_none() {
        return Err(Bad::NoneInSequence);
    }
    Err(Bad::ValueType(type_name(v)))
}

fn sequence<'py>(items: impl Iterator<Item = Bound<'py, PyAny>>) -> Result<Value, Bad> {
    let mut out: Option<Value> = None;
    for item in items {
        let e = elem(&item)?;
        match (&mut out, e) {
            (None, Elem::Bool(b)) => out = Some(Value::BoolArray(vec![b])),
            (None, Elem::Int(i)) => out = Some(Value::IntArray(vec![i])),
            (None, Elem::Double(d)) => out = Some(Value::DoubleArray(vec![d])),
            (None, Elem::Str(s)) => out = Some(Value::StringArray(vec![s])),
            (Some(Value::BoolArray(a)), Elem::Bool(b)) => a.push(b),
            (Some(Value::IntArray(a)), Elem::Int(i)) => a.push(i),
            (Some(Value::DoubleArray(a)), Elem::Double(d)) => a.push(d),
            (Some(Value::StringArray(a)), Elem::Str(s)) => a.push(s),
            _ => return Err(Bad::Mixed),
        }
    }
    Ok(out.unwrap_or(Value::StringArray(Vec::new())))
}

/// An attribute value (see [`Bad`] for what is rejected).
#[inline]
pub(crate) fn value(v: &Bound<'_, PyAny>) -> Result<Value, Bad> {
    // The common exact types first, by identity of their type.
    if v.is_exact_instance_of::<PyString>() {
        return Ok(Value::String(match utf8_borrowed(v) {
            Some(s) => intern::VALUES.share_cached(s),
            None => Cow::Owned(repaired(v)),
        }));
    }
    if let Ok(b) = v.cast_exact::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if v.is_exact_instance_of::<PyInt>() {
        return v
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|_| Bad::IntRange);
    }
    if let Ok(f) = v.cast_exact::<PyFloat>() {
        return Ok(Value::Double(f.value()));
    }
    if let Ok(l) = v.cast::<PyList>() {
        return sequence(l.iter());
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return sequence(t.iter());
    }
    if v.is_none() {
        return Err(Bad::ValueNone);
    }
    // Subclasses (str and int enums, numpy-like scalars that subclass float, ...).
    match elem(v) {
        Ok(Elem::Bool(b)) => return Ok(Value::Bool(b)),
        Ok(Elem::Int(i)) => return Ok(Value::Int(i)),
        Ok(Elem::Double(d)) => return Ok(Value::Double(d)),
        Ok(Elem::Str(s)) => return Ok(Value::String(Cow::Owned(s))),
        Err(Bad::ValueType(_)) => {}
        Err(other) => return Err(other),
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return std::str::from_utf8(b.as_bytes())
            .map(|s| Value::String(Cow::Owned(s.to_owned())))
            .map_err(|_| Bad::Bytes);
    }
    if let Ok(seq) = v.cast::<PySequence>() {
        if let Ok(items) = seq.try_iter() {
            return sequence(items.flatten());
        }
    }
    Err(Bad::ValueType(type_name(v)))
}

/// One attribute, or `None` (reported) when it is dropped.
#[inline]
pub(crate) fn attribute(k: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>) -> Option<Attribute> {
    let key = match key(k) {
        Ok(key) => key,
        Err(bad) => {
            report(&bad, &k.repr().map(|r| r.to_string()).unwrap_or_default());
            return None;
        }
    };
    match value(v) {
        Ok(value) => Some((key, value)),
        Err(bad) => {
            report(&bad, &key);
            None
        }
    }
}

/// Attributes from a mapping (`None` = none). A non-mapping is reported and ignored.
pub(crate) fn attributes(attrs: Option<&Bound<'_, PyAny>>) -> Vec<Attribute> {
    let Some(attrs) = attrs.filter(|a| !a.is_none()) else {
        return Vec::new();
    };
    if let Ok(d) = attrs.cast::<PyDict>() {
        let mut out = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            if let Some(a) = attribute(&k, &v) {
                out.push(a);
            }
        }
        return out;
    }
    let items = attrs.cast::<PyMapping>().ok().and_then(|m| m.items().ok());
    match items {
        Some(items) => items
            .iter()
            .filter_map(|kv| {
                let (k, v) = kv.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>().ok()?;
                attribute(&k, &v)
            })
            .collect(),
        None => {
            report(&Bad::ValueType(type_name(attrs)), "<attributes>");
            Vec::new()
        }
    }
}

/// An optional timestamp in nanoseconds since the epoch; a bad one is reported and ignored
/// (the current time is used).
pub(crate) fn time(t: Option<&Bound<'_, PyAny>>) -> Option<u64> {
    let t = t.filter(|t| !t.is_none())?;
    match t.extract::<u64>() {
        Ok(ns) => Some(ns),
        Err(_) => {
            diag::emit_once(
                diag::Level::Warn,
                "py-bad-timestamp",
                "a timestamp that is not a non-negative int (nanoseconds since the epoch) was \
                 ignored; the current time is used",
            );
            None
        }
    }
}

/// `opentelemetry.trace.SpanKind` → core kind (`None` = internal).
#[inline]
pub(crate) fn kind(otel: &Otel, k: Option<&Bound<'_, PyAny>>) -> SpanKind {
    const KINDS: [SpanKind; 5] = [
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];
    let Some(k) = k.filter(|k| !k.is_none()) else {
        return SpanKind::Internal;
    };
    for (member, kind) in otel.span_kinds.iter().zip(KINDS) {
        if k.is(member) {
            return kind;
        }
    }
    // Another enum with the same values, or a plain int.
    let v = k
        .getattr("value")
        .and_then(|v| v.extract::<usize>())
        .or_else(|_| k.extract::<usize>());
    match v {
        Ok(i) if i < KINDS.len() => KINDS[i],
        _ => SpanKind::Internal,
    }
}

/// `opentelemetry.trace.SpanContext` (or anything shaped like it) → core context; `None` for
/// an invalid or unreadable one.
pub(crate) fn span_context(sc: &Bound<'_, PyAny>) -> Option<SpanContext> {
    let trace_id: u128 = sc.getattr("trace_id").ok()?.extract().ok()?;
    let span_id: u64 = sc.getattr("span_id").ok()?.extract().ok()?;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    let flags: u8 = sc
        .getattr("trace_flags")
        .ok()
        .and_then(|f| f.extract::<u8>().ok())
        .unwrap_or(0);
    let is_remote: bool = sc
        .getattr("is_remote")
        .ok()
        .and_then(|r| r.extract().ok())
        .unwrap_or(false);
    let trace_state = sc
        .getattr("trace_state")
        .ok()
        .filter(|ts| !ts.is_none())
        .and_then(|ts| trace_state(&ts))
        .unwrap_or_default();
    Some(SpanContext {
        trace_id: TraceId(trace_id.to_be_bytes()),
        span_id: SpanId(span_id.to_be_bytes()),
        trace_flags: TraceFlags(flags),
        trace_state,
        is_remote,
    })
}

fn trace_state(ts: &Bound<'_, PyAny>) -> Option<TraceState> {
    let items = ts.call_method0("items").ok()?;
    let mut entries = Vec::new();
    for kv in items.try_iter().ok()? {
        let (k, v): (String, String) = kv.ok()?.extract().ok()?;
        entries.push((k, v));
    }
    if entries.is_empty() {
        return Some(TraceState::default());
    }
    TraceState::from_entries(entries).ok()
}

/// A core context as a real `opentelemetry.trace.SpanContext`.
pub(crate) fn py_span_context<'py>(
    py: Python<'py>,
    otel: &Otel,
    sc: &SpanContext,
) -> PyResult<Bound<'py, PyAny>> {
    let entries: Vec<(&str, &str)> = sc
        .trace_state
        .entries()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let trace_state = otel.trace_state_type.bind(py).call0()?;
    if !entries.is_empty() {
        // The core already validated the entries (with the W3C Level 2 grammar, which allows
        // keys starting with a digit; the API's own check does not): fill the mapping as is,
        // falling back to the validating constructor if the API's layout ever changes.
        let filled = py
            .import(pyo3::intern!(py, "collections"))
            .and_then(|c| c.getattr(pyo3::intern!(py, "OrderedDict")))
            .and_then(|od| od.call1((entries.clone(),)))
            .and_then(|d| {
                if trace_state.hasattr(pyo3::intern!(py, "_dict"))? {
                    trace_state.setattr(pyo3::intern!(py, "_dict"), d)?;
                    Ok(true)
                } else {
                    Ok(false)
                }
            })
            .unwrap_or(false);
        if !filled {
            return otel.span_context_type.bind(py).call1((
                u128::from_be_bytes(sc.trace_id.0),
                u64::from_be_bytes(sc.span_id.0),
                sc.is_remote,
                otel.trace_flags_type.bind(py).call1((sc.trace_flags.0,))?,
                otel.trace_state_type.bind(py).call1((entries,))?,
            ));
        }
    }
    let flags = otel.trace_flags_type.bind(py).call1((sc.trace_flags.0,))?;
    otel.span_context_type.bind(py).call1((
        u128::from_be_bytes(sc.trace_id.0),
        u64::from_be_bytes(sc.span_id.0),
        sc.is_remote,
        flags,
        trace_state,
    ))
}

/// `set_status(status, description)` in both signatures → core status; `None` when the
/// argument is neither a `Status` nor a `StatusCode`.
pub(crate) fn status(
    otel: &Otel,
    status: &Bound<'_, PyAny>,
    description: Option<&Bound<'_, PyAny>>,
) -> Option<Status> {
    let description = description.filter(|d| !d.is_none());
    let (code, desc) = if status
        .is_instance(otel.status_type.bind(status.py()))
        .unwrap_or(false)
    {
        if description.is_some() {
            diag::emit_once(
                diag::Level::Warn,
                "py-status-description-ignored",
                "set_status: the description argument is ignored when a Status is given; use \
                 either `Status` or `(StatusCode, description)`",
            );
        }
        let desc = status.getattr("description").ok().filter(|d| !d.is_none());
        (status.getattr("status_code").ok()?, desc)
    } else {
        (status.clone(), description.cloned())
    };
    let [unset, ok, error] = &otel.status_codes;
    if code.is(unset) {
        Some(Status::Unset)
    } else if code.is(ok) {
        Some(Status::Ok)
    } else if code.is(error) {
        Some(Status::Error(desc.map(|d| name(&d)).unwrap_or_default()))
    } else {
        None
    }
}

/// A configuration option value (see `docs/configuration.md`): `bool`, `int`, `float`, `str`,
/// a path (`os.PathLike`), a sequence of `str` or a `str → str` mapping.
pub(crate) fn option_value(name: &str, v: &Bound<'_, PyAny>) -> PyResult<OptionValue> {
    let wrong = || {
        let msg = format!(
            "configuration option \"{name}\" has an unsupported type {}: expected bool, int, \
             float, str, a list of str or a dict of str to str",
            type_name(v)
        );
        crate::error::to_py(
            v.py(),
            &config::option_error(ConfigProblem::WrongType, name, msg),
        )
    };
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(OptionValue::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().map(OptionValue::Int).map_err(|_| {
            crate::error::to_py(
                v.py(),
                &config::option_error(
                    ConfigProblem::BadValue,
                    name,
                    format!("configuration option \"{name}\" is out of range"),
                ),
            )
        });
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(OptionValue::Float(f.value()));
    }
    if v.is_instance_of::<PyString>() {
        return utf8(v).map(OptionValue::Str).ok_or_else(wrong);
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut out = Vec::with_capacity(d.len());
        for (k, val) in d.iter() {
            let k: String = k.extract().map_err(|_| wrong())?;
            let val: String = val.extract().map_err(|_| wrong())?;
            out.push((k, val));
        }
        return Ok(OptionValue::Map(out));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items: Vec<String> = v.extract().map_err(|_| wrong())?;
        return Ok(OptionValue::List(items));
    }
    // pathlib.Path and other os.PathLike objects.
    if let Ok(p) = v.call_method0("__fspath__") {
        if let Ok(s) = p.extract::<String>() {
            return Ok(OptionValue::Str(s));
        }
    }
    Err(wrong())
}

/// Options from a `dict` of keyword arguments; `None` values mean "not given".
pub(crate) fn options(opts: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, OptionValue)>> {
    let Some(opts) = opts else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(opts.len() + 1);
    for (k, v) in opts.iter() {
        let k: String = k
            .extract()
            .map_err(|_| PyTypeError::new_err("option names must be str"))?;
        if v.is_none() {
            continue;
        }
        let value = option_value(&k, &v)?;
        out.push((k, value));
    }
    Ok(out)
}
