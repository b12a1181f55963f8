package io.polytrace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;
import java.util.List;

/**
 * Run by {@link SecurityTest} in a child JVM, configured by {@code OTEL_*} / {@code POLYTRACE_*}
 * only. {@code tls}: ends 5 spans, flushes, shuts down and prints the counters. {@code secrets}:
 * the same, then prints the SDK, its counters and its effective configuration (which names the
 * headers without their values). {@code redact}: the span the Python, Node and C redaction
 * tests make.
 */
public final class EnvExportMain {
  public static void main(String[] args) {
    PolytraceSdk sdk = Polytrace.builder().setShutdownHook(false).build();
    Tracer t = sdk.getTracer("security");
    if (args[0].equals("redact")) {
      Span other = t.spanBuilder("other").startSpan();
      other.end();
      Span s =
          t.spanBuilder("GET /users/jane@example.com")
              .addLink(
                  other.getSpanContext(),
                  Attributes.of(
                      AttributeKey.stringKey("ssn"), "123-45-6789",
                      AttributeKey.stringKey("plain"), "kept"))
              .startSpan();
      s.setAttribute("q", "card 4111 1111 1111 1111 please");
      s.setAttribute("order", "order 1234567812345678"); // fails Luhn: kept
      s.setAttribute(
          AttributeKey.stringArrayKey("list"), List.of("ok", "bob@example.org", "078-05-1120"));
      s.setAttribute("user.id", "u-42");
      s.setAttribute("user.n", 42L);
      s.addEvent(
          "mailed ann@example.net",
          Attributes.of(AttributeKey.stringKey("to"), "ann@example.net"));
      s.recordException(new IllegalStateException("no account for jane@example.com"));
      s.setStatus(StatusCode.ERROR, "card 5500-0000-0000-0004 declined");
      s.end();
      sdk.shutdown();
      return;
    }
    for (int i = 0; i < 5; i++) {
      t.spanBuilder("tls-" + i).startSpan().end();
    }
    System.out.println("FLUSH " + sdk.forceFlush(Duration.ofSeconds(5)));
    if (args[0].equals("secrets")) {
      System.out.println(sdk);
      System.out.println(sdk.stats());
      System.out.println("CONFIG " + sdk.config());
    }
    sdk.shutdown();
    Stats st = sdk.stats();
    System.out.println(
        "STATS "
            + st.spansEnded()
            + " "
            + st.spansExported()
            + " "
            + st.spansDropped()
            + " "
            + st.droppedExportFailed()
            + " "
            + st.exportFailures());
  }
}
