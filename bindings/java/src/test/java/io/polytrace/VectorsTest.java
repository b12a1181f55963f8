package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** The shared vectors of {@code tests/vectors/}: configuration and propagation. */
class VectorsTest {
  static PolytraceSdk sdk;
  static TextMapPropagator propagator;

  @BeforeAll
  static void setUp() {
    sdk =
        Polytrace.builder()
            .setExporter("none")
            .setOption("propagators", List.of("tracecontext", "baggage"))
            .setShutdownHook(false)
            .build();
    propagator = sdk.getPropagators().getTextMapPropagator();
  }

  @AfterAll
  static void tearDown() {
    sdk.close();
  }

  // ---- config.json

  /** A JSON option value in the builder's flat form. */
  static void option(List<String> flat, String name, JsonElement v) {
    flat.add(name);
    if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) {
      flat.add("b");
      flat.add(Boolean.toString(v.getAsBoolean()));
    } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
      String s = v.getAsJsonPrimitive().getAsString();
      boolean integer = !s.contains(".") && !s.contains("e") && !s.contains("E");
      flat.add(integer ? "i" : "f");
      flat.add(integer ? s : Double.toString(v.getAsDouble()));
    } else if (v.isJsonPrimitive()) {
      flat.add("s");
      flat.add(v.getAsString());
    } else if (v.isJsonArray()) {
      flat.add("l");
      flat.add(Integer.toString(v.getAsJsonArray().size()));
      for (JsonElement e : v.getAsJsonArray()) {
        flat.add(e.getAsString());
      }
    } else {
      JsonObject o = v.getAsJsonObject();
      flat.add("m");
      flat.add(Integer.toString(o.size()));
      for (Map.Entry<String, JsonElement> e : o.entrySet()) {
        flat.add(e.getKey());
        flat.add(e.getValue().getAsString());
      }
    }
  }

  @TestFactory
  List<DynamicTest> config() throws Exception {
    JsonArray cases = TestSupport.vectorCases("config.json");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement ce : cases) {
      JsonObject c = ce.getAsJsonObject();
      tests.add(DynamicTest.dynamicTest(c.get("name").getAsString(), () -> configCase(c)));
    }
    assertTrue(tests.size() > 50, "the config vectors were found");
    return tests;
  }

  static void configCase(JsonObject c) {
    List<String> env = new ArrayList<>();
    if (c.has("env")) {
      for (Map.Entry<String, JsonElement> e : c.getAsJsonObject("env").entrySet()) {
        env.add(e.getKey());
        env.add(e.getValue().getAsString());
      }
    }
    List<String> opts = new ArrayList<>();
    if (c.has("options")) {
      for (Map.Entry<String, JsonElement> e : c.getAsJsonObject("options").entrySet()) {
        option(opts, e.getKey(), e.getValue());
      }
    }
    String[] envA = env.toArray(new String[0]);
    String[] optA = opts.toArray(new String[0]);
    if (c.has("error")) {
      PolytraceException e =
          assertThrows(PolytraceException.class, () -> Native.testingResolveConfig(envA, optA));
      assertEquals(c.get("error").getAsString(), e.kind());
      if (c.has("error_mentions")) {
        String m = c.get("error_mentions").getAsString();
        assertTrue(e.getMessage().contains(m), e.getMessage() + " should mention " + m);
      }
      return;
    }
    String[] r = Native.testingResolveConfig(envA, optA);
    int n = Integer.parseInt(r[0]);
    Map<String, String> eff = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      eff.put(r[1 + 2 * i], r[2 + 2 * i]);
    }
    Set<String> warned = new HashSet<>(Arrays.asList(r).subList(1 + 2 * n, r.length));
    for (Map.Entry<String, JsonElement> e : c.getAsJsonObject("expect").entrySet()) {
      String want = e.getValue().getAsString();
      String got = eff.get(e.getKey());
      if (want.endsWith("*")) {
        assertTrue(
            got != null && got.startsWith(want.substring(0, want.length() - 1)),
            e.getKey() + ": " + got);
      } else {
        assertEquals(want, got, e.getKey());
      }
    }
    Set<String> wantWarned = new HashSet<>();
    if (c.has("warnings")) {
      for (JsonElement w : c.getAsJsonArray("warnings")) {
        wantWarned.add(w.getAsString());
      }
    }
    assertEquals(wantWarned, warned, "warnings");
  }

  // ---- propagation.json

  /** A carrier of [name, value] pairs; names case-insensitive, repeats kept in order. */
  static final TextMapGetter<List<String[]>> GETTER =
      new TextMapGetter<>() {

        @Override
        public String get(List<String[]> carrier, String key) {
          for (String[] kv : carrier) {
            if (kv[0].equalsIgnoreCase(key)) {
              return kv[1];
            }
          }
          return null;
        }

        @Override
        public Iterator<String> getAll(List<String[]> carrier, String key) {
          List<String> v = new ArrayList<>();
          for (String[] kv : carrier) {
            if (kv[0].equalsIgnoreCase(key)) {
              v.add(kv[1]);
            }
          }
          return v.iterator();
        }
      };

  static List<String[]> carrier(JsonArray a) {
    List<String[]> c = new ArrayList<>();
    for (JsonElement e : a) {
      JsonArray kv = e.getAsJsonArray();
      c.add(new String[] {kv.get(0).getAsString(), kv.get(1).getAsString()});
    }
    return c;
  }

  static List<List<String>> headers(Context ctx) {
    List<List<String>> out = new ArrayList<>();
    propagator.inject(ctx, out, (c, k, v) -> c.add(List.of(k, v)));
    return out;
  }

  static List<List<String>> expected(JsonArray a) {
    List<List<String>> out = new ArrayList<>();
    for (JsonElement e : a) {
      JsonArray kv = e.getAsJsonArray();
      out.add(List.of(kv.get(0).getAsString(), kv.get(1).getAsString()));
    }
    return out;
  }

  @TestFactory
  List<DynamicTest> propagation() throws Exception {
    JsonObject v =
        TestSupport.json(TestSupport.root().resolve("tests/vectors/propagation.json"))
            .getAsJsonObject();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement ce : v.getAsJsonArray("extract")) {
      JsonObject c = ce.getAsJsonObject();
      tests.add(
          DynamicTest.dynamicTest("extract: " + c.get("name").getAsString(), () -> extract(c)));
    }
    for (JsonElement ce : v.getAsJsonArray("inject")) {
      JsonObject c = ce.getAsJsonObject();
      tests.add(
          DynamicTest.dynamicTest("inject: " + c.get("name").getAsString(), () -> inject(c)));
    }
    for (JsonElement ce : v.getAsJsonArray("round_trip")) {
      JsonObject c = ce.getAsJsonObject();
      tests.add(
          DynamicTest.dynamicTest(
              "round trip: " + c.get("name").getAsString(),
              () -> {
                Context ctx =
                    propagator.extract(Context.root(), carrier(c.getAsJsonArray("carrier")), GETTER);
                assertEquals(expected(c.getAsJsonArray("expect")), headers(ctx));
              }));
    }
    assertTrue(tests.size() > 100, "the propagation vectors were found");
    return tests;
  }

  static void extract(JsonObject c) {
    Context ctx = propagator.extract(Context.root(), carrier(c.getAsJsonArray("carrier")), GETTER);
    JsonObject want = c.getAsJsonObject("expect");
    SpanContext sc = Span.fromContext(ctx).getSpanContext();
    assertEquals(want.get("valid").getAsBoolean(), sc.isValid(), "valid");
    if (sc.isValid()) {
      assertEquals(want.get("trace_id").getAsString(), sc.getTraceId());
      assertEquals(want.get("span_id").getAsString(), sc.getSpanId());
      assertEquals(want.get("flags").getAsInt(), sc.getTraceFlags().asByte() & 0xff, "flags");
      assertEquals(want.get("sampled").getAsBoolean(), sc.isSampled(), "sampled");
      assertTrue(sc.isRemote());
      assertInstanceOf(PtSpanContext.class, sc);
      // The header form is what polytrace propagates and exports. (The API's TraceState object
      // may hold fewer entries: its builder refuses keys the core accepts, such as a simple key
      // starting with a digit.)
      assertEquals(want.get("tracestate").getAsString(), ((PtSpanContext) sc).traceStateHeader());
    }
    List<List<String>> bag = new ArrayList<>();
    Baggage.fromContext(ctx)
        .forEach((k, e) -> bag.add(List.of(k, e.getValue(), e.getMetadata().getValue())));
    List<List<String>> wantBag = new ArrayList<>();
    for (JsonElement e : want.getAsJsonArray("baggage")) {
      JsonArray t = e.getAsJsonArray();
      wantBag.add(List.of(t.get(0).getAsString(), t.get(1).getAsString(), t.get(2).getAsString()));
    }
    // The API's Baggage is a map sorted by key; the core's order is checked by round trips.
    bag.sort((a, b) -> a.get(0).compareTo(b.get(0)));
    wantBag.sort((a, b) -> a.get(0).compareTo(b.get(0)));
    assertEquals(wantBag, bag, "baggage");
  }

  static void inject(JsonObject c) {
    Context ctx = Context.root();
    if (c.has("context") && !c.get("context").isJsonNull()) {
      JsonObject sc = c.getAsJsonObject("context");
      String t = sc.get("trace_id").getAsString();
      String ts = sc.get("tracestate").getAsString();
      PtSpanContext p =
          new PtSpanContext(
              Hex.parse(t, 0),
              Hex.parse(t, 16),
              Hex.parse(sc.get("span_id").getAsString(), 0),
              (byte) sc.get("flags").getAsInt(),
              TraceState.getDefault(),
              ts,
              false);
      ctx = ctx.with(Span.wrap(p));
    }
    JsonArray bag = c.getAsJsonArray("baggage");
    if (bag.size() > 0) {
      // In the vector's order (the API's own Baggage sorts its keys; see PtBaggage).
      List<String> flat = new ArrayList<>();
      for (JsonElement e : bag) {
        JsonArray t = e.getAsJsonArray();
        flat.add(t.get(0).getAsString());
        flat.add(t.get(1).getAsString());
        flat.add(t.get(2).getAsString());
      }
      ctx = ctx.with(PtBaggage.of(flat.toArray(new String[0]), 0));
    }
    assertEquals(expected(c.getAsJsonArray("expect")), headers(ctx));
  }


}
