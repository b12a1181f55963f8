//! Vectorcall (`METH_FASTCALL | METH_KEYWORDS`) entry points for the hot methods.
//!
//! With the `abi3-py39` stable ABI, pyo3 can only generate `METH_VARARGS` methods (fastcall
//! joined the limited API in 3.10), which costs a tuple allocation (and a keyword dict) per
//! call — measurable when a span is five calls. CPython has supported the fastcall convention
//! with the same layout since 3.7, so at module init the hot methods of `Span`, `Tracer`,
//! `CurrentSpan` and `Propagator` are replaced by method descriptors with that convention; each
//! parses its arguments here and calls the same Rust implementation as the pyo3 method it
//! replaces (whose text signature and docstring it keeps).

use crate::error::to_py;
use crate::propagator::PyPropagator;
use crate::span::PySpan;
use crate::tracer::{CurrentSpan, PyTracer};
use polytrace_core::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};
use std::ffi::CString;

/// `PyCFunctionFastWithKeywords`, which pyo3-ffi declares only for abi3 ≥ 3.10.
type FastFn = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    ffi::Py_ssize_t,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

const METH_FASTCALL: std::os::raw::c_int = 0x0080;

/// Runs an entry point: a `PyErr` is restored and NULL returned; a panic becomes
/// `InternalError`.
#[inline]
fn trampoline(f: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>) -> *mut ffi::PyObject {
    // SAFETY: CPython calls method implementations with the GIL held (attached thread state).
    let py = unsafe { Python::assume_attached() };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(py))) {
        Ok(Ok(obj)) => obj.into_ptr(),
        Ok(Err(e)) => {
            e.restore(py);
            std::ptr::null_mut()
        }
        Err(payload) => {
            to_py(py, &Error::from_panic(payload.as_ref())).restore(py);
            std::ptr::null_mut()
        }
    }
}

/// Binds fastcall arguments to `names` (the first `required` are mandatory), as Python would.
///
/// # Safety
/// `args` must point to `nargs` positional objects followed by one object per entry of
/// `kwnames` (a tuple of str, or NULL), all borrowed for the duration of the call — the
/// fastcall convention.
#[inline]
unsafe fn parse<'py, const N: usize>(
    py: Python<'py>,
    fname: &str,
    names: [&str; N],
    required: usize,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<[Option<Bound<'py, PyAny>>; N]> {
    let mut out: [Option<Bound<'py, PyAny>>; N] = std::array::from_fn(|_| None);
    let nargs = nargs.max(0) as usize;
    if nargs > N {
        return Err(PyTypeError::new_err(format!(
            "{fname}() takes at most {N} arguments ({nargs} given)"
        )));
    }
    for (i, slot) in out.iter_mut().enumerate().take(nargs) {
        // SAFETY: per the fastcall convention (see the function's contract).
        *slot = Some(unsafe { Bound::from_borrowed_ptr(py, *args.add(i)) });
    }
    if !kwnames.is_null() {
        // SAFETY: kwnames is a live tuple (contract).
        let kw = unsafe { Bound::from_borrowed_ptr(py, kwnames) };
        let kw = kw.cast_into::<PyTuple>()?;
        for (j, name) in kw.iter().enumerate() {
            let name = name.cast_into::<PyString>()?;
            let name = crate::convert::utf8_borrowed(name.as_any()).unwrap_or("");
            let Some(idx) = names.iter().position(|n| *n == name) else {
                return Err(PyTypeError::new_err(format!(
                    "{fname}() got an unexpected keyword argument '{name}'"
                )));
            };
            if out[idx].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "{fname}() got multiple values for argument '{name}'"
                )));
            }
            // SAFETY: keyword values follow the positional ones (contract).
            out[idx] = Some(unsafe { Bound::from_borrowed_ptr(py, *args.add(nargs + j)) });
        }
    }
    for (i, name) in names.iter().enumerate().take(required) {
        if out[i].is_none() {
            return Err(PyTypeError::new_err(format!(
                "{fname}() missing required argument '{name}'"
            )));
        }
    }
    Ok(out)
}

