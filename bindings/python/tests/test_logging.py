"""Log correlation with the official `opentelemetry-instrumentation-logging`, unchanged, on top of
polytrace: the trace and span ids it writes into `logging` records are those of the spans that
arrive at a real OTLP receiver (`polytrace receive`)."""

from __future__ import annotations

import json
import re
import textwrap

from conftest import run_python

UNSAMPLED_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"

# The README's two lines, then ordinary `logging` calls inside and outside spans. The
# instrumentation's default format goes to stderr (`logging.basicConfig`).
APP = textwrap.dedent(f"""
    import json, logging, threading
    import polytrace
    from opentelemetry import propagate, trace
    from opentelemetry.instrumentation.logging import LoggingInstrumentor

    provider = polytrace.install()                              # everything from OTEL_*
    LoggingInstrumentor().instrument(set_logging_format=True)   # ids into every log record

    log = logging.getLogger("inventory")
    tracer = trace.get_tracer("inventory")
    log.info("before any span")
    with tracer.start_as_current_span("reserve"):
        log.info("reserving")
        with tracer.start_as_current_span("lock-row"):
            log.warning("row locked")
        # A thread started inside the span sees no span: contextvars do not cross threads.
        worker = threading.Thread(target=log.info, args=("from a bare thread",))
        worker.start()
        worker.join()
        log.info("reserved")
    # A remote parent that was not sampled: the parent-based default sampler drops the child.
    ctx = propagate.extract({{"traceparent": "{UNSAMPLED_PARENT}"}})
    with tracer.start_as_current_span("not-sampled", context=ctx):
        log.info("unsampled work")
    assert provider.force_flush(10000)
    print(json.dumps(provider.stats()))
""")

# The instrumentation's DEFAULT_LOGGING_FORMAT, as users see it.
LINE = re.compile(
    r"^\S+ \S+ (?P<level>[A-Z]+) \[(?P<logger>[^\]]+)\] \[[^\]]+\] "
    r"\[trace_id=(?P<trace_id>\w+) span_id=(?P<span_id>\w+) "
    r"resource\.service\.name=(?P<service>[^\]]*) trace_sampled=(?P<sampled>True|False)\] "
    r"- (?P<message>.*)$"
)


def test_logging_instrumentation_writes_the_exported_span_ids(receiver, service):
    r = run_python(APP, env={
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    })
    assert r.returncode == 0, r.stdout + r.stderr
    stats = json.loads(r.stdout.strip().splitlines()[-1])
    # The unsampled span is neither counted nor exported; nothing was dropped.
    assert (stats["spans_exported"], stats["spans_dropped"]) == (2, 0), stats

    lines = {}
    for text in r.stderr.splitlines():
        m = LINE.match(text)
        if m and m["logger"] == "inventory":
            lines[m["message"]] = m
    assert set(lines) == {"before any span", "reserving", "row locked", "from a bare thread",
                          "reserved", "unsampled work"}, r.stderr

    spans = {s["name"]: s for s in receiver.wait(service, 2)}
    assert set(spans) == {"reserve", "lock-row"}, spans
    reserve, lock_row = spans["reserve"], spans["lock-row"]
    assert lock_row["parent_span_id"] == reserve["span_id"]

    def ids(message):
        m = lines[message]
        return m["trace_id"], m["span_id"], m["sampled"]

    # Inside a span: exactly the exported span's ids (lowercase hex, as the receiver shows them).
    assert ids("reserving") == (reserve["trace_id"], reserve["span_id"], "True")
    assert ids("reserved") == (reserve["trace_id"], reserve["span_id"], "True")
    assert ids("row locked") == (reserve["trace_id"], lock_row["span_id"], "True")
    assert lines["row locked"]["level"] == "WARNING"
    # Outside any span the instrumentation writes zeros.
    assert ids("before any span") == ("0", "0", "False")
    assert ids("from a bare thread") == ("0", "0", "False")
    # Unsampled: the remote parent's trace id, a new span id of its own, not sampled.
    trace_id, span_id, sampled = ids("unsampled work")
    assert (trace_id, sampled) == (UNSAMPLED_PARENT.split("-")[1], "False")
    assert re.fullmatch(r"[0-9a-f]{16}", span_id) and span_id != UNSAMPLED_PARENT.split("-")[2]
