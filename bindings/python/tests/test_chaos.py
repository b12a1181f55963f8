"""Faults in a real process (docs/reliability.md): a pre-fork server (gunicorn --preload with
several workers), multiprocessing fork pools, and many producer threads with concurrent flushes
and a shutdown in the middle. No crash, no deadlock, every worker's spans arrive, the counters
stay consistent."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from conftest import run_python


APP = textwrap.dedent("""
    import os
    import polytrace
    from opentelemetry import trace

    # Imported once, in the master (--preload): the pipeline is made before the fork and
    # restarted in every worker by polytrace's fork hook.
    polytrace.install()
    tracer = trace.get_tracer("gunicorn-app")
    tracer.start_span("master-preload").end()

    def app(environ, start_response):
        with tracer.start_as_current_span("request") as span:
            span.set_attribute("worker.pid", os.getpid())
            body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
""")

HOOKS = textwrap.dedent("""
    def post_worker_init(worker):
        from opentelemetry import trace
        trace.get_tracer("gunicorn-hooks").start_span("worker-ready").end()
""")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_gunicorn_preload_workers_all_export(receiver, service, tmp_path: Path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "hooks.py").write_text(HOOKS)
    port = free_port()
    env = dict(os.environ, OTEL_SERVICE_NAME=service, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint,
               OTEL_BSP_SCHEDULE_DELAY="200", PYTHONPATH=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "--workers", "3", "--bind", f"127.0.0.1:{port}",
         "--config", str(tmp_path / "hooks.py"), "--graceful-timeout", "20", "app:app"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        pids = set()
        served = 0
        while time.monotonic() < deadline and served < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    pids.add(int(resp.read()))
                    served += 1
            except OSError:
                time.sleep(0.1)
        assert served == 60, f"gunicorn served {served} requests"
    finally:
        proc.send_signal(signal.SIGTERM)   # graceful: workers exit normally, their exit hooks flush
        out, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, out
    spans = receiver.wait(service, 1 + 3 + 60, timeout=20)
    names = [s["name"] for s in spans]
    assert names.count("request") == 60, names
    assert names.count("master-preload") == 1
    ready = {s["resource"]["process.pid"] for s in spans if s["name"] == "worker-ready"}
    assert len(ready) == 3, f"worker-ready from {ready}"
    served_by = {s["attributes"]["worker.pid"] for s in spans if s["name"] == "request"}
    assert served_by <= ready and pids == served_by
    # Each request span carries its worker's own pid in the resource (a fresh pipeline per worker).
    for s in spans:
        if s["name"] == "request":
            assert s["resource"]["process.pid"] == s["attributes"]["worker.pid"]


POOL = textwrap.dedent("""
    import multiprocessing as mp, os
    import polytrace
    from opentelemetry import trace

    provider = polytrace.install()
    tracer = trace.get_tracer("pool")

    def work(i):
        with tracer.start_as_current_span(f"task-{i}"):
            pass
        return os.getpid()

    if __name__ == "__main__":
        tracer.start_span("before-pool").end()
        # close() + join(): the workers end normally and run multiprocessing's exit finalizers,
        # where polytrace flushes (terminate(), as `with Pool()` does, kills them instead).
        pool = mp.get_context("fork").Pool(4)
        pids = set(pool.map(work, range(200), chunksize=5))
        pool.close()
        pool.join()
        tracer.start_span("after-pool").end()
        provider.shutdown()
        print(len(pids))
""")


def test_multiprocessing_fork_pool(receiver, service, tmp_path: Path):
    script = tmp_path / "pool.py"
    script.write_text(POOL)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90, env=dict(
        os.environ, OTEL_SERVICE_NAME=service, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100"))
    assert r.returncode == 0, r.stderr
    spans = receiver.wait(service, 202, timeout=20)
    names = {s["name"] for s in spans}
    assert {f"task-{i}" for i in range(200)} <= names, sorted(names)[:10]
    assert {"before-pool", "after-pool"} <= names


CONCURRENCY = textwrap.dedent("""
    import json, threading, time, polytrace
    from opentelemetry import trace

    provider = polytrace.install()
    tracer = trace.get_tracer("threads")
    stop = threading.Event()
    errors = []

    def produce():
        try:
            while not stop.is_set():
                with tracer.start_as_current_span("outer") as s:
                    s.set_attribute("k", 1)
                    with tracer.start_as_current_span("inner"):
                        pass
        except Exception as e:
            errors.append(repr(e))

    def flush():
        try:
            while not stop.is_set():
                provider.force_flush(2000)
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=produce) for _ in range(8)] + \\
              [threading.Thread(target=flush) for _ in range(2)]
    for t in threads: t.start()
    time.sleep(1.0)
    provider.shutdown()          # in the middle: producers and flushers keep going
    time.sleep(0.3)
    stop.set()
    for t in threads: t.join(20)
    alive = [t for t in threads if t.is_alive()]
    print("STATS " + json.dumps(polytrace.stats()))
    print("ALIVE", len(alive), "ERRORS", errors)
""")


def test_many_threads_with_flushes_and_a_shutdown_in_the_middle(receiver, service):
    r = run_python(CONCURRENCY, env={
        "OTEL_SERVICE_NAME": service, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "20",
    }, timeout=90)
    assert r.returncode == 0, r.stderr
    assert "ALIVE 0 ERRORS []" in r.stdout, r.stdout
    st = json.loads(next(l for l in r.stdout.splitlines() if l.startswith("STATS "))[6:])
    assert st["spans_ended"] > 1000, st
    assert st["spans_exported"] + st["spans_dropped"] == st["spans_ended"], st
    got = len(receiver.wait(service, st["spans_exported"], timeout=20))
    assert got >= st["spans_exported"], (got, st)
