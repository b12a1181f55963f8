"""Handle lifetime: spans and tracers outlive their provider object, calls after shutdown are
no-ops, double end/shutdown is harmless, and nothing leaks or crashes under GC."""

from __future__ import annotations

import gc
import weakref

import polytrace
from opentelemetry import trace


def test_span_outlives_provider_object(tmp_path):
    p = polytrace.TracerProvider(exporter="file", file_path=str(tmp_path / "a.jsonl"))
    tracer = p.get_tracer("t")
    span = tracer.start_span("survivor")
    native = p._native
    del p
    gc.collect()
    span.set_attribute("k", 1)
    span.end()
    # The tracer keeps the native provider alive, so the exit flush still covers its spans.
    assert native.force_flush(5000)
    assert native.stats()["spans_exported"] == 1
    native.shutdown(5000)


def test_provider_is_collected_when_unused():
    p = polytrace.TracerProvider(exporter="none")
    ref = weakref.ref(p._native)
    del p
    gc.collect()
    assert ref() is None
    assert ref not in list(polytrace._providers)


def test_calls_after_shutdown_are_noops(tmp_path):
    p = polytrace.TracerProvider(exporter="file", file_path=str(tmp_path / "b.jsonl"))
    t = p.get_tracer("t")
    live = t.start_span("live")
    p.shutdown()
    live.set_attribute("after", 1)
    live.end()
    live.end()
    with t.start_as_current_span("after") as s:
        assert not s.is_recording()
        s.set_attribute("k", "v")
        s.add_event("e")
        s.set_status(trace.StatusCode.ERROR)
    p.shutdown()
    with_native = p._native
    try:
        with_native.shutdown(10)
    except polytrace.AlreadyShutdownError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a second native shutdown must raise AlreadyShutdownError")
    st = p.stats()
    assert st["dropped_shutdown"] == 1  # `live` ended after shutdown


def test_many_spans_and_contexts_are_released():
    p = polytrace.TracerProvider(exporter="none")
    t = p.get_tracer("t")
    refs = []
    for _ in range(100):
        s = t.start_span("x")
        refs.append(weakref.ref(s))
        s.get_span_context()
        s.end()
        del s
    gc.collect()
    assert all(r() is None for r in refs)
    p.shutdown()


def test_unended_span_is_dropped_silently():
    p = polytrace.TracerProvider(exporter="none")
    t = p.get_tracer("t")
    t.start_span("never-ended")
    gc.collect()
    assert p.stats()["spans_ended"] == 0
    p.shutdown()
