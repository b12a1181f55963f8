"""The shared text vectors (tests/vectors/text.json): a str holding lone surrogates, built from
each case's UTF-16 code units, given as every kind of text the API takes, is exported as the
case's `text` everywhere (the core's rule: kept, each lone surrogate one U+FFFD)."""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from conftest import VECTORS

CASES = [c for c in json.loads((VECTORS / "text.json").read_text())["cases"] if "utf16" in c]


def from_utf16(units: list[int]) -> str:
    """The Python str a UTF-16 string with these code units becomes, lone surrogates kept."""
    return b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le", "surrogatepass")


def test_the_vectors_have_utf16_cases():
    assert len(CASES) >= 7


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_text_is_repaired_the_same_everywhere(fp, case):
    given, want = from_utf16(case["utf16"]), case["text"]
    t = fp.provider.get_tracer("text")
    link = trace.SpanContext(1, 1, is_remote=True, trace_flags=trace.TraceFlags(1))
    s = t.start_span(given, attributes={"start": given}, links=[trace.Link(link, {"link": given})])
    s.set_attribute(given, given)
    s.set_attribute("array", ["ok", given])
    s.set_attributes({"many": given})
    s.add_event(given, {"event": given})
    s.record_exception(ValueError(given))
    s.set_status(Status(StatusCode.ERROR, given))
    s.end()
    u = t.start_span("renamed")
    u.update_name(given)
    u.set_status(StatusCode.ERROR, given)
    u.end()
    first, second = fp.spans()
    assert first["name"] == want
    assert first["attributes"] == {"start": want, want: want, "array": ["ok", want], "many": want}
    assert first["links"][0]["attributes"] == {"link": want}
    assert first["events"][0] == {"name": want, "attributes": {"event": want}}
    assert first["events"][1]["attributes"]["exception.message"] == want
    assert first["status"]["message"] == want
    assert (second["name"], second["status"]["message"]) == (want, want)
