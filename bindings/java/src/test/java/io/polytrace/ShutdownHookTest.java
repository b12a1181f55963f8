package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JVM shutdown hook flushes at exit, bounded by the export timeout. */
class ShutdownHookTest {
  @Test
  void theHookExportsWhatWasEnded() throws Exception {
    try (TestSupport.Receiver receiver = new TestSupport.Receiver()) {
      TestSupport.ProcessResult r =
          TestSupport.java(
              List.of("-Xcheck:jni"),
              "io.polytrace.ExitMain",
              List.of(receiver.http, "10000"),
              Map.of(),
              null);
      assertEquals(0, r.status, r.toString());
      assertTrue(r.stdout.contains("ended 25 spans"), r.toString());
      assertTrue(!r.stdout.contains("WARNING in native method"), r.toString());
      assertEquals(25, receiver.waitFor(25).size(), "all 25 spans arrived via the hook");
    }
  }

  @Test
  void theHookGivesUpWithinTheExportTimeoutWhenTheBackEndHangs() throws Exception {
    // A "back end" that accepts connections and never answers.
    List<Socket> held = new ArrayList<>();
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    held.add(server.accept());
                  }
                } catch (Exception e) {
                  // closed
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      String endpoint = "http://127.0.0.1:" + server.getLocalPort();
      TestSupport.ProcessResult r =
          TestSupport.java(List.of(), "io.polytrace.ExitMain", List.of(endpoint, "1000"), Map.of(), null);
      assertEquals(0, r.status, r.toString());
      // JVM start and exit plus the 1 s export timeout; unbounded, the request would wait 60 s.
      assertTrue(r.millis < 15_000, "exited in " + r.millis + " ms: " + r);
      System.out.println("the hook with a hung back end exited in " + r.millis + " ms");
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
