#!/usr/bin/env python3
"""End to end: the jaeger_remote sampler against a real Jaeger v2 (2.13.0) remote_sampling
extension, from the Rust core (core/examples/sampling_load.rs, configured by OTEL_* variables)
and from the Python binding (tests/e2e/sampling_load.py, configured through the provider's
constructor options), at the same time, one service each. The Rust producer polls Jaeger's
HTTP sampling API and the Python one its gRPC SamplingManager in the first test; the other way
round in the second. Spans go straight to Jaeger's OTLP receiver.

1. file strategies: a per-operation strategy file (checkout sampled, everything else not);
   while both producers run, the file is rewritten (checkout not sampled, everything else
   sampled). Jaeger reloads it every 200 ms, the samplers poll every 300 ms: both must follow
   within reload + poll + one 100 ms window + 300 ms of slack of the rewrite, and every span
   before it must have followed the first file exactly.
2. adaptive strategies (~/go/bin/polytrace-jaeger-adaptive; see tools/install-jaeger.sh):
   operations `busy` at 1,000 root spans/s and `quiet` at 5/s, target 10 traces/s per
   operation, calculation every 2 s, every operation starting at probability 1, never below
   0.002 (see jaeger-sampling-adaptive.yaml). After 24 s the
   busy operation's sampled rate must be within 4–25/s (target 10) and the quiet one must have
   been sampled completely all along.

Both check what arrived at Jaeger (traces per operation = what the core counted as sampled;
the root spans' sampler.type / sampler.param tags) and the core's stats().

    python3 tests/e2e/test_remote_sampling.py [--rust PATH] [--python PATH] [--only file|adaptive]

Prints each window's numbers, one line per check and a final `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import stack  # noqa: E402

SAMPLING_PORTS = ["JAEGER_SAMPLING_HTTP_PORT", "JAEGER_SAMPLING_GRPC_PORT"]
ADAPTIVE_JAEGER = stack.GOBIN / "polytrace-jaeger-adaptive"
TARGET = 10.0  # target_samples_per_second in jaeger-sampling-adaptive.yaml


def log(msg: str) -> None:
    print(msg, flush=True)


def producers(specs: list[tuple[str, list[str], dict]], timeout: float) -> dict[str, list[dict]]:
    """Runs the producers at once; returns each one's JSON lines (raises on failure)."""
    procs = {}
    for label, argv, env in specs:
        procs[label] = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
    out = {}
    deadline = time.monotonic() + timeout
    try:
        for label, p in procs.items():
            stdout, stderr = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if p.returncode != 0:
                raise RuntimeError(f"{label} producer exited {p.returncode}: {stderr.strip()[-2000:]}")
            out[label] = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def jaeger_traces(query_url: str, service: str, operation: str, since: float) -> list[dict]:
    q = urllib.parse.urlencode({
        "service": service, "operation": operation, "limit": 100000,
        "start": int(since * 1e6), "end": int((time.time() + 60) * 1e6),
    })
    return get_json(f"{query_url}/api/traces?{q}").get("data") or []


def root_tags(trace: dict) -> dict:
    for span in trace["spans"]:
        if not span.get("references"):
            return {t["key"]: t["value"] for t in span.get("tags", [])}
    return {}


