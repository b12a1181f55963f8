package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.BaggageBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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

  /**
   * Propagation's pooled direct buffers (Wire): an answer larger than the output buffer (a
   * baggage of about 7 KB) and a carrier larger than a pooled buffer may be (a 200 KB header)
   * round-trip, and threads sharing the pool each get their own context back.
   */
  @Test
  void propagationBuffersGrowAndArePooledAcrossThreads() throws Exception {
    try (PolytraceSdk sdk =
        Polytrace.builder().setExporter("none").setShutdownHook(false).build()) {
      TextMapPropagator p = sdk.getPropagators().getTextMapPropagator();
      Tracer t = sdk.getTracer("buffers");
      Span span = t.spanBuilder("parent").startSpan();
      BaggageBuilder big = Baggage.builder();
      for (int i = 0; i < 100; i++) {
        big.put("k" + i, "v".repeat(60) + i);
      }
      Context ctx = Context.root().with(span).with(big.build());
      Map<String, String> carrier = new HashMap<>();
      p.inject(ctx, carrier, Map::put);
      assertTrue(carrier.get("baggage").length() > 6000, "the whole baggage is injected");
      Context back = p.extract(Context.root(), carrier, VectorsGetter.MAP);
      assertEquals(
          span.getSpanContext().getTraceId(), Span.fromContext(back).getSpanContext().getTraceId());
      assertEquals(100, Baggage.fromContext(back).size());
      assertEquals("v".repeat(60) + 7, Baggage.fromContext(back).getEntryValue("k7"));

      Map<String, String> huge = new HashMap<>(carrier);
      huge.put("baggage", "x=" + "y".repeat(200_000));
      Context fromHuge = p.extract(Context.root(), huge, VectorsGetter.MAP);
      assertEquals(
          span.getSpanContext().getSpanId(),
          Span.fromContext(fromHuge).getSpanContext().getSpanId());

      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Integer>> done = new ArrayList<>();
        for (int th = 0; th < 4; th++) {
          done.add(
              pool.submit(
                  () -> {
                    int ok = 0;
                    for (int i = 0; i < 2_000; i++) {
                      Span s = t.spanBuilder("s").startSpan();
                      Map<String, String> c = new HashMap<>();
                      p.inject(Context.root().with(s), c, Map::put);
                      Context trip = p.extract(Context.root(), c, VectorsGetter.MAP);
                      SpanContext got = Span.fromContext(trip).getSpanContext();
                      if (got.getSpanId().equals(s.getSpanContext().getSpanId())
                          && got.getTraceId().equals(s.getSpanContext().getTraceId())) {
                        ok++;
                      }
                      s.end();
                    }
                    return ok;
                  }));
        }
        for (Future<Integer> f : done) {
          assertEquals(2_000, f.get());
        }
      } finally {
        pool.shutdown();
      }
      span.end();
    }
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
