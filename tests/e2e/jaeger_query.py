#!/usr/bin/env python3
"""Fetch one trace from Jaeger's query HTTP API and print it as JSON (stdlib only).

    python3 tests/e2e/jaeger_query.py TRACE_ID [--expect-spans N] [--timeout 30]
                                      [--api v3|v1] [--format spans|raw] [--url URL]

Polls until the trace has N spans (--expect-spans), or, without it, until the trace
exists and its span count stops changing for --settle seconds; then prints it. Exits
1 on timeout (printing what it last saw) or when more than N spans arrived.

--api v3 (default): GET /api/v3/traces/<id>?raw_traces=true  (OTLP JSON, no adjusters:
                    what the exporter sent, as stored)
--api v1:           GET /api/traces/<id>?raw=true             (Jaeger UI model)
--format spans (default): a flat, sorted list, one object per span:
    {traceId, spanId, parentSpanId, name, kind, service, startTimeUnixNano,
     endTimeUnixNano, attributes{}, resource{}, scope{name,version}, status{code,message},
     events[{name,timeUnixNano,attributes{}}], links[{traceId,spanId,attributes{}}],
     traceState, flags}
  (for v1: kind/status/scope come from the otel.* / span.kind tags, whatever Jaeger kept)
--format raw: the API's response body as is.

--url defaults to $JAEGER_QUERY_URL (set by tests/e2e/stack.py).
Also importable: jaeger_query.fetch_trace(trace_id, expect_spans=..., ...) -> (spans, raw).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


class QueryError(RuntimeError):
    """retryable=False: a request error that waiting will not fix (e.g. a malformed id)."""

    def __init__(self, msg: str, spans: list | None = None, body=None, retryable: bool = True):
        super().__init__(msg)
        self.spans, self.body, self.retryable = spans, body, retryable


def _get(url: str) -> tuple[int, dict | None]:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {"error": body.decode(errors="replace")}


def _anyvalue(v: dict):
    """OTLP JSON AnyValue -> Python value."""
    if not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "bytesValue" in v:
        return {"bytes": v["bytesValue"]}
    if "arrayValue" in v:
        return [_anyvalue(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return _attrs(v["kvlistValue"].get("values", []))
    return None


def _attrs(kvs: list | None) -> dict:
    return {kv["key"]: _anyvalue(kv.get("value", {})) for kv in (kvs or [])}


def flatten_v3(result: dict) -> list[dict]:
    spans = []
    for rs in result.get("resourceSpans", []):
        resource = _attrs(rs.get("resource", {}).get("attributes"))
        for ss in rs.get("scopeSpans", []):
            scope = ss.get("scope", {})
            for s in ss.get("spans", []):
                st = s.get("status", {})
                spans.append({
                    "traceId": s.get("traceId", ""),
                    "spanId": s.get("spanId", ""),
                    "parentSpanId": s.get("parentSpanId", ""),
                    "name": s.get("name", ""),
                    "kind": KINDS.get(s.get("kind", 0), str(s.get("kind"))),
                    "service": resource.get("service.name"),
                    "startTimeUnixNano": int(s.get("startTimeUnixNano", 0)),
                    "endTimeUnixNano": int(s.get("endTimeUnixNano", 0)),
                    "attributes": _attrs(s.get("attributes")),
                    "resource": resource,
                    "scope": {"name": scope.get("name", ""), "version": scope.get("version", "")},
                    "status": {"code": STATUS.get(st.get("code", 0), str(st.get("code"))),
                               "message": st.get("message", "")},
                    "events": [{"name": e.get("name", ""),
                                "timeUnixNano": int(e.get("timeUnixNano", 0)),
                                "attributes": _attrs(e.get("attributes"))}
                               for e in s.get("events", [])],
                    "links": [{"traceId": link.get("traceId", ""), "spanId": link.get("spanId", ""),
                               "attributes": _attrs(link.get("attributes"))}
                              for link in s.get("links", [])],
                    "traceState": s.get("traceState", ""),
                    "flags": s.get("flags", 0),
                })
    return sorted(spans, key=lambda x: (x["startTimeUnixNano"], x["spanId"]))


def flatten_v1(data: list) -> list[dict]:
    spans = []
    for trace in data or []:
        procs = trace.get("processes", {})
        for s in trace.get("spans", []):
            tags = {t["key"]: t.get("value") for t in s.get("tags", [])}
            proc = procs.get(s.get("processID"), {})
            parent = next((r["spanID"] for r in s.get("references", [])
                           if r.get("refType") == "CHILD_OF" and r.get("traceID") == s.get("traceID")), "")
            start_ns = int(s.get("startTime", 0)) * 1000
            spans.append({
                "traceId": s.get("traceID", ""),
                "spanId": s.get("spanID", ""),
                "parentSpanId": parent,
                "name": s.get("operationName", ""),
                "kind": str(tags.pop("span.kind", "internal")).upper(),
                "service": proc.get("serviceName"),
                "startTimeUnixNano": start_ns,
                "endTimeUnixNano": start_ns + int(s.get("duration", 0)) * 1000,
                "attributes": tags,
                "resource": {"service.name": proc.get("serviceName"),
                             **{t["key"]: t.get("value") for t in proc.get("tags", [])}},
                "scope": {"name": tags.get("otel.scope.name", tags.get("otel.library.name", "")),
                          "version": tags.get("otel.scope.version", tags.get("otel.library.version", ""))},
                "status": {"code": tags.get("otel.status_code", "ERROR" if tags.get("error") else "UNSET"),
                           "message": tags.get("otel.status_description", "")},
                "events": [{"name": next((f.get("value") for f in lg.get("fields", [])
                                          if f.get("key") == "event"), ""),
                            "timeUnixNano": int(lg.get("timestamp", 0)) * 1000,
                            "attributes": {f["key"]: f.get("value") for f in lg.get("fields", [])
                                           if f.get("key") != "event"}}
                           for lg in s.get("logs", [])],
                "links": [{"traceId": r.get("traceID", ""), "spanId": r.get("spanID", ""), "attributes": {}}
                          for r in s.get("references", []) if r.get("spanID") != parent],
                "traceState": "",
                "flags": s.get("flags", 0),
            })
    return sorted(spans, key=lambda x: (x["startTimeUnixNano"], x["spanId"]))


def fetch_once(base: str, trace_id: str, api: str = "v3", raw: bool = True):
    """-> (spans or None if not found, raw response body)."""
    trace_id = trace_id.lower()
    if api == "v3":
        url = f"{base}/api/v3/traces/{trace_id}" + ("?raw_traces=true" if raw else "")
    else:
        url = f"{base}/api/traces/{trace_id}" + ("?raw=true" if raw else "")
    code, body = _get(url)
    if code == 404:
        return None, body
    if code != 200:
        raise QueryError(f"GET {url}: HTTP {code}: {json.dumps(body)[:500]}",
                         retryable=not 400 <= code < 500)
    if api == "v3":
        return flatten_v3((body or {}).get("result", {})), body
    return flatten_v1((body or {}).get("data")), body


def fetch_trace(trace_id: str, expect_spans: int | None = None, timeout: float = 30.0,
                url: str | None = None, api: str = "v3", raw: bool = True,
                settle: float = 1.0, interval: float = 0.2):
    """Poll until the trace is complete; -> (spans, raw body). Raises QueryError on
    timeout or when more than expect_spans spans arrived."""
    base = (url or os.environ.get("JAEGER_QUERY_URL") or "").rstrip("/")
    if not base:
        raise QueryError("no Jaeger URL: pass url= / --url or set JAEGER_QUERY_URL")
    deadline = time.monotonic() + timeout
    last_n, last_change = -1, time.monotonic()
    spans, body, err = None, None, None
    while True:
        try:
            spans, body = fetch_once(base, trace_id, api, raw)
            err = None
        except QueryError as e:
            if not e.retryable:
                raise
            err = e
        except (urllib.error.URLError, OSError, ValueError) as e:
            err = e
        n = len(spans) if spans is not None else 0
        now = time.monotonic()
        if n != last_n:
            last_n, last_change = n, now
        if expect_spans is not None:
            if n == expect_spans:
                return spans, body
            if n > expect_spans:
                raise QueryError(f"trace {trace_id}: expected {expect_spans} spans, got {n}", spans, body)
        elif n > 0 and now - last_change >= settle:
            return spans, body
        if now > deadline:
            what = f"{n} span(s)" + (f", expected {expect_spans}" if expect_spans is not None else "")
            raise QueryError(f"trace {trace_id}: timed out after {timeout:.0f}s with {what}"
                             + (f"; last error: {err}" if err else ""), spans, body)
        time.sleep(interval)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace_id", help="32 hex digits")
    ap.add_argument("--expect-spans", type=int, help="wait for exactly this many spans")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds (30)")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="without --expect-spans: seconds the span count must stay unchanged (1)")
    ap.add_argument("--api", choices=["v3", "v1"], default="v3")
    ap.add_argument("--format", choices=["spans", "raw"], default="spans")
    ap.add_argument("--adjusted", action="store_true",
                    help="let Jaeger apply its adjusters (clock skew, dedup, ...); default raw")
    ap.add_argument("--url", help="Jaeger query base URL (default $JAEGER_QUERY_URL)")
    a = ap.parse_args(argv)
    try:
        spans, body = fetch_trace(a.trace_id, a.expect_spans, a.timeout, a.url, a.api,
                                  not a.adjusted, a.settle)
    except QueryError as e:
        print(f"jaeger_query: {e}", file=sys.stderr)
        if e.spans:
            json.dump(e.body if a.format == "raw" else e.spans, sys.stderr, indent=2, sort_keys=True)
            print(file=sys.stderr)
        return 1
    json.dump(body if a.format == "raw" else spans, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
