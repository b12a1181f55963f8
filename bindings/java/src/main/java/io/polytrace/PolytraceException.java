package io.polytrace;

/**
 * An error from the polytrace core, one subclass per kind of the core's {@code ErrorKind}. All
 * are unchecked. Span methods never throw them (the OpenTelemetry API forbids it); they come
 * from configuration, {@code forceFlush} and {@code shutdown} with an explicit result, and from
 * the propagator only for a bug ({@link Internal}).
 */
public class PolytraceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String kind;

  PolytraceException(String kind, String message) {
    super(message);
    this.kind = kind;
  }

  /**
   * The core's stable kind name: {@code InvalidArgument}, {@code InvalidConfig}, {@code Export},
   * {@code Timeout}, {@code AlreadyShutdown} or {@code Internal}.
   */
  public String kind() {
    return kind;
  }

  /** A caller passed a value the core cannot accept. */
  public static final class InvalidArgument extends PolytraceException {
    private static final long serialVersionUID = 1L;

    InvalidArgument(String message) {
      super("InvalidArgument", message);
    }
  }

  /**
   * An explicit configuration option is invalid (unknown name, bad value); the message names
   * it. {@link PolytraceBuilder#build()} rethrows it as an {@link IllegalArgumentException}.
   */
  public static final class InvalidConfig extends PolytraceException {
    private static final long serialVersionUID = 1L;

    InvalidConfig(String message) {
      super("InvalidConfig", message);
    }
  }

  /** Exporting to the back end failed. */
  public static final class Export extends PolytraceException {
    private static final long serialVersionUID = 1L;

    Export(String message) {
      super("Export", message);
    }
  }

  /** A flush or shutdown did not finish within its timeout (nothing hangs). */
  public static final class Timeout extends PolytraceException {
    private static final long serialVersionUID = 1L;

    Timeout(String message) {
      super("Timeout", message);
    }
  }

  /** The SDK was already shut down. */
  public static final class AlreadyShutdown extends PolytraceException {
    private static final long serialVersionUID = 1L;

    AlreadyShutdown(String message) {
      super("AlreadyShutdown", message);
    }
  }

  /** A bug in polytrace: an internal invariant failed or a Rust panic was caught. */
  public static final class Internal extends PolytraceException {
    private static final long serialVersionUID = 1L;

    Internal(String message) {
      super("Internal", message);
    }
  }
}
