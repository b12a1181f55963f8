package io.polytrace;

import java.nio.ByteBuffer;

/**
 * The native half ({@code polytrace-jni}, Rust): every method is a JNI entry point in {@code
 * bindings/java/src/*.rs}, which documents its arguments. Errors are thrown as {@link
 * PolytraceException} subclasses; a Rust panic as {@link PolytraceException.Internal}.
 *
 * <p>Only rare paths cross here one call at a time; finished spans cross in batches ({@link
 * #submit}).
 */
final class Native {
  private Native() {}

  static {
    NativeLoader.load();
  }

  /** Makes sure the library is loaded (its static initializer ran). */
  static void ensureLoaded() {}

  static native long providerNew(String[] options, String[] properties, int streams);

  static native void providerFree(long handle);

  static native int tracer(long handle, String name, String version, String schemaUrl);

  static native int[] plan(long handle);

  static native int[] caps(long handle);

  static native void ids(long[] spanIds, long[] traceIds);

  static native long[] begin(
      long handle, int tracer, String name, int kind, long[] parent, String parentTraceState);

  static native int submit(long handle, int stream, ByteBuffer buffer, int length);

  static native void drain(long handle);

  static native void flush(long handle, long timeoutMillis);

  static native void shutdown(long handle, long timeoutMillis);

  static native boolean isShutdown(long handle);

  static native long[] stats(long handle);

  static native String[] config(long handle);

  static native String[] fields(long handle);

  static native int inject(long handle, long in, int inLength, long out, int outCapacity);

  static native int extract(long handle, long in, int inLength, long out, int outCapacity);

  static native long address(ByteBuffer buffer);

  static native String[] takeDiagnostics();

  // Present when the library is built with the `testing` feature (the Maven build's default).

  static native void testingPanic();

  static native void testingError(String kind);

  static native String[] testingResolveConfig(String[] env, String[] options);
}
