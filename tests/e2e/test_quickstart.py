#!/usr/bin/env python3
"""End to end: the Rust quickstart exports through the real OpenTelemetry Collector into the
real Jaeger v2, once per OTLP protocol, and the trace read back from Jaeger's query API must
hold every span, parent link, attribute, event and status the quickstart produced.

    python3 tests/e2e/test_quickstart.py [--quickstart PATH]

Needs ~/go/bin/polytrace-otelcol and ~/go/bin/polytrace-jaeger (tools/install-*.sh).
Prints one line per check and a final `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jaeger_query  # noqa: E402
import stack  # noqa: E402

PROTOCOLS = ["grpc", "http/protobuf", "http/json"]


def check_trace(spans: list[dict], service: str, trace_id: str) -> list[str]:
    """Returns the list of problems (empty = the trace is intact)."""
    problems: list[str] = []

    def expect(cond: bool, what: str) -> None:
        if not cond:
            problems.append(what)

    by_name = {s["name"]: s for s in spans}
    expect(sorted(by_name) == ["checkout", "open-coupon-file", "read-manifest"],
           f"span names {sorted(by_name)}")
    if len(by_name) != 3:
        return problems
    root, read, coupon = by_name["checkout"], by_name["read-manifest"], by_name["open-coupon-file"]
    for s in spans:
        expect(s["traceId"] == trace_id, f"{s['name']}: trace id {s['traceId']} != {trace_id}")
        expect(s["service"] == service, f"{s['name']}: service {s['service']!r}")
        expect(s["resource"].get("telemetry.sdk.name") == "polytrace", f"{s['name']}: sdk name")
        expect(s["resource"].get("telemetry.sdk.language") == "rust", f"{s['name']}: sdk language")
        expect(isinstance(s["resource"].get("process.pid"), int), f"{s['name']}: process.pid")
        expect(s["scope"]["name"] == "polytrace.quickstart", f"{s['name']}: scope {s['scope']}")
        expect(s["endTimeUnixNano"] >= s["startTimeUnixNano"] > 0, f"{s['name']}: times")
    # Parent links.
    expect(root["parentSpanId"] in ("", "0000000000000000"), f"root parent {root['parentSpanId']!r}")
    expect(read["parentSpanId"] == root["spanId"], "read-manifest is not a child of checkout")
    expect(coupon["parentSpanId"] == root["spanId"], "open-coupon-file is not a child of checkout")
    # Kinds.
    expect(root["kind"] == "SERVER", f"root kind {root['kind']}")
    expect(read["kind"] == "INTERNAL", f"read kind {read['kind']}")
    expect(coupon["kind"] == "CLIENT", f"coupon kind {coupon['kind']}")
    # Attributes of every type.
    want_root = {
        "http.request.method": "POST",
        "http.route": "/checkout",
        "app.items": 3,
        "app.total": 42.5,
        "app.express": True,
        "app.tags": ["new", "web"],
        "app.quantities": [1, 2],
        "app.prices": [10.0, 16.25],
        "app.flags": [True, False],
    }
    for k, v in want_root.items():
        got = root["attributes"].get(k)
        expect(got == v and type(got) is type(v), f"checkout attribute {k}: {got!r} != {v!r}")
    size = read["attributes"].get("file.size")
    expect(isinstance(size, int) and size > 0, f"file.size {size!r}")
    expect(coupon["attributes"].get("file.path") == "/nonexistent/polytrace/coupons.txt", "file.path")
    # Events.
    expect([e["name"] for e in read["events"]] == ["hashed"], f"read events {read['events']}")
    if read["events"]:
        digest = read["events"][0]["attributes"].get("sha256", "")
        expect(isinstance(digest, str) and len(digest) == 64, f"sha256 attribute {digest!r}")
    ex = [e for e in coupon["events"] if e["name"] == "exception"]
    expect(len(ex) == 1, f"exception events {coupon['events']}")
    if ex:
        a = ex[0]["attributes"]
        expect(a.get("exception.type") == "std::io::Error", f"exception.type {a.get('exception.type')!r}")
        expect("No such file" in str(a.get("exception.message")), f"exception.message {a.get('exception.message')!r}")
    # Status.
    expect(root["status"] == {"code": "ERROR", "message": "checkout incomplete"}, f"root status {root['status']}")
    expect(coupon["status"]["code"] == "ERROR" and coupon["status"]["message"].startswith("cannot read coupons"),
           f"coupon status {coupon['status']}")
    expect(read["status"]["code"] == "UNSET", f"read status {read['status']}")
    return problems


def run_one(protocol: str, quickstart: str) -> list[str]:
    service = "e2e-quickstart-" + protocol.replace("/", "-")
    with stack.Stack(protocol=protocol, timeout=90) as st:
        env = dict(os.environ)
        env.update(st.env)
        env["OTEL_SERVICE_NAME"] = service
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
        env["OTEL_BSP_SCHEDULE_DELAY"] = "100"
        out = subprocess.run([quickstart], env=env, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            return [f"quickstart exited {out.returncode}: {out.stderr.strip()}"]
        trace_id = next((line.split("=", 1)[1] for line in out.stdout.splitlines()
                         if line.startswith("trace_id=")), "")
        if len(trace_id) != 32:
            return [f"no trace id in quickstart output: {out.stdout!r}"]
        os.environ["JAEGER_QUERY_URL"] = st.env["JAEGER_QUERY_URL"]
        try:
            spans, _raw = jaeger_query.fetch_trace(trace_id, expect_spans=3, timeout=30)
        except jaeger_query.QueryError as e:
            return [f"jaeger: {e}"]
        return check_trace(spans, service, trace_id)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quickstart", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "examples", "quickstart"))
    args = ap.parse_args()
    passed = failed = 0
    for protocol in PROTOCOLS:
        try:
            problems = run_one(protocol, args.quickstart)
        except Exception as e:  # a stack that cannot start is a failure, not a skip
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"FAIL quickstart via Collector -> Jaeger over {protocol}:")
            for p in problems:
                print(f"    {p}")
        else:
            passed += 1
            print(f"ok   quickstart via Collector -> Jaeger over {protocol}: 3 spans intact")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