/// `self` as the pyclass `T`.
///
/// # Safety
/// `slf` must be a live object borrowed for the call.
#[inline]
unsafe fn this<'py, T: pyo3::PyClass>(
    py: Python<'py>,
    slf: *mut ffi::PyObject,
) -> PyResult<Bound<'py, T>> {
    // SAFETY: contract.
    let b = unsafe { Bound::from_borrowed_ptr(py, slf) };
    Ok(b.cast_into::<T>()?)
}

fn truthy(v: &Option<Bound<'_, PyAny>>, default: bool) -> PyResult<bool> {
    match v {
        Some(v) => v.is_truthy(),
        None => Ok(default),
    }
}

/// Unwraps an argument that `parse` guaranteed (required), without panicking.
fn req<'a, 'py>(v: &'a Option<Bound<'py, PyAny>>) -> PyResult<&'a Bound<'py, PyAny>> {
    v.as_ref()
        .ok_or_else(|| PyTypeError::new_err("missing required argument"))
}

unsafe extern "C" fn span_set_attribute(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [key, value] = unsafe {
            parse(
                py,
                "set_attribute",
                ["key", "value"],
                2,
                args,
                nargs,
                kwnames,
            )?
        };
        let s = unsafe { this::<PySpan>(py, slf)? };
        s.get().set_attribute_inner(req(&key)?, req(&value)?);
        Ok(py.None())
    })
}

unsafe extern "C" fn span_end(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [end_time] = unsafe { parse(py, "end", ["end_time"], 0, args, nargs, kwnames)? };
        let s = unsafe { this::<PySpan>(py, slf)? };
        s.get().end_inner(end_time.as_ref());
        Ok(py.None())
    })
}

unsafe extern "C" fn span_exit(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [t, v, tb] = unsafe {
            parse(
                py,
                "__exit__",
                ["exc_type", "exc_val", "exc_tb"],
                3,
                args,
                nargs,
                kwnames,
            )?
        };
        let s = unsafe { this::<PySpan>(py, slf)? };
        s.get().__exit__(py, req(&t)?, req(&v)?, req(&tb)?)?;
        Ok(py.None())
    })
}

const START_NAMES: [&str; 9] = [
    "name",
    "context",
    "kind",
    "attributes",
    "links",
    "start_time",
    "record_exception",
    "set_status_on_exception",
    "end_on_exit",
];

unsafe extern "C" fn tracer_start_span(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        let names: [&str; 8] = [
            START_NAMES[0],
            START_NAMES[1],
            START_NAMES[2],
            START_NAMES[3],
            START_NAMES[4],
            START_NAMES[5],
            START_NAMES[6],
            START_NAMES[7],
        ];
        // SAFETY: called by CPython with the fastcall convention.
        let [name, context, kind, attributes, links, start_time, rec, set_status] =
            unsafe { parse(py, "start_span", names, 1, args, nargs, kwnames)? };
        let t = unsafe { this::<PyTracer>(py, slf)? };
        let span = t.get().start(
            py,
            req(&name)?,
            context.as_ref(),
            kind.as_ref(),
            attributes.as_ref(),
            links.as_ref(),
            start_time.as_ref(),
            truthy(&rec, true)?,
            truthy(&set_status, true)?,
        )?;
        Ok(Bound::new(py, span)?.into_any().unbind())
    })
}

unsafe extern "C" fn tracer_start_as_current_span(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [name, context, kind, attributes, links, start_time, rec, set_status, end_on_exit] = unsafe {
            parse(
                py,
                "start_as_current_span",
                START_NAMES,
                1,
                args,
                nargs,
                kwnames,
            )?
        };
        let t = unsafe { this::<PyTracer>(py, slf)? };
        let un = |v: Option<Bound<'_, PyAny>>| v.map(Bound::unbind);
        let cm = PyTracer::start_as_current_span(
            t.unbind(),
            req(&name)?.clone().unbind(),
            un(context),
            un(kind),
            un(attributes),
            un(links),
            un(start_time),
            truthy(&rec, true)?,
            truthy(&set_status, true)?,
            truthy(&end_on_exit, true)?,
        );
        Ok(Bound::new(py, cm)?.into_any().unbind())
    })
}

