package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code tests/vectors/spans.json}: what a user does with spans through the OpenTelemetry Java
 * API, and the spans the core exports (read back from the file exporter).
 */
class SpanVectorsTest {
  static final String[] KIND_NAMES = {
    "unspecified", "internal", "server", "client", "producer", "consumer"
  };
  static final String[] CODE_NAMES = {"unset", "ok", "error"};

  @TestFactory
  List<DynamicTest> spans() throws Exception {
    JsonArray cases = TestSupport.vectorCases("spans.json");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement ce : cases) {
      JsonObject c = ce.getAsJsonObject();
      tests.add(DynamicTest.dynamicTest(c.get("name").getAsString(), () -> run(c)));
    }
    assertTrue(tests.size() >= 20, "the span vectors were found");
    return tests;
  }

  static void run(JsonObject c) throws Exception {
    Path file = Files.createTempDirectory("polytrace-vectors-").resolve("spans.jsonl");
    PolytraceBuilder b =
        Polytrace.builder()
            .setExporter("file")
            .setOption("file_path", file.toString())
            .setServiceName("java-vectors")
            .setShutdownHook(false);
    if (c.has("config") && !c.get("config").isJsonNull()) {
      for (Map.Entry<String, JsonElement> e : c.getAsJsonObject("config").entrySet()) {
        option(b, e.getKey(), e.getValue().getAsJsonPrimitive());
      }
    }
    PolytraceSdk sdk = b.build();
    try {
      runSpans(c, sdk);
    } finally {
      sdk.shutdown();
    }
    compare(c, TestSupport.readSpans(file));
  }

  static void option(PolytraceBuilder b, String name, JsonPrimitive v) {
    if (v.isBoolean()) {
      b.setOption(name, v.getAsBoolean());
    } else if (v.isNumber()) {
      String s = v.getAsString();
      if (s.contains(".") || s.contains("e")) {
        b.setOption(name, v.getAsDouble());
      } else {
        b.setOption(name, v.getAsLong());
      }
    } else {
      b.setOption(name, v.getAsString());
    }
  }

  /** A remote parent as extract gives it: through the propagator. */
  static Context remote(TextMapPropagator p, JsonObject r) {
    Map<String, String> carrier = new HashMap<>();
    carrier.put(
        "traceparent",
        String.format(
            Locale.ROOT,
            "00-%s-%s-%02x",
            r.get("trace_id").getAsString(),
            r.get("span_id").getAsString(),
            r.get("flags").getAsInt()));
    if (r.has("tracestate")) {
      carrier.put("tracestate", r.get("tracestate").getAsString());
    }
    return p.extract(Context.root(), carrier, VectorsGetter.MAP);
  }

  static Attributes attributes(JsonObject o) {
    AttributesBuilder a = Attributes.builder();
    if (o != null) {
      for (Map.Entry<String, JsonElement> e : o.entrySet()) {
        put(a, e.getKey(), e.getValue());
      }
    }
    return a.build();
  }

  static boolean integral(JsonPrimitive p) {
    String s = p.getAsString();
    return !s.contains(".") && !s.contains("e") && !s.contains("E");
  }

  static void put(AttributesBuilder a, String k, JsonElement v) {
    if (v.isJsonArray()) {
      JsonArray arr = v.getAsJsonArray();
      JsonPrimitive first = arr.size() == 0 ? new JsonPrimitive("") : arr.get(0).getAsJsonPrimitive();
      if (first.isBoolean()) {
        List<Boolean> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.getAsBoolean()));
        a.put(AttributeKey.booleanArrayKey(k), l);
      } else if (first.isNumber() && integral(first)) {
        List<Long> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.getAsLong()));
        a.put(AttributeKey.longArrayKey(k), l);
      } else if (first.isNumber()) {
        List<Double> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.getAsDouble()));
        a.put(AttributeKey.doubleArrayKey(k), l);
      } else {
        List<String> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.getAsString()));
        a.put(AttributeKey.stringArrayKey(k), l);
      }
      return;
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    if (p.isBoolean()) {
      a.put(k, p.getAsBoolean());
    } else if (p.isNumber() && integral(p)) {
      a.put(k, p.getAsLong());
    } else if (p.isNumber()) {
      a.put(k, p.getAsDouble());
    } else {
      a.put(k, p.getAsString());
    }
  }

  static void runSpans(JsonObject c, PolytraceSdk sdk) throws Exception {
    Tracer tracer = sdk.getTracer("vectors");
    TextMapPropagator p = sdk.getPropagators().getTextMapPropagator();
    Map<String, Span> spans = new HashMap<>();
    for (JsonElement se : c.getAsJsonArray("spans")) {
      JsonObject spec = se.getAsJsonObject();
      String name = spec.get("name").getAsString();
      SpanBuilder sb = tracer.spanBuilder(name);
      JsonElement parent = spec.get("parent");
      if (parent == null || parent.isJsonNull()) {
        sb.setNoParent();
      } else if (parent.isJsonPrimitive()) {
        sb.setParent(Context.root().with(spans.get(parent.getAsString())));
      } else {
        sb.setParent(remote(p, parent.getAsJsonObject()));
      }
      if (spec.has("kind")) {
        sb.setSpanKind(SpanKind.valueOf(spec.get("kind").getAsString().toUpperCase(Locale.ROOT)));
      }
      if (spec.has("attributes")) {
        sb.setAllAttributes(attributes(spec.getAsJsonObject("attributes")));
      }
      if (spec.has("links")) {
        for (JsonElement le : spec.getAsJsonArray("links")) {
          JsonObject l = le.getAsJsonObject();
          JsonObject lc = l.getAsJsonObject("context");
          SpanContext ctx =
              SpanContext.create(
                  lc.get("trace_id").getAsString(),
                  lc.get("span_id").getAsString(),
                  TraceFlags.fromByte((byte) lc.get("flags").getAsInt()),
                  TraceState.getDefault());
          sb.addLink(ctx, attributes(l.getAsJsonObject("attributes")));
        }
      }
      Span span = sb.startSpan();
      spans.put(name, span);
      boolean ended = false;
      if (spec.has("ops")) {
        for (JsonElement oe : spec.getAsJsonArray("ops")) {
          JsonArray op = oe.getAsJsonArray();
          String what = op.get(0).getAsString();
          switch (what) {
            case "set_attribute":
              {
                AttributesBuilder a = Attributes.builder();
                put(a, op.get(1).getAsString(), op.get(2));
                span.setAllAttributes(a.build());
                break;
              }
            case "add_event":
              span.addEvent(op.get(1).getAsString(), attributes(op.get(2).getAsJsonObject()));
              break;
            case "record_exception":
              span.recordException(
                  (Throwable)
                      Class.forName(op.get(1).getAsString())
                          .getConstructor(String.class)
                          .newInstance(op.get(2).getAsString()));
              break;
            case "set_status":
              {
                StatusCode code = StatusCode.valueOf(op.get(1).getAsString().toUpperCase(Locale.ROOT));
                if (op.size() > 2) {
                  span.setStatus(code, op.get(2).getAsString());
                } else {
                  span.setStatus(code);
                }
                break;
              }
            case "update_name":
              span.updateName(op.get(1).getAsString());
              break;
            case "end":
              span.end();
              ended = true;
              break;
            case "check_recording":
              assertEquals(op.get(1).getAsBoolean(), span.isRecording(), name + ": isRecording");
              break;
            default:
              {
                Map<String, String> carrier = new HashMap<>();
                p.inject(Context.root().with(span), carrier, Map::put);
                String tp = carrier.getOrDefault("traceparent", "");
                String want = op.get(1).getAsString();
                if (what.equals("check_flags")) {
                  assertEquals(want, tp.substring(tp.length() - 2), name + ": flags");
                } else if (what.equals("check_traceparent")) {
                  assertEquals(want, tp, name + ": traceparent");
                } else if (what.equals("check_tracestate")) {
                  assertEquals(want, carrier.getOrDefault("tracestate", ""), name + ": tracestate");
                } else {
                  fail("unknown op " + what);
                }
              }
          }
        }
      }
      boolean end = !spec.has("end") || spec.get("end").getAsBoolean();
      if (!ended && end) {
        span.end();
      }
    }
  }

  /** A JSON value as the receiver's reader gives it (Long, Double, String, Boolean, List). */
  static Object plain(JsonElement v) {
    if (v.isJsonArray()) {
      List<Object> l = new ArrayList<>();
      v.getAsJsonArray().forEach(x -> l.add(plain(x)));
      return l;
    }
    JsonPrimitive p = v.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isNumber()) {
      return integral(p) ? (Object) p.getAsLong() : (Object) p.getAsDouble();
    }
    return p.getAsString();
  }

  static Map<String, Object> plainMap(JsonObject o) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (o != null) {
      o.entrySet().forEach(e -> m.put(e.getKey(), plain(e.getValue())));
    }
    return m;
  }

  static void compare(JsonObject c, List<TestSupport.RSpan> exported) {
    JsonArray expect = c.getAsJsonArray("expect");
    List<String> names = new ArrayList<>();
    exported.forEach(s -> names.add(s.name()));
    assertEquals(expect.size(), exported.size(), "exported " + names);
    Map<String, String> byId = new HashMap<>();
    exported.forEach(s -> byId.put(s.spanId(), s.name()));
    for (JsonElement ee : expect) {
      JsonObject e = ee.getAsJsonObject();
      String name = e.get("name").getAsString();
      TestSupport.RSpan s = TestSupport.byName(exported).get(name);
      assertNotNull(s, "no span " + name + " in " + names);
      if (e.has("kind")) {
        int k = s.span.has("kind") ? s.kind() : 1;
        assertEquals(e.get("kind").getAsString(), KIND_NAMES[k], name + ": kind");
      }
      if (e.has("parent")) {
        String got =
            s.parentSpanId().isEmpty() ? null : byId.getOrDefault(s.parentSpanId(), "remote");
        String want = e.get("parent").isJsonNull() ? null : e.get("parent").getAsString();
        assertEquals(want, got, name + ": parent");
      }
      if (e.has("trace_id")) {
        assertEquals(e.get("trace_id").getAsString(), s.traceId(), name + ": trace id");
      }
      if (e.has("attributes")) {
        assertEquals(plainMap(e.getAsJsonObject("attributes")), s.attrs, name + ": attributes");
      }
      assertEquals(count(e, "dropped_attributes"), s.intField("droppedAttributesCount"), name);
      assertEquals(count(e, "dropped_events"), s.intField("droppedEventsCount"), name);
      assertEquals(count(e, "dropped_links"), s.intField("droppedLinksCount"), name);
      if (e.has("events")) {
        List<Object> got = new ArrayList<>();
        for (JsonElement ev : s.array("events")) {
          JsonObject o = ev.getAsJsonObject();
          Map<String, Object> a = TestSupport.attrs(o.getAsJsonArray("attributes"));
          a.remove("exception.stacktrace");
          a.remove("exception.escaped");
          got.add(List.of(o.get("name").getAsString(), a));
        }
        List<Object> want = new ArrayList<>();
        for (JsonElement ev : e.getAsJsonArray("events")) {
          JsonObject o = ev.getAsJsonObject();
          want.add(List.of(o.get("name").getAsString(), plainMap(o.getAsJsonObject("attributes"))));
        }
        assertEquals(want, got, name + ": events");
      }
      if (e.has("links")) {
        List<Object> got = new ArrayList<>();
        for (JsonElement le : s.array("links")) {
          JsonObject o = le.getAsJsonObject();
          got.add(
              List.of(
                  o.get("traceId").getAsString(),
                  o.get("spanId").getAsString(),
                  TestSupport.attrs(o.getAsJsonArray("attributes"))));
        }
        List<Object> want = new ArrayList<>();
        for (JsonElement le : e.getAsJsonArray("links")) {
          JsonObject o = le.getAsJsonObject();
          want.add(
              List.of(
                  o.get("trace_id").getAsString(),
                  o.get("span_id").getAsString(),
                  plainMap(o.getAsJsonObject("attributes"))));
        }
        assertEquals(want, got, name + ": links");
      }
      JsonObject st = s.status();
      String code = CODE_NAMES[st.has("code") ? st.get("code").getAsInt() : 0];
      String message = st.has("message") ? st.get("message").getAsString() : "";
      String wantCode = "unset";
      String wantMessage = "";
      if (e.has("status")) {
        wantCode = e.getAsJsonObject("status").get("code").getAsString();
        JsonElement m = e.getAsJsonObject("status").get("message");
        wantMessage = m == null ? "" : m.getAsString();
      }
      assertEquals(wantCode + ":" + wantMessage, code + ":" + message, name + ": status");
    }
  }

  static int count(JsonObject e, String key) {
    return e.has(key) ? e.get(key).getAsInt() : 0;
  }
}
