"""A test service for the official W3C Trace Context suite (w3c/trace-context, test/test.py),
written as a new user would: a Flask app traced by opentelemetry-instrumentation-flask and
-requests on top of `polytrace.install()`, nothing polytrace-specific in the handler.

The suite POSTs a JSON list of `{"url": ..., "arguments": [...]}` to /test with the headers under
test; for each item the service POSTs `arguments` to `url`. The server span continues the
incoming trace context (or starts a trace); each outgoing call is a client span, so every
callback carries a new parent id.

    python bindings/python/tests/w3c_service.py    # prints: listening http://127.0.0.1:PORT/test

test_w3c_service.py drives it with every request of the suite (the shared vectors); the README
("W3C Trace Context conformance") runs the suite itself against it.
"""

from __future__ import annotations

import sys

import flask
import requests
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from werkzeug.serving import make_server

import polytrace


def make_app() -> flask.Flask:
    app = flask.Flask("w3c-test-service")
    FlaskInstrumentor().instrument_app(app)

    @app.post("/test")
    def test() -> str:
        for item in flask.request.get_json(force=True, silent=True) or []:
            requests.post(item["url"], json=item.get("arguments", []), timeout=10)
        return "ok"

    return app


def main() -> None:
    polytrace.install(service_name="w3c-test-service", exporter="none")
    RequestsInstrumentor().instrument()
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    print(f"listening http://127.0.0.1:{server.server_port}/test", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
