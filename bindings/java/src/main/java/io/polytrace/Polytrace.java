package io.polytrace;

import io.opentelemetry.api.GlobalOpenTelemetry;

/**
 * Entry point: {@code Polytrace.builder()...build()} makes a {@link PolytraceSdk}, an {@link
 * io.opentelemetry.api.OpenTelemetry} backed by the polytrace core; {@link #installGlobal()}
 * makes one from the {@code OTEL_*} environment and {@code otel.*} system properties and sets
 * it as {@link GlobalOpenTelemetry}.
 */
public final class Polytrace {
  private Polytrace() {}

  /** A builder of a {@link PolytraceSdk}. */
  public static PolytraceBuilder builder() {
    return new PolytraceBuilder();
  }

  /**
   * Builds a {@link PolytraceSdk} from the environment and system properties alone and sets it
   * as {@link GlobalOpenTelemetry}.
   *
   * @throws IllegalStateException if {@code GlobalOpenTelemetry} was already set
   */
  public static PolytraceSdk installGlobal() {
    return builder().buildAndRegisterGlobal();
  }
}
