#!/usr/bin/env python3
"""The polyglot demo: five services in four languages, traced by polytrace, one trace per order.

    python3 examples/polyglot-demo/demo.py [--pipeline embedded|full] [options]
    (`make demo` builds everything first, then runs this; PIPELINE=full picks the full pipeline)

Starts on 127.0.0.1 (free ports only): a single-node Kafka broker (KRaft, from Kafka's Maven
Central artifacts), Debian's mosquitto (MQTT 5), and the services

    api-gateway           Node.js  node:http + @opentelemetry/instrumentation-http
    order-service         Java     com.sun.net.httpserver, java.net.http, H2 (JDBC), Kafka producer
                                   under OpenTelemetry's library instrumentations
    inventory-service     Python   Flask + opentelemetry-instrumentation-flask
    payment-service       Erlang   inets httpd + polytrace_httpd
    notification-service  Python   Kafka consumer -> MQTT 5 publish -> MQTT subscriber

every one on polytrace, then sends a few orders (one for an out-of-stock item, which fails), an
order lookup with a client's traceparent/tracestate, waits until the last notification reached
its device, stops every service (each flushes what it has queued), and shows each trace with
`polytrace view` and as an SVG waterfall.

Where the spans go:
  embedded (default)  `polytrace receive` on loopback writes them to <out>/traces.jsonl.
  full                every service exports OTLP to the OpenTelemetry Collector, whose Kafka
                      exporter writes them to the broker's `otlp_spans` topic; Jaeger v2, in its
                      ingester role, reads the topic into its storage (memory); the traces are
                      read back from Jaeger's query API into <out>/jaeger-traces.jsonl.
  OTEL_EXPORTER_OTLP_ENDPOINT set (and no --pipeline): the services export there; nothing is
                      shown but the trace ids.

Every process it started is stopped on the way out, also on Ctrl-C, SIGTERM and on failure.
<out>/result.json describes the run (mode, orders, trace ids, files) for tests/e2e/test_demo.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from stack import free_ports, tcp_open

TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
GOBIN = Path(os.environ.get("GOPATH") or Path.home() / "go") / "bin"
VERSION = "0.1.0"
TOPIC = "order.created"
SPANS_TOPIC = "otlp_spans"

# What the demo sends: (sku, quantity, card, expected HTTP status of the gateway's answer, whether
# the client sends a trace context of its own). The last order comes from a traced client (a
# mobile app): the gateway continues its traceparent, and its tracestate travels with the order
# through every hop — HTTP, the Kafka record's headers, the MQTT user properties.
ORDERS = [
    ("sku-espresso", 2, "4242424242424242", 201, False),
    ("sku-umbrella", 1, "4242424242421881", 409, False),  # out of stock: the failing order
    ("sku-kettle", 1, "5555555555554444", 201, True),
]
# The spans each kind of trace holds (the e2e test checks their shapes one by one).
SPANS_PER_TRACE = {"created": 16, "refused": 7, "lookup": 4}
# A client's context for the order lookup: the gateway must continue it.
CLIENT_TRACESTATE = "mobile=app-7"

_t0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[demo {time.monotonic() - _t0:5.1f}s] {msg}", flush=True)


class DemoError(RuntimeError):
    pass


class Interrupted(BaseException):
    pass


class Proc:
    """A child process in a session of its own (a Ctrl-C does not reach it before the demo has
    stopped it in order), its output copied to <logs>/<name>.log line by line."""

    def __init__(self, name: str, argv: list[str], env: dict, cwd: Path, log_dir: Path, ready: str | None = None):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.lines: list[str] = []
        self.ready_re = re.compile(ready) if ready else None
        self.ready_match: re.Match | None = None
        self.ready_event = threading.Event()
        self.cond = threading.Condition()
        # Open for the child's whole life; closed by stop().
        self.log = open(self.log_path, "a", buffering=1, errors="replace")  # noqa: SIM115
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.write(line)
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                if self.ready_re and not self.ready_event.is_set():
                    m = self.ready_re.search(line)
                    if m:
                        self.ready_match = m
                        self.ready_event.set()
                self.cond.notify_all()

    def wait_ready(self, deadline: float) -> re.Match | None:
        while not self.ready_event.wait(0.1):
            if self.proc.poll() is not None:
                raise DemoError(
                    f"{self.name} exited with status {self.proc.returncode} while starting;"
                    f" see {self.log_path}:\n" + "\n".join(self.lines[-15:])
                )
            if time.monotonic() > deadline:
                raise DemoError(f"{self.name} not ready in time; see {self.log_path}")
        return self.ready_match

    def count(self, pattern: str) -> list[str]:
        r = re.compile(pattern)
        with self.cond:
            return [line for line in self.lines if r.search(line)]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20.0, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {timeout:.0f}s: SIGKILL")
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.reader.join(5)
        self.log.close()
        return self.proc.returncode


class Kafka:
    """A single-node KRaft broker (broker and controller in one JVM) on two loopback ports, its
    log directory kept across a restart (the test stops it mid-run)."""

    def __init__(self, workdir: Path, log_dir: Path, env: dict):
        self.dir = workdir / "kafka"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.env = env
        classpath_file = HERE / "kafka" / "target" / "classpath.txt"
        if not classpath_file.exists():
            raise DemoError(f"{classpath_file} missing: run examples/polyglot-demo/build.sh")
        self.classpath = classpath_file.read_text().strip()
        self.port, self.controller_port = free_ports(2)
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.config = self.dir / "server.properties"
        self.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.dir / 'data'}",
                    "num.partitions=1",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        (self.dir / "log4j2.yaml").write_text(
            "Configuration:\n"
            "  Appenders:\n"
            "    Console: {name: STDOUT, PatternLayout: {pattern: '[%d] %p %m (%c)%n'}}\n"
            "  Loggers:\n"
            "    Root: {level: INFO, AppenderRef: [{ref: STDOUT}]}\n"
            "    Logger:\n"
            "      - {name: org.apache.kafka, level: WARN}\n"
            "      - {name: kafka, level: WARN}\n"
            "      - {name: kafka.server.KafkaServer, level: INFO}\n"
            "      - {name: kafka.server.BrokerServer, level: INFO}\n"
        )
        self.proc: Proc | None = None
        self.restarts = 0

    def java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            "-Xms128m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xshare:auto",
            f"-Dlog4j2.configurationFile={self.dir / 'log4j2.yaml'}",
            "-cp",
            self.classpath,
            main,
            *args,
        ]

    def format(self) -> None:
        # As Kafka's own Uuid.randomUuid: an id starting with '-' would be read as an option
        # ("argument --cluster-id/-t: expected one argument": one id in 64 starts so).
        cluster = "-"
        while cluster.startswith("-"):
            cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        out = subprocess.run(
            self.java("kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(self.config)),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if out.returncode != 0:
            raise DemoError(f"kafka storage format failed:\n{out.stdout}\n{out.stderr}")

    def start(self) -> None:
        name = "kafka" if not self.restarts else f"kafka-restart{self.restarts}"
        self.proc = Proc(name, self.java("kafka.Kafka", str(self.config)), self.env, self.dir, self.log_dir)

    def wait_ready(self, deadline: float) -> None:
        # The broker answers metadata requests once it has registered with its controller.
        from confluent_kafka.admin import AdminClient  # the venv's; imported late on purpose

        last_error: Exception | None = None
        while True:
            if self.proc is None or not self.proc.alive():
                raise DemoError(f"kafka exited while starting; see {self.log_dir}/kafka.log")
            if tcp_open(self.port):
                try:
                    md = AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=2)
                    if md.brokers:
                        return
                except Exception as e:  # noqa: BLE001 - any client error means "not ready yet"
                    last_error = e
            if time.monotonic() > deadline:
                raise DemoError(f"kafka not ready in time (last error: {last_error}); see {self.log_dir}")
            time.sleep(0.3)

    def create_topics(self, names: list[str]) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(n, num_partitions=1, replication_factor=1) for n in names])
        for name, f in futures.items():
            try:
                f.result(30)
            except Exception as e:
                if "TOPIC_ALREADY_EXISTS" not in str(e):
                    raise DemoError(f"cannot create topic {name}: {e}") from e

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is not None:
            self.proc.stop(timeout)
            self.proc = None


class Demo:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = Path(args.out).resolve()
        self.logs = self.out / "logs"
        self.work = self.out / "work"
        self.procs: list[Proc] = []
        self.kafka: Kafka | None = None
        self.result: dict = {"mode": args.pipeline, "orders": [], "files": {}}
        self.expected_spans = 0
        base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        base["PATH"] = f"{GOBIN}:{os.environ.get('PATH', '')}"
        self.base_env = base

    # -- helpers ----------------------------------------------------------------------------
    def spawn(
        self, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None, ready: str | None = None
    ) -> Proc:
        p = Proc(name, argv, {**self.base_env, **(env or {})}, cwd or self.work, self.logs, ready)
        self.procs.append(p)
        self.result.setdefault("pids", {})[name] = p.proc.pid
        return p

    def service_env(self, name: str, port: int) -> dict:
        env = {
            "PORT": str(port),
            "OTEL_SERVICE_NAME": name,
            "OTEL_RESOURCE_ATTRIBUTES": f"service.version={VERSION},deployment.environment=demo",
            # Exports every 200 ms (default 5 s) so the demo does not wait; a clean stop flushes.
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            # The Java JDBC instrumentation's stable database attributes (db.system.name,
            # db.query.text, ...), as in the current semantic conventions.
            "OTEL_SEMCONV_STABILITY_OPT_IN": "database,http",
        }
        if self.endpoint:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.endpoint
            env["OTEL_EXPORTER_OTLP_PROTOCOL"] = self.protocol
        for k, v in os.environ.items():  # the user's own OTEL_* settings pass through
            if k.startswith("OTEL_") and k not in ("OTEL_SERVICE_NAME",):
                env.setdefault(k, v)
        return env

    def http(
        self, method: str, url: str, body: dict | None = None, headers: dict | None = None, timeout: float = 90.0
    ) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text or b"{}")
            except ValueError:
                return e.code, {"error": text.decode(errors="replace")}

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> int:
        if self.out.exists():
            shutil.rmtree(self.out)
        self.logs.mkdir(parents=True)
        self.work.mkdir(parents=True)
        self.result["files"]["logs"] = str(self.logs)
        mode = self.args.pipeline
        self.endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") if mode == "external" else None
        self.protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

        say(f"pipeline: {mode}; output in {self.out}")
        deadline = time.monotonic() + self.args.start_timeout
        # Brokers and the trace back end first (Kafka's JVM takes longest: start it first).
        self.kafka = Kafka(self.work, self.logs, self.base_env)
        say("starting Kafka (single-node KRaft broker) and mosquitto (MQTT 5)")
        self.kafka.format()
        self.kafka.start()
        self.procs.append(self.kafka.proc)
        self.result.setdefault("pids", {})["kafka"] = self.kafka.proc.proc.pid
        mqtt_port = free_ports(1)[0]
        conf = self.work / "mosquitto.conf"
        conf.write_text(
            f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stdout\nlog_type error\nlog_type warning\nlog_type notice\n"
        )
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.spawn("mosquitto", [mosquitto, "-c", str(conf)])

        if mode == "embedded":
            out_file = self.out / "traces.jsonl"
            recv = self.spawn(
                "receiver",
                [str(self.cli()), "receive", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--out", str(out_file)],
                ready=r"^listening .*http=(\S+)",
            )
            m = recv.wait_ready(deadline)
            self.endpoint = f"http://{m.group(1)}"
            self.result["files"]["traces"] = str(out_file)
            say(f"embedded OTLP receiver (polytrace receive) on {self.endpoint}, writing {out_file}")
        say("waiting for Kafka")
        self.kafka.wait_ready(deadline)
        self.kafka.create_topics([TOPIC] + ([SPANS_TOPIC] if mode == "full" else []))
        if mode == "full":
            self.start_back_end(deadline)

        ports = dict(zip(["gateway", "order", "inventory", "payment"], free_ports(4)))
        say("starting the five services")
        svc = {}
        venv_python = sys.executable
        svc["inventory"] = self.spawn(
            "inventory-service",
            [venv_python, str(HERE / "inventory-service" / "inventory.py")],
            self.service_env("inventory-service", ports["inventory"]),
            ready=r"listening on",
        )
        erlang_app = ROOT / "bindings" / "erlang" / "polytrace" / "_build" / "default" / "lib"
        self.compile_payment()
        svc["payment"] = self.spawn(
            "payment-service",
            ["erl", "-noshell", "-pa", str(self.work / "payment-ebin"), "-eval", "payment:main()"],
            {**self.service_env("payment-service", ports["payment"]), "ERL_LIBS": str(erlang_app)},
            ready=r"listening on",
        )
        order_cp = (HERE / "order-service" / "target" / "classpath.txt").read_text().strip()
        svc["order"] = self.spawn(
            "order-service",
            [
                "java",
                "-Xms64m",
                "-Xmx384m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                f"{HERE / 'order-service' / 'target' / 'classes'}:{order_cp}",
                "demo.order.OrderService",
            ],
            {
                **self.service_env("order-service", ports["order"]),
                "INVENTORY_URL": f"http://127.0.0.1:{ports['inventory']}",
                "PAYMENT_URL": f"http://127.0.0.1:{ports['payment']}",
                "KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "ORDER_TOPIC": TOPIC,
            },
            ready=r"listening on",
        )
        svc["notification"] = self.spawn(
            "notification-service",
            [venv_python, str(HERE / "notification-service" / "notification.py")],
            {
                **self.service_env("notification-service", 0),
                "KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "ORDER_TOPIC": TOPIC,
                "MQTT_PORT": str(mqtt_port),
            },
            ready=r"notification-service ready",
        )
        svc["gateway"] = self.spawn(
            "api-gateway",
            ["node", "--preserve-symlinks", "--require", "./tracing.js", "gateway.js"],
            {**self.service_env("api-gateway", ports["gateway"]), "ORDER_URL": f"http://127.0.0.1:{ports['order']}"},
            cwd=HERE / "api-gateway",
            ready=r"listening on",
        )
        for name, p in svc.items():
            p.wait_ready(deadline)
        say(
            f"all services up ({', '.join(f'{n} :{ports[n]}' for n in ports)}, notification-service"
            " consuming); sending orders"
        )
        self.svc = svc
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        self.send_orders(gateway)
        self.wait_notifications()
        say("stopping the services (each flushes what it has queued)")
        for name in ("gateway", "order", "inventory", "payment", "notification"):
            code = svc[name].stop()
            if code not in (0, -signal.SIGTERM, 143):
                say(f"warning: {svc[name].name} exited with status {code}")
        if mode == "embedded":
            self.stop_named("receiver")
            self.show(self.out / "traces.jsonl")
        elif mode == "full":
            self.collect_from_jaeger()
        else:
            say(
                f"spans exported to {self.endpoint}; trace ids: "
                + ", ".join(o["trace_id"] or "?" for o in self.result["orders"])
            )
        self.result["ok"] = True
        return 0

    def cli(self) -> Path:
        path = Path(os.environ.get("POLYTRACE_CLI") or TARGET / "debug" / "polytrace")
        if not path.exists():
            raise DemoError(f"{path} missing: run examples/polyglot-demo/build.sh")
        return path

    def compile_payment(self) -> None:
        ebin = self.work / "payment-ebin"
        ebin.mkdir(exist_ok=True)
        out = subprocess.run(
            ["erlc", "-o", str(ebin), str(HERE / "payment-service" / "payment.erl")],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise DemoError(f"erlc payment.erl failed:\n{out.stdout}{out.stderr}")

    def stop_named(self, name: str) -> None:
        for p in self.procs:
            if p.name == name:
                p.stop()

    def place_order(
        self, gateway: str, sku: str, qty: int, card: str, want: int, traced_client: bool, note: str = ""
    ) -> dict:
        """POST /api/orders; records the order (and the spans its trace will hold) in the result."""
        client = self.client_context() if traced_client else {}
        status, body = self.http(
            "POST", f"{gateway}/api/orders", {"sku": sku, "quantity": qty, "card": card}, headers=client.get("headers")
        )
        kind = "created" if status == 201 else "refused"
        order = {
            "sku": sku,
            "quantity": qty,
            "status": status,
            "expected_status": want,
            "order_id": body.get("order_id"),
            "trace_id": body.get("trace_id"),
            "kind": kind,
            "error": body.get("error"),
            **{k: v for k, v in client.items() if k != "headers"},
        }
        self.result["orders"].append(order)
        self.expected_spans += SPANS_PER_TRACE[kind]
        refused = f" ({body['error']})" if "error" in body else ""
        say(f"POST /api/orders {sku} x{qty}{note}: {status}{refused} trace {order['trace_id']}")
        if status != want:
            raise DemoError(f"order {sku}{note}: HTTP {status}, expected {want}: {body}")
        if client and body.get("trace_id") != client["client_trace_id"]:
            raise DemoError(f"order {sku}: trace {body.get('trace_id')}, the client sent {client['client_trace_id']}")
        return order

    def send_orders(self, gateway: str) -> None:
        for i, order in enumerate(ORDERS):
            self.place_order(gateway, *order)
            if self.args.kafka_outage and i == 0:
                self.kafka_outage(gateway)
        first = next(o for o in self.result["orders"] if o["kind"] == "created")
        client = self.client_context()
        trace_id = client["client_trace_id"]
        status, body = self.http("GET", f"{gateway}/api/orders/{first['order_id']}", headers=client["headers"])
        self.result["lookup"] = {
            "status": status,
            "trace_id": body.get("trace_id"),
            "body": body,
            **{k: v for k, v in client.items() if k != "headers"},
        }
        self.expected_spans += SPANS_PER_TRACE["lookup"]
        say(
            f"GET /api/orders/{first['order_id']} with the client's traceparent: {status}, trace {body.get('trace_id')}"
        )
        if status != 200 or body.get("trace_id") != trace_id:
            raise DemoError(f"order lookup: HTTP {status}, trace {body.get('trace_id')} (client sent {trace_id})")

    @staticmethod
    def client_context() -> dict:
        """A traced client's W3C context: a sampled traceparent of its own and a tracestate."""
        trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
        return {
            "client_trace_id": trace_id,
            "client_span_id": parent,
            "tracestate": CLIENT_TRACESTATE,
            "headers": {"traceparent": f"00-{trace_id}-{parent}-01", "tracestate": CLIENT_TRACESTATE},
        }

    def kafka_outage(self, gateway: str) -> None:
        """Stops the broker, places an order while it is down, restarts it after the outage.

        In the full pipeline the broker is stopped once the first order's trace is stored in
        Jaeger and the ingester has committed its offsets: Kafka delivers at least once, so a record
        consumed but not yet committed when the broker dies would come again after the restart and
        be stored twice (seen: 5 spans twice when the broker stopped while the first order's spans
        were on their way). What the outage tests is that everything produced while the broker is
        down — the order's `order.created` event held by the Java producer, its spans queued and
        retried by Jaeger's collector role — arrives whole once it is back."""
        assert self.kafka is not None
        seconds = self.args.kafka_outage
        if self.args.pipeline == "full":
            first = self.result["orders"][0]
            self.wait_in_jaeger([(first["trace_id"], SPANS_PER_TRACE[first["kind"]])])
            time.sleep(1.0)  # the ingester's next offset commit (every 200 ms)
        say(f"Kafka outage: stopping the broker for {seconds:.0f}s")
        old = self.kafka.proc
        self.kafka.stop()
        self.result["kafka_outage"] = {"seconds": seconds, "stopped_at": time.time()}
        order = self.place_order(gateway, "sku-grinder", 1, "4111111111111111", 201, False, " while Kafka is down")
        order["during_outage"] = True
        time.sleep(max(0.0, seconds - (time.time() - self.result["kafka_outage"]["stopped_at"])))
        self.kafka.restarts += 1
        self.kafka.start()
        self.procs = [p for p in self.procs if p is not old] + [self.kafka.proc]
        self.result["pids"]["kafka-restart"] = self.kafka.proc.proc.pid
        self.kafka.wait_ready(time.monotonic() + self.args.start_timeout)
        self.result["kafka_outage"]["restarted_at"] = time.time()
        say(f"Kafka restarted after {time.time() - self.result['kafka_outage']['stopped_at']:.1f}s")

    def wait_notifications(self) -> None:
        created = [o for o in self.result["orders"] if o["kind"] == "created"]
        deadline = time.monotonic() + self.args.flush_timeout
        note = self.svc["notification"]
        while True:
            delivered = {o["order_id"] for o in created if note.count(rf"delivered order {re.escape(o['order_id'])}")}
            if len(delivered) == len(created):
                say(f"all {len(created)} notifications reached their device over MQTT")
                return
            if time.monotonic() > deadline:
                raise DemoError(
                    f"{len(delivered)} of {len(created)} notifications delivered in time; see {note.log_path}"
                )
            if not note.alive():
                raise DemoError(f"notification-service died; see {note.log_path}")
            time.sleep(0.2)

    # -- full pipeline ----------------------------------------------------------------------
    def start_back_end(self, deadline: float) -> None:
        """OpenTelemetry Collector -> Jaeger v2 (collector role) -> Kafka -> Jaeger v2 (ingester
        role, memory storage, query API): see configs/."""
        assert self.kafka is not None
        jq_http, jq_grpc, jc_otlp, col_grpc, col_http = free_ports(5)
        env = {
            "KAFKA_BROKER": self.kafka.bootstrap,
            "SPANS_TOPIC": SPANS_TOPIC,
            "JAEGER_QUERY_HTTP_PORT": str(jq_http),
            "JAEGER_QUERY_GRPC_PORT": str(jq_grpc),
            "JAEGER_COLLECTOR_OTLP_PORT": str(jc_otlp),
            "OTELCOL_GRPC_PORT": str(col_grpc),
            "OTELCOL_HTTP_PORT": str(col_http),
        }
        jaeger = os.environ.get("POLYTRACE_JAEGER_BIN") or str(GOBIN / "polytrace-jaeger")
        otelcol = os.environ.get("POLYTRACE_OTELCOL_BIN") or str(GOBIN / "polytrace-otelcol")
        for b in (jaeger, otelcol):
            if not os.access(b, os.X_OK):
                raise DemoError(f"{b} missing: run tools/install-jaeger.sh and tools/install-otelcol.sh")
        say(
            "starting the OpenTelemetry Collector -> Jaeger v2 (collector role) -> Kafka -> Jaeger v2"
            " (ingester role, memory storage, query API)"
        )
        configs = HERE / "configs"
        stages = [
            (self.spawn("jaeger-ingester", [jaeger, f"--config={configs / 'jaeger-ingester.yaml'}"], env), jq_http),
            (self.spawn("jaeger-collector", [jaeger, f"--config={configs / 'jaeger-collector.yaml'}"], env), jc_otlp),
            (self.spawn("otelcol", [otelcol, f"--config={configs / 'otelcol.yaml'}"], env), col_http),
        ]
        for p, port in stages:
            while not tcp_open(port):
                if not p.alive():
                    raise DemoError(f"{p.name} exited while starting; see {p.log_path}:\n" + "\n".join(p.lines[-15:]))
                if time.monotonic() > deadline:
                    raise DemoError(f"{p.name} did not start in time; see {p.log_path}")
                time.sleep(0.2)
        self.jaeger_url = f"http://127.0.0.1:{jq_http}"
        self.endpoint = f"http://127.0.0.1:{col_http}"
        self.protocol = "http/protobuf"
        self.result["jaeger_url"] = self.jaeger_url
        say(f"Collector OTLP on {self.endpoint}; Jaeger query API on {self.jaeger_url}")

    def jaeger_trace(self, trace_id: str) -> tuple[int, dict]:
        """(span count, OTLP JSON) of a trace as Jaeger stores it."""
        # raw_traces: as stored, without Jaeger's adjusters (which would hide duplicates).
        url = f"{self.jaeger_url}/api/v3/traces/{trace_id}?raw_traces=true"
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                result = json.loads(r.read()).get("result") or {}
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise DemoError(f"Jaeger {url}: HTTP {e.code}") from e
            result = {}
        except (urllib.error.URLError, OSError, ValueError):
            result = {}
        count = sum(
            len(ss.get("spans", [])) for rs in result.get("resourceSpans", []) for ss in rs.get("scopeSpans", [])
        )
        return count, result

    def wait_in_jaeger(self, wanted: list[tuple[str, int]]) -> None:
        """Until Jaeger holds at least the given number of spans of each trace."""
        deadline = time.monotonic() + self.args.flush_timeout
        for trace_id, n in wanted:
            while True:
                count, _ = self.jaeger_trace(trace_id)
                if count >= n:
                    break
                if time.monotonic() > deadline:
                    raise DemoError(f"trace {trace_id}: {count} of {n} spans in Jaeger in time")
                time.sleep(0.2)

    def collect_from_jaeger(self) -> None:
        """Waits until Jaeger holds every span of every trace (the Collector's batch, Kafka and the
        ingester in between), then writes the traces as OTLP/JSON lines and shows them."""
        out_file = self.out / "jaeger-traces.jsonl"
        wanted = [(o["trace_id"], SPANS_PER_TRACE[o["kind"]]) for o in self.result["orders"]]
        wanted.append((self.result["lookup"]["trace_id"], SPANS_PER_TRACE["lookup"]))
        # The Collector and Jaeger's collector role keep running: what they still queue or retry
        # (after a Kafka outage, say) reaches Kafka on its own; stopping them now would drop it.
        say("reading every trace back from Jaeger's query API (the pipeline drains meanwhile)")
        self.wait_in_jaeger(wanted)
        # Anything late (a duplicate redelivered through Kafka) would show up now.
        time.sleep(self.args.settle)
        lines = []
        for trace_id, n in wanted:
            count, result = self.jaeger_trace(trace_id)
            if count != n:
                say(f"warning: trace {trace_id} has {count} spans in Jaeger, expected {n}")
            lines.append(json.dumps(result, separators=(",", ":")))
        out_file.write_text("\n".join(lines) + "\n")
        self.result["files"]["traces"] = str(out_file)
        self.show(out_file)
        say(
            "in Jaeger: "
            + "  ".join(f"{self.jaeger_url}/trace/{t}" for t, _ in wanted[:1])
            + f"  (API: {self.jaeger_url}/api/v3/traces/<trace id>)"
        )
        if self.args.hold:
            say("Jaeger keeps serving until Ctrl-C (HOLD=1)")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass

    # -- result -----------------------------------------------------------------------------
    def show(self, traces: Path) -> None:
        svg = self.out / "waterfall.svg"
        view = subprocess.run(
            [str(self.cli()), "view", str(traces), "--svg", str(svg)], capture_output=True, text=True, check=False
        )
        if view.returncode != 0:
            raise DemoError(f"polytrace view failed: {view.stderr}")
        print()
        print(view.stdout, end="")
        print(view.stderr.strip())
        print()
        self.result["files"]["svg"] = str(svg)
        say(f"SVG waterfall: {svg}")

    def shutdown(self) -> None:
        for p in reversed(self.procs):
            if p.alive():
                p.stop(timeout=30 if p.name.startswith("kafka") else 15)
            elif not p.log.closed:
                p.stop()
        if self.kafka is not None:
            self.kafka.proc = None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    default_mode = os.environ.get("PIPELINE") or (
        "external" if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "embedded"
    )
    ap.add_argument(
        "--pipeline",
        choices=["embedded", "full", "external"],
        default=default_mode,
        help="where the spans go (default: $PIPELINE, else external when "
        "OTEL_EXPORTER_OTLP_ENDPOINT is set, else embedded)",
    )
    ap.add_argument(
        "--out",
        default=os.environ.get("DEMO_OUT") or str(HERE / "out"),
        help="output directory, emptied first (default examples/polyglot-demo/out)",
    )
    ap.add_argument(
        "--kafka-outage",
        type=float,
        default=float(os.environ.get("KAFKA_OUTAGE", "0")),
        metavar="SECONDS",
        help="stop the Kafka broker this long after the first order and place an order meanwhile (0: no outage)",
    )
    ap.add_argument("--start-timeout", type=float, default=180.0)
    ap.add_argument("--flush-timeout", type=float, default=180.0)
    ap.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="full pipeline: seconds to wait after the last span arrived, for late duplicates",
    )
    ap.add_argument(
        "--hold",
        action="store_true",
        default=os.environ.get("HOLD") == "1",
        help="full pipeline: keep Jaeger serving after the run until Ctrl-C",
    )
    args = ap.parse_args(argv)

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    demo = Demo(args)
    status = 1
    try:
        status = demo.run()
    except DemoError as e:
        say(f"FAILED: {e}")
        demo.result["error"] = str(e)
    except (KeyboardInterrupt, Interrupted) as e:
        say(f"interrupted ({e or 'SIGINT'}): stopping everything")
        demo.result["error"] = "interrupted"
        status = 130
    finally:
        try:
            demo.shutdown()
        except (KeyboardInterrupt, Interrupted):
            demo.shutdown()
        if demo.logs.exists():
            (demo.out / "result.json").write_text(json.dumps(demo.result, indent=2) + "\n")
        if status != 0 and demo.logs.exists():
            say(f"logs of every process: {demo.logs}")
    say(f"done in {time.monotonic() - _t0:.1f}s" + ("" if status == 0 else f" (status {status})"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
