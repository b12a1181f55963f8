"""polytrace: an OpenTelemetry ``TracerProvider`` backed by the polytrace Rust core.

>>> import polytrace
>>> from opentelemetry import trace
>>> provider = polytrace.install(service_name="checkout")   # global provider + propagator
>>> tracer = trace.get_tracer(__name__)
>>> with tracer.start_as_current_span("work") as span:
...     span.set_attribute("items", 3)

Configuration comes from the ``OTEL_*`` environment variables and keyword overrides with the
core's option names (``service_name``, ``endpoint``, ``protocol``, ``headers``, ``sampler``,
``max_queue_size``, ...; see ``docs/configuration.md``). Spans are real
``opentelemetry.trace.Span`` objects, so every ``opentelemetry-instrumentation-*`` package works
unchanged. Queued spans are exported at interpreter exit (bounded by ``OTEL_BSP_EXPORT_TIMEOUT``)
and a forked child gets a working pipeline.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import weakref
from typing import Any, Dict, Optional

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.util.types import Attributes

from . import _native
from ._errors import (
    AlreadyShutdownError,
    ConfigError,
    Error,
    ExportError,
    InternalError,
    InvalidArgumentError,
    TimeoutError,
)

__all__ = [
    "TracerProvider",
    "install",
    "stats",
    "Span",
    "Tracer",
    "Propagator",
    "Error",
    "InvalidArgumentError",
    "ConfigError",
    "ExportError",
    "TimeoutError",
    "AlreadyShutdownError",
    "InternalError",
    "OPTION_NAMES",
]

__version__ = "0.1.0"

_logger = logging.getLogger("polytrace")

#: The native span class: a virtual subclass of ``opentelemetry.trace.Span``.
Span = _native.Span
#: The native tracer class: a virtual subclass of ``opentelemetry.trace.Tracer``.
Tracer = _native.Tracer
#: The core's W3C propagator: a virtual subclass of ``TextMapPropagator``.
Propagator = _native.Propagator

# The native classes *are* OpenTelemetry API objects: registering them as virtual subclasses
# makes isinstance()/issubclass() true with no wrapper on the hot path (see README, "Design").
trace.Span.register(_native.Span)
trace.Tracer.register(_native.Tracer)
TextMapPropagator.register(_native.Propagator)

#: Every accepted configuration option name (snake_case; camelCase is accepted too).
OPTION_NAMES = tuple(_native.option_names())

# Every native provider of this process, for the fork and exit hooks.
_providers: "weakref.WeakSet[_native.Provider]" = weakref.WeakSet()
_installed: Optional["TracerProvider"] = None
_last: "Optional[weakref.ReferenceType[TracerProvider]]" = None


class TracerProvider(trace.TracerProvider):
    """An ``opentelemetry.trace.TracerProvider`` whose spans are recorded, sampled, batched and
    exported by the polytrace core.

    Keyword arguments override the ``OTEL_*`` environment with the core's option names, e.g.
    ``TracerProvider(service_name="api", endpoint="http://collector:4318",
    protocol="http/protobuf", sampler="parentbased_traceidratio", sampler_arg=0.1)``. A value of
    ``None`` means "not given". An unknown option or a bad value raises :class:`ConfigError`
    (a ``ValueError``).
    """

    def __init__(self, **overrides: Any) -> None:
        global _last
        self._native = _native.Provider(overrides)
        self._tracers: Dict[Any, Tracer] = {}
        self._lock = threading.Lock()
        _providers.add(self._native)
        _last = weakref.ref(self)

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: Optional[str] = None,
        schema_url: Optional[str] = None,
        attributes: Attributes = None,
    ) -> trace.Tracer:
        """A tracer for an instrumentation scope (cached per name, version and schema URL)."""
        if not instrumenting_module_name:
            _logger.warning("get_tracer called with a missing module name")
            instrumenting_module_name = ""
        if attributes:
            return self._native.tracer(
                instrumenting_module_name, instrumenting_library_version, schema_url, attributes
            )
        key = (instrumenting_module_name, instrumenting_library_version, schema_url)
        tracer = self._tracers.get(key)
        if tracer is None:
            with self._lock:
                tracer = self._tracers.get(key)
                if tracer is None:
                    tracer = self._native.tracer(*key)
                    self._tracers[key] = tracer
        return tracer

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Exports every ended span now; ``False`` if that took longer than ``timeout_millis``.
        The GIL is released while waiting."""
        return self._native.force_flush(max(0, int(timeout_millis)))

    def shutdown(self, timeout_millis: Optional[int] = None) -> None:
        """Exports what is queued and stops; afterwards spans are no-ops. Everything is done
        within ``timeout_millis`` (default: the core's exit bound, ``OTEL_EXPORTER_OTLP_TIMEOUT``
        or ``OTEL_BSP_EXPORT_TIMEOUT`` if smaller) plus at most 0.4 s, with the GIL released:
        what the back end did not take by then is counted as dropped in :meth:`stats`. A back
        end that refuses connections is not retried. A second call does nothing."""
        if timeout_millis is None:
            timeout_millis = self._native.exit_timeout_millis
        try:
            self._native.shutdown(max(0, int(timeout_millis)))
        except AlreadyShutdownError:
            pass
        except TimeoutError as e:
            _logger.warning("shutdown: %s", e)

    def stats(self) -> Dict[str, int]:
        """This provider's counters: ``spans_started``, ``spans_ended``, ``spans_exported``,
        ``spans_dropped`` (with ``dropped_queue_full``, ``dropped_export_failed``,
        ``dropped_shutdown``), ``export_failures``, the sampler's ``spans_sampled`` and
        ``spans_not_sampled``, and the remote sampler's ``sampler_polls`` and
        ``sampler_poll_failures`` (the core's ``Stats``)."""
        return self._native.stats()

    @property
    def config(self) -> Dict[str, str]:
        """The effective configuration (option name → canonical string)."""
        return dict(self._native.effective_config())

    @property
    def propagator(self) -> TextMapPropagator:
        """The configured propagator (``OTEL_PROPAGATORS``, default ``tracecontext,baggage``)."""
        return self._native.propagator

    def __repr__(self) -> str:
        return f"polytrace.TracerProvider(service_name={self.config.get('service_name')!r})"


