//! Glue with the `opentelemetry-api` package: the Python objects the binding needs (context
//! keys, classes, enum members), imported once, and the context operations of
//! `opentelemetry.context` (get current, attach, detach, set a span in a context).
//!
//! Host context stays in the host: spans live in `opentelemetry.context` contexts, so
//! contextvars, threads and asyncio tasks keep the right parent. When the runtime context is the
//! API's default (`ContextVarsRuntimeContext`), its `ContextVar` is used directly through the
//! `contextvars` C API — the same variable the API functions read and write, without their two
//! Python frames and a method call per operation.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyType};
use pyo3::{intern, Py, PyAny};

/// Objects of `opentelemetry-api` and the standard library used on the hot path.
pub(crate) struct Otel {
    /// `opentelemetry.trace.propagation._SPAN_KEY`.
    pub span_key: Py<PyString>,
    /// `opentelemetry.baggage._BAGGAGE_KEY`.
    pub baggage_key: Py<PyString>,
    /// A private context key holding baggage metadata from `extract` (the Python baggage API
    /// has values only; W3C properties survive a round trip through this).
    pub metadata_key: Py<PyString>,
    /// `opentelemetry.context.Context`.
    pub context_type: Py<PyAny>,
    /// Its `tp_new` slot, when it is a `dict` subclass without its own `__new__`/`__init__`.
    context_new: Option<ffi::newfunc>,
    /// The default runtime context's `ContextVar` (exactly a `contextvars.ContextVar`), when
    /// that runtime context is in use: read and written with the C API (see [`ContextVar`]).
    context_var: Option<ContextVar>,
    get_current: Py<PyAny>,
    attach: Py<PyAny>,
    detach: Py<PyAny>,
    /// `opentelemetry.trace.SpanContext`, `TraceFlags`, `TraceState`.
    pub span_context_type: Py<PyAny>,
    pub trace_flags_type: Py<PyAny>,
    pub trace_state_type: Py<PyAny>,
    /// `opentelemetry.trace.Status` and the `StatusCode` members `UNSET`, `OK`, `ERROR`.
    pub status_type: Py<PyAny>,
    pub status_codes: [Py<PyAny>; 3],
    /// `opentelemetry.trace.SpanKind` members in core order (internal, server, client,
    /// producer, consumer).
    pub span_kinds: [Py<PyAny>; 5],
    /// `opentelemetry.propagators.textmap.default_getter` / `default_setter`.
    pub default_getter: Py<PyAny>,
    pub default_setter: Py<PyAny>,
    /// `traceback.format_exception`.
    pub format_exception: Py<PyAny>,
    /// `logging.getLogger("opentelemetry.context")`, for a failed detach (as the API logs it).
    context_logger: Py<PyAny>,
}

static OTEL: PyOnceLock<Otel> = PyOnceLock::new();

unsafe extern "C" {
    // The `contextvars` C API (CPython >= 3.7; public but outside the limited API, so pyo3
    // declares it only for non-abi3 builds). Calling these directly instead of the bound
    // `ContextVar.get/set/reset` methods saves a method call (and its argument vector) three
    // times per `start_as_current_span` block. Same functions, same semantics: the methods are
    // thin wrappers around them.
    fn PyContextVar_Get(
        var: *mut ffi::PyObject,
        default_value: *mut ffi::PyObject,
        value: *mut *mut ffi::PyObject,
    ) -> std::os::raw::c_int;
    fn PyContextVar_Set(var: *mut ffi::PyObject, value: *mut ffi::PyObject) -> *mut ffi::PyObject;
    fn PyContextVar_Reset(
        var: *mut ffi::PyObject,
        token: *mut ffi::PyObject,
    ) -> std::os::raw::c_int;
}

/// A `contextvars.ContextVar` (checked to be exactly that type when loaded, which the C API
/// requires), with `get`, `set` and `reset` as `ContextVar.get()`, `.set(v)` and `.reset(t)`.
struct ContextVar(Py<PyAny>);

impl ContextVar {
    /// `var.get()`: the value, else the variable's default, else `LookupError`.
    #[inline]
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut value: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: `self.0` is a `ContextVar` (checked in `Otel::load`), the GIL is held; on
        // success `value` is a new reference or NULL (no value and no default).
        unsafe {
            if PyContextVar_Get(self.0.as_ptr(), std::ptr::null_mut(), &mut value) != 0 {
                return Err(PyErr::fetch(py));
            }
            if value.is_null() {
                return Err(pyo3::exceptions::PyLookupError::new_err(
                    "the current context variable has no value",
                ));
            }
            Ok(Bound::from_owned_ptr(py, value))
        }
    }

    /// `var.set(value)`: the `Token` that restores the previous value.
    #[inline]
    fn set<'py>(&self, py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: as in `get`; returns a new reference to a `Token`, or NULL with an exception.
        unsafe {
            Bound::from_owned_ptr_or_err(py, PyContextVar_Set(self.0.as_ptr(), value.as_ptr()))
        }
    }

    /// `var.reset(token)`: fails (`ValueError`, `RuntimeError`, `TypeError`) for a token of
    /// another variable or context, or one already used.
    #[inline]
    fn reset(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<()> {
        // SAFETY: as in `get`; `PyContextVar_Reset` type-checks the token itself.
        unsafe {
            if PyContextVar_Reset(self.0.as_ptr(), token.as_ptr()) != 0 {
                return Err(PyErr::fetch(py));
            }
        }
        Ok(())
    }
}

