"""polytrace vs the official OpenTelemetry Python SDK, through the OpenTelemetry API, in one run.

Workloads (each against the SDK with a BatchSpanProcessor + OTLP/HTTP exporter, and against
polytrace exporting OTLP/HTTP, both to the same loopback ``polytrace receive``):

  W1  start_span + 3 set_attribute (str, int, bool) + end
  W3  start_as_current_span nested 3 deep (ns per span)
  W4  propagate.inject + propagate.extract on a dict, inside an active span
  W5  4 threads: a burst as fast as possible, then a run paced below the drain rate;
      spans/s delivered to the receiver and the loss count

Prints CPU ns per operation (process CPU time, every thread, so export work counts too),
wall ns per operation, the calling thread's CPU ns per operation (the producer side alone), and
the ratio SDK / polytrace. Then polytrace's steady state: W1 and W3 paced at 200,000 spans/s
(below the drain rate, default queue, 0 dropped), process CPU per span through the final flush,
so every span's export is paid for, with the split by thread. Paced W5 producers pace smoothly
(see ``produce``) and the losses come with the queue-full count and the time the core's batch
thread waited for a CPU. Also compares, for W1, the native span registered as a virtual
subclass of ``trace.Span`` with a thin Python subclass wrapper.

    python bench/python/bench.py [--quick] [--w5-only | --steady-only] [--steady-rate N]
                                 [--receiver target/debug/polytrace]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, cast

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
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


def measure(fn: Callable[[int], None], n: int,
            ops_per_iter: int = 1) -> tuple[float, float, float]:
    """(process CPU ns/op, wall ns/op, calling-thread CPU ns/op) of fn(n), each the best of 3.

    Process CPU counts every thread (the exporter's work too); the calling thread's CPU is the
    producer side alone (what the application thread pays)."""
    best_cpu = best_wall = best_thread = float("inf")
    for _ in range(3):
        c0, w0, t0 = time.process_time_ns(), time.perf_counter_ns(), time.thread_time_ns()
        fn(n)
        c1, w1, t1 = time.process_time_ns(), time.perf_counter_ns(), time.thread_time_ns()
        best_cpu = min(best_cpu, (c1 - c0) / (n * ops_per_iter))
        best_wall = min(best_wall, (w1 - w0) / (n * ops_per_iter))
        best_thread = min(best_thread, (t1 - t0) / (n * ops_per_iter))
    return best_cpu, best_wall, best_thread


# Steady state: the producer runs paced at a fixed rate below the drain rate, so the default
# queue never fills, nothing is dropped and every span's export work is paid for. Spans are
# produced in chunks (one clock read per chunk) and the thread sleeps until the next chunk is
# due; a producer more than PACE_MAX_LAG behind drops the debt (see W5). Two chunk sizes: 100
# spans (every 0.5 ms at 200,000/s: smooth) and 1,000 (every 5 ms: bursty); the difference is
# how often the core's batch thread wakes up and how long it polls after each batch.
PACED_RATE = 200_000
PACED_SECONDS = 2.0
PACED_CHUNKS = (100, 1000)


def thread_cpu_ns() -> Dict[str, int]:
    """Linux: CPU time (ns) of this process's threads, summed by thread name (`comm`: the
    calling thread is "python", the core's threads "polytrace-batch", "polytrace-expor...");
    empty elsewhere. Threads that exit between two readings are not counted."""
    out: Dict[str, int] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out[name] = out.get(name, 0) + ns
    return out


def measure_paced(v: Variant, make: Callable[[Variant], Callable[[int], None]],
                  spans_per_iter: int, rate: float = PACED_RATE, chunk_spans: int = 100,
                  seconds: float = PACED_SECONDS) -> tuple[float, int, float, Dict[str, float]]:
    """(process CPU ns per span, spans dropped, spans/s produced, CPU ns per span by thread
    name) of `make(v)` paced at `rate` spans/s in chunks of about `chunk_spans` spans for
    `seconds`, CPU measured through the final
    flush, the run with the median process CPU of 3: what a service producing that many spans
    pays per span, every thread counted (the producer, the batch thread, the export runtime)."""
    run = make(v)
    chunk = max(1, chunk_spans // spans_per_iter)
    chunks = int(rate * seconds / (chunk * spans_per_iter))
    interval = chunk * spans_per_iter / rate
    runs = []
    dropped = 0
    clock, sleep = time.perf_counter, time.sleep
    for _ in range(3):
        v.flush()
        d0 = v.provider.stats()["spans_dropped"]
        th0 = thread_cpu_ns()
        c0 = time.process_time_ns()
        t0 = due = clock()
        for _ in range(chunks):
            run(chunk)
            due += interval
            now = clock()
            if due > now:
                sleep(due - now)
            elif now - due > PACE_MAX_LAG:
                due = now
        produced_s = clock() - t0
        v.flush()
        c1 = time.process_time_ns()
        th1 = thread_cpu_ns()
        dropped += v.provider.stats()["spans_dropped"] - d0
        spans = chunks * chunk * spans_per_iter
        by_thread = {k: (th1[k] - th0.get(k, 0)) / spans for k in th1 if th1[k] > th0.get(k, 0)}
        runs.append(((c1 - c0) / spans, spans / produced_s, by_thread))
    cpu, produced_rate, by_thread = sorted(runs, key=lambda r: r[0])[1]
    return cpu, dropped, produced_rate, by_thread


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


# Paced producers sleep only when at least this far ahead of their schedule (sleeps shorter
# than ~1 ms are dominated by timer slack), and drop a debt larger than MAX_LAG instead of
# catching up: a thread that was descheduled for 20 ms must not then produce 20 ms of spans at
# full speed (4 threads doing that overflow the default 2,048-span queue at these rates, which
# measures the catch-up burst, not the pipeline). The reported rate is what was produced.
PACE_SLEEP_MIN = 0.001
PACE_MAX_LAG = 0.002


def produce(v: Variant, threads: int, per_thread: int,
            rate_per_thread: Optional[float]) -> tuple[float, int]:
    """Runs `threads` producers of `per_thread` W1 spans, each as fast as possible or paced
    smoothly at `rate_per_thread`; returns (production time in s, schedule resets: the times
    a paced thread fell more than PACE_MAX_LAG behind)."""
    tracer = v.tracer
    start = threading.Barrier(threads + 1)
    resets = [0] * threads

    def worker(k: int) -> None:
        start.wait()
        interval = 1.0 / rate_per_thread if rate_per_thread else 0.0
        due = time.perf_counter()
        clock, sleep = time.perf_counter, time.sleep
        for i in range(per_thread):
            if interval:
                now = clock()
                if due - now >= PACE_SLEEP_MIN:
                    sleep(due - now)
                elif now - due > PACE_MAX_LAG:
                    due = now
                    resets[k] += 1
                due += interval
            span = tracer.start_span("w5")
            span.set_attribute("app.str", "value")
            span.set_attribute("app.int", i)
            span.set_attribute("app.bool", True)
            span.end()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, sum(resets)


def batch_thread_wait_ns() -> Optional[int]:
    """Linux: the total time the core's `polytrace-batch` threads of this process spent
    runnable but waiting for a CPU (`/proc/self/task/*/schedstat`, second field), or None."""
    total, found = 0, False
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/comm") as f:
                    if f.read().strip() != "polytrace-batch":
                        continue
                with open(f"/proc/self/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[1])
                    found = True
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        return None
    return total if found else None


def w5(v: Variant, rx: Receiver, threads: int, per_thread: int,
       rate_per_thread: Optional[float]) -> Dict[str, float]:
    before = rx.count(v.service)
    stats0 = v.provider.stats() if v.name == "polytrace" else {}
    wait0 = batch_thread_wait_ns() if v.name == "polytrace" else None
    t0 = time.perf_counter()
    produced_s, resets = produce(v, threads, per_thread, rate_per_thread)
    v.flush()  # returns once the back end has everything that was not dropped
    elapsed = time.perf_counter() - t0
    wait1 = batch_thread_wait_ns() if v.name == "polytrace" else None
    total = threads * per_thread
    # The receiver logs each request before answering it; give the log reader a moment.
    got = rx.wait_for(v.service, before + total, timeout=2.0) - before
    out = {
        "produced": total,
        "produced_per_s": total / produced_s,
        "delivered": got,
        "delivered_per_s": got / elapsed,
        "lost": total - got,
        "resets": resets,
        "load": os.getloadavg()[0],
    }
    if v.name == "polytrace":
        stats1 = v.provider.stats()
        out["dropped_queue_full"] = stats1["dropped_queue_full"] - stats0["dropped_queue_full"]
    if wait0 is not None and wait1 is not None:
        out["batch_wait_ms"] = (wait1 - wait0) / 1e6
    return out


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
    """W1 against the OpenTelemetry API's no-op tracer: the cost of the API layer alone."""
    w1(cast(Variant, SimpleNamespace(tracer=trace.NoOpTracer())))(n)


class NoopPropagator(TextMapPropagator):
    """A propagator that writes and reads nothing: W4 with it is the cost of the API layer
    (`propagate.inject/extract`, `get_global_textmap()`, the loop) alone."""

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        pass

    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        return context

    @property
    def fields(self) -> set[str]:
        return set()


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
    ap.add_argument("--w5-only", action="store_true",
                    help="only W5 (the burst and the paced runs)")
    ap.add_argument("--steady-only", action="store_true",
                    help="only polytrace's steady state (W1 and W3 paced)")
    ap.add_argument("--steady-rate", type=int, default=PACED_RATE,
                    help=f"spans/s of the steady-state runs (default {PACED_RATE:,})")
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
        dropped = {}
        for label, make in (("W1 start+3 attrs+end", w1), ("W3 nested current span, per span", w3),
                            ("W4 inject+extract", w4)):
            if args.w5_only or args.steady_only:
                break
            per = 3 if make is w3 else 1
            iters = n // per if make is w3 else n
            make(sdk)(1000)
            make(pt)(1000)
            s = measure(make(sdk), iters, per)
            d0 = pt.provider.stats()["dropped_queue_full"]
            p = measure(make(pt), iters, per)
            dropped[label] = pt.provider.stats()["dropped_queue_full"] - d0
            results[label] = (s, p)
            sdk.flush()
            pt.flush()

        for title, i in (("CPU ns/op, every thread", 0), ("wall ns/op", 1),
                         ("CPU ns/op, this thread", 2)):
            if not results:
                break
            print()
            print(f"| {'workload (' + title + ')':<34} |   official SDK  |     polytrace   |  ratio  |"
                  if len(title) < 24 else f"| workload ({title}) | official SDK | polytrace | ratio |")
            print("|------------------------------------|-----------------|-----------------|---------|")
            for label, (s, p) in results.items():
                print(row(label, s[i], p[i]))
        if results:
            print("polytrace spans dropped (queue full) while measuring: "
                  + ", ".join(f"{k.split()[0]} {v:,}" for k, v in dropped.items()))
        if results or args.steady_only:
            # Steady state at the default queue: W1 and W3 paced below the drain rate, CPU of
            # every thread through the flush: the cost per span with its export included.
            lost_any = 0
            print()
            print(f"polytrace steady state: paced at {args.steady_rate:,} spans/s for "
                  f"{PACED_SECONDS:g} s, default queue, CPU ns per span through the final flush "
                  "(the run with the median process CPU of 3):")
            for chunk_spans in PACED_CHUNKS:
                for label, make in (("W1", w1), ("W3", w3)):
                    per = 3 if make is w3 else 1
                    if args.steady_only:
                        make(pt)(1000)
                    cpu, lost, rate, by_thread = measure_paced(pt, make, per, args.steady_rate,
                                                               chunk_spans)
                    lost_any += lost
                    threads = ", ".join(f"{k} {ns:,.0f}" for k, ns in
                                        sorted(by_thread.items(), key=lambda kv: -kv[1])
                                        if ns >= 1)
                    print(f"  {label}, chunks of {chunk_spans:,} spans: {cpu:,.0f} ns/span every "
                          f"thread at {rate:,.0f} spans/s, {lost:,} dropped; by thread: {threads}")
            if lost_any:
                print(f"NOT A STEADY STATE: {lost_any:,} spans dropped (the exporter fell behind; "
                      "these numbers undercount the export cost)")
            print(f"# load average: {os.getloadavg()[0]:.2f}")
        if args.steady_only:
            pt.provider.shutdown()
            sdk.provider.shutdown()
            return 0

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
        notes = []
        for frac, label in ((0.5, "half"), (0.25, "a quarter of")):
            ps, pp = paced(sdk, burst_sdk, frac), paced(pt, burst_pt, frac)
            print(f"| {'paced at ' + label + ' that: spans/s':<34} | {ps['produced_per_s']:>12,.0f} /s | {pp['produced_per_s']:>12,.0f} /s |         |")
            print(f"| {'  lost':<34} | {ps['lost']:>7,.0f} of {ps['produced']:<7,.0f}| {pp['lost']:>7,.0f} of {pp['produced']:<7,.0f}|         |")
            notes.append(f"paced at {label}: polytrace lost {pp['lost']:,} "
                         f"(queue full {pp.get('dropped_queue_full', 0):,}), "
                         f"schedule resets {pp['resets']}, batch thread waited for a CPU "
                         f"{pp.get('batch_wait_ms', float('nan')):,.1f} ms, load {pp['load']:.2f}")
        for note in notes:
            print(note)

        # Design comparison (W1): native span as a virtual subclass vs a Python wrapper.
        if args.w5_only:
            pt.provider.shutdown()
            sdk.provider.shutdown()
            return 0
        wrapped = Variant("wrapped", pt.provider, pt.propagator, pt.service)
        wrapped.tracer = WrappedTracer(pt.tracer)
        native = measure(w1(pt), n)
        wrap = measure(w1(wrapped), n)
        noop = measure(noop_api, n)
        noop_prop = Variant("noop", pt.provider, NoopPropagator(), pt.service)
        w4_noop = measure(w4(noop_prop), n)
        print()
        print("W1 design comparison (CPU ns/op): "
              f"native span (virtual subclass) {native[0]:,.0f}; thin Python subclass wrapper "
              f"{wrap[0]:,.0f}; OpenTelemetry API no-op tracer alone {noop[0]:,.0f}")
        print(f"W4 with a propagator that does nothing (the API layer alone, CPU ns/op): "
              f"{w4_noop[0]:,.0f}")
        print(f"polytrace stats: {pt.provider.stats()}")
        print(f"# uptime at the end: {os.popen('uptime').read().strip()}")
        pt.provider.shutdown()
        sdk.provider.shutdown()
    finally:
        rx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
