package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The tracing API end to end: spans made through the API, checked at a real OTLP receiver. */
class ApiTest extends ReceiverTest {
  /** Runs {@code body} with a fresh SDK, flushes, and returns the spans of {@code service}. */
  static Map<String, TestSupport.RSpan> run(String service, java.util.function.Consumer<Tracer> body)
      throws IOException, InterruptedException {
    try (PolytraceSdk sdk = receiver.sdk(service).build()) {
      body.accept(sdk.getTracer("api-test", "1.2.3"));
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
    }
    List<TestSupport.RSpan> all = receiver.spans();
    all.removeIf(s -> !service.equals(s.resource.get("service.name")));
    return TestSupport.byName(all);
  }

  @Test
  void attributesOfEveryTypeArrive() throws Exception {
    Map<String, TestSupport.RSpan> got =
        run(
            "api-attributes",
            t -> {
              Span s =
                  t.spanBuilder("typed")
                      .setAttribute("builder.s", "b")
                      .setAttribute(AttributeKey.longKey("builder.l"), 7L)
                      .startSpan();
              s.setAttribute("s", "text");
              s.setAttribute("l", 42L);
              s.setAttribute("d", 2.5);
              s.setAttribute("b", true);
              s.setAttribute(AttributeKey.stringArrayKey("sa"), List.of("x", "y"));
              s.setAttribute(AttributeKey.longArrayKey("la"), List.of(1L, -2L));
              s.setAttribute(AttributeKey.doubleArrayKey("da"), List.of(0.5, 1.5));
              s.setAttribute(AttributeKey.booleanArrayKey("ba"), List.of(true, false));
              s.setAttribute(AttributeKey.longKey("int"), 5);
              s.setAttribute("l", 43L); // a repeated key: the later value wins
              s.setAllAttributes(Attributes.of(AttributeKey.stringKey("all"), "yes"));
              s.end();
            });
    TestSupport.RSpan s = got.get("typed");
    assertNotNull(s, "span arrived");
    Map<String, Object> a = s.attrs;
    assertEquals("b", a.get("builder.s"));
    assertEquals(7L, a.get("builder.l"));
    assertEquals("text", a.get("s"));
    assertEquals(43L, a.get("l"));
    assertEquals(2.5, a.get("d"));
    assertEquals(true, a.get("b"));
    assertEquals(List.of("x", "y"), a.get("sa"));
    assertEquals(List.of(1L, -2L), a.get("la"));
    assertEquals(List.of(0.5, 1.5), a.get("da"));
    assertEquals(List.of(true, false), a.get("ba"));
    assertEquals(5L, a.get("int"));
    assertEquals("yes", a.get("all"));
    assertEquals("api-test", s.scope);
    assertEquals("java", s.resource.get("telemetry.sdk.language"));
  }

  @Test
  void parentsKindsTimesNamesEventsLinksAndStatus() throws Exception {
    SpanContext remote =
        SpanContext.createFromRemoteParent(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            TraceFlags.getSampled(),
            TraceState.builder().put("vendor", "v1").build());
    Map<String, TestSupport.RSpan> got =
        run(
            "api-shape",
            t -> {
              Span root =
                  t.spanBuilder("root")
                      .setSpanKind(SpanKind.SERVER)
                      .setStartTimestamp(1_700_000_000_000L, TimeUnit.MILLISECONDS)
                      .startSpan();
              try (Scope ignored = root.makeCurrent()) {
                assertSame(root, Span.current());
                Span child = t.spanBuilder("child").setSpanKind(SpanKind.CLIENT).startSpan();
                child.addEvent("e1", Attributes.of(AttributeKey.longKey("n"), 1L));
                child.addEvent("e2", Instant.ofEpochSecond(1_700_000_001L));
                child.recordException(new IllegalStateException("boom"));
                child.setStatus(StatusCode.ERROR, "failed");
                child.setStatus(StatusCode.UNSET); // ignored by the core's precedence rule
                child.updateName("child-renamed");
                child.addLink(remote, Attributes.of(AttributeKey.stringKey("why"), "batch"));
                child.end();
                assertFalse(child.isRecording());
                Span orphan = t.spanBuilder("orphan").setNoParent().startSpan();
                orphan.end();
                Span fromRemote =
                    t.spanBuilder("from-remote")
                        .setParent(Context.root().with(Span.wrap(remote)))
                        .addLink(root.getSpanContext())
                        .startSpan();
                fromRemote.setStatus(StatusCode.OK);
                fromRemote.setStatus(StatusCode.ERROR, "too late"); // Ok is final
                fromRemote.end();
              }
              root.end(1_700_000_002L, TimeUnit.SECONDS);
            });
    TestSupport.RSpan root = got.get("root");
    TestSupport.RSpan child = got.get("child-renamed");
    TestSupport.RSpan orphan = got.get("orphan");
    TestSupport.RSpan fromRemote = got.get("from-remote");
    assertNotNull(root);
    assertNotNull(child, "updateName applies: " + got.keySet());
    assertEquals(2, root.kind(), "SERVER"); // OTLP: SPAN_KIND_SERVER = 2
    assertEquals(3, child.kind(), "CLIENT");
    assertEquals(1_700_000_000_000_000_000L, root.start());
    assertEquals(1_700_000_002_000_000_000L, root.end());
    assertEquals(root.traceId(), child.traceId());
    assertEquals(root.spanId(), child.parentSpanId());
    assertEquals("", root.parentSpanId());
    assertNotEquals(root.traceId(), orphan.traceId());
    assertEquals("", orphan.parentSpanId());
    assertEquals("0af7651916cd43dd8448eb211c80319c", fromRemote.traceId());
    assertEquals("b7ad6b7169203331", fromRemote.parentSpanId());
    assertEquals("vendor=v1", fromRemote.span.get("traceState").getAsString());

    JsonArray events = child.array("events");
    assertEquals(3, events.size());
    assertEquals("e1", events.get(0).getAsJsonObject().get("name").getAsString());
    assertEquals(
        "1700000001000000000",
        events.get(1).getAsJsonObject().get("timeUnixNano").getAsString());
    JsonObject exc = events.get(2).getAsJsonObject();
    assertEquals("exception", exc.get("name").getAsString());
    Map<String, Object> ea = TestSupport.attrs(exc.getAsJsonArray("attributes"));
    assertEquals("java.lang.IllegalStateException", ea.get("exception.type"));
    assertEquals("boom", ea.get("exception.message"));
    assertTrue(((String) ea.get("exception.stacktrace")).contains("ApiTest"));

    JsonObject status = child.status();
    assertEquals(2, status.get("code").getAsInt(), "ERROR");
    assertEquals("failed", status.get("message").getAsString());
    assertEquals(1, fromRemote.status().get("code").getAsInt(), "OK is final");

    JsonArray links = child.array("links");
    assertEquals(1, links.size());
    JsonObject link = links.get(0).getAsJsonObject();
    assertEquals("0af7651916cd43dd8448eb211c80319c", link.get("traceId").getAsString());
    assertEquals("b7ad6b7169203331", link.get("spanId").getAsString());
    assertEquals("vendor=v1", link.get("traceState").getAsString());
    JsonObject link2 = fromRemote.array("links").get(0).getAsJsonObject();
    assertEquals(root.spanId(), link2.get("spanId").getAsString());
  }

