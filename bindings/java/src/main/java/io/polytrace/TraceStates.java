package io.polytrace;

import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.TraceStateBuilder;

/**
 * Trace states between the API's {@link TraceState} and the header form the core reads and
 * writes. Validation and parsing are the core's: these only join or split entries the core (or
 * the API's builder) has already checked.
 */
final class TraceStates {
  private TraceStates() {}

  /** {@code key=value,...} in the state's order, {@code ""} when empty. */
  static String header(TraceState state) {
    if (state == null || state.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    state.forEach(
        (k, v) -> {
          if (b.length() > 0) {
            b.append(',');
          }
          b.append(k).append('=').append(v);
        });
    return b.toString();
  }

  /** A state from the entries the core returned ({@code from} to {@code from + 2n}). */
  static TraceState of(String[] flat, int from, int n) {
    if (n == 0) {
      return TraceState.getDefault();
    }
    TraceStateBuilder b = TraceState.builder();
    // The builder puts each new key first: add in reverse to keep the header's order.
    for (int i = n - 1; i >= 0; i--) {
      b.put(flat[from + 2 * i], flat[from + 2 * i + 1]);
    }
    return b.build();
  }
}
