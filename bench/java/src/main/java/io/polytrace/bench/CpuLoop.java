package io.polytrace.bench;

import io.opentelemetry.api.trace.Tracer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Process CPU per span with real, lossless OTLP/gRPC export: W1 spans from one thread as fast
 * as it can make them, into a queue large enough that nothing is dropped, then a flush; the
 * CPU of every thread of the process (the caller, the exporter, GC, JIT: {@code
 * getProcessCpuTime}) divided by the spans exported. Also the calling thread's own CPU and the
 * drain rate (spans exported per second of wall time, the flush included).
 *
 * <p>{@code java ... CpuLoop <impl> <spans>}; one implementation per JVM.
 */
public final class CpuLoop {
  public static void main(String[] args) throws Exception {
    String impl = args[0];
    int n = Integer.parseInt(args[1]);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (Impl.Handle h = Impl.create(impl, 2 * n)) {
      Tracer t = h.otel().getTracer("bench");
      // Warm-up: the JIT compiles the paths, the exporter connects.
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n / 2; i++) {
          Workloads.w1(t);
        }
        h.flush();
      }
      long exported0 = h.exported();
      System.gc();
      long cpu0 = os.getProcessCpuTime();
      long thread0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        Workloads.w1(t);
      }
      long threadCpu = threads.getCurrentThreadCpuTime() - thread0;
      long produced = System.nanoTime() - wall0;
      boolean flushed = h.flush();
      long wall = System.nanoTime() - wall0;
      long cpu = os.getProcessCpuTime() - cpu0;
      long exported = h.exported() - exported0;
      System.out.printf(
          "cpu-loop impl=%s spans=%d exported=%d flushed=%s process_cpu_ns_per_span=%.0f "
              + "calling_thread_cpu_ns_per_span=%.0f produce_ns_per_span=%.0f "
              + "drain_spans_per_s=%.0f dropped=%d%n",
          impl,
          n,
          exported,
          flushed,
          (double) cpu / n,
          (double) threadCpu / n,
          (double) produced / n,
          n / (wall / 1e9),
          n - exported);
    }
  }
}
