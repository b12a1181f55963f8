package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Current-span handling through {@link Context}: scopes, executors, other threads. */
class ContextTest extends ReceiverTest {
  @Test
  void makeCurrentAndTaskWrappingCarryTheParent() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (PolytraceSdk sdk = receiver.sdk("context").build()) {
      Tracer t = sdk.getTracer("ctx");
      Span root = t.spanBuilder("root").startSpan();
      assertEquals(Span.getInvalid(), Span.current());
      try (Scope s = root.makeCurrent()) {
        assertSame(root, Span.current());
        ExecutorService wrapped = Context.taskWrapping(pool);
        Future<String> f =
            wrapped.submit(
                () -> {
                  Span c = t.spanBuilder("in-pool").startSpan();
                  try (Scope cs = c.makeCurrent()) {
                    assertSame(c, Span.current());
                    return Span.current().getSpanContext().getSpanId();
                  } finally {
                    c.end();
                  }
                });
        f.get();
        // Not wrapped: the pool's thread has no current span, so a new trace starts.
        pool.submit(() -> t.spanBuilder("unwrapped").startSpan().end()).get();
      }
      assertEquals(Span.getInvalid(), Span.current(), "the scope restored the context");
      root.end();
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
    } finally {
      pool.shutdown();
    }
    Map<String, TestSupport.RSpan> got = TestSupport.byName(receiver.waitFor(3));
    assertEquals(got.get("root").spanId(), got.get("in-pool").parentSpanId());
    assertEquals(got.get("root").traceId(), got.get("in-pool").traceId());
    assertEquals("", got.get("unwrapped").parentSpanId());
  }

  @Test
  void manyThreadsEndSpansConcurrently() throws Exception {
    int threads = 8;
    int each = 2000;
    // A queue that holds them all: this checks that no span is lost between the threads and
    // the core (a smaller queue drops and counts what does not fit, see ApiTest).
    try (PolytraceSdk sdk =
        receiver.sdk("threads").setOption("max_queue_size", (long) threads * each).build()) {
      Tracer t = sdk.getTracer("threads");
      Thread[] ts = new Thread[threads];
      for (int i = 0; i < threads; i++) {
        int n = i;
        ts[i] =
            new Thread(
                () -> {
                  for (int j = 0; j < each; j++) {
                    Span s = t.spanBuilder("w").startSpan();
                    s.setAttribute("thread", n);
                    s.end();
                  }
                });
        ts[i].start();
      }
      for (Thread th : ts) {
        th.join();
      }
      assertTrue(sdk.forceFlush(Duration.ofSeconds(20)));
      Stats s = sdk.stats();
      assertEquals(threads * each, s.spansStarted());
      assertEquals(threads * each, s.spansEnded());
      assertEquals(threads * each, s.spansExported());
    }
  }

  /** Virtual threads need Java 21+: the JDK 25 beside the default one runs this check. */
  @Test
  void virtualThreadsSeeTheirOwnCurrentSpan() throws Exception {
    Path jdk = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
    // The machine's second JDK; a default JDK of 21 or newer would do as well.
    String home = Files.isDirectory(jdk) ? jdk.toString() : System.getProperty("java.home");
    TestSupport.ProcessResult r =
        TestSupport.java(
            List.of("-Xcheck:jni"),
            "io.polytrace.VirtualThreadsMain",
            List.of(receiver.http),
            Map.of(),
            home);
    assertEquals(0, r.status, r.toString());
    assertTrue(r.stdout.contains("virtual threads ok"), r.toString());
    assertTrue(!r.stdout.contains("WARNING in native method"), r.toString());
  }
}