fn attr(py: Python<'_>, module: &str, name: &str) -> PyResult<Py<PyAny>> {
    Ok(py.import(module)?.getattr(name)?.unbind())
}

impl Otel {
    fn load(py: Python<'_>) -> PyResult<Otel> {
        let context = py.import("opentelemetry.context")?;
        let runtime = context.getattr("_RUNTIME_CONTEXT")?;
        let context_var = {
            let ty = runtime.get_type();
            let is_default = ty.name()?.to_cow()? == "ContextVarsRuntimeContext"
                && ty.module()?.to_cow()? == "opentelemetry.context.contextvars_context";
            let var = if is_default {
                runtime.getattr("_current_context").ok()
            } else {
                None
            };
            let exact = py.import("contextvars")?.getattr("ContextVar")?;
            match var {
                Some(v) if v.get_type().is(&exact) => Some(ContextVar(v.unbind())),
                _ => None,
            }
        };
        let str_key = |module: &str, name: &str| -> PyResult<Py<PyString>> {
            Ok(py
                .import(module)?
                .getattr(name)?
                .cast_into::<PyString>()?
                .unbind())
        };
        let status_code = py.import("opentelemetry.trace")?.getattr("StatusCode")?;
        let kind = py.import("opentelemetry.trace")?.getattr("SpanKind")?;
        let metadata_key = context
            .getattr("create_key")?
            .call1(("polytrace-baggage-metadata",))?
            .cast_into::<PyString>()?
            .unbind();
        let context_type = context.getattr("Context")?;
        let context_new = context_tp_new(&context_type);
        Ok(Otel {
            span_key: str_key("opentelemetry.trace.propagation", "_SPAN_KEY")?,
            baggage_key: str_key("opentelemetry.baggage", "_BAGGAGE_KEY")?,
            metadata_key,
            context_type: context_type.unbind(),
            context_new,
            context_var,
            get_current: context.getattr("get_current")?.unbind(),
            attach: context.getattr("attach")?.unbind(),
            detach: context.getattr("detach")?.unbind(),
            span_context_type: attr(py, "opentelemetry.trace", "SpanContext")?,
            trace_flags_type: attr(py, "opentelemetry.trace", "TraceFlags")?,
            trace_state_type: attr(py, "opentelemetry.trace", "TraceState")?,
            status_type: attr(py, "opentelemetry.trace", "Status")?,
            status_codes: [
                status_code.getattr("UNSET")?.unbind(),
                status_code.getattr("OK")?.unbind(),
                status_code.getattr("ERROR")?.unbind(),
            ],
            span_kinds: [
                kind.getattr("INTERNAL")?.unbind(),
                kind.getattr("SERVER")?.unbind(),
                kind.getattr("CLIENT")?.unbind(),
                kind.getattr("PRODUCER")?.unbind(),
                kind.getattr("CONSUMER")?.unbind(),
            ],
            default_getter: attr(py, "opentelemetry.propagators.textmap", "default_getter")?,
            default_setter: attr(py, "opentelemetry.propagators.textmap", "default_setter")?,
            format_exception: attr(py, "traceback", "format_exception")?,
            context_logger: py
                .import("logging")?
                .getattr("getLogger")?
                .call1(("opentelemetry.context",))?
                .unbind(),
        })
    }
}

/// `Context`'s `tp_new`, if `Context` is a heap `dict` subclass that defines neither `__new__`
/// nor `__init__` (then `tp_new` alone builds an empty, usable instance).
fn context_tp_new(ty: &Bound<'_, PyAny>) -> Option<ffi::newfunc> {
    let ty = ty.cast::<PyType>().ok()?;
    let dict_type = ty.py().get_type::<PyDict>();
    if !ty.is_subclass(&dict_type).ok()? {
        return None;
    }
    let own = |name: &str| {
        ty.getattr("__dict__")
            .and_then(|d| d.contains(name))
            .unwrap_or(true)
    };
    if own("__new__") || own("__init__") {
        return None;
    }
    // SAFETY: a heap type (a Python class), for which PyType_GetSlot is valid on every
    // supported version; the slot holds a `newfunc` or NULL.
    unsafe {
        let slot = ffi::PyType_GetSlot(ty.as_type_ptr(), ffi::Py_tp_new);
        if slot.is_null() {
            None
        } else {
            Some(std::mem::transmute::<*mut std::os::raw::c_void, ffi::newfunc>(slot))
        }
    }
}