def install(**overrides: Any) -> TracerProvider:
    """Creates a :class:`TracerProvider` and makes it the global tracer provider, and its
    propagator (``OTEL_PROPAGATORS``) the global propagator. Returns the provider."""
    global _installed
    provider = TracerProvider(**overrides)
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        _logger.warning(
            "install: a global tracer provider was already set; OpenTelemetry does not allow "
            "replacing it, so the polytrace provider is not the global one"
        )
    propagate.set_global_textmap(provider.propagator)
    _installed = provider
    return provider


_ZERO_STATS = {
    "spans_started": 0,
    "spans_ended": 0,
    "spans_exported": 0,
    "spans_dropped": 0,
    "dropped_queue_full": 0,
    "dropped_export_failed": 0,
    "dropped_shutdown": 0,
    "dropped_invalid": 0,
    "export_failures": 0,
    "spans_sampled": 0,
    "spans_not_sampled": 0,
    "sampler_polls": 0,
    "sampler_poll_failures": 0,
}


def stats() -> Dict[str, int]:
    """The counters of the process's pipeline: the provider set by :func:`install`, else the most
    recently created :class:`TracerProvider` (zeros when there is none)."""
    provider = _installed or (_last() if _last is not None else None)
    if provider is None:
        return dict(_ZERO_STATS)
    return provider.stats()


def _shutdown_all() -> None:
    """Exit hook: flushes and stops every live provider, all within the longest exit bound of
    them (the core's ``exit_timeout``: ``OTEL_EXPORTER_OTLP_TIMEOUT``, or
    ``OTEL_BSP_EXPORT_TIMEOUT`` if smaller), then stops routing core diagnostics to ``logging``."""
    providers = [p for p in list(_providers) if not p.is_shutdown()]
    if providers:
        budget_ms = max(p.exit_timeout_millis for p in providers)
        deadline = time.monotonic() + budget_ms / 1000.0
        for p in providers:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            try:
                p.shutdown(left)
            except Error as e:  # Timeout, AlreadyShutdown: nothing more to do at exit.
                _logger.debug("exit flush: %s", e)
    _native._set_python_logging(False)


def _after_fork_in_child() -> None:
    """Fork hook: a fresh batch worker and exporter in the child for every provider."""
    for p in list(_providers):
        try:
            p.after_fork_child()
        except Exception:  # never break the child
            _logger.exception("polytrace: restarting the pipeline after fork failed")


class _MultiprocessingHook:
    """multiprocessing children leave through ``os._exit()``, skipping atexit, after running
    multiprocessing's own exit finalizers; it clears inherited finalizers first, then calls its
    after-fork hooks: register the exit flush there."""

    @staticmethod
    def register(_: object) -> None:
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util.Finalize(None, _shutdown_all, exitpriority=-100)


_mp_hook = _MultiprocessingHook()
atexit.register(_shutdown_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
try:
    import multiprocessing.util as _mp_util

    _mp_util.register_after_fork(_mp_hook, _MultiprocessingHook.register)
except Exception:  # pragma: no cover - multiprocessing unavailable (e.g. some sandboxes)
    pass
