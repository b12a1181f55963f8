"""The demo's inventory-service: a Flask app traced by opentelemetry-instrumentation-flask on top
of polytrace (the provider and propagator come from polytrace.install(), configured by the OTEL_*
environment). POST /inventory/check {"sku", "quantity"} answers 200 with the price, or 409 when
the SKU is out of stock: the checkInventory span then has an error status and an exception event.

Environment: PORT (default 0: a free port). Prints `inventory-service listening on 127.0.0.1:PORT`;
SIGTERM or SIGINT stop it after a flush. Log lines carry trace_id/span_id
(opentelemetry-instrumentation-logging).
"""

from __future__ import annotations

import logging
import os
import signal
import sys

import polytrace
from flask import Flask, jsonify, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from werkzeug.serving import make_server

provider = polytrace.install()
LoggingInstrumentor().instrument(
    set_logging_format=True,
    logging_format="%(asctime)s %(levelname)s [inventory-service] trace_id=%(otelTraceID)s "
    "span_id=%(otelSpanID)s %(message)s",
)
log = logging.getLogger("inventory")
logging.getLogger("werkzeug").setLevel(logging.WARNING)
tracer = trace.get_tracer("demo.inventory-service", "0.1.0")

# sku -> (units in stock, price in cents)
STOCK = {
    "sku-espresso": (40, 1299),
    "sku-grinder": (5, 8900),
    "sku-kettle": (12, 3450),
    "sku-umbrella": (0, 1999),  # out of stock: the demo's failing order
}


class OutOfStock(Exception):
    """Fewer units in stock than the order wants."""


app = Flask("inventory-service")
FlaskInstrumentor().instrument_app(app)


@app.post("/inventory/check")
def check():
    body = request.get_json(force=True, silent=True) or {}
    sku = str(body.get("sku", ""))
    quantity = int(body.get("quantity", 1))
    try:
        # On an exception the span records it as an `exception` event and gets an error status.
        with tracer.start_as_current_span(
            "checkInventory", attributes={"app.order.sku": sku, "app.order.quantity": quantity}
        ) as span:
            units, price = STOCK.get(sku, (0, 0))
            span.set_attribute("app.inventory.units", units)
            if units < quantity:
                raise OutOfStock(f"{sku}: {units} in stock, {quantity} wanted")
            log.info("reserved %d x %s", quantity, sku)
            return jsonify(sku=sku, quantity=quantity, amount_cents=price * quantity)
    except OutOfStock as e:
        log.warning("out of stock: %s", e)
        return jsonify(error=str(e)), 409


def main() -> int:
    server = make_server("127.0.0.1", int(os.environ.get("PORT", "0")), app, threaded=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"inventory-service listening on 127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        provider.shutdown()
        log.info("inventory-service stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
