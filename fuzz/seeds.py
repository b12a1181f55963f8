"""Writes the fuzz targets' seed corpora from the shared vectors (tests/vectors/*.json):
traceparent, tracestate and baggage values and whole carriers from propagation.json, OTEL_*
environments from config.json, and OTLP/JSON requests. (The finished-span seeds are the
spans.json cases encoded by the core's vector runner: run.sh asks it for them.)

    python3 fuzz/seeds.py OUT_DIR
"""

import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors")


def write(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def carriers(prop):
    for case in prop.get("extract", []) + prop.get("round_trip", []):
        yield case.get("carrier", [])
    for case in prop.get("inject", []):
        yield case.get("expect", [])


def main(out):
    prop = json.load(open(os.path.join(VECTORS, "propagation.json")))
    for carrier in carriers(prop):
        write(out, "extract", "".join(f"{k}: {v}\n" for k, v in carrier))
        for k, v in carrier:
            if k.lower() in ("traceparent", "tracestate", "baggage"):
                write(out, k.lower(), v)
    conf = json.load(open(os.path.join(VECTORS, "config.json")))
    for case in conf["cases"]:
        env = case.get("env", {})
        if env:
            write(out, "config_env", "".join(f"{k}={v}\n" for k, v in env.items()))
    # OTLP/JSON: every AnyValue kind, ids in hex, int64 as strings and numbers, events, links,
    # status, partial fields; the same shapes the receiver and the file exporter read.
    attrs = [
        {"key": "s", "value": {"stringValue": "v"}},
        {"key": "i", "value": {"intValue": "-42"}},
        {"key": "j", "value": {"intValue": 7}},
        {"key": "d", "value": {"doubleValue": 1.5}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "y", "value": {"bytesValue": "AAEC"}},
        {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": "1"}]}}},
        {"key": "k", "value": {"kvlistValue": {"values": [{"key": "n", "value": {"doubleValue": 2}}]}}},
    ]
    span = {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7",
        "parentSpanId": "00f067aa0ba902b8", "traceState": "a=1", "flags": 769,
        "name": "GET /x", "kind": 2, "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000000001000, "attributes": attrs,
        "droppedAttributesCount": 1,
        "events": [{"timeUnixNano": "1700000000000000500", "name": "e", "attributes": attrs[:2]}],
        "links": [{"traceId": "4bf92f3577b34da6a3ce929d0e0e4737", "spanId": "00f067aa0ba902b9",
                   "attributes": attrs[2:4], "flags": 256}],
        "status": {"code": 2, "message": "boom"},
    }
    request = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"scope": {"name": "s", "version": "1"}, "spans": [span, {"name": "min"}]}],
        "schemaUrl": "https://opentelemetry.io/schemas/1.21.0",
    }]}
    write(out, "otlp_json", json.dumps(request))
    write(out, "otlp_json", json.dumps({"resourceSpans": []}))
    write(out, "otlp_json", "{}")


if __name__ == "__main__":
    main(sys.argv[1])
