package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Prompt exit with the back end down (issue 16, docs/reliability.md): 3,000 spans and an exit
 * with the endpoint on a closed port take well under a second (a refused connection is not
 * retried at exit), whatever OTEL_EXPORTER_OTLP_TIMEOUT says; {@code shutdown()} after an outage
 * too, with every span exported or counted.
 */
class ExitBoundTest {
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  private static long value(String stdout, String prefix) {
    for (String line : stdout.split("\n")) {
      if (line.startsWith(prefix)) {
        return Long.parseLong(line.substring(prefix.length()).trim().split(" ")[0]);
      }
    }
    throw new AssertionError("no " + prefix + " in " + stdout);
  }

  private static TestSupport.ProcessResult run(int port, String otlpTimeout, List<String> args)
      throws Exception {
    return TestSupport.java(
        List.of(),
        "io.polytrace.ExitBoundMain",
        args,
        Map.of(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + port,
            "OTEL_EXPORTER_OTLP_TIMEOUT", otlpTimeout,
            "OTEL_SERVICE_NAME", "exit-bound"),
        null);
  }

  @Test
  void theExitHookWithTheBackEndRefusingIsPrompt() throws Exception {
    for (String timeout : List.of("2000", "10000")) {
      TestSupport.ProcessResult r = run(closedPort(), timeout, List.of());
      long endedAt = System.currentTimeMillis();
      assertEquals(0, r.status, r.toString());
      long took = endedAt - value(r.stdout, "EXIT-STARTS ");
      System.out.println(
          "exit with the back end refusing (OTLP timeout "
              + timeout
              + " ms): "
              + took
              + " ms from the end of main, "
              + r.millis
              + " ms for the whole JVM");
      assertTrue(took < Long.parseLong(timeout) + 500, took + " ms");
      assertTrue(took < 2000, "a refused connection was retried at exit: " + took + " ms");
    }
  }

  @Test
  void shutdownAfterAnOutageIsPromptAndCountsEverything() throws Exception {
    TestSupport.ProcessResult r = run(closedPort(), "10000", List.of("shutdown"));
    assertEquals(0, r.status, r.toString());
    long took = value(r.stdout, "SHUTDOWN-TOOK ");
    System.out.println("shutdown() after an outage, back end refusing: " + took + " ms");
    assertTrue(took < 1000, "shutdown took " + took + " ms");
    String stats = r.stdout.lines().filter(l -> l.startsWith("STATS ")).findFirst().orElseThrow();
    String[] v = stats.substring(6).split(" ");
    long ended = Long.parseLong(v[0]);
    long exported = Long.parseLong(v[1]);
    long dropped = Long.parseLong(v[2]);
    assertEquals(3000, ended, stats);
    assertEquals(ended, exported + dropped, stats);
  }
}
