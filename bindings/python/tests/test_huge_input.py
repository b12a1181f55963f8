"""Huge input (issue 16): 1 MB strings, 100,000 attributes on one span, arrays nested 100,000
deep, lone surrogates in every string argument. Nothing raises, the process stays alive, and a
live span's memory is bounded by the attribute count limit (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`,
default 128): the rest is dropped and counted, as the core decides."""

from __future__ import annotations

import json
import textwrap

from conftest import run_python

HUGE = textwrap.dedent("""
    import json, polytrace, sys
    def rss_kib():
        return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])

    p = polytrace.TracerProvider(exporter="file", file_path=FILE, schedule_delay=60000)
    t = p.get_tracer("huge")
    big = "x" * 1_000_000
    deep = []
    cur = deep
    for _ in range(100_000):
        nxt = []
        cur.append(nxt)
        cur = nxt
    # Warm up the allocator with one span of each kind first.
    s = t.start_span("warm")
    for k in range(1000):
        s.set_attribute(f"k{k}", k)
    s.end()
    base = rss_kib()
    s = t.start_span("huge-\\ud800-" + "n" * 100_000)
    for k in range(100_000):
        s.set_attribute(f"k{k}", k)              # 100,000 distinct keys: 128 kept
    s.set_attributes({f"m{k}": "v" for k in range(100_000)})
    during = rss_kib() - base
    s.set_attribute("big", big)                  # a 1 MB string, kept whole (no length limit)
    s.set_attribute("deep", deep)                # nested 100,000 deep: dropped, no recursion
    s.set_attribute("surrogate\\udc00", "x")
    s.set_attribute("value", "a\\ud800b")
    s.add_event("e\\udfff" + "y" * 1_000_000, {"big": big})
    s.end()
    s.end()                                      # double end: ignored
    assert p.force_flush(60_000)
    p.shutdown()
    s.set_attribute("after", "shutdown")        # after shutdown: ignored
    t.start_span("after-shutdown").end()
    print("RESULT " + json.dumps({"during_kib": during, "stats": p.stats()}))
""")


def test_huge_input_is_bounded(tmp_path):
    out = tmp_path / "spans.jsonl"
    r = run_python(HUGE.replace("FILE", repr(str(out))), timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(next(line for line in r.stdout.splitlines() if line.startswith("RESULT "))[7:])
    st = res["stats"]
    assert st["spans_ended"] == 2 and st["spans_exported"] == 2, st
    # 200,000 attributes set on a live span: memory stays at the 128 kept (the rest counted),
    # not ~20 MB of keys and values.
    assert res["during_kib"] < 8 * 1024, res
    (line,) = [x for x in out.read_text().splitlines() if "huge-" in x]
    span = next(s for rs in json.loads(line)["resourceSpans"] for ss in rs["scopeSpans"]
                for s in ss["spans"] if s["name"].startswith("huge-"))
    # A lone surrogate becomes one U+FFFD (the core's rule, tests/vectors/text.json); the
    # 100,000-character name is kept whole.
    assert span["name"] == "huge-\ufffd-" + "n" * 100_000
    assert len(span["attributes"]) == 128
    # Past the limit: 200,000 - 128 keys, "big" and the two with lone surrogates (valid
    # attributes now, kept as text); the nested array is dropped with a warning, not counted.
    assert span["droppedAttributesCount"] == 200_000 + 3 - 128
    ev = span["events"][0]
    assert ev["name"] == "e\ufffd" + "y" * 1_000_000
    assert len(ev["attributes"][0]["value"]["stringValue"]) == 1_000_000
