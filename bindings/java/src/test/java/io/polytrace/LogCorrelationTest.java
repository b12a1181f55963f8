package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.instrumentation.logback.mdc.v1_0.OpenTelemetryAppender;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The trace and span ids reach SLF4J's MDC through the official Logback MDC instrumentation. */
class LogCorrelationTest {
  @Test
  void logsInsideASpanCarryItsIds() {
    LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
    ListAppender<ILoggingEvent> list = new ListAppender<>();
    list.setContext(lc);
    list.start();
    OpenTelemetryAppender otel = new OpenTelemetryAppender();
    otel.setContext(lc);
    otel.addAppender(list);
    otel.start();
    Logger log = lc.getLogger("polytrace.correlation");
    log.setAdditive(false);
    log.addAppender(otel);
    try (PolytraceSdk sdk =
        Polytrace.builder().setExporter("none").setShutdownHook(false).build()) {
      Span span = sdk.getTracer("logs").spanBuilder("request").startSpan();
      try (Scope s = span.makeCurrent()) {
        log.info("inside");
      } finally {
        span.end();
      }
      log.info("outside");
      ILoggingEvent inside = list.list.get(0);
      Map<String, String> mdc = inside.getMDCPropertyMap();
      assertEquals(span.getSpanContext().getTraceId(), mdc.get("trace_id"));
      assertEquals(span.getSpanContext().getSpanId(), mdc.get("span_id"));
      assertEquals(span.getSpanContext().getTraceFlags().asHex(), mdc.get("trace_flags"));
      assertFalse(list.list.get(1).getMDCPropertyMap().containsKey("trace_id"));
    } finally {
      log.detachAppender(otel);
      otel.stop();
    }
  }
}
