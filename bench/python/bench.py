"""polytrace vs the official OpenTelemetry Python SDK, through the OpenTelemetry API, in one run.

Workloads (each against the SDK with a BatchSpanProcessor + OTLP/HTTP exporter, and against
polytrace exporting OTLP/HTTP, both to the same loopback ``polytrace receive``):

  W1  start_span + 3 set_attribute (str, int, bool) + end
  W3  start_as_current_span nested 3 deep (ns per span)
  W4  propagate.inject + propagate.extract on a dict, inside an active span
  W5  4 threads: a burst as fast as possible, then a run paced below the drain rate;
      spans/s delivered to the receiver and the loss count

Prints CPU ns per operation (process CPU time, every thread, so export work counts too),
wall ns per operation, and the ratio SDK / polytrace. Also compares, for W1, the native
span registered as a virtual subclass of ``trace.Span`` with a thin Python subclass wrapper.

    python bench/python/bench.py [--quick] [--receiver target/debug/polytrace]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.baggage.propagation import W3CBaggagePropagator

import polytrace

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --------------------------------------------------------------------------------------------
# The loopback receiver
# --------------------------------------------------------------------------------------------


class Receiver:
    """``polytrace receive`` on 127.0.0.1, counting spans per service from its stderr."""

    LINE = re.compile(r"^request \d+: .*?, (\d+) spans, services: (.*)$")

    def __init__(self, binary: str) -> None:
        self.proc = subprocess.Popen(
            [binary, "receive", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0",
             "--out", os.devnull],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stderr is not None
        self.counts: Dict[str, int] = {}
        self.lock = threading.Lock()
        line = self.proc.stderr.readline()
        m = re.search(r"http=(\S+)", line)
        if not m:
            raise RuntimeError(f"receiver did not start: {line!r}")
        self.http = m.group(1)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            m = self.LINE.match(line.strip())
            if m:
                with self.lock:
                    for svc in m.group(2).split(", "):
                        self.counts[svc] = self.counts.get(svc, 0) + int(m.group(1))

    def count(self, service: str) -> int:
        with self.lock:
            return self.counts.get(service, 0)

    def wait_for(self, service: str, n: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = self.count(service)
            if c >= n:
                return c
            time.sleep(0.01)
        return self.count(service)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --------------------------------------------------------------------------------------------
# The two providers
# --------------------------------------------------------------------------------------------


class Variant:
    def __init__(self, name: str, provider: Any, propagator: Any, service: str) -> None:
        self.name = name
        self.provider = provider
        self.tracer = provider.get_tracer("bench")
        self.propagator = propagator
        self.service = service

    def flush(self) -> None:
        self.provider.force_flush(60_000)


def make_sdk(endpoint: str, service: str, **bsp: Any) -> Variant:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), **bsp))
    prop = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    return Variant("sdk", provider, prop, service)


def make_polytrace(endpoint: str, service: str, **opts: Any) -> Variant:
    provider = polytrace.TracerProvider(
        service_name=service, endpoint=endpoint, protocol="http/protobuf", **opts
    )
    return Variant("polytrace", provider, provider.propagator, service)


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------


def measure(fn: Callable[[int], None], n: int, ops_per_iter: int = 1) -> tuple[float, float]:
    """(cpu ns/op, wall ns/op) of fn(n), best of 3."""
    best_cpu = best_wall = float("inf")
    for _ in range(3):
        c0, w0 = time.process_time_ns(), time.perf_counter_ns()
        fn(n)
        c1, w1 = time.process_time_ns(), time.perf_counter_ns()
        best_cpu = min(best_cpu, (c1 - c0) / (n * ops_per_iter))
        best_wall = min(best_wall, (w1 - w0) / (n * ops_per_iter))
    return best_cpu, best_wall


def w1(v: Variant) -> Callable[[int], None]:
    tracer = v.tracer

    def run(n: int) -> None:
        for _ in range(n):
            span = tracer.start_span("w1")
            span.set_attribute("app.str", "value")
            span.set_attribute("app.int", 42)
            span.set_attribute("app.bool", True)
            span.end()

    return run


def w3(v: Variant) -> Callable[[int], None]:
    tracer = v.tracer

    def run(n: int) -> None:
        for _ in range(n):
            with tracer.start_as_current_span("outer"):
                with tracer.start_as_current_span("middle"):
                    with tracer.start_as_current_span("inner"):
                        pass

    return run


def w4(v: Variant) -> Callable[[int], None]:
    def run(n: int) -> None:
        propagate.set_global_textmap(v.propagator)
        span = v.tracer.start_span("w4-parent")
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            inject, extract = propagate.inject, propagate.extract
            for _ in range(n):
                carrier: Dict[str, str] = {}
                inject(carrier)
                extract(carrier)
        finally:
            otel_context.detach(token)
            span.end()

    return run


def produce(v: Variant, threads: int, per_thread: int, rate_per_thread: Optional[float]) -> float:
    """Runs `threads` producers of `per_thread` W1 spans; returns the production time (s)."""
    tracer = v.tracer
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        start.wait()
        t0 = time.perf_counter()
        for i in range(per_thread):
            if rate_per_thread is not None and i % 100 == 0:
                # Pace in steps of 100 spans.
                target = t0 + i / rate_per_thread
                delay = target - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            span = tracer.start_span("w5")
            span.set_attribute("app.str", "value")
            span.set_attribute("app.int", i)
            span.set_attribute("app.bool", True)
            span.end()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def w5(v: Variant, rx: Receiver, threads: int, per_thread: int,
       rate_per_thread: Optional[float]) -> Dict[str, float]:
    before = rx.count(v.service)
    t0 = time.perf_counter()
    produced_s = produce(v, threads, per_thread, rate_per_thread)
    v.flush()  # returns once the back end has everything that was not dropped
    elapsed = time.perf_counter() - t0
    total = threads * per_thread
    # The receiver logs each request before answering it; give the log reader a moment.
    got = rx.wait_for(v.service, before + total, timeout=2.0) - before
    return {
        "produced": total,
        "produced_per_s": total / produced_s,
        "delivered": got,
        "delivered_per_s": got / elapsed,
        "lost": total - got,
    }


# --------------------------------------------------------------------------------------------
# The design comparison: a thin Python subclass wrapper around the native span
# --------------------------------------------------------------------------------------------


class WrappedSpan(trace.Span):
    __slots__ = ("_s",)

    def __init__(self, s: Any) -> None:
        self._s = s

    def end(self, end_time: Optional[int] = None) -> None:
        self._s.end(end_time)

    def get_span_context(self) -> trace.SpanContext:
        return self._s.get_span_context()

    def set_attributes(self, attributes: Any) -> None:
        self._s.set_attributes(attributes)

    def set_attribute(self, key: str, value: Any) -> None:
        self._s.set_attribute(key, value)

    def add_event(self, name: str, attributes: Any = None, timestamp: Optional[int] = None) -> None:
        self._s.add_event(name, attributes, timestamp)

    def update_name(self, name: str) -> None:
        self._s.update_name(name)

    def is_recording(self) -> bool:
        return self._s.is_recording()

    def set_status(self, status: Any, description: Optional[str] = None) -> None:
        self._s.set_status(status, description)

    def record_exception(self, exception: BaseException, attributes: Any = None,
                         timestamp: Optional[int] = None, escaped: bool = False) -> None:
        self._s.record_exception(exception, attributes, timestamp, escaped)


class WrappedTracer(trace.Tracer):
    def __init__(self, t: Any) -> None:
        self._t = t

    def start_span(self, name: str, context: Any = None, kind: Any = trace.SpanKind.INTERNAL,
                   attributes: Any = None, links: Any = None, start_time: Any = None,
                   record_exception: bool = True, set_status_on_exception: bool = True) -> trace.Span:
        return WrappedSpan(self._t.start_span(name, context, kind, attributes, links, start_time,
                                              record_exception, set_status_on_exception))

    def start_as_current_span(self, *a: Any, **k: Any) -> Any:  # not measured
        raise NotImplementedError


def noop_api(n: int) -> None:
    tracer = trace.NoOpTracer()
    for _ in range(n):
        span = tracer.start_span("w1")
        span.set_attribute("app.str", "value")
        span.set_attribute("app.int", 42)
        span.set_attribute("app.bool", True)
        span.end()


# --------------------------------------------------------------------------------------------


def row(name: str, sdk: float, pt: float, unit: str = "ns") -> str:
    """A table row; the ratio is how many times better polytrace is (time: SDK/polytrace,
    throughput: polytrace/SDK)."""
    ratio = (pt / sdk if sdk else float("inf")) if unit == "/s" else (sdk / pt if pt else float("inf"))
    return f"| {name:<34} | {sdk:>12,.0f} {unit} | {pt:>12,.0f} {unit} | {ratio:>7.1f}x |"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer iterations")
    release = os.path.join(ROOT, "target", "release", "polytrace")
    ap.add_argument("--receiver", default=release if os.path.exists(release)
                    else os.path.join(ROOT, "target", "debug", "polytrace"),
                    help="the polytrace CLI (a release build, so the receiver keeps up)")
    args = ap.parse_args()
    n = 20_000 if args.quick else 100_000

    rx = Receiver(args.receiver)
    endpoint = f"http://{rx.http}/v1/traces"
    try:
        sdk = make_sdk(endpoint, "bench-sdk")
        pt = make_polytrace(f"http://{rx.http}", "bench-polytrace")
        print(f"# uptime: {os.popen('uptime').read().strip()}")
        print(f"# python {sys.version.split()[0]}, n={n}, receiver {args.receiver}")
        results = {}
        for label, make in (("W1 start+3 attrs+end", w1), ("W3 nested current span, per span", w3),
                            ("W4 inject+extract", w4)):
            per = 3 if make is w3 else 1
            iters = n // per if make is w3 else n
            make(sdk)(1000)
            make(pt)(1000)
            s = measure(make(sdk), iters, per)
            p = measure(make(pt), iters, per)
            results[label] = (s, p)
            sdk.flush()
            pt.flush()

        print()
        print("| workload (CPU ns/op)               |   official SDK  |     polytrace   |  ratio  |")
        print("|------------------------------------|-----------------|-----------------|---------|")
        for label, (s, p) in results.items():
            print(row(label, s[0], p[0]))
        print()
        print("| workload (wall ns/op)              |   official SDK  |     polytrace   |  ratio  |")
        print("|------------------------------------|-----------------|-----------------|---------|")
        for label, (s, p) in results.items():
            print(row(label, s[1], p[1]))

        # W5: a burst at the default queue size, then a paced run below the drain rate.
        per_thread = 5_000 if args.quick else 25_000
        burst_sdk = w5(sdk, rx, 4, per_thread, None)
        burst_pt = w5(pt, rx, 4, per_thread, None)
        # Paced: a half and a quarter of each variant's burst delivery rate, ~2 s each.
        def paced(v: Variant, burst: Dict[str, float], frac: float) -> Dict[str, float]:
            rate = max(1000.0, burst["delivered_per_s"] * frac)
            per = int(rate * 2 / 4)
            return w5(v, rx, 4, per, rate / 4)
        print()
        print("| W5: 4 threads                      |   official SDK  |     polytrace   |  ratio  |")
        print("|------------------------------------|-----------------|-----------------|---------|")
        print(row("burst: produced spans/s", burst_sdk["produced_per_s"], burst_pt["produced_per_s"], "/s"))
        print(row("burst: delivered spans/s", burst_sdk["delivered_per_s"], burst_pt["delivered_per_s"], "/s"))
        print(f"| {'burst: lost (of produced)':<34} | {burst_sdk['lost']:>7,.0f} ({burst_sdk['lost'] / burst_sdk['produced']:>4.0%}) | "
              f"{burst_pt['lost']:>7,.0f} ({burst_pt['lost'] / burst_pt['produced']:>4.0%}) |         |")
        for frac, label in ((0.5, "half"), (0.25, "a quarter of")):
            ps, pp = paced(sdk, burst_sdk, frac), paced(pt, burst_pt, frac)
            print(f"| {'paced at ' + label + ' that: spans/s':<34} | {ps['produced_per_s']:>12,.0f} /s | {pp['produced_per_s']:>12,.0f} /s |         |")
            print(f"| {'  lost':<34} | {ps['lost']:>7,.0f} of {ps['produced']:<7,.0f}| {pp['lost']:>7,.0f} of {pp['produced']:<7,.0f}|         |")

        # Design comparison (W1): native span as a virtual subclass vs a Python wrapper.
        wrapped = Variant("wrapped", pt.provider, pt.propagator, pt.service)
        wrapped.tracer = WrappedTracer(pt.tracer)
        native = measure(w1(pt), n)
        wrap = measure(w1(wrapped), n)
        noop = measure(noop_api, n)
        print()
        print("W1 design comparison (CPU ns/op): "
              f"native span (virtual subclass) {native[0]:,.0f}; thin Python subclass wrapper "
              f"{wrap[0]:,.0f}; OpenTelemetry API no-op tracer alone {noop[0]:,.0f}")
        print(f"polytrace stats: {pt.provider.stats()}")
        pt.provider.shutdown()
        sdk.provider.shutdown()
    finally:
        rx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
