"""The shared, language-neutral vectors: tests/vectors/propagation.json and config.json."""

from __future__ import annotations

import json

import pytest
from opentelemetry import baggage, context, propagate, trace

import polytrace
from polytrace import _native
from conftest import VECTORS, read_spans

PROP = json.loads((VECTORS / "propagation.json").read_text())
CONF = json.loads((VECTORS / "config.json").read_text())


@pytest.fixture(scope="module")
def propagator():
    p = polytrace.TracerProvider(exporter="none", propagators="tracecontext,baggage")
    yield p.propagator
    p.shutdown()


def ids(cases):
    return [c["name"] for c in cases]


@pytest.mark.parametrize("case", PROP["extract"], ids=ids(PROP["extract"]))
def test_extract_raw(propagator, case):
    ctx, bag = propagator._extract_raw([tuple(h) for h in case["carrier"]])
    exp = case["expect"]
    assert (ctx is not None) == exp["valid"]
    if exp["valid"]:
        trace_id, span_id, flags, tracestate = ctx
        assert (trace_id, span_id, flags) == (exp["trace_id"], exp["span_id"], exp["flags"])
        assert bool(flags & 1) == exp["sampled"]
        assert tracestate == exp["tracestate"]
    assert [list(b) for b in bag] == exp["baggage"]


@pytest.mark.parametrize("case", PROP["extract"], ids=ids(PROP["extract"]))
def test_extract_through_the_opentelemetry_api(propagator, case):
    """The same cases through propagate.extract with a list-valued carrier: span context,
    trace state and baggage values as the OpenTelemetry API exposes them."""
    carrier = {}
    for name, value in case["carrier"]:
        carrier.setdefault(name, []).append(value)
    ctx = propagator.extract(carrier)
    exp = case["expect"]
    sc = trace.get_current_span(ctx).get_span_context()
    assert sc.is_valid == exp["valid"]
    if exp["valid"]:
        assert sc.is_remote
        assert format(sc.trace_id, "032x") == exp["trace_id"]
        assert format(sc.span_id, "016x") == exp["span_id"]
        assert int(sc.trace_flags) == exp["flags"]
        assert sc.trace_state.to_header() == exp["tracestate"]
    assert dict(baggage.get_all(ctx)) == {k: v for k, v, _ in exp["baggage"]}


@pytest.mark.parametrize("case", PROP["inject"], ids=ids(PROP["inject"]))
def test_inject_raw(propagator, case):
    c = case["context"]
    ctx = None if c is None else (c["trace_id"], c["span_id"], c["flags"], c["tracestate"])
    headers = propagator._inject_raw(ctx, [tuple(b) for b in case["baggage"]])
    assert [list(h) for h in headers] == case["expect"]


@pytest.mark.parametrize(
    "case", [c for c in PROP["inject"] if all(m == "" for _, _, m in c["baggage"])],
    ids=ids([c for c in PROP["inject"] if all(m == "" for _, _, m in c["baggage"])]))
def test_inject_through_the_opentelemetry_api(propagator, case):
    """Cases without baggage metadata (which the Python baggage API cannot express) through
    the API: a NonRecordingSpan parent and opentelemetry.baggage entries."""
    ctx = context.Context()
    c = case["context"]
    if c is not None:
        sc = trace.SpanContext(int(c["trace_id"], 16), int(c["span_id"], 16), is_remote=True,
                               trace_flags=trace.TraceFlags(c["flags"]),
                               trace_state=trace.TraceState.from_header([c["tracestate"]])
                               if c["tracestate"] else trace.TraceState())
        ctx = trace.set_span_in_context(trace.NonRecordingSpan(sc), ctx)
    for k, v, _ in case["baggage"]:
        ctx = baggage.set_baggage(k, v, ctx)
    carrier = {}
    propagator.inject(carrier, context=ctx)
    expected = dict((k, v) for k, v in case["expect"])
    assert carrier == expected


@pytest.mark.parametrize("case", PROP["round_trip"], ids=ids(PROP["round_trip"]))
def test_round_trip_through_the_opentelemetry_api(propagator, case):
    """extract then inject with the public API; baggage metadata survives the round trip."""
    carrier = {}
    for name, value in case["carrier"]:
        carrier.setdefault(name, []).append(value)
    ctx = propagator.extract(carrier)
    out = {}
    propagator.inject(out, context=ctx)
    assert out == dict((k, v) for k, v in case["expect"])


def test_global_propagate_functions_use_the_core(propagator):
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(propagator)
    try:
        carrier = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                   "baggage": "k=v;meta"}
        ctx = propagate.extract(carrier)
        out = {}
        propagate.inject(out, context=ctx)
        assert out == carrier
        assert propagator.fields == {"traceparent", "tracestate", "baggage"}
    finally:
        propagate.set_global_textmap(previous)