def common_env(st: stack.Stack, service: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        OTEL_SERVICE_NAME=service,
        OTEL_EXPORTER_OTLP_ENDPOINT=st.env["JAEGER_OTLP_HTTP_ENDPOINT"],
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    return env


def rust_spec(rust: str, st, service, sampler_arg, ops, seconds, window_ms):
    env = common_env(st, service)
    env.update(OTEL_TRACES_SAMPLER="parentbased_jaeger_remote", OTEL_TRACES_SAMPLER_ARG=sampler_arg)
    argv = [rust, "--seconds", str(seconds), "--window-ms", str(window_ms)]
    for op in ops:
        argv += ["--op", op]
    return ("rust", argv, env)


def python_spec(python: str, st, service, sampler_arg, ops, seconds, window_ms):
    env = common_env(st, service)
    argv = [python, str(HERE / "sampling_load.py"), "--seconds", str(seconds), "--window-ms",
            str(window_ms), "--sampler", "parentbased_jaeger_remote", "--sampler-arg", sampler_arg]
    for op in ops:
        argv += ["--op", op]
    return ("python", argv, env)


def endpoints(st: stack.Stack) -> tuple[str, str]:
    http = f"http://127.0.0.1:{st.ports['JAEGER_SAMPLING_HTTP_PORT']}/sampling"
    grpc = f"127.0.0.1:{st.ports['JAEGER_SAMPLING_GRPC_PORT']}"
    return http, grpc


def check_stats(label: str, done: dict, expect: list[str]) -> None:
    s = done["stats"]
    started = sum(o["started"] for o in done["ops"].values())
    sampled = sum(o["sampled"] for o in done["ops"].values())
    if s["spans_sampled"] != sampled:
        expect.append(f"{label}: stats spans_sampled {s['spans_sampled']} != {sampled} the producer saw")
    if s["spans_sampled"] + s["spans_not_sampled"] != started:
        expect.append(f"{label}: spans_sampled + spans_not_sampled = "
                      f"{s['spans_sampled'] + s['spans_not_sampled']} != {started} started")
    if s["spans_exported"] != sampled or s["spans_dropped"] != 0:
        expect.append(f"{label}: exported {s['spans_exported']}, dropped {s['spans_dropped']} of {sampled}")
    if s["sampler_poll_failures"] != 0 or s["sampler_polls"] < 3:
        expect.append(f"{label}: sampler_polls {s['sampler_polls']}, failures {s['sampler_poll_failures']}")


def check_jaeger(label: str, st, service: str, done: dict, since: float, problems: list[str]) -> dict:
    """Traces per operation in Jaeger = what the core sampled; returns op -> traces."""
    found = {}
    for op, c in done["ops"].items():
        deadline = time.monotonic() + 15
        while True:
            traces = jaeger_traces(st.env["JAEGER_QUERY_URL"], service, op, since)
            if len(traces) >= c["sampled"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        found[op] = traces
        if len(traces) != c["sampled"]:
            problems.append(f"{label}: Jaeger holds {len(traces)} {op} traces, the core sampled {c['sampled']}")
    return found


# ------------------------------------------------------------------------------------------
# 1. file strategies
# ------------------------------------------------------------------------------------------

RELOAD, POLL, WINDOW = 0.2, 0.3, 0.1


def strategies(services: list[str], checkout: float, others: float) -> str:
    return json.dumps({
        "default_strategy": {"type": "probabilistic", "param": 0.5},
        "service_strategies": [
            {"service": s, "type": "probabilistic", "param": others,
             "operation_strategies": [{"operation": "checkout", "type": "probabilistic", "param": checkout}]}
            for s in services
        ],
    })


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_file(rust: str, python: str) -> list[str]:
    problems: list[str] = []
    services = {"rust": "e2e-file-rust", "python": "e2e-file-python"}
    with tempfile.TemporaryDirectory(prefix="polytrace-strategies-") as d:
        path = Path(d) / "strategies.json"
        write_atomically(path, strategies(list(services.values()), checkout=1.0, others=0.0))
        with stack.Stack(jaeger_config="jaeger-sampling-file.yaml", extra_ports=SAMPLING_PORTS,
                         extra_env={"JAEGER_STRATEGIES_FILE": str(path)}, otelcol=False) as st:
            http, grpc = endpoints(st)
            arg = f"pollingIntervalMs={int(POLL * 1000)}"
            ops = ["checkout=200", "browse=200"]
            since = time.time() - 5
            specs = [
                rust_spec(rust, st, services["rust"], f"endpoint={http},{arg}", ops, 6, 100),
                python_spec(python, st, services["python"], f"endpoint={grpc},{arg}", ops, 6, 100),
            ]
            t0 = time.time()
            result: dict = {}

            def run():
                try:
                    result["out"] = producers(specs, timeout=60)
                except Exception as e:  # reported below
                    result["error"] = e

            th = threading.Thread(target=run)
            th.start()
            time.sleep(3.0)
            write_atomically(path, strategies(list(services.values()), checkout=0.0, others=1.0))
            changed = time.time()
            th.join(90)
            if "error" in result or "out" not in result:
                return [f"producers: {result.get('error', 'did not finish')}"]
            for label, lines in result["out"].items():
                windows = [w for w in lines if "unix" in w]
                done = next(w for w in lines if w.get("done"))

                def v1(w):
                    c, b = w["ops"]["checkout"], w["ops"]["browse"]
                    return c["sampled"] == c["started"] and b["sampled"] == 0

                def v2(w):
                    c, b = w["ops"]["checkout"], w["ops"]["browse"]
                    return c["sampled"] == 0 and b["sampled"] == b["started"]

                # The first file, from the first poll (well within 1 s) until the rewrite.
                before = [w for w in windows if t0 + 1.0 <= w["unix"] <= changed]
                bad = [w["t"] for w in before if not v1(w)]
                if not before or bad:
                    problems.append(f"file/{label}: windows not following the first file: {bad[:5]}")
                # The second: from the first window entirely under it to the end.
                first_v2 = next((i for i, w in enumerate(windows)
                                 if w["unix"] > changed and all(v2(x) for x in windows[i:])), None)
                if first_v2 is None:
                    problems.append(f"file/{label}: the rewritten file was never followed")
                    continue
                lag = windows[first_v2]["unix"] - WINDOW - changed
                bound = RELOAD + POLL + WINDOW + 0.3
                log(f"     file/{label}: the sampler followed the rewritten file {max(lag, 0):.2f} s after "
                    f"it changed (bound {bound:.1f} s: reload {RELOAD} + poll {POLL} + window {WINDOW} + 0.3)")
                if lag > bound:
                    problems.append(f"file/{label}: followed the new file {lag:.2f} s after the change (> {bound} s)")
                check_stats(f"file/{label}", done, problems)
                found = check_jaeger(f"file/{label}", st, services[label], done, since, problems)
                tags = [root_tags(t) for t in found.get("checkout", [])]
                if not tags or any(t.get("sampler.type") != "probabilistic" or t.get("sampler.param") != 1
                                   for t in tags):
                    problems.append(f"file/{label}: checkout root spans' sampler tags {tags[:2]}")
    return problems


# ------------------------------------------------------------------------------------------
# 2. adaptive strategies
# ------------------------------------------------------------------------------------------

SECONDS, CONVERGED_AFTER = 36, 24


def test_adaptive(rust: str, python: str) -> list[str]:
    problems: list[str] = []
    services = {"rust": "e2e-adaptive-rust", "python": "e2e-adaptive-python"}
    with stack.Stack(jaeger_config="jaeger-sampling-adaptive.yaml", jaeger_bin=ADAPTIVE_JAEGER,
                     extra_ports=SAMPLING_PORTS, otelcol=False) as st:
        http, grpc = endpoints(st)
        arg = "pollingIntervalMs=250"
        ops = ["busy=1000", "quiet=5"]
        since = time.time() - 5
        out = producers([
            rust_spec(rust, st, services["rust"], f"endpoint={grpc},{arg}", ops, SECONDS, 2000),
            python_spec(python, st, services["python"], f"endpoint={http},{arg}", ops, SECONDS, 2000),
        ], timeout=SECONDS + 60)
        for label, lines in out.items():
            windows = [w for w in lines if "unix" in w]
            done = next(w for w in lines if w.get("done"))
            trace = " ".join(f"{w['ops']['busy']['sampled'] / 2:g}" for w in windows)
            log(f"     adaptive/{label}: busy sampled traces/s per 2 s window: {trace}")
            quiet = [w["ops"]["quiet"] for w in windows]
            if any(q["sampled"] != q["started"] for q in quiet):
                problems.append(f"adaptive/{label}: quiet not fully sampled: {quiet}")
            first = windows[0]["ops"]["busy"]
            if first["sampled"] < 0.85 * first["started"]:
                problems.append(f"adaptive/{label}: first window sampled {first} (probability 1 at the start)")
            late = [w for w in windows if w["t"] > CONVERGED_AFTER]
            rate = sum(w["ops"]["busy"]["sampled"] for w in late) / (2.0 * len(late)) if late else -1
            made = sum(w["ops"]["busy"]["started"] for w in late) / (2.0 * len(late)) if late else -1
            log(f"     adaptive/{label}: after {CONVERGED_AFTER} s busy sampled {rate:.1f} traces/s of "
                f"{made:.0f}/s (target {TARGET:g}); quiet {sum(q['sampled'] for q in quiet)} of "
                f"{sum(q['started'] for q in quiet)} sampled")
            if not TARGET / 2.5 <= rate <= TARGET * 2.5:
                problems.append(f"adaptive/{label}: busy sampled {rate:.1f}/s after {CONVERGED_AFTER} s, "
                                f"not within {TARGET / 2.5:g}-{TARGET * 2.5:g}")
            check_stats(f"adaptive/{label}", done, problems)
            found = check_jaeger(f"adaptive/{label}", st, services[label], done, since, problems)
            quiet_tags = {(t.get("sampler.type"), t.get("sampler.param"))
                          for t in map(root_tags, found.get("quiet", []))}
            if quiet_tags != {("probabilistic", 1)}:
                problems.append(f"adaptive/{label}: quiet root spans' sampler tags {quiet_tags}")
            busy_params = sorted(t.get("sampler.param", -1) for t in map(root_tags, found.get("busy", [])))
            if not busy_params or busy_params[0] >= 0.05:
                problems.append(f"adaptive/{label}: busy root spans' smallest sampler.param {busy_params[:1]}")
            served = get_json(f"http://127.0.0.1:{st.ports['JAEGER_SAMPLING_HTTP_PORT']}/sampling?"
                              + urllib.parse.urlencode({"service": services[label]}))
            per_op = {o["operation"]: o["probabilisticSampling"]["samplingRate"]
                      for o in served["operationSampling"]["perOperationStrategies"]}
            log(f"     adaptive/{label}: Jaeger serves {per_op}")
            if not (0 < per_op.get("busy", 1) <= 0.05 and per_op.get("quiet") == 1):
                problems.append(f"adaptive/{label}: served probabilities {per_op}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rust", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", str(REPO / "target")), "debug", "examples", "sampling_load"))
    ap.add_argument("--python", default=str(Path(os.environ.get("POLYTRACE_VENV", REPO / ".venv")) / "bin" / "python"))
    ap.add_argument("--only", choices=["file", "adaptive"])
    args = ap.parse_args()
    passed = failed = 0
    for name, test in (("file", test_file), ("adaptive", test_adaptive)):
        if args.only and args.only != name:
            continue
        t0 = time.monotonic()
        try:
            problems = test(args.rust, args.python)
        except Exception as e:  # a stack that cannot start is a failure, not a skip
            problems = [f"{type(e).__name__}: {e}"]
        took = time.monotonic() - t0
        if problems:
            failed += 1
            log(f"FAIL remote sampling, {name} strategies, Rust and Python ({took:.0f} s):")
            for p in problems:
                log(f"    {p}")
        else:
            passed += 1
            log(f"ok   remote sampling, {name} strategies, Rust and Python ({took:.0f} s)")
    log(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
