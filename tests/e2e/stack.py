#!/usr/bin/env python3
"""Run a command against a real OpenTelemetry Collector -> Jaeger v2 stack on loopback.

    python3 tests/e2e/stack.py [options] -- COMMAND [ARGS...]
    python3 tests/e2e/stack.py [options]            # no command: serve until Ctrl-C

Starts Jaeger v2 (in-memory storage) and then the Collector, each on free 127.0.0.1
ports, waits until both are ready (bounded by --timeout), runs COMMAND with the
variables below in its environment, then stops the Collector (so its queue flushes
to Jaeger) and Jaeger: SIGTERM, then SIGKILL after --stop-timeout seconds. Always,
even when COMMAND fails or this script is interrupted.

Exit status: COMMAND's status; 1 if COMMAND succeeded but a server died meanwhile;
2 if the stack could not start. On any failure the log directory (jaeger.log,
otelcol.log, otelcol-traces.jsonl) is kept and printed along with the logs' tails;
on success it is removed unless --keep-logs.

Variables given to COMMAND:
  OTEL_EXPORTER_OTLP_ENDPOINT   the Collector's OTLP endpoint for --protocol
                                (http/protobuf and http/json: http://127.0.0.1:<http>,
                                grpc: http://127.0.0.1:<grpc>)
  OTEL_EXPORTER_OTLP_PROTOCOL   --protocol (default http/protobuf), unless --no-protocol
  POLYTRACE_E2E_OTLP_HTTP_ENDPOINT, POLYTRACE_E2E_OTLP_GRPC_ENDPOINT
                                both Collector endpoints, whatever --protocol says
  JAEGER_QUERY_URL              http://127.0.0.1:<port> (Jaeger's query HTTP API;
                                tests/e2e/jaeger_query.py reads it)
  JAEGER_OTLP_GRPC_ENDPOINT, JAEGER_OTLP_HTTP_ENDPOINT
                                Jaeger's own OTLP receiver, to bypass the Collector
  OTELCOL_FILE_OUT              the Collector's file exporter output (OTLP JSON lines)
  OTELCOL_METRICS_URL           the Collector's own Prometheus metrics
  POLYTRACE_E2E_LOG_DIR         the directory holding the logs and the file output
  and every *_PORT variable used by tests/e2e/otelcol.yaml and tests/e2e/jaeger.yaml.

Binaries: $POLYTRACE_OTELCOL_BIN / $POLYTRACE_JAEGER_BIN, default ~/go/bin/polytrace-otelcol
and ~/go/bin/polytrace-jaeger (tools/install-otelcol.sh, tools/install-jaeger.sh;
--install runs those scripts first, a fast no-op when already installed).

Also usable from Python (stdlib only):
    sys.path.insert(0, "tests/e2e"); import stack
    with stack.Stack() as s:          # raises stack.StackError if it cannot start
        subprocess.run(cmd, env={**os.environ, **s.env}, check=True)
    # on leaving: servers stopped; log dir removed, or kept and its tails printed if the
    # block raised or a server died.

    # Another Jaeger config (e.g. with the remote_sampling extension), extra free ports and
    # variables for it, and no Collector:
    with stack.Stack(jaeger_config="jaeger-sampling-file.yaml",
                     extra_ports=["JAEGER_SAMPLING_HTTP_PORT"],
                     extra_env={"JAEGER_STRATEGIES_FILE": path}, otelcol=False) as s: ...
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GOBIN = Path(os.environ.get("GOPATH", str(Path.home() / "go"))) / "bin"
DEFAULT_OTELCOL = GOBIN / "polytrace-otelcol"
DEFAULT_JAEGER = GOBIN / "polytrace-jaeger"

PORT_VARS = [
    "JAEGER_OTLP_GRPC_PORT",
    "JAEGER_OTLP_HTTP_PORT",
    "JAEGER_QUERY_HTTP_PORT",
    "JAEGER_QUERY_GRPC_PORT",
    "OTELCOL_GRPC_PORT",
    "OTELCOL_HTTP_PORT",
    "OTELCOL_METRICS_PORT",
]


class StackError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (all held open at once so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return 200 <= r.status < 300
    except (urllib.error.URLError, OSError):
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(text[-lines:])


class Stack:
    def __init__(
        self,
        otelcol_bin: str | os.PathLike | None = None,
        jaeger_bin: str | os.PathLike | None = None,
        timeout: float = 60.0,
        stop_timeout: float = 10.0,
        protocol: str = "http/protobuf",
        set_protocol: bool = True,
        log_dir: str | os.PathLike | None = None,
        debug_verbosity: str | None = None,
        keep_logs: bool = False,
        jaeger_config: str | os.PathLike | None = None,
        extra_ports: list[str] | tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
        otelcol: bool = True,
    ):
        self.otelcol_bin = Path(otelcol_bin or os.environ.get("POLYTRACE_OTELCOL_BIN") or DEFAULT_OTELCOL)
        self.jaeger_bin = Path(jaeger_bin or os.environ.get("POLYTRACE_JAEGER_BIN") or DEFAULT_JAEGER)
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.protocol = protocol
        self.set_protocol = set_protocol
        self.debug_verbosity = debug_verbosity
        self.keep_logs = keep_logs or log_dir is not None
        # A relative config name is looked up next to this file.
        self.jaeger_config = HERE / (jaeger_config or "jaeger.yaml")
        self.port_vars = PORT_VARS + list(extra_ports)
        self.extra_env = dict(extra_env or {})
        self.with_otelcol = otelcol
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="polytrace-e2e-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.ports: dict[str, int] = {}
        self.env: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, object] = {}
        self.died: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Stops both servers; on an exception or a dead server prints the logs' tails and
        keeps the log dir, otherwise removes it (unless keep_logs)."""
        died = bool(self.procs) and not self.alive()
        self.stop()
        if exc_type is not None or died:
            self.report()
        elif not self.keep_logs:
            self.cleanup()

    def start(self) -> None:
        for b in (self.jaeger_bin, self.otelcol_bin) if self.with_otelcol else (self.jaeger_bin,):
            if not os.access(b, os.X_OK):
                raise StackError(
                    f"{b} not found; run tools/install-jaeger.sh and tools/install-otelcol.sh "
                    "(or pass --install)"
                )
        self.ports = dict(zip(self.port_vars, free_ports(len(self.port_vars))))
        p = self.ports
        server_env = {k: str(v) for k, v in p.items()}
        server_env.update(self.extra_env)
        server_env["OTELCOL_FILE_OUT"] = str(self.log_dir / "otelcol-traces.jsonl")
        if self.debug_verbosity:
            server_env["OTELCOL_DEBUG_VERBOSITY"] = self.debug_verbosity

        grpc_ep = f"http://127.0.0.1:{p['OTELCOL_GRPC_PORT']}"
        http_ep = f"http://127.0.0.1:{p['OTELCOL_HTTP_PORT']}"
        self.env = dict(server_env)
        self.env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=grpc_ep if self.protocol == "grpc" else http_ep,
            POLYTRACE_E2E_OTLP_GRPC_ENDPOINT=grpc_ep,
            POLYTRACE_E2E_OTLP_HTTP_ENDPOINT=http_ep,
            JAEGER_QUERY_URL=f"http://127.0.0.1:{p['JAEGER_QUERY_HTTP_PORT']}",
            JAEGER_OTLP_GRPC_ENDPOINT=f"http://127.0.0.1:{p['JAEGER_OTLP_GRPC_PORT']}",
            JAEGER_OTLP_HTTP_ENDPOINT=f"http://127.0.0.1:{p['JAEGER_OTLP_HTTP_PORT']}",
            OTELCOL_METRICS_URL=f"http://127.0.0.1:{p['OTELCOL_METRICS_PORT']}/metrics",
            POLYTRACE_E2E_LOG_DIR=str(self.log_dir),
        )
        if self.set_protocol:
            self.env["OTEL_EXPORTER_OTLP_PROTOCOL"] = self.protocol

        deadline = time.monotonic() + self.timeout
        self._spawn("jaeger", [str(self.jaeger_bin), f"--config={self.jaeger_config}"], server_env)
        self._wait(
            "jaeger",
            deadline,
            lambda: tcp_open(p["JAEGER_OTLP_GRPC_PORT"])
            and http_ok(f"{self.env['JAEGER_QUERY_URL']}/api/services"),
        )
        if not self.with_otelcol:
            return
        self._spawn("otelcol", [str(self.otelcol_bin), f"--config={HERE / 'otelcol.yaml'}"], server_env)
        self._wait(
            "otelcol",
            deadline,
            lambda: tcp_open(p["OTELCOL_GRPC_PORT"]) and tcp_open(p["OTELCOL_HTTP_PORT"]),
        )

    def _spawn(self, name: str, argv: list[str], extra_env: dict[str, str]) -> None:
        logf = open(self.log_dir / f"{name}.log", "wb")
        self._logs[name] = logf
        # The servers must not pick up the client-side OTEL_* settings of the caller.
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(extra_env)
        # Own session: a Ctrl-C aimed at the test command does not kill the servers
        # before the Collector has flushed; we stop them ourselves, in order.
        self.procs[name] = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            env=env, cwd=self.log_dir, start_new_session=True,
        )
        log(f"started {name} pid {self.procs[name].pid}")

    def _wait(self, name: str, deadline: float, ready) -> None:
        t0 = time.monotonic()
        proc = self.procs[name]
        while True:
            if proc.poll() is not None:
                raise StackError(f"{name} exited with status {proc.returncode} during startup")
            if ready():
                log(f"{name} ready in {time.monotonic() - t0:.1f}s")
                return
            if time.monotonic() > deadline:
                raise StackError(f"{name} not ready after {self.timeout:.0f}s")
            time.sleep(0.1)

    def alive(self) -> bool:
        self.died = [n for n, p in self.procs.items() if p.poll() is not None]
        return not self.died

    def stop(self) -> None:
        """Collector first (so its batch/queue drains into Jaeger), then Jaeger."""
        if self.procs and not self.alive():
            log(f"server(s) died before stop: {', '.join(self.died)}")
        for name in ("otelcol", "jaeger"):
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    log(f"{name} ignored SIGTERM for {self.stop_timeout:.0f}s; SIGKILL")
                    proc.kill()
                    proc.wait()
                except ProcessLookupError:
                    pass
            log(f"stopped {name} (status {proc.returncode})")
            f = self._logs.pop(name, None)
            if f:
                f.close()

    def report(self) -> None:
        for name in ("jaeger", "otelcol"):
            path = self.log_dir / f"{name}.log"
            if path.exists():
                print(f"----- tail of {path} -----\n{tail(path)}", file=sys.stderr)
        log(f"logs kept in {self.log_dir}")

    def cleanup(self) -> None:
        shutil.rmtree(self.log_dir, ignore_errors=True)


