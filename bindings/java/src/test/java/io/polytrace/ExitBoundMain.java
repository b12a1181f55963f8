package io.polytrace;

import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;

/**
 * Run by {@link ExitBoundTest} in a child JVM, configured by {@code OTEL_*} only: ends 3,000
 * spans, prints {@code EXIT-STARTS <epoch ms>} and returns from {@code main} (the shutdown hook
 * exports), or with the argument {@code shutdown} first waits a second (an outage) and prints
 * how long {@code shutdown()} took and the counters after it.
 */
public final class ExitBoundMain {
  public static void main(String[] args) throws Exception {
    PolytraceSdk sdk = Polytrace.builder().build();
    Tracer t = sdk.getTracer("exit-bound");
    for (int i = 0; i < 3000; i++) {
      t.spanBuilder("s" + i).startSpan().end();
    }
    if (args.length > 0 && args[0].equals("shutdown")) {
      Thread.sleep(1000);
      long t0 = System.nanoTime();
      sdk.shutdown();
      System.out.println("SHUTDOWN-TOOK " + Duration.ofNanos(System.nanoTime() - t0).toMillis());
      Stats st = sdk.stats();
      System.out.println(
          "STATS " + st.spansEnded() + " " + st.spansExported() + " " + st.spansDropped());
    }
    System.out.println("EXIT-STARTS " + System.currentTimeMillis());
  }
}
