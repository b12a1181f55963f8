"""Bad input never raises from span calls and never crashes: invalid attributes are dropped with
one `logging` warning per cause (not per call), as the OpenTelemetry API specifies. Text with
lone surrogates is not invalid: it is kept, each one U+FFFD (the core's rule; the cases of
tests/vectors/text.json are in test_text_vectors.py)."""

from __future__ import annotations

import textwrap

import pytest
from opentelemetry import trace

from conftest import run_python


BAD_VALUES = [
    ("none", None),
    ("dict", {"a": 1}),
    ("object", object()),
    ("mixed", [1, "a"]),
    ("mixed-bool-int", [True, 1]),
    ("none-in-seq", ["a", None]),
    ("bigint", 2**80),
    ("nested", [[1], [2]]),
    ("bad-bytes", b"\xff\xfe"),
    ("set", {1, 2}),
]


def test_bad_values_are_dropped_good_ones_kept(fp):
    t = fp.provider.get_tracer("t")
    span = t.start_span("s", attributes={"good.start": 1, "bad.start": object()})
    for name, value in BAD_VALUES:
        span.set_attribute(f"bad.{name}", value)
    span.set_attribute(1, "non-str key")
    span.set_attribute("", "empty key")
    span.set_attribute("key\ud800", "surrogate key")
    span.set_attribute("surrogate", "bad\ud800")
    span.set_attribute("surrogate-in-seq", ["ok", "\udfff"])
    span.set_attributes({"good": "yes", 2: "x", "bad.map": {"x": 1}})
    span.set_attributes("not a mapping")
    span.set_attribute("bytes.ok", b"utf8 bytes")
    span.set_attribute("empty.list", [])
    span.add_event("evt\ud800", {"a": object(), "b": 2})
    span.add_event(123)
    span.update_name(None)
    span.update_name("final\udc00name")
    span.set_status("not a status")
    span.end(end_time="not a time")
    span.end()
    (s,) = fp.spans()
    assert s["attributes"] == {"good.start": 1, "good": "yes", "bytes.ok": "utf8 bytes",
                               "empty.list": [], "key\ufffd": "surrogate key",
                               "surrogate": "bad\ufffd", "surrogate-in-seq": ["ok", "\ufffd"]}
    assert s["events"][0]["name"] == "evt\ufffd"
    assert s["events"][0]["attributes"] == {"b": 2}
    assert s["events"][1]["name"] == "123"
    assert s["name"] == "final\ufffdname"


def test_bad_start_arguments_do_not_raise(fp):
    t = fp.provider.get_tracer("t")
    with t.start_as_current_span(None, kind="weird", attributes=[1, 2], links=[object()],
                                 start_time=-5) as s:
        assert s.is_recording()
    s2 = t.start_span("ok", context="not a context")
    s2.end()
    s3 = t.start_span("k", kind=trace.SpanKind.CONSUMER)
    s3.add_link("not a span context")
    s3.end()
    names = {x["name"]: x for x in fp.spans()}
    assert names["None"]["kind"] == "internal"
    assert names["k"]["kind"] == "consumer"


def test_warnings_once_per_cause():
    code = textwrap.dedent("""
        import logging, polytrace
        records = []
        class H(logging.Handler):
            def emit(self, record):
                records.append(record.getMessage())
        logging.getLogger("polytrace").addHandler(H())
        logging.getLogger("polytrace").propagate = False
        p = polytrace.TracerProvider(exporter="none")
        t = p.get_tracer("t")
        for i in range(50):
            with t.start_as_current_span("s") as s:
                s.set_attribute("none", None)
                s.set_attribute("mixed", [1, "x"])
                s.set_attribute("surrogate", "\\ud800")   # kept as U+FFFD: no warning
                s.set_attribute(1, "key")
                s.set_attribute("obj", object())
        causes = sorted(records)
        for r in causes:
            print(r)
        assert len(records) == 4, records
        p.shutdown()
    """)
    r = run_python(code)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert 'attribute "none" dropped: the value is None' in out
    assert 'attribute "mixed" dropped: the sequence mixes types' in out
    assert "surrogate" not in out
    assert "the key is a int, not a str" in out
    assert "a value of type object is not supported" in out


def test_core_config_warnings_go_to_logging():
    code = textwrap.dedent("""
        import logging, polytrace
        records = []
        class H(logging.Handler):
            def emit(self, record):
                records.append((record.levelname, record.getMessage()))
        logging.getLogger("polytrace").addHandler(H())
        p = polytrace.TracerProvider(exporter="none")
        assert any("OTEL_BSP_MAX_QUEUE_SIZE" in m for _, m in records), records
        assert p._native.warnings()[0][0] == "OTEL_BSP_MAX_QUEUE_SIZE"
        p.shutdown()
        print("ok")
    """)
    r = run_python(code, env={"OTEL_BSP_MAX_QUEUE_SIZE": "lots"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok" in r.stdout


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.0, 2**63 - 1, -(2**63)])
def test_edge_numbers_are_kept(fp, value):
    s = fp.provider.get_tracer("t").start_span("n")
    s.set_attribute("v", value)
    s.end()
    assert "v" in fp.spans()[0]["attributes"]
