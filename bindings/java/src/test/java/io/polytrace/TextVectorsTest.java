package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code tests/vectors/text.json}: text that is not valid Unicode, as a Java {@code String}
 * holds it. Each case with {@code utf16} code units (lone surrogates included) becomes a string
 * used in every place a user's text reaches the core, and each place must export the case's
 * {@code text} (the core's rule, {@code polytrace_core::text}): the span name, an attribute key
 * and value, an event name and an error status description (the five places every binding
 * checks), and further a string array element, an exception message, a link attribute, the
 * tracer (scope) name and the service name (which cross as JNI strings, not in the finished-span
 * format), and a baggage value through inject and extract (the propagation calls' byte form).
 * The cases with only {@code utf8} bytes are for the languages whose strings are bytes.
 */
class TextVectorsTest {
  private static final AtomicInteger RAN = new AtomicInteger();

  @TestFactory
  List<DynamicTest> text() throws Exception {
    JsonArray cases = TestSupport.vectorCases("text.json");
    long withUtf16 = cases.asList().stream().filter(c -> c.getAsJsonObject().has("utf16")).count();
    assertTrue(withUtf16 >= 7, "the text vectors were found, with their utf16 cases");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement ce : cases) {
      JsonObject c = ce.getAsJsonObject();
      if (!c.has("utf16")) {
        continue;
      }
      tests.add(
          DynamicTest.dynamicTest(
              c.get("name").getAsString(),
              () -> {
                run(string(c.getAsJsonArray("utf16")), c.get("text").getAsString());
                RAN.incrementAndGet();
              }));
    }
    // Runs last (dynamic tests run in order): every case with code units ran to its end.
    tests.add(
        DynamicTest.dynamicTest(
            "every case with utf16 ran",
            () -> assertEquals(withUtf16, RAN.get(), "cases with utf16 that passed")));
    return tests;
  }

  /** The string of these UTF-16 code units, as Java keeps it (no check, no repair). */
  static String string(JsonArray units) {
    char[] c = new char[units.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = (char) units.get(i).getAsInt();
    }
    return new String(c);
  }

  static void run(String s, String want) throws Exception {
    Path file = Files.createTempDirectory("polytrace-text-").resolve("spans.jsonl");
    PolytraceSdk sdk =
        Polytrace.builder()
            .setExporter("file")
            .setOption("file_path", file.toString())
            .setServiceName(s)
            .setShutdownHook(false)
            .build();
    String baggage;
    try {
      SpanContext linked =
          SpanContext.create(
              "0af7651916cd43dd8448eb211c80319c",
              "b7ad6b7169203331",
              TraceFlags.getSampled(),
              TraceState.getDefault());
      Span span =
          sdk.getTracer(s)
              .spanBuilder(s)
              .setNoParent()
              .addLink(linked, Attributes.of(AttributeKey.stringKey("link"), s))
              .startSpan();
      span.setAttribute(s, "key");
      span.setAttribute("value", s);
      span.setAttribute(AttributeKey.stringArrayKey("array"), List.of("a", s));
      span.addEvent(s);
      span.recordException(new IllegalStateException(s));
      span.setStatus(StatusCode.ERROR, s);
      TextMapPropagator p = sdk.getPropagators().getTextMapPropagator();
      Map<String, String> carrier = new HashMap<>();
      p.inject(
          Context.root().with(span).with(Baggage.builder().put("text", s).build()),
          carrier,
          Map::put);
      baggage =
          Baggage.fromContext(p.extract(Context.root(), carrier, VectorsGetter.MAP))
              .getEntryValue("text");
      span.end();
    } finally {
      sdk.shutdown();
    }
    List<TestSupport.RSpan> spans = TestSupport.readSpans(file);
    assertEquals(1, spans.size(), "exported: " + spans);
    TestSupport.RSpan r = spans.get(0);
    JsonArray events = r.array("events");
    assertEquals(2, events.size(), "events: " + events);
    JsonObject status = r.status();
    assertAll(
        () -> assertEquals(want, r.name(), "span name"),
        () -> assertEquals("key", r.attrs.get(want), "attribute key, among " + r.attrs.keySet()),
        () -> assertEquals(want, r.attrs.get("value"), "attribute value"),
        () -> assertEquals(want, name(events.get(0)), "event name"),
        () -> assertEquals(2, status.get("code").getAsInt(), "status code (error)"),
        () -> assertEquals(want, status.get("message").getAsString(), "status description"),
        () -> assertEquals(List.of("a", want), r.attrs.get("array"), "string array element"),
        () ->
            assertEquals(
                want,
                TestSupport.attrs(events.get(1).getAsJsonObject().getAsJsonArray("attributes"))
                    .get("exception.message"),
                "exception message"),
        () ->
            assertEquals(
                want,
                TestSupport.attrs(
                        r.array("links").get(0).getAsJsonObject().getAsJsonArray("attributes"))
                    .get("link"),
                "link attribute"),
        () -> assertEquals(want, r.scope, "tracer (scope) name"),
        () -> assertEquals(want, r.resource.get("service.name"), "service name"),
        () -> assertEquals(want, baggage, "baggage value after inject and extract"));
  }

  static String name(JsonElement event) {
    return event.getAsJsonObject().get("name").getAsString();
  }
}
