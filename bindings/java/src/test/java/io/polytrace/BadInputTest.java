package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad input follows the API's rules (ignored, never thrown); strings cross from UTF-16 intact. */
class BadInputTest extends ReceiverTest {
  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void nullsAndWrongTypesAreIgnored() throws Exception {
    try (PolytraceSdk sdk = receiver.sdk("bad-input").build()) {
      Tracer t = sdk.getTracer("bad");
      assertDoesNotThrow(
          () -> {
            SpanBuilder b =
                t.spanBuilder(null)
                    .setAttribute((String) null, "v")
                    .setAttribute("k", (String) null)
                    .setAttribute((AttributeKey<String>) null, "v")
                    .setParent(null)
                    .setSpanKind(null)
                    .addLink(null)
                    .setStartTimestamp(null);
            Span s = b.startSpan();
            s.setAttribute((String) null, 1L);
            s.setAttribute("", "empty key");
            s.setAttribute("null-value", (String) null);
            s.setAttribute(AttributeKey.stringKey("ok"), "kept");
            // A raw key whose value has another type (generics misused): ignored.
            s.setAttribute((AttributeKey) AttributeKey.longKey("wrong"), "not a long");
            s.setAttribute(AttributeKey.stringArrayKey("with-null"), Arrays.asList("a", null, "b"));
            s.setAllAttributes(null);
            s.addEvent(null);
            s.addEvent("ev", (Attributes) null);
            s.recordException(null);
            s.setStatus(null);
            s.updateName(null);
            s.addLink(null);
            s.end((java.time.Instant) null);
          });
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
    }
    TestSupport.RSpan s = TestSupport.byName(receiver.waitFor(1)).get("");
    assertNotNull(s, "the span with a null name arrived (named \"\")");
    assertEquals("kept", s.attrs.get("ok"));
    assertEquals(List.of("a", "b"), s.attrs.get("with-null"));
    assertFalse(s.attrs.containsKey("wrong"));
    assertFalse(s.attrs.containsKey("null-value"));
    assertFalse(s.attrs.containsKey(""));
    assertEquals(1, s.array("events").size(), "only the event with a name");
  }

  @Test
  void utf16EdgeCasesCrossIntact() throws Exception {
    String supplementary = "emoji \uD83D\uDE00 and 𝄞 clef";
    String lone = "lone \uD800 high and \uDC00 low";
    String nul = "before\u0000after";
    String latin = "café naïve";
    String longNonAscii = "é".repeat(5000);
    try (PolytraceSdk sdk = receiver.sdk("utf16").build()) {
      Span s = sdk.getTracer("utf").spanBuilder("名前 \uD83D\uDE80").startSpan();
      s.setAttribute("supplementary", supplementary);
      s.setAttribute("lone", lone);
      s.setAttribute("nul", nul);
      s.setAttribute("latin", latin);
      s.setAttribute("long", longNonAscii);
      s.setAttribute("ключ", "значение");
      s.setAttribute(AttributeKey.stringArrayKey("arr"), List.of(supplementary, lone, nul));
      s.addEvent("événement \uDBFF");
      s.end();
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
    }
    Map<String, TestSupport.RSpan> got = TestSupport.byName(receiver.waitFor(2));
    TestSupport.RSpan s = got.get("名前 \uD83D\uDE80");
    assertNotNull(s, "the name with CJK and a supplementary character: " + got.keySet());
    assertEquals(supplementary, s.attrs.get("supplementary"));
    assertEquals("lone \uFFFD high and \uFFFD low", s.attrs.get("lone"), "lone surrogates");
    assertEquals(nul, s.attrs.get("nul"), "an embedded NUL");
    assertEquals(latin, s.attrs.get("latin"));
    assertEquals(longNonAscii, s.attrs.get("long"));
    assertEquals("значение", s.attrs.get("ключ"));
    assertEquals(
        List.of(supplementary, "lone \uFFFD high and \uFFFD low", nul), s.attrs.get("arr"));
    assertEquals(
        "événement \uFFFD", s.array("events").get(0).getAsJsonObject().get("name").getAsString());
  }

  @Test
  void spanMethodsNeverThrowEvenAfterShutdown() {
    PolytraceSdk sdk = receiver.sdk("bad-after").build();
    Span s = sdk.getTracer("t").spanBuilder("s").startSpan();
    sdk.shutdown();
    assertDoesNotThrow(
        () -> {
          s.setAttribute("k", "v");
          s.addEvent("e");
          s.recordException(new RuntimeException("x"));
          s.end();
          sdk.getTracer("t").spanBuilder("late").startSpan().end();
          sdk.getPropagators()
              .getTextMapPropagator()
              .inject(io.opentelemetry.context.Context.current(), null, (c, k, v) -> {});
        });
  }
}
