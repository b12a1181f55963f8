package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The quickstart of {@code examples/java/} runs as users run it, exporting to a receiver. */
class QuickstartTest {
  @Test
  void theQuickstartTracesACheckoutAcrossAnHttpHop() throws Exception {
    try (TestSupport.Receiver receiver = new TestSupport.Receiver()) {
      String source = TestSupport.root().resolve("examples/java/Quickstart.java").toString();
      TestSupport.ProcessResult r =
          TestSupport.java(
              List.of("-Xcheck:jni"),
              source,
              List.of("--once"),
              Map.of(
                  "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http,
                  "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                  "OTEL_SERVICE_NAME", "quickstart-java"),
              null);
      assertEquals(0, r.status, r.toString());
      assertTrue(r.stdout.contains("checkout: 200"), r.toString());
      assertTrue(r.stdout.contains("empty cart: 500"), r.toString());
      assertTrue(r.stdout.contains("flushed=true"), r.toString());
      assertTrue(!r.stdout.contains("WARNING in native method"), r.toString());
      Matcher m = Pattern.compile("trace_id=([0-9a-f]{32})").matcher(r.stdout);
      assertTrue(m.find(), r.stdout);
      String trace = m.group(1);
      List<TestSupport.RSpan> spans = receiver.waitFor(11);
      spans.removeIf(s -> !s.traceId().equals(trace));
      Map<String, TestSupport.RSpan> by = TestSupport.byName(spans);
      // quickstart → GET (client) → GET /checkout (server) → checkout → GET → GET /price ...
      assertNotNull(by.get("quickstart"), spans.toString());
      assertNotNull(by.get("checkout"), spans.toString());
      assertNotNull(by.get("GET /price"), spans.toString());
      assertEquals("quickstart-java", by.get("checkout").resource.get("service.name"));
      long servers = spans.stream().filter(s -> s.kind() == 2).count();
      long clients = spans.stream().filter(s -> s.kind() == 3).count();
      assertEquals(servers, clients, "every client span has its server span");
      assertTrue(servers >= 4, spans.toString());
      long errors =
          spans.stream()
              .filter(s -> s.name().equals("checkout") && s.status().has("code"))
              .filter(s -> s.status().get("code").getAsInt() == 2)
              .count();
      assertEquals(1, errors, "the empty cart's checkout failed");
    }
  }
}
