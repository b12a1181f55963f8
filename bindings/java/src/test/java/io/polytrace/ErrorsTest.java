package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The error mapping: every core kind, a panic, bad builder options, the loader's platform. */
class ErrorsTest {
  @Test
  void everyKindBecomesItsException() {
    Map<String, Class<? extends PolytraceException>> kinds =
        Map.of(
            "InvalidArgument", PolytraceException.InvalidArgument.class,
            "InvalidConfig", PolytraceException.InvalidConfig.class,
            "Export", PolytraceException.Export.class,
            "Timeout", PolytraceException.Timeout.class,
            "AlreadyShutdown", PolytraceException.AlreadyShutdown.class,
            "Internal", PolytraceException.Internal.class);
    for (Map.Entry<String, Class<? extends PolytraceException>> k : kinds.entrySet()) {
      PolytraceException e =
          assertThrows(PolytraceException.class, () -> Native.testingError(k.getKey()));
      assertInstanceOf(k.getValue(), e, k.getKey());
      assertEquals(k.getKey(), e.kind());
    }
  }

  @Test
  void aRustPanicIsAnInternalExceptionNotACrash() {
    PolytraceException e =
        assertThrows(PolytraceException.Internal.class, Native::testingPanic);
    assertTrue(e.getMessage().contains("panic"), e.getMessage());
    // The JVM is still fine and so is the library.
    assertThrows(PolytraceException.Internal.class, Native::testingPanic);
  }

  @Test
  void theHandWrittenEntryPointsMapErrorsToo() {
    // src/raw.rs: a null handle, a truncated argument and a buffer that is not direct are
    // errors, not crashes; a short output buffer is answered with the length it needs.
    assertThrows(PolytraceException.InvalidArgument.class, () -> Native.inject(0, 0, 0, 0, 0));
    assertThrows(PolytraceException.InvalidArgument.class, () -> Native.extract(0, 0, 0, 0, 0));
    assertThrows(
        PolytraceException.InvalidArgument.class, () -> Native.address(ByteBuffer.allocate(8)));
    ByteBuffer in = ByteBuffer.allocateDirect(64);
    ByteBuffer out = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
    long inAt = Native.address(in);
    long outAt = Native.address(out);
    try (PolytraceSdk sdk =
        Polytrace.builder().setExporter("none").setShutdownHook(false).build()) {
      long h = sdk.handle();
      // The context's ids cut short.
      assertThrows(
          PolytraceException.Internal.class, () -> Native.inject(h, inAt, 12, outAt, 64));
      // A string longer than what follows it; the library still works afterwards.
      in.put(0, new byte[] {0, 9, 0, 0, 0, 'x'});
      assertThrows(
          PolytraceException.Internal.class, () -> Native.extract(h, inAt, 6, outAt, 64));
      // An empty carrier: no context (ids, flags, valid = 0), no trace state, no baggage.
      int n = Native.extract(h, inAt, 0, outAt, 64);
      assertEquals(8 * 3 + 2 + 4 + 4, n);
      assertEquals(0, out.get(25), "no context in an empty carrier");
      assertEquals(-n, Native.extract(h, inAt, 0, outAt, n - 1), "the length it needs");
    }
  }

  @Test
  void aBadOptionIsAnIllegalArgumentNamingIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Polytrace.builder().setOption("max_queue_size", "many").build());
    assertTrue(e.getMessage().contains("max_queue_size"), e.getMessage());
    assertInstanceOf(PolytraceException.InvalidConfig.class, e.getCause());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Polytrace.builder().setOption("no_such_option", 1L).build());
    assertTrue(e.getMessage().contains("no_such_option"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Polytrace.builder().setOption("disabled", 3L).build());
    assertTrue(e.getMessage().contains("disabled"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Polytrace.builder().setOption("service_name", (String) null));
    assertTrue(e.getMessage().contains("service_name"), e.getMessage());

    assertThrows(
        IllegalArgumentException.class, () -> Polytrace.builder().setOption(null, "x"));
    assertThrows(
        IllegalArgumentException.class,
        () -> Polytrace.builder().setOption("propagators", Arrays.asList("tracecontext", null)));
    assertThrows(
        IllegalArgumentException.class,
        () -> Polytrace.builder().setOption("propagators", List.of("carrier-pigeon")).build());
  }

  @Test
  void optionNamesAreTheCoresInAnySpelling() {
    try (PolytraceSdk sdk =
        Polytrace.builder()
            .setExporter("none")
            .setOption("maxQueueSize", 77L)
            .setOption("max-export-batch-size", 7L)
            .setOption("sampler_arg", 0.25)
            .setOption("sampler", "parentbased_traceidratio")
            .setShutdownHook(false)
            .build()) {
      Map<String, String> c = sdk.config();
      assertEquals("77", c.get("max_queue_size"));
      assertEquals("7", c.get("max_export_batch_size"));
      assertEquals("0.25", c.get("sampler_arg"));
    }
  }

  @Test
  void platformsAreNamedAsTheJarLaysThemOut() {
    assertEquals("linux", NativeLoader.os("Linux"));
    assertEquals("macos", NativeLoader.os("Mac OS X"));
    assertEquals("windows", NativeLoader.os("Windows 11"));
    assertEquals("x86_64", NativeLoader.arch("amd64"));
    assertEquals("aarch64", NativeLoader.arch("arm64"));
    String m = NativeLoader.missing("plan9-mips");
    assertTrue(m.contains("plan9-mips"), m);
    assertTrue(m.contains(NativeLoader.platform()), m);
  }
}
