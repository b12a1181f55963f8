//! `polytrace._native`: the pyo3 extension behind the `polytrace` Python package.
//!
//! The binding only converts values, plugs spans into `opentelemetry.context`, and presents the
//! OpenTelemetry Python API; every tracing decision is made by `polytrace-core`. The public
//! Python surface (`polytrace.TracerProvider`, `install`, `stats`) is in
//! `python/polytrace/__init__.py`.

mod context;
mod convert;
mod error;
mod fast;
mod propagator;
mod provider;
mod span;
mod tracer;

use polytrace_core::diag;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// False once the interpreter is exiting: core diagnostics then go to stderr instead of
/// `logging` (a background thread must not try to take the GIL during finalization).
static PY_LOGGING: AtomicBool = AtomicBool::new(true);

fn log_to_python(level: diag::Level, message: &str) {
    if PY_LOGGING.load(Ordering::Acquire) {
        let done = Python::try_attach(|py| {
            let r = (|| -> PyResult<()> {
                let logger = py
                    .import(pyo3::intern!(py, "logging"))?
                    .call_method1(pyo3::intern!(py, "getLogger"), ("polytrace",))?;
                let method = match level {
                    diag::Level::Warn => pyo3::intern!(py, "warning"),
                    diag::Level::Error => pyo3::intern!(py, "error"),
                };
                logger.call_method1(method, (message,))?;
                Ok(())
            })();
            r.is_ok()
        });
        if done == Some(true) {
            return;
        }
    }
    eprintln!("polytrace: {message}");
}

/// Routes core diagnostics to Python `logging` (logger `polytrace`) when `enabled`, to stderr
/// otherwise. The exit hook turns it off after the final flush.
#[pyfunction]
fn _set_python_logging(enabled: bool) {
    PY_LOGGING.store(enabled, Ordering::Release);
}

/// Panics inside the core on purpose: proves that a panic becomes `polytrace.InternalError`.
#[cfg(feature = "testing")]
#[pyfunction]
fn _testing_panic(py: Python<'_>) -> PyResult<()> {
    use error::IntoPy;
    entry!(py, {
        polytrace_core::error::testing::panic_now().py_err(py)
    })
}

/// Returns a core error of the named kind: proves the kind → exception mapping.
#[cfg(feature = "testing")]
#[pyfunction]
fn _testing_error(py: Python<'_>, kind: &str) -> PyResult<()> {
    use error::IntoPy;
    entry!(py, {
        polytrace_core::error::testing::error(kind).py_err(py)
    })
}

/// The core's error kind names, in a stable order.
#[pyfunction]
fn error_kinds() -> Vec<&'static str> {
    polytrace_core::ErrorKind::ALL
        .iter()
        .map(|k| k.name())
        .collect()
}

#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<provider::PyProvider>()?;
    m.add_class::<tracer::PyTracer>()?;
    m.add_class::<tracer::CurrentSpan>()?;
    m.add_class::<span::PySpan>()?;
    m.add_class::<propagator::PyPropagator>()?;
    m.add_function(wrap_pyfunction!(provider::_resolve_config, m)?)?;
    m.add_function(wrap_pyfunction!(provider::option_names, m)?)?;
    m.add_function(wrap_pyfunction!(error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(_set_python_logging, m)?)?;
    #[cfg(feature = "testing")]
    {
        m.add_function(wrap_pyfunction!(_testing_panic, m)?)?;
        m.add_function(wrap_pyfunction!(_testing_error, m)?)?;
    }
    m.add("TESTING", cfg!(feature = "testing"))?;
    fast::install_all(m.py())?;
    diag::set_handler(Some(Arc::new(log_to_python)));
    Ok(())
}
