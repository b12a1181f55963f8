#!/usr/bin/env python3
"""Smoke test of the e2e stack: send a 3-span trace to the Collector, read it back from Jaeger.

Run inside tests/e2e/stack.py (which sets OTEL_EXPORTER_OTLP_ENDPOINT, JAEGER_QUERY_URL, ...):

    python3 tests/e2e/stack.py -- python3 tests/e2e/smoke_otlp.py            # stdlib only
    python3 tests/e2e/stack.py --protocol grpc -- VENV/bin/python tests/e2e/smoke_otlp.py --sdk

Modes:
  (default)  stdlib only: POSTs one OTLP/HTTP JSON request to $POLYTRACE_E2E_OTLP_HTTP_ENDPOINT.
  --sdk      the official Python SDK (opentelemetry-sdk plus opentelemetry-exporter-otlp-proto-http
             or -grpc, per $OTEL_EXPORTER_OTLP_PROTOCOL); not a project dependency: install it in
             a throwaway venv.
Then checks, through the Collector -> Jaeger path, that Jaeger's v3 API returns the 3 spans
with their parent links, attributes, event and error status, that the v1 API agrees, and that
the Collector's file exporter wrote the trace too. Prints "1 passed, 0 failed" on success.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jaeger_query  # noqa: E402

SERVICE = "polytrace-e2e-smoke"


def send_stdlib() -> str:
    trace_id = secrets.token_hex(16)
    root, child, grandchild = (secrets.token_hex(8) for _ in range(3))
    now = time.time_ns()

    def span(sid, parent, name, kind, start, end, **extra):
        d = {"traceId": trace_id, "spanId": sid, "name": name, "kind": kind,
             "startTimeUnixNano": str(start), "endTimeUnixNano": str(end)}
        if parent:
            d["parentSpanId"] = parent
        d.update(extra)
        return d

    body = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]},
        "scopeSpans": [{
            "scope": {"name": "smoke", "version": "1.0"},
            "spans": [
                span(root, None, "root", 2, now, now + 5_000_000,
                     attributes=[{"key": "smoke.int", "value": {"intValue": "42"}},
                                 {"key": "smoke.str", "value": {"stringValue": "hello"}}]),
                span(child, root, "child", 3, now + 1_000_000, now + 4_000_000,
                     events=[{"name": "smoke-event", "timeUnixNano": str(now + 2_000_000),
                              "attributes": [{"key": "k", "value": {"boolValue": True}}]}]),
                span(grandchild, child, "grandchild", 1, now + 2_000_000, now + 3_000_000,
                     status={"code": 2, "message": "boom"}),
            ],
        }],
    }]}
    url = os.environ["POLYTRACE_E2E_OTLP_HTTP_ENDPOINT"].rstrip("/") + "/v1/traces"
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, r.status
    return trace_id


def send_sdk() -> str:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind, Status, StatusCode

    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint from OTEL_*
    tracer = provider.get_tracer("smoke", "1.0")
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER,
                                      attributes={"smoke.int": 42, "smoke.str": "hello"}) as root:
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child:
            child.add_event("smoke-event", {"k": True})
            with tracer.start_as_current_span("grandchild") as gc:
                gc.set_status(Status(StatusCode.ERROR, "boom"))
        trace_id = format(root.get_span_context().trace_id, "032x")
    assert provider.force_flush(10_000), "force_flush failed"
    provider.shutdown()
    return trace_id


def main() -> int:
    mode = "sdk" if "--sdk" in sys.argv[1:] else "stdlib"
    trace_id = send_sdk() if mode == "sdk" else send_stdlib()
    print(f"smoke: sent trace {trace_id} ({mode}, {os.environ.get('OTEL_EXPORTER_OTLP_PROTOCOL')} "
          f"-> {os.environ.get('OTEL_EXPORTER_OTLP_ENDPOINT') if mode == 'sdk' else 'OTLP/HTTP JSON'})")

    t0 = time.monotonic()
    spans, _ = jaeger_query.fetch_trace(trace_id, expect_spans=3, timeout=30)
    print(f"smoke: Jaeger v3 API returned 3 spans after {time.monotonic() - t0:.2f}s")
    by_name = {s["name"]: s for s in spans}
    assert set(by_name) == {"root", "child", "grandchild"}, by_name.keys()
    root, child, gc = by_name["root"], by_name["child"], by_name["grandchild"]
    assert root["parentSpanId"] == "", root
    assert child["parentSpanId"] == root["spanId"], child
    assert gc["parentSpanId"] == child["spanId"], gc
    assert {s["traceId"] for s in spans} == {trace_id}, spans
    assert root["service"] == SERVICE, root
    assert root["kind"] == "SERVER" and child["kind"] == "CLIENT" and gc["kind"] == "INTERNAL", spans
    assert root["attributes"]["smoke.int"] == 42 and root["attributes"]["smoke.str"] == "hello", root
    assert root["scope"] == {"name": "smoke", "version": "1.0"}, root
    assert [e["name"] for e in child["events"]] == ["smoke-event"], child
    assert child["events"][0]["attributes"] == {"k": True}, child
    assert gc["status"] == {"code": "ERROR", "message": "boom"}, gc

    v1, _ = jaeger_query.fetch_trace(trace_id, expect_spans=3, timeout=5, api="v1")
    assert {s["spanId"] for s in v1} == {s["spanId"] for s in spans}, v1
    print("smoke: Jaeger v1 API agrees")

    out = Path(os.environ["OTELCOL_FILE_OUT"])
    deadline = time.monotonic() + 10
    while not (out.exists() and trace_id in out.read_text()):
        assert time.monotonic() < deadline, f"trace {trace_id} not in {out}"
        time.sleep(0.1)
    print(f"smoke: Collector file exporter wrote it to {out}")
    print(json.dumps(spans, indent=1)[:1500])
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
