package io.polytrace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Run by {@link ContextTest} in a Java 21+ JVM: 1,000 virtual threads each start a span under
 * the root and make it current across a blocking sleep (the thread unmounts and remounts);
 * each must see its own span, and every span must reach the core. Reflection keeps this file
 * compilable on Java 17.
 */
public final class VirtualThreadsMain {
  public static void main(String[] args) throws Exception {
    Method factory = Class.forName("java.util.concurrent.Executors")
        .getMethod("newVirtualThreadPerTaskExecutor");
    try (PolytraceSdk sdk =
        Polytrace.builder()
            .setServiceName("virtual")
            .setEndpoint(args[0])
            .setProtocol("http/protobuf")
            .setShutdownHook(false)
            .build()) {
      Tracer t = sdk.getTracer("vt");
      Span root = t.spanBuilder("root").startSpan();
      List<Future<Boolean>> fs = new ArrayList<>();
      ExecutorService ex = Context.taskWrapping((ExecutorService) factory.invoke(null));
      try (Scope s = root.makeCurrent()) {
        for (int i = 0; i < 1000; i++) {
          fs.add(
              ex.submit(
                  () -> {
                    Span c = t.spanBuilder("vchild").startSpan();
                    boolean parentOk =
                        c.getSpanContext().getTraceId().equals(root.getSpanContext().getTraceId());
                    try (Scope cs = c.makeCurrent()) {
                      Thread.sleep(5);
                      return parentOk && Span.current() == c;
                    } finally {
                      c.end();
                    }
                  }));
        }
        for (Future<Boolean> f : fs) {
          if (!f.get()) {
            throw new AssertionError("a virtual thread saw another span");
          }
        }
      } finally {
        ex.shutdown();
      }
      root.end();
      if (!sdk.forceFlush(Duration.ofSeconds(20))) {
        throw new AssertionError("flush failed");
      }
      Stats st = sdk.stats();
      if (st.spansExported() != 1001) {
        throw new AssertionError("exported " + st);
      }
      System.out.println("virtual threads ok: " + st);
    }
  }
}
