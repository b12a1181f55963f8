#!/usr/bin/env python3
"""The Python twin of core/examples/sampling_load.rs: paced root spans per operation through
the OpenTelemetry API on a polytrace TracerProvider, printing per window how many each
operation started and how many the core sampled, with the provider's stats().

    python sampling_load.py --op busy=1000 --op quiet=5 --seconds 30 [--window-ms 1000]
                            [--sampler NAME --sampler-arg ARG]

The sampler comes from the OTEL_* environment, or from --sampler / --sampler-arg, which go to
the provider's constructor as its `sampler` / `sampler_arg` options. The binding has no
sampling code: the core decides every span (jaeger_remote included) and fetches strategies.
Output: the same JSON lines as the Rust example.
"""

from __future__ import annotations

import argparse
import json
import time

import polytrace
from opentelemetry import trace


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", action="append", required=True, help="NAME=RATE (spans per second)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--window-ms", type=int, default=1000)
    ap.add_argument("--sampler")
    ap.add_argument("--sampler-arg")
    args = ap.parse_args()
    ops = []
    for spec in args.op:
        name, rate = spec.split("=", 1)
        ops.append({"name": name, "rate": float(rate), "made": 0, "window": [0, 0], "total": [0, 0]})
    options = {}
    if args.sampler:
        options["sampler"] = args.sampler
    if args.sampler_arg:
        options["sampler_arg"] = args.sampler_arg
    provider = polytrace.TracerProvider(**options)
    tracer = provider.get_tracer("polytrace.sampling_load")
    server = trace.SpanKind.SERVER
    window = args.window_ms / 1000.0
    start = time.monotonic()
    next_report = start + window

    def counts(key: str) -> dict:
        return {o["name"]: {"started": o[key][0], "sampled": o[key][1]} for o in ops}

    while True:
        now = time.monotonic()
        elapsed = now - start
        for op in ops:
            due = int(op["rate"] * elapsed)
            while op["made"] < due:
                span = tracer.start_span(op["name"], kind=server)
                sampled = int(span.get_span_context().trace_flags.sampled)
                span.end()
                op["made"] += 1
                op["window"][0] += 1
                op["window"][1] += sampled
                op["total"][0] += 1
                op["total"][1] += sampled
        if now >= next_report:
            print(json.dumps({"t": round(elapsed, 3), "unix": time.time(), "ops": counts("window"),
                              "stats": provider.stats()}), flush=True)
            for op in ops:
                op["window"] = [0, 0]
            next_report += window
        if elapsed >= args.seconds:
            break
        time.sleep(0.001)
    provider.force_flush(10_000)
    print(json.dumps({"done": True, "ops": counts("total"), "stats": provider.stats()}), flush=True)
    provider.shutdown(10_000)


if __name__ == "__main__":
    main()
