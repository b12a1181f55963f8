package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Concurrency and huge input (issue 16, docs/reliability.md), as the Python, Node and C suites
 * test them: many producer threads with concurrent flushes and a shutdown in the middle end with
 * consistent counters; a 1 MB string, a 100,000-character name, 200,000 attributes on one live
 * span and lone surrogates never throw, and the core's limits decide what is kept.
 */
class ChaosTest extends ReceiverTest {
  @Test
  void producersFlushesAndAShutdownInTheMiddle() throws Exception {
    PolytraceSdk sdk = receiver.sdk("java-chaos").build();
    Tracer t = sdk.getTracer("chaos");
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int id = i;
      threads.add(
          new Thread(
              () -> {
                try {
                  for (int n = 0; !stop.get(); n++) {
                    Span s = t.spanBuilder("p" + id).startSpan();
                    s.setAttribute("n", n);
                    s.end();
                  }
                } catch (Throwable e) {
                  errors.add(e);
                }
              }));
    }
    for (int i = 0; i < 2; i++) {
      threads.add(
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    sdk.forceFlush(Duration.ofMillis(500));
                  }
                } catch (Throwable e) {
                  errors.add(e);
                }
              }));
    }
    threads.forEach(Thread::start);
    Thread.sleep(700);
    assertTrue(sdk.shutdown(Duration.ofSeconds(10)), "shutdown in the middle");
    Thread.sleep(300); // producers keep ending spans after the shutdown
    stop.set(true);
    for (Thread th : threads) {
      th.join(20_000);
      assertTrue(!th.isAlive(), "a thread is stuck (deadlock?)");
    }
    assertEquals(List.of(), List.copyOf(errors));
    Stats st = sdk.stats();
    System.out.println("java chaos: " + st);
    assertTrue(st.spansEnded() > 1000, st.toString());
    assertEquals(st.spansEnded(), st.spansExported() + st.spansDropped(), st.toString());
    assertEquals(0, st.droppedInvalid(), st.toString());
    long deadline = System.nanoTime() + 10_000_000_000L;
    long received = 0;
    while (System.nanoTime() < deadline) {
      received =
          receiver.spans().stream()
              .filter(s -> "java-chaos".equals(s.resource.get("service.name")))
              .count();
      if (received >= st.spansExported()) {
        break;
      }
      Thread.sleep(20);
    }
    assertEquals(st.spansExported(), received, st.toString());
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return r.totalMemory() - r.freeMemory();
  }

  @Test
  void hugeInputIsBoundedAndNeverThrows() throws Exception {
    PolytraceSdk sdk = receiver.sdk("java-huge").build();
    Tracer t = sdk.getTracer("huge");
    String big = "x".repeat(1_000_000);
    String name = "huge-\ud800-" + "n".repeat(100_000);
    Span warm = t.spanBuilder("warm").startSpan();
    for (int k = 0; k < 1000; k++) {
      warm.setAttribute("w" + k, k);
    }
    warm.end();
    // What the live span retains: the heap after full collections, before and after 200,000
    // attributes whose keys (~10 MB if kept) are made as they are set.
    long base = usedHeap();
    Span s = t.spanBuilder(name).startSpan();
    assertDoesNotThrow(
        () -> {
          for (int k = 0; k < 200_000; k++) {
            s.setAttribute("k" + k, (long) k);
          }
        });
    long during = (usedHeap() - base) / 1024;
    System.out.println(
        "java huge: the live span retains " + during + " KiB after 200,000 attributes");
    assertDoesNotThrow(
        () -> {
          s.setAttribute("big", big);
          s.setAttribute("surrogate\udc00", "x");
          s.setAttribute("value", "a\ud800b");
          s.addEvent("e\udfff" + "y".repeat(1_000_000));
          s.end();
          s.end();
        });
    sdk.shutdown();
    assertDoesNotThrow(
        () -> {
          s.setAttribute("after", "shutdown");
          t.spanBuilder("after-shutdown").startSpan().end();
        });
    Stats st = sdk.stats();
    assertEquals(2, st.spansEnded(), st.toString());
    assertEquals(2, st.spansExported(), st.toString());
    // The live span keeps at most the caps, not ~10 MB of keys and values.
    assertTrue(during < 4 * 1024, "the live span retains " + during + " KiB");
    List<TestSupport.RSpan> got =
        receiver.waitFor(2).stream()
            .filter(x -> "java-huge".equals(x.resource.get("service.name")))
            .filter(x -> x.name().startsWith("huge-"))
            .collect(Collectors.toList());
    assertEquals(1, got.size());
    TestSupport.RSpan r = got.get(0);
    assertTrue(r.name().startsWith("huge-\ufffd-") && r.name().endsWith("n".repeat(100_000)));
    assertEquals(128, r.array("attributes").size());
    assertTrue(
        r.intField("droppedAttributesCount") >= 200_000 - 128,
        r.span.get("droppedAttributesCount").toString());
    JsonObject event = r.array("events").get(0).getAsJsonObject();
    Map<String, Object> events = TestSupport.attrs(event.getAsJsonArray("attributes"));
    String ev = event.get("name").getAsString();
    assertTrue(ev.startsWith("e\ufffd") && ev.endsWith("y".repeat(1_000_000)), ev.substring(0, 10));
    assertEquals(Map.of(), events);
  }
}
