"""The OpenTelemetry API surface: polytrace spans and tracers are real OpenTelemetry objects and
every Span method records what the SDK would."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import context, trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

import polytrace


def test_types_are_opentelemetry_types(fp):
    provider = fp.provider
    assert isinstance(provider, trace.TracerProvider)
    tracer = provider.get_tracer("t")
    assert isinstance(tracer, trace.Tracer)
    span = tracer.start_span("s")
    assert isinstance(span, trace.Span)
    sc = span.get_span_context()
    assert type(sc) is trace.SpanContext
    assert sc.is_valid and not sc.is_remote and sc.trace_flags.sampled
    assert span.get_span_context() is sc  # created once, cached
    assert isinstance(provider.propagator, polytrace.Propagator)
    span.end()


def test_get_tracer_caches_and_scopes(fp):
    t1 = fp.provider.get_tracer("lib", "1.2.3", "https://schema")
    assert fp.provider.get_tracer("lib", "1.2.3", "https://schema") is t1
    t1.start_span("s").end()
    fp.provider.get_tracer("other", attributes={"a": 1}).start_span("o").end()
    spans = fp.by_name()
    assert spans["s"]["scope"] == "lib" and spans["s"]["scope_version"] == "1.2.3"
    assert spans["o"]["scope"] == "other"


def test_every_span_method(fp):
    tracer = fp.provider.get_tracer("t")
    other = tracer.start_span("other")
    span = tracer.start_span("first", kind=SpanKind.CLIENT, attributes={"at.start": "yes"},
                             links=[Link(other.get_span_context(), {"link.attr": 1})])
    assert span.is_recording()
    span.set_attribute("s", "v")
    span.set_attribute("i", 7)
    span.set_attribute("f", 1.5)
    span.set_attribute("b", False)
    span.set_attributes({"list.s": ["a", "b"], "list.i": (1, 2), "list.f": [0.5], "list.b": [True]})
    span.add_event("evt", {"e": 1}, timestamp=1_700_000_000_000_000_000)
    span.add_link(other.get_span_context(), {"late": True})
    span.update_name("renamed")
    span.set_status(StatusCode.ERROR, "went wrong")
    try:
        raise KeyError("missing")
    except KeyError as e:
        span.record_exception(e, {"extra": "x"}, escaped=True)
    span.end()
    assert not span.is_recording()
    span.set_attribute("after.end", 1)  # ignored
    span.end()  # a second end is harmless
    other.end()

    s = fp.by_name()["renamed"]
    assert s["kind"] == "client"
    assert s["attributes"] == {
        "at.start": "yes", "s": "v", "i": 7, "f": 1.5, "b": False,
        "list.s": ["a", "b"], "list.i": [1, 2], "list.f": [0.5], "list.b": [True],
    }
    assert s["status"] == {"code": 2, "message": "went wrong"}
    assert [l["attributes"] for l in s["links"]] == [{"link.attr": 1}, {"late": True}]
    assert s["links"][0]["span_id"] == format(other.get_span_context().span_id, "016x")
    evt, exc = s["events"]
    assert evt == {"name": "evt", "attributes": {"e": 1}}
    assert exc["name"] == "exception"
    a = exc["attributes"]
    assert a["exception.type"] == "KeyError"
    assert a["exception.message"] == "'missing'"
    assert "Traceback" in a["exception.stacktrace"] and "KeyError" in a["exception.stacktrace"]
    assert a["exception.escaped"] is True
    assert a["extra"] == "x"


def test_names_keys_and_values_survive_interning_and_its_fallbacks(tmp_path):
    # Keys, names and short str values are interned in bounded process-wide tables (found
    # again by the address of the str's UTF-8 buffer, checked against the text). Thousands of
    # distinct strings that are created and freed (so addresses are reused by other texts),
    # more than the tables hold, long and non-ASCII ones: every span keeps its own text.
    from conftest import FileProvider

    p = FileProvider(tmp_path / "spans.jsonl", max_queue_size=20_000)
    try:
        tracer = p.provider.get_tracer("t")
        n = 3_000
        for i in range(n):
            span = tracer.start_span(f"name-{i:05d}")
            span.set_attribute(f"key.{i:05d}", f"value-{i:05d}")
            span.set_attribute("fixed", "same")
            span.add_event(f"event-{i:05d}")
            span.end()
        long_key, long_value = "k" * 300, "v" * 300
        span = tracer.start_span("名前-ñ" * 40)
        span.set_attribute(long_key, long_value)
        span.set_attribute("ключ", "значение")
        span.update_name("переименован-" + "x" * 200)
        span.end()
        spans = p.by_name()
        assert len(spans) == n + 1
        for i in range(n):
            s = spans[f"name-{i:05d}"]
            assert s["attributes"] == {f"key.{i:05d}": f"value-{i:05d}", "fixed": "same"}
            assert [e["name"] for e in s["events"]] == [f"event-{i:05d}"]
        s = spans["переименован-" + "x" * 200]
        assert s["attributes"] == {long_key: long_value, "ключ": "значение"}
    finally:
        p.provider.shutdown()


def test_record_exception_type_names(fp):
    class Custom(Exception):
        pass

    span = fp.provider.get_tracer("t").start_span("s")
    span.record_exception(Custom("boom"))
    span.end()
    a = fp.by_name()["s"]["events"][0]["attributes"]
    assert a["exception.type"].endswith("test_record_exception_type_names.<locals>.Custom")
    assert a["exception.type"].startswith("test_api.")
    assert a["exception.escaped"] is False


def test_set_status_both_signatures_and_ok_is_final(fp):
    t = fp.provider.get_tracer("t")
    a = t.start_span("a")
    a.set_status(Status(StatusCode.ERROR, "via Status"))
    a.end()
    b = t.start_span("b")
    b.set_status(StatusCode.OK)
    b.set_status(StatusCode.ERROR, "ignored: OK is final")
    b.end()
    c = t.start_span("c")
    c.set_status(StatusCode.ERROR, "e")
    c.set_status(StatusCode.UNSET)  # ignored
    c.end()
    spans = fp.by_name()
    assert spans["a"]["status"] == {"code": 2, "message": "via Status"}
    assert spans["b"]["status"]["code"] == 1
    assert spans["c"]["status"] == {"code": 2, "message": "e"}


def test_span_as_context_manager_records_escaping_exception(fp):
    t = fp.provider.get_tracer("t")
    with pytest.raises(ValueError):
        with t.start_span("recorded"):
            raise ValueError("bad value")
    with pytest.raises(ValueError):
        with t.start_span("quiet", record_exception=False, set_status_on_exception=False):
            raise ValueError("bad value")
    spans = fp.by_name()
    rec = spans["recorded"]
    assert rec["status"] == {"code": 2, "message": "ValueError: bad value"}
    assert rec["events"][0]["attributes"]["exception.escaped"] is True
    assert spans["quiet"]["status"]["code"] == 0 and spans["quiet"]["events"] == []
    assert rec["end"] >= rec["start"] > 0


def test_start_as_current_span_nesting_and_exceptions(fp):
    t = fp.provider.get_tracer("t")
    with t.start_as_current_span("parent") as parent:
        assert trace.get_current_span() is parent
        with t.start_as_current_span("child") as child:
            assert trace.get_current_span() is child
        assert trace.get_current_span() is parent
        with pytest.raises(RuntimeError):
            with t.start_as_current_span("failing"):
                raise RuntimeError("nope")
    assert trace.get_current_span() is trace.INVALID_SPAN
    spans = fp.by_name()
    assert spans["child"]["parent_span_id"] == spans["parent"]["span_id"]
    assert spans["child"]["trace_id"] == spans["parent"]["trace_id"]
    assert spans["parent"]["parent_span_id"] == ""
    failing = spans["failing"]
    assert failing["status"] == {"code": 2, "message": "RuntimeError: nope"}
    assert failing["events"][0]["attributes"]["exception.escaped"] is False


def test_start_as_current_span_options(fp):
    t = fp.provider.get_tracer("t")
    with t.start_as_current_span("kept", end_on_exit=False) as kept:
        pass
    assert kept.is_recording()
    kept.end()
    root = t.start_span("explicit-root")
    ctx = trace.set_span_in_context(root)
    with t.start_as_current_span("under-root", context=ctx, kind=SpanKind.PRODUCER,
                                 attributes={"a": 1}):
        pass
    root.end()
    spans = fp.by_name()
    assert spans["under-root"]["parent_span_id"] == spans["explicit-root"]["span_id"]
    assert spans["under-root"]["kind"] == "producer"
    assert spans["under-root"]["attributes"] == {"a": 1}


def test_start_as_current_span_as_decorator(fp):
    t = fp.provider.get_tracer("t")

    @t.start_as_current_span("decorated")
    def work(x):
        assert trace.get_current_span().is_recording()
        return x * 2

    @t.start_as_current_span("decorated-async")
    async def awork(x):
        await asyncio.sleep(0.01)
        assert trace.get_current_span().is_recording()
        return x + 1

    assert work(2) == 4 and work(3) == 6
    assert work.__name__ == "work"
    assert asyncio.run(awork(1)) == 2
    spans = fp.spans()
    assert [s["name"] for s in spans].count("decorated") == 2
    a = [s for s in spans if s["name"] == "decorated-async"][0]
    assert a["end"] - a["start"] >= 10_000_000  # the span covers the awaited coroutine


def test_use_span_and_explicit_context(fp):
    t = fp.provider.get_tracer("t")
    span = t.start_span("used")
    with trace.use_span(span, end_on_exit=True):
        assert trace.get_current_span() is span
        t.start_span("inner").end()
    assert not span.is_recording()

    @trace.use_span(t.start_span("deco"), end_on_exit=True)
    def f():
        return trace.get_current_span()

    assert isinstance(f(), polytrace.Span)
    spans = fp.by_name()
    assert spans["inner"]["parent_span_id"] == spans["used"]["span_id"]


def test_remote_parent_from_non_polytrace_span(fp):
    sc = trace.SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=trace.TraceFlags(1),
                           trace_state=trace.TraceState([("vendor", "v1")]))
    ctx = trace.set_span_in_context(trace.NonRecordingSpan(sc))
    span = fp.provider.get_tracer("t").start_span("child", context=ctx)
    got = span.get_span_context()
    assert got.trace_id == 0x1234 and got.trace_state == trace.TraceState([("vendor", "v1")])
    span.end()
    s = fp.by_name()["child"]
    assert s["trace_id"] == format(0x1234, "032x")
    assert s["parent_span_id"] == format(0x5678, "016x")
    assert s["trace_state"] == "vendor=v1"


def test_sampler_off_gives_non_recording_spans_with_valid_context(tmp_path):
    p = polytrace.TracerProvider(exporter="file", file_path=str(tmp_path / "x.jsonl"),
                                 sampler="always_off")
    span = p.get_tracer("t").start_span("dropped")
    assert not span.is_recording()
    sc = span.get_span_context()
    assert sc.is_valid and not sc.trace_flags.sampled
    span.set_attribute("k", "v")
    span.end()
    assert p.stats()["spans_started"] == 0
    assert (p.stats()["spans_sampled"], p.stats()["spans_not_sampled"]) == (0, 1)
    p.shutdown()


STATS_KEYS = {
    "spans_started", "spans_ended", "spans_exported", "spans_dropped", "dropped_queue_full",
    "dropped_export_failed", "dropped_shutdown", "dropped_invalid", "export_failures", "spans_sampled",
    "spans_not_sampled", "sampler_polls", "sampler_poll_failures",
}


def test_jaeger_remote_through_the_constructor_with_no_binding_code():
    # Nothing listens on port 9: every poll fails and the initial rate (1) stays in force.
    p = polytrace.TracerProvider(
        exporter="none", sampler="parentbased_jaeger_remote",
        sampler_arg={"endpoint": "http://127.0.0.1:9/sampling", "pollingIntervalMs": "20",
                     "initialSamplingRate": "1"})
    assert p.config["sampler"] == "parentbased_jaeger_remote"
    assert p.config["sampler_arg"] == (
        "endpoint=http://127.0.0.1:9/sampling,pollingIntervalMs=20,initialSamplingRate=1")
    span = p.get_tracer("t").start_span("op")
    assert span.get_span_context().trace_flags.sampled
    span.end()
    import time
    deadline = time.monotonic() + 10
    while p.stats()["sampler_poll_failures"] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    st = p.stats()
    assert set(st) == STATS_KEYS == set(polytrace.stats())
    assert (st["spans_sampled"], st["spans_not_sampled"], st["sampler_polls"]) == (1, 0, 0)
    assert st["sampler_poll_failures"] >= 2
    p.shutdown()
    with pytest.raises(polytrace.ConfigError, match="sampler_arg"):
        polytrace.TracerProvider(exporter="none", sampler="jaeger_remote",
                                 sampler_arg="initialSamplingRate=2")


def test_disabled_sdk(tmp_path):
    p = polytrace.TracerProvider(disabled=True)
    with p.get_tracer("t").start_as_current_span("x") as span:
        assert not span.is_recording()
    assert p.force_flush() is True
    p.shutdown()


def test_span_repr_and_current_span_repr(fp):
    t = fp.provider.get_tracer("t")
    s = t.start_span("r")
    assert "recording=True" in repr(s)
    assert "CurrentSpan" in repr(t.start_as_current_span("x"))
    s.end()


def test_start_as_current_span_cannot_be_entered_twice(fp):
    cm = fp.provider.get_tracer("t").start_as_current_span("once")
    with cm:
        with pytest.raises(RuntimeError):
            cm.__enter__()


def test_context_detached_after_exception_in_block(fp):
    t = fp.provider.get_tracer("t")
    before = context.get_current()
    with pytest.raises(KeyError):
        with t.start_as_current_span("x"):
            raise KeyError("k")
    assert context.get_current() == before


def test_install_sets_global_provider_and_propagator():
    code = """