def test_extract_with_custom_getter_and_inject_with_custom_setter(propagator):
    class Headers:
        def __init__(self):
            self.items = []

    class Getter:
        def get(self, carrier, key):
            return [v for k, v in carrier.items if k.lower() == key] or None

        def keys(self, carrier):
            return [k for k, _ in carrier.items]

    class Setter:
        def set(self, carrier, key, value):
            carrier.items.append((key, value))

    h = Headers()
    h.items = [("TraceParent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    ctx = propagator.extract(h, getter=Getter())
    out = Headers()
    propagator.inject(out, context=ctx, setter=Setter())
    assert out.items == [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]


def test_repeated_inject_of_a_span_and_extract_by_any_key_spelling(propagator):
    # inject keeps a span's trace-context headers after the first call and extract knows the
    # header names inject writes by identity: both must stay exactly what the core gives.
    p = polytrace.TracerProvider(exporter="none")
    try:
        span = p.get_tracer("t").start_span("s")
        sc = span.get_span_context()
        ctx = trace.set_span_in_context(span)
        expected = f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{sc.trace_flags:02x}"
        first, second = {}, {}
        propagator.inject(first, context=ctx)
        propagator.inject(second, context=ctx)
        assert first == second == {"traceparent": expected}
        # Baggage present: not the cached path, same traceparent plus the baggage.
        with_baggage = {}
        propagator.inject(with_baggage, context=baggage.set_baggage("k", "v", ctx))
        assert with_baggage == {"traceparent": expected, "baggage": "k=v"}
        # A custom setter and a non-dict carrier see the same headers.
        pairs = []

        class Setter:
            def set(self, carrier, key, value):
                carrier.append((key, value))

        propagator.inject(pairs, context=ctx, setter=Setter())
        assert pairs == [("traceparent", expected)]
        # Another span: its own headers, not the first span's.
        other = p.get_tracer("t").start_span("o", context=ctx)
        theirs = {}
        propagator.inject(theirs, context=trace.set_span_in_context(other))
        osc = other.get_span_context()
        assert theirs == {
            "traceparent": f"00-{osc.trace_id:032x}-{osc.span_id:016x}-{osc.trace_flags:02x}"
        }
        assert osc.trace_id == sc.trace_id and osc.span_id != sc.span_id
        other.end()
        span.end()
        # Extract: the key object inject wrote, an equal str built at run time, another case.
        built = "".join(["trace", "parent"])
        for carrier in (first, {built: expected}, {"TraceParent": expected}):
            got = trace.get_current_span(propagator.extract(carrier)).get_span_context()
            assert (got.trace_id, got.span_id, got.is_remote) == (sc.trace_id, sc.span_id, True)
        # Both spellings at once are two traceparent headers: invalid, as before.
        both = {"traceparent": expected, "TraceParent": expected}
        assert not trace.get_current_span(propagator.extract(both)).get_span_context().is_valid
    finally:
        p.shutdown()


def test_extract_keeps_the_given_context_when_nothing_is_found(propagator):
    base = context.set_value("mine", 1)
    assert propagator.extract({}, context=base) is base
    ctx = propagator.extract({"baggage": "a=1"}, context=baggage.set_baggage("b", "2", base))
    assert dict(baggage.get_all(ctx)) == {"b": "2", "a": "1"}
    assert context.get_value("mine", ctx) == 1


def test_child_of_extracted_parent(fp, propagator):
    ctx = propagator.extract({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    fp.provider.get_tracer("t").start_span("child", context=ctx).end()
    s = fp.by_name()["child"]
    assert s["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert s["parent_span_id"] == "00f067aa0ba902b7"


# --- configuration vectors --------------------------------------------------------------------


def matches(expected: str, actual: str) -> bool:
    if expected.endswith("*"):
        return actual.startswith(expected[:-1])
    return actual == expected


@pytest.mark.parametrize("case", CONF["cases"], ids=ids(CONF["cases"]))
def test_config_vector(case):
    env = case.get("env", {})
    options = case.get("options", {})
    if "error" in case:
        with pytest.raises(polytrace.Error) as ei:
            _native._resolve_config(options, env)
        assert ei.value.kind == case["error"]
        if case["error"] == "InvalidConfig":
            assert isinstance(ei.value, polytrace.ConfigError)
            assert isinstance(ei.value, ValueError)
        if "error_mentions" in case:
            assert case["error_mentions"] in str(ei.value)
        if "problem" in case:
            assert ei.value.problem == case["problem"]
        if "option" in case:
            assert ei.value.option == case["option"]
        return
    effective, warnings = _native._resolve_config(options, env)
    effective = dict(effective)
    for k, v in case.get("expect", {}).items():
        assert matches(v, effective[k]), (k, v, effective[k])
    assert sorted(set(warnings)) == sorted(set(case.get("warnings", [])))


# tests/vectors/spans.json: what a user does with spans through the OpenTelemetry API, and what
# the core exports (read back from the file exporter). The vectors' description gives the rules.
SPANS = json.loads((VECTORS / "spans.json").read_text())
KINDS = {
    "internal": trace.SpanKind.INTERNAL,
    "server": trace.SpanKind.SERVER,
    "client": trace.SpanKind.CLIENT,
    "producer": trace.SpanKind.PRODUCER,
    "consumer": trace.SpanKind.CONSUMER,
}
CODES = {"unset": trace.StatusCode.UNSET, "ok": trace.StatusCode.OK, "error": trace.StatusCode.ERROR}
CODE_NAMES = {0: "unset", 1: "ok", 2: "error"}
IGNORED_EVENT_ATTRIBUTES = ("exception.stacktrace", "exception.escaped")


def remote_context(c):
    ts = trace.TraceState.from_header([c["tracestate"]]) if c.get("tracestate") else trace.TraceState()
    return trace.SpanContext(
        trace_id=int(c["trace_id"], 16),
        span_id=int(c["span_id"], 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(c["flags"]),
        trace_state=ts,
    )


def run_spans(case, provider):
    tracer = provider.get_tracer("vectors")
    spans = {}
    for spec in case["spans"]:
        parent = spec.get("parent")
        if isinstance(parent, str):
            ctx = trace.set_span_in_context(spans[parent])
        elif parent:
            ctx = trace.set_span_in_context(trace.NonRecordingSpan(remote_context(parent)))
        else:
            ctx = context.Context()
        links = [
            trace.Link(remote_context(l["context"]), l.get("attributes")) for l in spec.get("links", [])
        ]
        span = tracer.start_span(
            spec["name"],
            context=ctx,
            kind=KINDS[spec.get("kind", "internal")],
            attributes=spec.get("attributes"),
            links=links,
        )
        spans[spec["name"]] = span
        ended = False
        for op in spec.get("ops", []):
            name = op[0]
            if name == "set_attribute":
                span.set_attribute(op[1], op[2])
            elif name == "add_event":
                span.add_event(op[1], op[2])
            elif name == "record_exception":
                # A class named as the case says, outside any module (like a builtin), so its
                # exception.type is that bare name.
                span.record_exception(type(op[1], (Exception,), {"__module__": "builtins"})(op[2]))
            elif name == "set_status":
                span.set_status(trace.Status(CODES[op[1]], op[2] if len(op) > 2 else None))
            elif name == "update_name":
                span.update_name(op[1])
            elif name == "end":
                span.end()
                ended = True
            elif name == "check_recording":
                assert span.is_recording() == op[1], spec["name"]
            else:
                carrier = {}
                provider.propagator.inject(carrier, context=trace.set_span_in_context(span))
                if name == "check_flags":
                    assert carrier["traceparent"][-2:] == op[1], spec["name"]
                elif name == "check_traceparent":
                    assert carrier["traceparent"] == op[1], spec["name"]
                elif name == "check_tracestate":
                    assert carrier.get("tracestate", "") == op[1], spec["name"]
                else:
                    raise AssertionError(f"unknown op {name}")
        if not ended and spec.get("end", True):
            span.end()


def compare_spans(case, exported):
    assert len(exported) == len(case["expect"]), [s["name"] for s in exported]
    by_id = {s["span_id"]: s["name"] for s in exported}
    for e in case["expect"]:
        s = next((x for x in exported if x["name"] == e["name"]), None)
        assert s is not None, f"no span {e['name']}"
        if "kind" in e:
            assert s["kind"] == e["kind"], e["name"]
        if "parent" in e:
            parent = by_id.get(s["parent_span_id"], "remote") if s["parent_span_id"] else None
            assert parent == e["parent"], e["name"]
        if "trace_id" in e:
            assert s["trace_id"] == e["trace_id"], e["name"]
        if "attributes" in e:
            assert s["attributes"] == e["attributes"], e["name"]
        for key in ("dropped_attributes", "dropped_events", "dropped_links"):
            assert s[key] == e.get(key, 0), f"{e['name']}: {key}"
        if "events" in e:
            got = [
                {"name": ev["name"], "attributes": {
                    k: v for k, v in ev["attributes"].items() if k not in IGNORED_EVENT_ATTRIBUTES
                }}
                for ev in s["events"]
            ]
            assert got == e["events"], e["name"]
        if "links" in e:
            assert s["links"] == e["links"], e["name"]
        status = {"code": CODE_NAMES[s["status"]["code"]], "message": s["status"]["message"]}
        assert status == e.get("status", {"code": "unset", "message": ""}), e["name"]


@pytest.mark.parametrize("case", SPANS["cases"], ids=ids(SPANS["cases"]))
def test_span_vectors(tmp_path, case):
    path = tmp_path / "spans.jsonl"
    provider = polytrace.TracerProvider(
        exporter="file", file_path=str(path), service_name="vectors", **case.get("config", {})
    )
    run_spans(case, provider)
    provider.shutdown()
    compare_spans(case, read_spans(path))
