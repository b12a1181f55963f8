"""Security (docs/security.md): TLS and mTLS export through the OTEL_EXPORTER_OTLP_* certificate
variables against a receiver that requires client certificates (made by tests/security/pki.sh);
an untrusted server fails the export, counted, never over plaintext; header values never appear
in anything the process prints; redaction checked on what the receiver got."""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest

from conftest import ROOT, Receiver, run_python


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    subprocess.run(["bash", str(ROOT / "tests" / "security" / "pki.sh"), str(d)], check=True)
    return d


@pytest.fixture(scope="module")
def mtls_receiver(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    r = Receiver(tmp_path_factory.mktemp("mtls") / "spans.jsonl", [
        "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
        "--tls-client-ca", str(pki / "ca.pem"),
    ])
    yield r
    r.stop()


EXPORT = textwrap.dedent("""
    import json, polytrace
    from opentelemetry import trace
    provider = polytrace.install()
    tracer = trace.get_tracer("security")
    for i in range(5):
        tracer.start_span(f"tls-{i}").end()
    provider.force_flush(5000)
    provider.shutdown()
    print("STATS " + json.dumps(polytrace.stats()))
""")


def stats_of(out: str) -> Dict[str, int]:
    line = next(x for x in out.splitlines() if x.startswith("STATS "))
    return json.loads(line[6:])


def tls_env(pki: Path, endpoint: str, protocol: str, ca: str = "ca.pem", client: bool = True) -> Dict[str, str]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_CERTIFICATE": str(pki / ca),
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        "OTEL_BSP_EXPORT_TIMEOUT": "1500",
    }
    if client:
        env["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"] = str(pki / "client.pem")
        env["OTEL_EXPORTER_OTLP_CLIENT_KEY"] = str(pki / "client.key")
    return env


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_mtls_export(pki, mtls_receiver, service, protocol):
    addr = mtls_receiver.http if protocol != "grpc" else mtls_receiver.grpc
    env = tls_env(pki, f"https://{addr}", protocol)
    env["OTEL_SERVICE_NAME"] = service
    r = run_python(EXPORT, env=env)
    assert r.returncode == 0, r.stderr
    assert stats_of(r.stdout)["spans_exported"] == 5, r.stdout + r.stderr
    assert len(mtls_receiver.wait(service, 5)) == 5


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
@pytest.mark.parametrize("case", ["untrusted server", "no client certificate"])
def test_a_failed_handshake_is_counted_and_never_plaintext(pki, mtls_receiver, service, protocol, case):
    addr = mtls_receiver.http if protocol != "grpc" else mtls_receiver.grpc
    if case == "untrusted server":
        env = tls_env(pki, f"https://{addr}", protocol, ca="other-ca.pem")
    else:
        env = tls_env(pki, f"https://{addr}", protocol, client=False)
    env["OTEL_SERVICE_NAME"] = service
    r = run_python(EXPORT, env=env)
    assert r.returncode == 0, r.stderr
    st = stats_of(r.stdout)
    assert st["spans_exported"] == 0, st
    assert st["dropped_export_failed"] == 5, st
    assert st["export_failures"] >= 1, st
    assert st["spans_ended"] == st["spans_exported"] + st["spans_dropped"], st
    # A clear error, once, through logging.
    assert "export of 5 spans failed" in r.stderr, r.stderr
    assert mtls_receiver.spans(service) == []


