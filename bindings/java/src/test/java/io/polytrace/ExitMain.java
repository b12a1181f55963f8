package io.polytrace;

import io.opentelemetry.api.trace.Tracer;

/**
 * Run by {@link ShutdownHookTest} in a child JVM: ends spans and returns from {@code main}
 * without shutting down; the SDK's shutdown hook must export them (or, with the back end down,
 * give up within the export timeout).
 *
 * <p>Arguments: the OTLP/HTTP endpoint and the export timeout in milliseconds.
 */
public final class ExitMain {
  public static void main(String[] args) {
    PolytraceSdk sdk =
        Polytrace.builder()
            .setServiceName("exit-hook")
            .setEndpoint(args[0])
            .setProtocol("http/protobuf")
            .setOption("export_timeout", Long.parseLong(args[1]))
            // Each export request may take a minute: only the export timeout bounds the exit.
            .setOption("timeout", 60_000L)
            // Nothing is exported before exit unless the hook does it.
            .setOption("schedule_delay", 600_000L)
            .build();
    Tracer t = sdk.getTracer("exit");
    for (int i = 0; i < 25; i++) {
      t.spanBuilder("before-exit").startSpan().end();
    }
    System.out.println("ended 25 spans");
  }
}
