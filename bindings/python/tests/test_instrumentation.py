"""Real opentelemetry-instrumentation packages on top of polytrace, across a real HTTP hop on
loopback: a Flask server (opentelemetry-instrumentation-flask) called with requests
(opentelemetry-instrumentation-requests) and urllib3 (opentelemetry-instrumentation-urllib3).
The spans are asserted where they arrive: at a real OTLP receiver."""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_python

APP = textwrap.dedent("""
    import sys, threading, json
    import polytrace
    from opentelemetry import trace
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
    from werkzeug.serving import make_server

    provider = polytrace.install()          # everything from OTEL_* (set by the test)
    RequestsInstrumentor().instrument()
    URLLib3Instrumentor().instrument()

    import flask, requests, urllib3
    app = flask.Flask("inventory")
    FlaskInstrumentor().instrument_app(app)

    @app.route("/items/<item>")
    def item(item):
        with trace.get_tracer("inventory").start_as_current_span("lookup") as span:
            span.set_attribute("item.id", item)
        return {"item": item, "stock": 3}

    @app.route("/fail")
    def fail():
        raise RuntimeError("database down")

    server = make_server("127.0.0.1", 0, app)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()

    tracer = trace.get_tracer("client")
    with tracer.start_as_current_span("checkout") as root:
        r = requests.get(f"http://127.0.0.1:{port}/items/42", timeout=10)
        assert r.json() == {"item": "42", "stock": 3}, r.text
        r = requests.get(f"http://127.0.0.1:{port}/fail", timeout=10)
        assert r.status_code == 500
        http = urllib3.PoolManager()
        r = http.request("GET", f"http://127.0.0.1:{port}/items/7")
        assert r.status == 200
        trace_id = format(root.get_span_context().trace_id, "032x")
    server.shutdown()
    assert provider.force_flush(10000)
    print(json.dumps({"trace_id": trace_id, "port": port, "stats": provider.stats()}))
""")


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_flask_requests_urllib3_across_a_real_hop(receiver, service, protocol):
    import json

    endpoint = receiver.http_endpoint if protocol != "grpc" else receiver.grpc_endpoint
    r = run_python(APP, env={
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    })
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["stats"]["spans_dropped"] == 0

    # checkout, 3 client spans from requests/urllib3 (+ urllib3 spans under requests, which
    # the urllib3 instrumentation suppresses), 3 server spans, 2 lookups
    spans = receiver.wait(service, 9)
    spans = [s for s in spans if s["trace_id"] == out["trace_id"]]
    by_id = {s["span_id"]: s for s in spans}
    root = [s for s in spans if s["name"] == "checkout"][0]
    clients = [s for s in spans if s["kind"] == "client"]
    servers = [s for s in spans if s["kind"] == "server"]
    lookups = [s for s in spans if s["name"] == "lookup"]
    assert len(clients) == 3, [(s["name"], s["scope"]) for s in spans]
    assert len(servers) == 3 and len(lookups) == 2
    assert {s["scope"] for s in clients} == {
        "opentelemetry.instrumentation.requests", "opentelemetry.instrumentation.urllib3"}

    for c in clients:
        assert c["parent_span_id"] == root["span_id"]
        assert c["name"] == "GET"
        method = c["attributes"].get("http.request.method", c["attributes"].get("http.method"))
        assert method == "GET"

    for s in servers:
        client = by_id[s["parent_span_id"]]  # the server's parent is the client span: one trace
        assert client["kind"] == "client"
        assert s["scope"] == "opentelemetry.instrumentation.flask"
        a = s["attributes"]
        status = a.get("http.response.status_code", a.get("http.status_code"))
        route = a.get("http.route")
        if route == "/fail":
            assert status == 500
            assert s["status"]["code"] == 2
            assert any(e["name"] == "exception" and
                       e["attributes"]["exception.message"] == "database down"
                       for e in s["events"])
            assert client["status"]["code"] == 2
        else:
            assert route == "/items/<item>" and status == 200
            assert s["name"] == "GET /items/<item>"
            (lookup,) = [l for l in lookups if l["parent_span_id"] == s["span_id"]]
            assert lookup["attributes"]["item.id"] in ("42", "7")
    assert servers[0]["resource"]["telemetry.sdk.language"] == "python"
    assert servers[0]["resource"]["service.name"] == service
