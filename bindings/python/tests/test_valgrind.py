"""The binding's entry points under valgrind memcheck (issue 16): a script that goes through every
kind of call — provider and tracers, spans with attributes of every type, events, exceptions,
links, status, names, context and propagation (inject/extract with good and malformed headers),
bad input (wrong types, lone surrogates, huge values), stats, flush, export to a real receiver,
shutdown and calls after it — runs under memcheck with CPython's own allocator switched to
malloc (PYTHONMALLOC=malloc), so memcheck sees every allocation. No error may involve
polytrace: no error's stack has a frame in the extension (`_native*.so`, pyo3, polytrace).

CPython itself, built without valgrind support (as pyenv builds it), reports errors of its own
under memcheck (a script that only imports opentelemetry: 359 errors from 14 contexts, all in
ceval/gcmodule/object.h); those are counted and printed, not failed on. Leaks are not errors
here (the interpreter keeps much alive at exit)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import memcheck

SCRIPT = textwrap.dedent("""
    import polytrace
    from opentelemetry import trace, context, propagate
    from opentelemetry.trace import Link, Status, StatusCode, SpanKind

    provider = polytrace.install(schedule_delay=50)
    tracer = trace.get_tracer("valgrind", "1.0")
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER,
                                      attributes={"s": "v", "i": 1, "f": 1.5, "b": True}) as root:
        root.set_attribute("list.s", ["a", "b"])
        root.set_attribute("list.i", [1, 2, 3])
        root.set_attribute("list.f", [1.0, 2.5])
        root.set_attribute("list.b", [True, False])
        root.set_attribute("big", "x" * 100_000)
        root.set_attribute("bad", object())
        root.set_attribute("surrogate", "a\\ud800")
        root.add_event("event", {"k": "v"})
        try:
            raise ValueError("boom")
        except ValueError as e:
            root.record_exception(e)
        root.update_name("root-renamed-\\udc00")
        carrier = {}
        propagate.inject(carrier)
        ctx = propagate.extract(carrier)
        bad = propagate.extract({"traceparent": "00-zz-00-01", "tracestate": "a=1,,b", "baggage": "k=v;p"})
        with tracer.start_as_current_span("child", context=ctx,
                                          links=[Link(root.get_span_context(), {"l": 1})]) as child:
            child.set_status(Status(StatusCode.ERROR, "failed"))
        token = context.attach(bad)
        tracer.start_span("under-bad-context").end()
        context.detach(token)
    for i in range(200):
        tracer.start_span(f"s{i}").end()
    print(polytrace.stats())
    assert provider.force_flush(10_000)
    provider.shutdown()
    tracer.start_span("after-shutdown").end()
    print(polytrace.stats())
""")


def test_entry_points_under_memcheck(receiver):
    assert shutil.which("valgrind"), "valgrind is needed (Debian package valgrind)"
    env = dict(os.environ, PYTHONMALLOC="malloc", OTEL_SERVICE_NAME="valgrind",
               OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint)
    r = subprocess.run(
        ["valgrind", "--tool=memcheck", "--leak-check=no", "--num-callers=60",
         sys.executable, "-c", SCRIPT],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert r.returncode == 0, r.stderr[-6000:]
    counted = memcheck.summary(r.stderr)
    assert counted, r.stderr[-6000:]
    ours = memcheck.ours(r.stderr)
    print(f"memcheck: {counted[0]} errors from {counted[1]} contexts, {len(ours)} in polytrace")
    assert ours == [], "\n".join(ours)[:8000]
    spans = receiver.wait("valgrind", 203, timeout=30)
    assert len(spans) >= 203, len(spans)
