"""Shared fixtures: a real OTLP receiver (`polytrace receive`) on 127.0.0.1 and helpers that read
exported spans (OTLP/JSON lines, as written by the receiver and by the core's file exporter)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

import polytrace

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "tests" / "vectors"
RECEIVER_BIN = Path(os.environ.get("POLYTRACE_BIN", ROOT / "target" / "debug" / "polytrace"))

# valgrind-suite.sh runs this interpreter with PYTHONMALLOC=malloc for memcheck; the
# interpreters the tests start are not under memcheck and keep CPython's own allocator (the
# memory bounds of test_huge_input.py are measured with it).
os.environ.pop("PYTHONMALLOC", None)

KIND = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def decode_value(v: Dict[str, Any]) -> Any:
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [decode_value(x) for x in v["arrayValue"].get("values", [])]
    return None


def decode_attrs(attrs: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
    return {a["key"]: decode_value(a.get("value", {})) for a in attrs or []}


def spans_from_lines(lines: List[str]) -> List[Dict[str, Any]]:
    """Flattens OTLP/JSON export requests into span dicts with decoded attributes."""
    out = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        for rs in req.get("resourceSpans", []):
            resource = decode_attrs(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                scope = ss.get("scope", {})
                for s in ss.get("spans", []):
                    out.append({
                        "trace_id": s.get("traceId", ""),
                        "span_id": s.get("spanId", ""),
                        "parent_span_id": s.get("parentSpanId", ""),
                        "name": s.get("name"),
                        "kind": KIND.get(s.get("kind", 0)),
                        "attributes": decode_attrs(s.get("attributes")),
                        "dropped_attributes": s.get("droppedAttributesCount", 0),
                        "dropped_events": s.get("droppedEventsCount", 0),
                        "dropped_links": s.get("droppedLinksCount", 0),
                        "events": [
                            {"name": e.get("name"), "attributes": decode_attrs(e.get("attributes"))}
                            for e in s.get("events", [])
                        ],
                        "links": [
                            {"trace_id": l.get("traceId"), "span_id": l.get("spanId"),
                             "attributes": decode_attrs(l.get("attributes"))}
                            for l in s.get("links", [])
                        ],
                        "status": {
                            "code": s.get("status", {}).get("code", 0),
                            "message": s.get("status", {}).get("message", ""),
                        },
                        "trace_state": s.get("traceState", ""),
                        "start": int(s.get("startTimeUnixNano", 0)),
                        "end": int(s.get("endTimeUnixNano", 0)),
                        "resource": resource,
                        "scope": scope.get("name"),
                        "scope_version": scope.get("version", ""),
                    })
    return out


def read_spans(path: Path) -> List[Dict[str, Any]]:
    if not path.exists():
        return []
    return spans_from_lines(path.read_text().splitlines())


class Receiver:
    """`polytrace receive` on loopback, writing OTLP/JSON lines to a file."""

    def __init__(self, out: Path, extra_args: Optional[List[str]] = None) -> None:
        if not RECEIVER_BIN.exists():
            subprocess.run(["cargo", "build", "-q", "-p", "polytrace-cli"], cwd=ROOT, check=True)
        self.out = out
        self.proc = subprocess.Popen(
            [str(RECEIVER_BIN), "receive", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0",
             "--out", str(out), *(extra_args or [])],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        m = re.search(r"grpc=(\S+) http=(\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"the receiver did not start: {line!r}")
        self.grpc, self.http = m.group(1), m.group(2)
        # Keep draining stderr so the receiver never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    @property
    def http_endpoint(self) -> str:
        return f"http://{self.http}"

    @property
    def grpc_endpoint(self) -> str:
        return f"http://{self.grpc}"

    def spans(self, service: Optional[str] = None) -> List[Dict[str, Any]]:
        spans = read_spans(self.out)
        if service is not None:
            spans = [s for s in spans if s["resource"].get("service.name") == service]
        return spans

    def wait(self, service: str, count: int, timeout: float = 15.0) -> List[Dict[str, Any]]:
        """Waits until at least `count` spans of `service` arrived; returns them."""
        deadline = time.monotonic() + timeout
        spans: List[Dict[str, Any]] = []
        while time.monotonic() < deadline:
            spans = self.spans(service)
            if len(spans) >= count:
                return spans
            time.sleep(0.05)
        return spans

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    r = Receiver(tmp_path_factory.mktemp("receiver") / "spans.jsonl")
    yield r
    r.stop()


@pytest.fixture
def service() -> str:
    """A service name unique to the test, to find its spans at the shared receiver."""
    return f"test-{uuid.uuid4().hex[:12]}"


class FileProvider:
    """A provider exporting to an OTLP/JSON lines file, for content assertions."""

    def __init__(self, path: Path, **opts: Any) -> None:
        self.path = path
        opts.setdefault("service_name", "pytest")
        self.provider = polytrace.TracerProvider(exporter="file", file_path=str(path), **opts)

    def spans(self) -> List[Dict[str, Any]]:
        assert self.provider.force_flush(10_000)
        return read_spans(self.path)

    def by_name(self) -> Dict[str, Dict[str, Any]]:
        return {s["name"]: s for s in self.spans()}


@pytest.fixture
def fp(tmp_path: Path) -> Iterator[FileProvider]:
    p = FileProvider(tmp_path / "spans.jsonl")
    yield p
    p.provider.shutdown()


def run_python(code: str, env: Optional[Dict[str, str]] = None, timeout: float = 60.0,
               cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter (same venv) and returns the completed process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)
