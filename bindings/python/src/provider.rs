//! `polytrace._native.Provider`: one configured core pipeline. The public
//! `polytrace.TracerProvider` (Python, an `opentelemetry.trace.TracerProvider`) wraps it.
//! Flush and shutdown release the GIL while they wait.

use crate::convert;
use crate::entry;
use crate::error::IntoPy;
use crate::propagator::PyPropagator;
use crate::tracer::PyTracer;
use polytrace_core::config::{self, OptionValue};
use polytrace_core::{ErrorKind, Provider as CoreProvider};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::borrow::Cow;
use std::time::Duration;

/// A configured pipeline (sampler, limits, batch queue, exporter).
#[pyclass(module = "polytrace._native", name = "Provider", frozen, weakref)]
pub struct PyProvider {
    pub(crate) inner: CoreProvider,
}

#[pymethods]
impl PyProvider {
    /// A provider configured from `options` (the core's option names) over the `OTEL_*`
    /// environment. Invalid options raise `ConfigError`.
    #[new]
    #[pyo3(signature = (options=None))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        entry!(py, {
            let mut opts = convert::options(options)?;
            config::add_default_option(
                &mut opts,
                "sdk_language",
                OptionValue::Str("python".into()),
            );
            let inner = py
                .detach(|| polytrace_core::guard(|| CoreProvider::new(&opts)))
                .py_err(py)?;
            Ok(PyProvider { inner })
        })
    }

    /// A tracer for an instrumentation scope.
    #[pyo3(signature = (name, version=None, schema_url=None, attributes=None))]
    fn tracer(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        version: Option<String>,
        schema_url: Option<String>,
        attributes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTracer> {
        let py = slf.py();
        entry!(py, {
            let attrs = convert::attributes(attributes);
            let tracer =
                slf.get()
                    .inner
                    .tracer(Cow::Owned(convert::name(name)), version, schema_url, attrs);
            Ok(PyTracer::new(tracer, slf.clone().unbind()))
        })
    }

    /// Exports everything queued, waiting at most `timeout_millis` with the GIL released.
    /// `False` when the time ran out (the spans stay queued).
    fn force_flush(&self, py: Python<'_>, timeout_millis: u64) -> PyResult<bool> {
        entry!(py, {
            let inner = &self.inner;
            let r = py.detach(|| {
                polytrace_core::guard(|| inner.force_flush(Duration::from_millis(timeout_millis)))
            });
            match r {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == ErrorKind::Timeout => Ok(false),
                Err(e) => Err(crate::error::to_py(py, &e)),
            }
        })
    }

    /// Exports what is queued and stops (GIL released while waiting). Raises
    /// `AlreadyShutdownError` on a second call and `TimeoutError` when the time ran out.
    fn shutdown(&self, py: Python<'_>, timeout_millis: u64) -> PyResult<()> {
        entry!(py, {
            let inner = &self.inner;
            py.detach(|| {
                polytrace_core::guard(|| inner.shutdown(Duration::from_millis(timeout_millis)))
            })
            .py_err(py)
        })
    }

    /// True after `shutdown`.
    fn is_shutdown(&self) -> bool {
        self.inner.is_shutdown()
    }

    /// The pipeline's counters.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.stats().to_pairs() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Restarts the pipeline in a forked child (called from `os.register_at_fork`).
    fn after_fork_child(&self, py: Python<'_>) -> PyResult<()> {
        entry!(py, { self.inner.after_fork_child().py_err(py) })
    }

    /// The effective configuration as sorted `(option, value)` pairs.
    fn effective_config(&self) -> Vec<(String, String)> {
        self.inner.config().effective()
    }

    /// `(variable, message)` for every environment value that was ignored.
    fn warnings(&self) -> Vec<(String, String)> {
        self.inner
            .warnings()
            .iter()
            .map(|w| (w.variable.clone(), w.message.clone()))
            .collect()
    }

    /// The core's exit bound in milliseconds (`Provider::exit_timeout`): the default timeout
    /// of `shutdown` and the bound of the exit hook.
    #[getter]
    fn exit_timeout_millis(&self) -> u64 {
        self.inner.exit_timeout().as_millis() as u64
    }

    /// The configured propagator (`OTEL_PROPAGATORS`).
    #[getter]
    fn propagator(&self) -> PyPropagator {
        PyPropagator::new(self.inner.clone())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let service = self
            .inner
            .config()
            .effective()
            .into_iter()
            .find(|(k, _)| k == "service_name")
            .map(|(_, v)| v)
            .unwrap_or_default();
        let _ = py;
        format!("polytrace.Provider(service_name={service:?})")
    }
}

/// `(effective (option, value) pairs, environment variables that produced warnings)`.
type Resolved = (Vec<(String, String)>, Vec<String>);

/// Resolves a configuration from explicit `options` and a fake environment `env` without
/// building a pipeline: `(effective pairs, variables that produced warnings)`. Used by the
/// shared vectors (`tests/vectors/config.json`).
#[pyfunction]
pub(crate) fn _resolve_config(
    py: Python<'_>,
    options: &Bound<'_, PyDict>,
    env: &Bound<'_, PyDict>,
) -> PyResult<Resolved> {
    entry!(py, {
        let opts = convert::options(Some(options))?;
        let env: std::collections::HashMap<String, String> = env.extract()?;
        let lookup = |name: &str| env.get(name).cloned();
        let (config, warnings) =
            polytrace_core::config::Config::resolve(&opts, &lookup).py_err(py)?;
        Ok((
            config.effective(),
            warnings.into_iter().map(|w| w.variable).collect(),
        ))
    })
}

/// Every accepted option name (snake_case).
#[pyfunction]
pub(crate) fn option_names<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, polytrace_core::config::OPTION_NAMES)
}
