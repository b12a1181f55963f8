//! The error mapping: one exhaustive `match` from the core's [`ErrorKind`] to the exception
//! classes of `polytrace._errors`, and [`guard`], which runs a binding entry point under
//! `catch_unwind` so that a Rust panic becomes `polytrace.InternalError` (pyo3's default would
//! be a `PanicException`, a `BaseException` that `except Exception` does not catch).

use polytrace_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The Python class name for each kind (defined in `python/polytrace/_errors.py`).
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::InvalidConfig => "ConfigError",
        ErrorKind::Export => "ExportError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::AlreadyShutdown => "AlreadyShutdownError",
        ErrorKind::Internal => "InternalError",
    }
}

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The exception class of `kind`.
fn class<'py>(py: Python<'py>, kind: ErrorKind) -> PyResult<Bound<'py, PyType>> {
    let module =
        ERRORS_MODULE.get_or_try_init(py, || py.import("polytrace._errors").map(Bound::unbind))?;
    Ok(module
        .bind(py)
        .getattr(class_name(kind))?
        .cast_into::<PyType>()?)
}

/// Converts a core error into the matching `polytrace` exception. A configuration error about
/// one option also gets the core's detail as attributes: `problem` (`"UnknownOption"`,
/// `"DuplicateOption"`, `"WrongType"`, `"BadValue"`) and `option` (the name as the caller
/// spelled it).
pub(crate) fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    let cls = match class(py, e.kind()) {
        Ok(cls) => cls,
        // The errors module could not be imported (a broken installation): still raise.
        Err(import_error) => return import_error,
    };
    let Some(problem) = e.config_problem() else {
        return PyErr::from_type(cls, e.message().to_string());
    };
    let with_detail = || -> PyResult<PyErr> {
        let exc = cls.call1((e.message(),))?;
        exc.setattr("problem", problem.name())?;
        exc.setattr("option", e.option())?;
        Ok(PyErr::from_value(exc))
    };
    with_detail().unwrap_or_else(|failed| failed)
}

/// Runs a binding entry point: a panic becomes `InternalError`, a core error its exception.
///
/// Every `#[pymethods]`/`#[pyfunction]` body that calls into the core goes through this (via
/// [`entry!`](crate::entry)), so no panic reaches pyo3's `PanicException`.
#[inline]
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(to_py(py, &Error::from_panic(payload.as_ref()))),
    }
}

/// Maps a core `Result` into a `PyResult`.
pub(crate) trait IntoPy<T> {
    /// The core error as its `polytrace` exception.
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for polytrace_core::Result<T> {
    #[inline]
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}

/// The body of a binding entry point: `entry!(py, { ... })` runs the block under [`guard`].
#[macro_export]
macro_rules! entry {
    ($py:expr, $body:block) => {
        $crate::error::guard($py, || $body)
    };
}