import polytrace
from opentelemetry import trace, propagate
p = polytrace.install(service_name="installed", exporter="none")
assert trace.get_tracer_provider() is p
assert propagate.get_global_textmap() is not None
assert isinstance(propagate.get_global_textmap(), polytrace.Propagator)
tracer = trace.get_tracer("x")
with tracer.start_as_current_span("s"):
    carrier = {}
    propagate.inject(carrier)
    assert carrier["traceparent"].startswith("00-")
assert polytrace.stats()["spans_ended"] == 1
print("ok")
"""
    from conftest import run_python

    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_force_flush_and_shutdown_semantics(fp):
    p = fp.provider
    p.get_tracer("t").start_span("x").end()
    assert p.force_flush(10_000) is True
    assert p.stats()["spans_exported"] == 1
    p.shutdown()
    p.shutdown()  # harmless
    # After shutdown, spans are no-ops and flush is trivially complete.
    s = p.get_tracer("t").start_span("after")
    assert not s.is_recording()
    s.end()
    assert p.force_flush() is True


def test_config_property_and_sdk_language(fp):
    cfg = fp.provider.config
    assert cfg["exporter"] == "file"
    assert cfg["sdk_language"] == "python"
    p = polytrace.TracerProvider(exporter="none", sdkLanguage="custom")
    assert p.config["sdk_language"] == "custom"
    p.shutdown()