unsafe extern "C" fn current_span_exit(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [t, v, tb] = unsafe {
            parse(
                py,
                "__exit__",
                ["exc_type", "exc_val", "exc_tb"],
                3,
                args,
                nargs,
                kwnames,
            )?
        };
        let cm = unsafe { this::<CurrentSpan>(py, slf)? };
        cm.borrow_mut()
            .__exit__(py, req(&t)?, req(&v)?, req(&tb)?)?;
        Ok(py.None())
    })
}

unsafe extern "C" fn propagator_inject(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [carrier, context, setter] = unsafe {
            parse(
                py,
                "inject",
                ["carrier", "context", "setter"],
                1,
                args,
                nargs,
                kwnames,
            )?
        };
        let p = unsafe { this::<PyPropagator>(py, slf)? };
        p.get()
            .inject(py, req(&carrier)?, context.as_ref(), setter.as_ref())?;
        Ok(py.None())
    })
}

unsafe extern "C" fn propagator_extract(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    trampoline(|py| {
        // SAFETY: called by CPython with the fastcall convention.
        let [carrier, context, getter] = unsafe {
            parse(
                py,
                "extract",
                ["carrier", "context", "getter"],
                1,
                args,
                nargs,
                kwnames,
            )?
        };
        let p = unsafe { this::<PyPropagator>(py, slf)? };
        Ok(p.get()
            .extract(py, req(&carrier)?, context.as_ref(), getter.as_ref())?
            .unbind())
    })
}

/// Replaces method `name` of `ty` by a fastcall descriptor for `f`, keeping the pyo3 method's
/// text signature and docstring.
fn install(ty: &Bound<'_, PyType>, name: &'static str, f: FastFn) -> PyResult<()> {
    let py = ty.py();
    let existing = ty.getattr(name)?;
    let sig: String = existing
        .getattr("__text_signature__")
        .ok()
        .and_then(|s| s.extract().ok())
        .unwrap_or_else(|| "($self, /, *args, **kwargs)".into());
    let doc: String = existing
        .getattr("__doc__")
        .ok()
        .and_then(|s| s.extract().ok())
        .unwrap_or_default();
    let name_c = CString::new(name).map_err(|e| PyTypeError::new_err(e.to_string()))?;
    let doc_c = CString::new(format!("{name}{sig}\n--\n\n{doc}"))
        .map_err(|e| PyTypeError::new_err(e.to_string()))?;
    // The definition must live as long as the type: leaked once per method at module init.
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: Box::leak(name_c.into_boxed_c_str()).as_ptr(),
        // SAFETY: both are `extern "C"` function pointers of the same size; CPython calls it
        // with the fastcall signature because of `ml_flags`.
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: unsafe { std::mem::transmute::<FastFn, ffi::PyCFunction>(f) },
        },
        ml_flags: METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: Box::leak(doc_c.into_boxed_c_str()).as_ptr(),
    }));
    // SAFETY: a valid type and a 'static method definition.
    let descr =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(ty.as_type_ptr(), def))? };
    ty.setattr(name, descr)
}

/// Installs every fastcall entry point (called once from the module init).
pub(crate) fn install_all(py: Python<'_>) -> PyResult<()> {
    let span = py.get_type::<PySpan>();
    install(&span, "set_attribute", span_set_attribute)?;
    install(&span, "end", span_end)?;
    install(&span, "__exit__", span_exit)?;
    let tracer = py.get_type::<PyTracer>();
    install(&tracer, "start_span", tracer_start_span)?;
    install(
        &tracer,
        "start_as_current_span",
        tracer_start_as_current_span,
    )?;
    let cm = py.get_type::<CurrentSpan>();
    install(&cm, "__exit__", current_span_exit)?;
    let prop = py.get_type::<PyPropagator>();
    install(&prop, "inject", propagator_inject)?;
    install(&prop, "extract", propagator_extract)?;
    Ok(())
}
