"""polytrace quickstart for Python: a small inventory HTTP service (Flask), instrumented with the
unchanged opentelemetry-instrumentation-flask and -requests packages, traced by polytrace.

    pip install ./bindings/python flask requests \
        opentelemetry-instrumentation-flask opentelemetry-instrumentation-requests
    OTEL_SERVICE_NAME=inventory OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
        python examples/python/quickstart.py            # a few requests, then exit
    python examples/python/quickstart.py --serve 8080   # keep serving on 127.0.0.1:8080

Without --serve it starts the service on a free loopback port, calls it (one good request, one
for an unknown item, one that fails), prints `trace_id=<hex>` and exits; the spans are flushed
at exit.
"""

from __future__ import annotations

import argparse
import threading

import polytrace
from opentelemetry import trace

# One call: the global tracer provider and propagator, configured from OTEL_* (+ overrides).
provider = polytrace.install(service_name=None)  # None: keep OTEL_SERVICE_NAME or the default

from opentelemetry.instrumentation.flask import FlaskInstrumentor  # noqa: E402
from opentelemetry.instrumentation.requests import RequestsInstrumentor  # noqa: E402

RequestsInstrumentor().instrument()

import flask  # noqa: E402
import requests  # noqa: E402

app = flask.Flask("inventory")
FlaskInstrumentor().instrument_app(app)
tracer = trace.get_tracer("inventory.quickstart", "0.1.0")

STOCK = {"apple": 12, "pear": 0}


@app.route("/stock/<item>")
def stock(item: str):
    with tracer.start_as_current_span("stock.lookup") as span:
        span.set_attribute("inventory.item", item)
        if item == "broken":
            raise RuntimeError("stock database unavailable")
        count = STOCK.get(item)
        span.set_attribute("inventory.found", count is not None)
        if count is None:
            span.add_event("unknown item", {"inventory.item": item})
            return {"error": f"unknown item {item}"}, 404
        span.set_attribute("inventory.count", count)
        return {"item": item, "count": count}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", type=int, metavar="PORT", help="serve on 127.0.0.1:PORT")
    args = ap.parse_args()
    if args.serve is not None:
        app.run(host="127.0.0.1", port=args.serve)
        return

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with tracer.start_as_current_span("quickstart.client") as root:
        for item in ("apple", "kiwi", "broken"):
            r = requests.get(f"{base}/stock/{item}", timeout=10)
            print(f"GET /stock/{item} -> {r.status_code}")
        trace_id = format(root.get_span_context().trace_id, "032x")
    server.shutdown()
    print(f"trace_id={trace_id}")
    # Spans are exported by the exit hook; stats() shows what happened so far.
    print(f"stats={polytrace.stats()}")


if __name__ == "__main__":
    main()