  @Test
  void spanContextsAreValidAndStable() {
    try (PolytraceSdk sdk = receiver.sdk("api-context").build()) {
      Tracer t = sdk.getTracer("ctx");
      Span s = t.spanBuilder("s").startSpan();
      SpanContext c = s.getSpanContext();
      assertTrue(c.isValid());
      assertTrue(c.isSampled());
      assertFalse(c.isRemote());
      assertEquals(32, c.getTraceId().length());
      assertEquals(16, c.getSpanId().length());
      assertEquals(
          c, SpanContext.create(c.getTraceId(), c.getSpanId(), c.getTraceFlags(), c.getTraceState()));
      assertTrue(s.isRecording());
      s.end();
      s.end(); // twice is harmless
      assertFalse(s.isRecording());
      assertSame(t, sdk.getTracer("ctx"), "tracers are cached per scope");
    }
  }

  @Test
  void anUnsampledParentGivesANonRecordingChildThatStillPropagates() {
    SpanContext unsampled =
        SpanContext.createFromRemoteParent(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            TraceFlags.getDefault(),
            TraceState.getDefault());
    try (PolytraceSdk sdk = receiver.sdk("api-unsampled").build()) {
      Span s =
          sdk.getTracer("t")
              .spanBuilder("dropped")
              .setParent(Context.root().with(Span.wrap(unsampled)))
              .startSpan();
      assertFalse(s.isRecording());
      assertTrue(s.getSpanContext().isValid());
      assertEquals("0af7651916cd43dd8448eb211c80319c", s.getSpanContext().getTraceId());
      assertNotEquals("b7ad6b7169203331", s.getSpanContext().getSpanId());
      s.end();
      Stats st = sdk.stats();
      assertEquals(0, st.spansStarted());
    }
  }

  @Test
  void aSamplerThePlanCannotDecideIsAskedAndItsDecisionsCounted() {
    try (PolytraceSdk sdk =
        receiver.sdk("api-ratio").setSampler("traceidratio", 0.5).build()) {
      Tracer t = sdk.getTracer("ratio");
      int recording = 0;
      for (int i = 0; i < 400; i++) {
        Span s = t.spanBuilder("maybe").startSpan();
        assertTrue(s.getSpanContext().isValid());
        assertEquals(s.isRecording(), s.getSpanContext().isSampled());
        if (s.isRecording()) {
          recording++;
        }
        s.end();
      }
      assertTrue(recording > 100 && recording < 300, "about half: " + recording);
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
      Stats st = sdk.stats();
      assertEquals(recording, st.spansStarted());
      assertEquals(recording, st.spansExported());
    }
  }

  @Test
  void statsCountStartedEndedAndExported() {
    try (PolytraceSdk sdk = receiver.sdk("api-stats").build()) {
      Tracer t = sdk.getTracer("t");
      for (int i = 0; i < 1000; i++) {
        t.spanBuilder("n").startSpan().end();
      }
      Span open = t.spanBuilder("open").startSpan();
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
      Stats s = sdk.stats();
      assertEquals(1001, s.spansStarted());
      assertEquals(1000, s.spansEnded());
      assertEquals(1000, s.spansExported());
      assertEquals(0, s.spansDropped());
      open.end();
    }
  }

  @Test
  void afterShutdownSpansAreNoOpsAndShutdownIsIdempotent() {
    PolytraceSdk sdk = receiver.sdk("api-shutdown").build();
    Tracer t = sdk.getTracer("t");
    Span before = t.spanBuilder("before").startSpan();
    sdk.shutdown();
    assertTrue(sdk.isShutdown());
    Span after = t.spanBuilder("after").startSpan();
    assertFalse(after.isRecording());
    after.setAttribute("k", "v");
    after.end();
    before.end(); // ended after shutdown: dropped and counted, never an exception
    assertFalse(sdk.shutdown(Duration.ofSeconds(1)), "a second shutdown says so");
    sdk.close();
    Stats s = sdk.stats();
    assertEquals(1, s.droppedShutdown());
  }
}