class _Terminated(Exception):
    pass


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


def main(argv: list[str]) -> int:
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1 :]
    else:
        command = []
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [options] [-- COMMAND [ARGS...]]",
    )
    ap.add_argument("--timeout", type=float, default=60, help="startup bound in seconds (60)")
    ap.add_argument("--stop-timeout", type=float, default=10, help="SIGTERM->SIGKILL bound (10)")
    ap.add_argument("--protocol", choices=["http/protobuf", "http/json", "grpc"], default="http/protobuf",
                    help="sets OTEL_EXPORTER_OTLP_PROTOCOL and picks the endpoint (http/protobuf)")
    ap.add_argument("--no-protocol", action="store_true",
                    help="do not set OTEL_EXPORTER_OTLP_PROTOCOL (endpoint still follows --protocol)")
    ap.add_argument("--debug-verbosity", choices=["basic", "normal", "detailed"],
                    help="the Collector's debug exporter verbosity (basic)")
    ap.add_argument("--keep-logs", action="store_true", help="keep the log dir on success too")
    ap.add_argument("--log-dir", help="use this dir for logs instead of a new temp dir")
    ap.add_argument("--install", action="store_true",
                    help="run tools/install-jaeger.sh and tools/install-otelcol.sh first")
    ap.add_argument("--otelcol-bin", help=f"default $POLYTRACE_OTELCOL_BIN or {DEFAULT_OTELCOL}")
    ap.add_argument("--jaeger-bin", help=f"default $POLYTRACE_JAEGER_BIN or {DEFAULT_JAEGER}")
    args = ap.parse_args(argv)

    if args.install:
        for script in ("install-jaeger.sh", "install-otelcol.sh"):
            r = subprocess.run(["bash", str(REPO / "tools" / script)])
            if r.returncode != 0:
                log(f"tools/{script} failed ({r.returncode})")
                return 2

    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)
    # Even when started with SIGINT ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    stack = Stack(args.otelcol_bin, args.jaeger_bin, args.timeout, args.stop_timeout,
                  args.protocol, not args.no_protocol, args.log_dir, args.debug_verbosity)
    status = 0
    cmd_proc = None
    serving = False
    try:
        try:
            stack.start()
        except StackError as e:
            log(f"stack failed to start: {e}")
            status = 2
            return status
        if not command:
            for k in sorted(stack.env):
                print(f"export {k}={stack.env[k]}", flush=True)
            log("serving; Ctrl-C or SIGTERM to stop")
            serving = True
            while stack.alive():
                time.sleep(0.5)
            log(f"server(s) died: {', '.join(stack.died)}")
            status = 1
            return status
        log(f"running: {' '.join(command)}")
        t0 = time.monotonic()
        try:
            cmd_proc = subprocess.Popen(command, env={**os.environ, **stack.env})
        except OSError as e:
            log(f"cannot run command: {e}")
            status = 127
            return status
        status = cmd_proc.wait()
        if status < 0:  # killed by a signal: shell convention
            status = 128 - status
        log(f"command exited with status {status} after {time.monotonic() - t0:.1f}s")
        if not stack.alive():
            log(f"server(s) died while the command ran: {', '.join(stack.died)}")
            if status == 0:
                status = 1
        return status
    except (KeyboardInterrupt, _Terminated) as e:
        log(f"interrupted ({e.__class__.__name__}); stopping")
        if cmd_proc is not None and cmd_proc.poll() is None:
            cmd_proc.terminate()
            try:
                cmd_proc.wait(timeout=args.stop_timeout)
            except subprocess.TimeoutExpired:
                cmd_proc.kill()
                cmd_proc.wait()
        status = 0 if serving else 130
        return status
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # don't abort the cleanup itself
        stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if status != 0 or args.keep_logs or args.log_dir:
            if status != 0:
                stack.report()
            else:
                log(f"logs kept in {stack.log_dir}")
        else:
            stack.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
