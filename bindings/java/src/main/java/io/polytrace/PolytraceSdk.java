package io.polytrace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.context.propagation.ContextPropagators;
import java.io.Closeable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;

/**
 * An {@link OpenTelemetry} whose tracing is the polytrace core: made by {@link
 * Polytrace#builder()}. Spans started from its tracers are exported by the core's pipeline
 * (batching, OTLP, the {@code OTEL_*} configuration); its propagators are the core's.
 *
 * <p>{@link #close()} (= {@link #shutdown()}) exports what is queued and stops; span calls
 * afterwards are no-ops. Unless the builder said otherwise, a JVM shutdown hook does the same
 * at exit, bounded by the export timeout ({@code OTEL_BSP_EXPORT_TIMEOUT}).
 */
public final class PolytraceSdk implements OpenTelemetry, Closeable {
  private final Pipeline pipeline;
  private final PtTracerProvider tracerProvider;
  private final ContextPropagators propagators;
  private final Thread hook;

  PolytraceSdk(Pipeline pipeline, boolean shutdownHook) {
    this.pipeline = pipeline;
    this.tracerProvider = new PtTracerProvider(pipeline);
    this.propagators = ContextPropagators.create(new PtPropagator(pipeline));
    if (shutdownHook) {
      hook = new Thread(this::exit, "polytrace-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
    } else {
      hook = null;
    }
  }

  @Override
  public TracerProvider getTracerProvider() {
    return tracerProvider;
  }

  @Override
  public ContextPropagators getPropagators() {
    return propagators;
  }

  /**
   * Exports every span ended so far, waiting at most {@code timeout}.
   *
   * @return true when every export finished within the timeout; false when the flush did not
   *     finish in time or the SDK is shut down (the reason is logged to {@code
   *     java.util.logging} logger {@code io.polytrace}). An export the back end refused is not
   *     a false return: the core counts its spans as dropped in {@link #stats()}, as in every
   *     binding.
   */
  public boolean forceFlush(Duration timeout) {
    try {
      pipeline.flush(millis(timeout));
      return true;
    } catch (PolytraceException e) {
      Attrs.LOG.log(Level.WARNING, "polytrace: forceFlush: " + e.getMessage());
      return false;
    }
  }

  /**
   * Exports what is queued and stops, all within the core's exit bound (the OTLP timeout, {@code
   * OTEL_EXPORTER_OTLP_TIMEOUT}, 10 s by default, or {@code OTEL_BSP_EXPORT_TIMEOUT} if smaller)
   * plus at most 0.4 s; what the back end did not take by then is counted as dropped, and a back
   * end that refuses connections is not retried. Later calls do nothing.
   */
  public void shutdown() {
    shutdown(null);
  }

  /**
   * Like {@link #shutdown()}, waiting at most {@code timeout}.
   *
   * @return false when the back end did not take the queued spans in time (they are dropped
   *     and counted) or the SDK was already shut down
   */
  public boolean shutdown(Duration timeout) {
    removeHook();
    try {
      pipeline.shutdown(timeout == null ? -1 : millis(timeout));
      return true;
    } catch (PolytraceException.AlreadyShutdown e) {
      return false;
    } catch (PolytraceException e) {
      Attrs.LOG.log(Level.WARNING, "polytrace: shutdown: " + e.getMessage());
      return false;
    }
  }

  /** Same as {@link #shutdown()}. */
  @Override
  public void close() {
    shutdown();
  }

  /** True once shut down. */
  public boolean isShutdown() {
    return pipeline.isShutdown();
  }

  /** The pipeline's counters, with every span ended before the call counted. */
  public Stats stats() {
    return pipeline.stats();
  }

  /** The effective configuration: every option of the core with its resolved value. */
  public Map<String, String> config() {
    String[] flat = Native.config(pipeline.handle);
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < flat.length; i += 2) {
      m.put(flat[i], flat[i + 1]);
    }
    return m;
  }

  /** The native handle (tests). */
  long handle() {
    return pipeline.handle;
  }

  private void removeHook() {
    if (hook != null && Thread.currentThread() != hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is exiting: the hook runs (or ran) anyway.
      }
    }
  }

  /**
   * The shutdown hook: bounded by the core's exit bound (the OTLP timeout, or {@code
   * OTEL_BSP_EXPORT_TIMEOUT} if smaller) even when the back end is down or hangs.
   */
  private void exit() {
    try {
      pipeline.shutdown(-1);
    } catch (PolytraceException e) {
      // Already shut down, or the back end did not take the spans in time (counted).
    } catch (RuntimeException | Error e) {
      // Never let the hook fail the JVM's exit.
    }
  }

  private static long millis(Duration d) {
    if (d == null || d.isNegative()) {
      return 0;
    }
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  @Override
  public String toString() {
    return "PolytraceSdk{" + config().get("service_name") + "}";
  }
}