SECRETS = textwrap.dedent("""
    import logging, socket, polytrace
    from opentelemetry import trace
    logging.basicConfig(level=logging.DEBUG)
    silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(8)
    provider = polytrace.install()
    tracer = trace.get_tracer("secrets")
    with tracer.start_as_current_span("work") as span:
        span.set_attribute("ok", 1)
    print(repr(provider), provider.force_flush(3000))
    print(polytrace.stats(), provider.stats())
    print("config:", provider.config)
    other = polytrace.TracerProvider(endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}",
                                     timeout=300, export_timeout=300)
    other.get_tracer("t").start_span("x").end()
    try:
        other.shutdown(100)
    except Exception as e:
        print("error:", repr(e))
    try:
        polytrace.TracerProvider(headers={"x-api-key": "bad\\nvalue"})
    except Exception as e:
        print("error:", repr(e))
    provider.shutdown()
""")


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_header_values_never_appear_in_output(protocol):
    secret = "sk-" + uuid.uuid4().hex
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = run_python(SECRETS, env={
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_TIMEOUT": "500",
        "OTEL_BSP_EXPORT_TIMEOUT": "800",
        # Valid headers, one that cannot be used (a space in its name), and a per-signal
        # variable that is entirely invalid (so the core warns about it).
        "OTEL_EXPORTER_OTLP_HEADERS": f"x-api-key={secret},authorization=Bearer%20{secret}B,bad name={secret}C",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"no-equals-{secret}D",
    })
    printed = r.stdout + r.stderr
    assert r.returncode == 0, printed
    # The process did report things: the failed export, the bad header entries by name.
    assert "export of" in printed and "failed" in printed, printed
    assert "OTEL_EXPORTER_OTLP_HEADERS" in printed, printed
    # The effective configuration names the headers, without their values.
    assert "x-api-key=***,authorization=***" in printed, printed
    assert secret not in printed, printed


REDACT = textwrap.dedent("""
    import polytrace
    from opentelemetry import trace
    from opentelemetry.trace import Link, Status, StatusCode
    provider = polytrace.install()
    tracer = trace.get_tracer("redact")
    other = tracer.start_span("other"); other.end()
    with tracer.start_as_current_span(
        "GET /users/jane@example.com",
        links=[Link(other.get_span_context(), {"ssn": "123-45-6789", "plain": "kept"})],
    ) as span:
        span.set_attribute("q", "card 4111 1111 1111 1111 please")
        span.set_attribute("order", "order 1234567812345678")   # fails Luhn: kept
        span.set_attribute("list", ["ok", "bob@example.org", "078-05-1120"])
        span.set_attribute("user.id", "u-42")
        span.set_attribute("user.n", 42)
        span.add_event("mailed ann@example.net", {"to": "ann@example.net"})
        span.record_exception(ValueError("no account for jane@example.com"))
        span.set_status(Status(StatusCode.ERROR, "card 5500-0000-0000-0004 declined"))
    provider.shutdown()
""")


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc", "http/json"])
def test_redaction_at_the_receiver(receiver, service, protocol):
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    r = run_python(REDACT, env={
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "POLYTRACE_REDACT": "email,card,ssn",
        "POLYTRACE_REDACT_HASH_KEYS": "user.id,user.n",
    })
    assert r.returncode == 0, r.stderr
    spans = {s["name"]: s for s in receiver.wait(service, 2)}
    raw = "\n".join(line for line in receiver.out.read_text().splitlines() if service in line)
    for leaked in ["jane@example.com", "bob@example.org", "ann@example.net", "4111 1111",
                   "123-45-6789", "078-05-1120", "5500-0000", "u-42"]:
        assert leaked not in raw, leaked
    s = spans["GET /users/[REDACTED:email]"]
    a = s["attributes"]
    assert a["q"] == "card [REDACTED:card] please"
    assert a["order"] == "order 1234567812345678"
    assert a["list"] == ["ok", "[REDACTED:email]", "[REDACTED:ssn]"]
    assert a["user.id"].startswith("sha256:") and a["user.n"].startswith("sha256:")
    assert s["status"]["message"] == "card [REDACTED:card] declined"
    events = {e["name"]: e for e in s["events"]}
    assert events["mailed [REDACTED:email]"]["attributes"]["to"] == "[REDACTED:email]"
    assert events["exception"]["attributes"]["exception.message"] == "no account for [REDACTED:email]"
    assert s["links"][0]["attributes"] == {"ssn": "[REDACTED:ssn]", "plain": "kept"}
