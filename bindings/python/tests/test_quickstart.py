"""The quickstart in examples/python runs and its trace arrives at a real OTLP receiver."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_quickstart(receiver, service):
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "quickstart.py")],
        env={**__import__("os").environ, "OTEL_SERVICE_NAME": service,
             "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint},
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "GET /stock/apple -> 200" in r.stdout
    trace_id = [l for l in r.stdout.splitlines() if l.startswith("trace_id=")][0].split("=")[1]
    # root + 3 client + 3 server + 3 lookups
    spans = [s for s in receiver.wait(service, 10) if s["trace_id"] == trace_id]
    names = sorted(s["name"] for s in spans)
    assert names.count("stock.lookup") == 3 and names.count("GET") == 3
    assert names.count("GET /stock/<item>") == 3 and "quickstart.client" in names
    failed = [s for s in spans if s["name"] == "stock.lookup" and s["status"]["code"] == 2]
    assert len(failed) == 1
