"""Checks what a receiver got from bindings/c/tests/security.c with POLYTRACE_REDACT=email,card,ssn
and POLYTRACE_REDACT_HASH_KEYS=user.id (the same span the Python and Node suites make):

    python3 tests/security/check_redaction.py RECEIVED.jsonl SERVICE
"""

import json
import sys
import time


def spans_of(path, service):
    out, raw = [], []
    for line in open(path):
        if service not in line:
            continue
        raw.append(line)
        for rs in json.loads(line).get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                out.extend(ss.get("spans", []))
    return out, "".join(raw)


def value(v):
    if "arrayValue" in v:
        return [value(x) for x in v["arrayValue"].get("values", [])]
    return next(iter(v.values()), None)


def attrs(items):
    return {a["key"]: value(a["value"]) for a in items or []}


def main(path, service):
    for _ in range(100):
        spans, raw = spans_of(path, service)
        if len(spans) >= 5:
            break
        time.sleep(0.1)
    assert len(spans) == 5, f"{len(spans)} spans of {service}"
    for leaked in ["jane@example.com", "bob@example.org", "ann@example.net", "4111 1111",
                   "123-45-6789", "078-05-1120", "5500-0000", "u-42"]:
        assert leaked not in raw, f"{leaked} reached the receiver"
    s = next(x for x in spans if x["name"] == "GET /users/[REDACTED:email]")
    a = attrs(s.get("attributes"))
    assert a["q"] == "card [REDACTED:card] please", a
    assert a["order"] == "order 1234567812345678", a
    assert a["list"] == ["ok", "[REDACTED:email]", "[REDACTED:ssn]"], a
    assert a["user.id"].startswith("sha256:"), a
    assert s["status"]["message"] == "card [REDACTED:card] declined", s["status"]
    events = {e["name"]: attrs(e.get("attributes")) for e in s["events"]}
    assert events["mailed [REDACTED:email]"] == {"to": "[REDACTED:email]"}, events
    assert events["exception"]["exception.message"] == "no account for [REDACTED:email]", events
    assert attrs(s["links"][0].get("attributes")) == {"ssn": "[REDACTED:ssn]", "plain": "kept"}
    print(f"{service}: redacted in name, attributes, arrays, events, exception, link, status")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
