#!/usr/bin/env python3
"""Generates tests/vectors/spans.json (python3 tests/vectors/gen_spans.py > tests/vectors/spans.json)."""
import json
R = "4bf92f3577b34da6a3ce929d0e0e4736"
P = "00f067aa0ba902b7"
def remote(flags, ts=None):
    d = {"trace_id": R, "span_id": P, "flags": flags}
    if ts: d["tracestate"] = ts
    return d
cases = []
cases.append({
 "name": "limits: events and links past their limits are dropped and counted",
 "config": {"event_count_limit": 4, "link_count_limit": 3},
 "spans": [{"name": "limited", "links": [{"context": {"trace_id": "%032x" % (i + 1), "span_id": "%016x" % (i + 1), "flags": 1}, "attributes": {"n": i}} for i in range(10)],
            "ops": [["add_event", "e%d" % i, {"n": i}] for i in range(10)]}],
 "expect": [{"name": "limited", "parent": None,
             "events": [{"name": "e%d" % i, "attributes": {"n": i}} for i in range(4)], "dropped_events": 6,
             "links": [{"trace_id": "%032x" % (i + 1), "span_id": "%016x" % (i + 1), "attributes": {"n": i}} for i in range(3)], "dropped_links": 7}],
})
cases.append({
 "name": "attributes: a later value of a key replaces it in place; new keys past the limit are dropped and counted",
 "config": {"attribute_count_limit": 2},
 "spans": [{"name": "attrs", "ops": [["set_attribute", "a", 1], ["set_attribute", "b", "x"], ["set_attribute", "a", 2], ["set_attribute", "c", True], ["set_attribute", "d", 1.5], ["set_attribute", "c", False]]}],
 "expect": [{"name": "attrs", "attributes": {"a": 2, "b": "x"}, "dropped_attributes": 3}],
})
cases.append({
 "name": "attributes: many repeated keys past the limit stay bounded and every call past it is counted",
 "config": {"attribute_count_limit": 3},
 "spans": [{"name": "many", "ops": [["set_attribute", "k%d" % (i % 7), i] for i in range(2000)]}],
 "expect": [{"name": "many", "attributes": {"k0": 1995, "k1": 1996, "k2": 1997}, "dropped_attributes": 2000 - sum(1 for i in range(2000) if i % 7 < 3)}],
})
cases.append({
 "name": "attributes: every value type, arrays included",
 "spans": [{"name": "types", "attributes": {"s": "text", "i": 42, "d": 2.5, "b": True},
            "ops": [["set_attribute", "sa", ["x", "y"]], ["set_attribute", "ia", [1, 2, 3]], ["set_attribute", "da", [0.5, 1.5]], ["set_attribute", "ba", [True, False]], ["set_attribute", "neg", -7]]}],
 "expect": [{"name": "types", "attributes": {"s": "text", "i": 42, "d": 2.5, "b": True, "sa": ["x", "y"], "ia": [1, 2, 3], "da": [0.5, 1.5], "ba": [True, False], "neg": -7}}],
})
cases.append({
 "name": "attributes: the value length limit truncates strings and the strings of arrays, by characters",
 "config": {"attribute_value_length_limit": 3},
 "spans": [{"name": "truncated", "ops": [["set_attribute", "s", "abcdef"], ["set_attribute", "u", "日本語テキスト"], ["set_attribute", "arr", ["abcd", "xy"]], ["set_attribute", "n", 12345], ["add_event", "e", {"ev": "long value"}]]}],
 "expect": [{"name": "truncated", "attributes": {"s": "abc", "u": "日本語", "arr": ["abc", "xy"], "n": 12345}, "events": [{"name": "e", "attributes": {"ev": "lon"}}]}],
})
cases.append({
 "name": "status: Ok is final, a later Error does not replace it",
 "spans": [{"name": "ok-final", "ops": [["set_status", "error", "first"], ["set_status", "ok"], ["set_status", "error", "second"]]}],
 "expect": [{"name": "ok-final", "status": {"code": "ok", "message": ""}}],
})
cases.append({
 "name": "status: Unset changes nothing, a later Error replaces an earlier one",
 "spans": [{"name": "error-last", "ops": [["set_status", "error", "first"], ["set_status", "unset"], ["set_status", "error", "second"]]}],
 "expect": [{"name": "error-last", "status": {"code": "error", "message": "second"}}],
})
cases.append({
 "name": "status: never set is unset",
 "spans": [{"name": "plain"}],
 "expect": [{"name": "plain", "status": {"code": "unset", "message": ""}}],
})
cases.append({
 "name": "exceptions: an exception event with the semantic-convention attributes, counted against the event limit",
 "config": {"event_count_limit": 2},
 "spans": [{"name": "failing", "ops": [["add_event", "before", {}], ["record_exception", "ValueError", "boom"], ["add_event", "after", {}], ["record_exception", "KeyError", "late"]]}],
 "expect": [{"name": "failing", "events": [{"name": "before", "attributes": {}}, {"name": "exception", "attributes": {"exception.type": "ValueError", "exception.message": "boom"}}], "dropped_events": 2}],
})
cases.append({
 "name": "names: the name after update_name is exported",
 "spans": [{"name": "first", "ops": [["update_name", "renamed"]]}],
 "expect": [{"name": "renamed"}],
})
cases.append({
 "name": "links: one with an invalid context and no attributes is dropped silently (not counted); with attributes it is kept",
 "config": {"link_count_limit": 2},
 "spans": [{"name": "linked", "links": [
     {"context": {"trace_id": "0" * 32, "span_id": "0" * 16, "flags": 0}},
     {"context": {"trace_id": "%032x" % 1, "span_id": "%016x" % 1, "flags": 1}},
     {"context": {"trace_id": "0" * 32, "span_id": "0" * 16, "flags": 0}, "attributes": {"why": "kept"}},
     {"context": {"trace_id": "%032x" % 2, "span_id": "%016x" % 2, "flags": 1}}]}],
 "expect": [{"name": "linked", "links": [
     {"trace_id": "%032x" % 1, "span_id": "%016x" % 1, "attributes": {}},
     {"trace_id": "0" * 32, "span_id": "0" * 16, "attributes": {"why": "kept"}}], "dropped_links": 1}],
})
cases.append({
 "name": "start: a child of a local span shares its trace and names it as parent; kinds are kept",
 "spans": [{"name": "root", "kind": "server", "ops": [["check_recording", True], ["check_flags", "03"]]},
           {"name": "child", "kind": "client", "parent": "root", "ops": [["check_recording", True], ["check_flags", "03"]]}],
 "expect": [{"name": "root", "kind": "server", "parent": None}, {"name": "child", "kind": "client", "parent": "root"}],
})
cases.append({
 "name": "start: a remote sampled parent with the random flag: the child is sampled, keeps random and the trace state",
 "spans": [{"name": "server", "kind": "server", "parent": remote(3, "vendor=x"), "ops": [["check_recording", True], ["check_flags", "03"], ["check_tracestate", "vendor=x"]]}],
 "expect": [{"name": "server", "kind": "server", "parent": "remote", "trace_id": R}],
})
cases.append({
 "name": "start: a remote sampled parent without the random flag: the child does not set it",
 "spans": [{"name": "server", "parent": remote(1), "ops": [["check_flags", "01"]]}],
 "expect": [{"name": "server", "parent": "remote", "trace_id": R}],
})
cases.append({
 "name": "start: a remote unsampled parent: the child (parentbased_always_on) is not recorded and not sampled",
 "spans": [{"name": "ignored", "parent": remote(2), "ops": [["check_recording", False], ["check_flags", "02"], ["set_attribute", "a", 1]]}],
 "expect": [],
})
cases.append({
 "name": "start: parentbased_always_off: a root is not recorded but sets random; a sampled remote parent's child is",
 "config": {"sampler": "parentbased_always_off"},
 "spans": [{"name": "root", "ops": [["check_recording", False], ["check_flags", "02"]]},
           {"name": "child-of-remote", "parent": remote(1), "ops": [["check_recording", True], ["check_flags", "01"]]}],
 "expect": [{"name": "child-of-remote", "parent": "remote", "trace_id": R}],
})
cases.append({
 "name": "start: always_off records nothing, even under a sampled parent",
 "config": {"sampler": "always_off"},
 "spans": [{"name": "root", "ops": [["check_recording", False], ["check_flags", "02"]]},
           {"name": "child", "parent": remote(3), "ops": [["check_recording", False], ["check_flags", "02"]]}],
 "expect": [],
})
cases.append({
 "name": "start: traceidratio 1.0 samples every root (a sampler the core is asked, not a fixed plan)",
 "config": {"sampler": "traceidratio", "sampler_arg": "1.0"},
 "spans": [{"name": "root", "ops": [["check_recording", True], ["check_flags", "03"]]},
           {"name": "child", "parent": "root", "ops": [["check_flags", "03"]]}],
 "expect": [{"name": "root", "parent": None}, {"name": "child", "parent": "root"}],
})
cases.append({
 "name": "start: traceidratio 0 samples no root",
 "config": {"sampler": "traceidratio", "sampler_arg": "0"},
 "spans": [{"name": "root", "ops": [["check_recording", False], ["check_flags", "02"]]}],
 "expect": [],
})
cases.append({
 "name": "start: disabled: nothing records and a child carries its remote parent's context unchanged",
 "config": {"disabled": True},
 "spans": [{"name": "root", "ops": [["check_recording", False]]},
           {"name": "child", "parent": remote(1, "vendor=x"), "ops": [["check_recording", False], ["check_traceparent", "00-%s-%s-01" % (R, P)], ["check_tracestate", "vendor=x"]]}],
 "expect": [],
})
cases.append({
 "name": "ended spans ignore later calls; a span never ended is not exported",
 "spans": [{"name": "done", "ops": [["set_attribute", "a", 1], ["end"], ["set_attribute", "b", 2], ["set_status", "error", "late"], ["check_recording", False]]},
           {"name": "open", "end": False}],
 "expect": [{"name": "done", "attributes": {"a": 1}, "status": {"code": "unset", "message": ""}}],
})
doc = {
 "description": (
  "Span vectors: what the user does with spans through a binding's own tracing API, and the spans the core exports. "
  "Every binding runs every case with a provider configured by 'config' (option names of docs/configuration.md; a binding "
  "adds its way of capturing what is exported, e.g. exporter=file) and compares what was exported with 'expect'. "
  "'spans' are started in order: 'name'; 'kind' (internal by default: server, client, producer, consumer); 'parent': null for "
  "a new trace, the name of an earlier span of the case (its context, ended or not), or a remote context {trace_id, span_id, "
  "flags, tracestate?} as extract would give; 'attributes' and 'links' given at start (a link: {context: {trace_id, span_id, "
  "flags}, attributes?}). Then 'ops' run in order: [set_attribute, key, value], [add_event, name, attributes], "
  "[record_exception, type, message] (an exception of the host's kind whose type name and message are these), "
  "[set_status, ok|error|unset, description?], [update_name, name], [end] (an early end), [check_recording, bool] "
  "(is_recording()), [check_flags, hex] (the last two hex digits of the traceparent an inject of the span writes), "
  "[check_traceparent, value], [check_tracestate, value] (the injected tracestate header, '' when none). Each span is then "
  "ended unless 'end' is false or an op ended it. 'expect' lists every exported span (compare as a set, matched by name; "
  "ids and times are not compared): 'name'; when given: 'kind'; 'parent' (null, a span name, or 'remote': the remote "
  "context's span id); 'trace_id'; 'attributes' (exactly, as JSON: integers, doubles, strings, booleans, arrays); "
  "'dropped_attributes', 'dropped_events', 'dropped_links' (0 when absent); 'events' (in order: name and exact attributes, "
  "except exception.stacktrace and exception.escaped, which are ignored); 'links' (in order: trace_id, span_id, exact "
  "attributes); 'status' {code: unset|ok|error, message} (unset with '' when absent)."),
 "cases": cases,
}
print(json.dumps(doc, indent=2, ensure_ascii=False))