/// The cached objects (imported on first use).
#[inline]
pub(crate) fn otel(py: Python<'_>) -> PyResult<&'static Otel> {
    OTEL.get_or_try_init(py, || Otel::load(py))
}

impl Otel {
    /// `opentelemetry.context.get_current()`.
    #[inline]
    pub(crate) fn current<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.context_var {
            Some(var) => var.get(py),
            None => self.get_current.bind(py).call0(),
        }
    }

    /// `context` when given (not `None`), else the current context.
    #[inline]
    pub(crate) fn or_current<'py>(
        &self,
        py: Python<'py>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match context {
            Some(c) if !c.is_none() => Ok(c.clone()),
            _ => self.current(py),
        }
    }

    /// `opentelemetry.context.attach(context)`: returns the token.
    #[inline]
    pub(crate) fn attach<'py>(
        &self,
        py: Python<'py>,
        context: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match &self.context_var {
            Some(var) => var.set(py, context),
            None => self.attach.bind(py).call1((context,)),
        }
    }

    /// `opentelemetry.context.detach(token)`: a failure is logged, never raised (as the API
    /// does: a token from another context must not break the application).
    #[inline]
    pub(crate) fn detach(&self, py: Python<'_>, token: &Bound<'_, PyAny>) {
        match &self.context_var {
            Some(var) => {
                if let Err(e) = var.reset(py, token) {
                    let _ = self.context_logger.bind(py).call_method1(
                        intern!(py, "error"),
                        (format!("Failed to detach context: {e}"),),
                    );
                }
            }
            None => {
                let _ = self.detach.bind(py).call1((token,));
            }
        }
    }

    /// A new context: `base` (or the current one) with `key` set to `value`, like
    /// `opentelemetry.context.set_value`. The new `Context` is filled through the C-level dict
    /// API before anyone sees it (`Context.__setitem__` forbids mutation afterwards).
    #[inline]
    pub(crate) fn with_value<'py>(
        &self,
        py: Python<'py>,
        base: Option<&Bound<'py, PyAny>>,
        key: &Py<PyString>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let base = self.or_current(py, base)?;
        let ctx = self.context_from(py, &base)?;
        ctx.cast::<PyDict>()?.set_item(key.bind(py), value)?;
        Ok(ctx)
    }

    /// A new `Context` holding a copy of `base`'s items (`Context(base)`, without the generic
    /// type-call path: `Context` is a plain `dict` subclass, so its `tp_new` gives an empty one
    /// and `PyDict_Merge` fills it).
    #[inline]
    pub(crate) fn context_from<'py>(
        &self,
        py: Python<'py>,
        base: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ty = self.context_type.bind(py);
        if let (Some(new), true) = (self.context_new, base.is_instance_of::<PyDict>()) {
            // SAFETY: `new` is the `tp_new` slot of the `Context` heap type, called with that
            // type, an empty args tuple and no kwargs, as `type.__call__` would.
            unsafe {
                let empty = ffi::PyTuple_New(0);
                let obj = new(ty.as_ptr().cast(), empty, std::ptr::null_mut());
                ffi::Py_DecRef(empty);
                let obj = Bound::from_owned_ptr_or_err(py, obj)?;
                if ffi::PyDict_Merge(obj.as_ptr(), base.as_ptr(), 1) != 0 {
                    return Err(PyErr::fetch(py));
                }
                return Ok(obj);
            }
        }
        ty.call1((base,))
    }

    /// A new, empty `Context` (`Context()`).
    #[inline]
    pub(crate) fn empty_context<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ty = self.context_type.bind(py);
        if let Some(new) = self.context_new {
            // SAFETY: as in `context_from`.
            unsafe {
                let empty = ffi::PyTuple_New(0);
                let obj = new(ty.as_ptr().cast(), empty, std::ptr::null_mut());
                ffi::Py_DecRef(empty);
                return Bound::from_owned_ptr_or_err(py, obj);
            }
        }
        ty.call0()
    }

    /// `context.get(key)` for a context (a `dict` subclass); `None` when absent.
    #[inline]
    pub(crate) fn get<'py>(
        &self,
        py: Python<'py>,
        context: &Bound<'py, PyAny>,
        key: &Py<PyString>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        match context.cast::<PyDict>() {
            Ok(d) => d.get_item(key.bind(py)),
            // Not a `Context` (a mapping-like object, or a wrong argument): best effort, and a
            // wrong argument means "no value" rather than an exception from a span call.
            Err(_) => match context.call_method1(intern!(py, "get"), (key.bind(py),)) {
                Ok(v) if !v.is_none() => Ok(Some(v)),
                _ => Ok(None),
            },
        }
    }
}
