package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Security (docs/security.md), as the Python, Node and C suites test it: TLS and mTLS export
 * through the OTEL_EXPORTER_OTLP_* certificate variables against a receiver that requires client
 * certificates (made per run by tests/security/pki.sh); an untrusted server or a missing client
 * certificate fails the export, counted, and nothing arrives over plaintext; header values never
 * appear in anything the process prints; redaction checked on what the receiver got.
 */
class SecurityTest {
  static Path pki;
  static TestSupport.Receiver mtls;

  @BeforeAll
  static void start() throws Exception {
    pki = Files.createTempDirectory("polytrace-java-pki-");
    Process p =
        new ProcessBuilder(
                "bash", TestSupport.root().resolve("tests/security/pki.sh").toString(), pki.toString())
            .inheritIO()
            .start();
    assertEquals(0, p.waitFor(), "pki.sh");
    mtls =
        new TestSupport.Receiver(
            List.of(
                "--tls-cert", pki.resolve("server.pem").toString(),
                "--tls-key", pki.resolve("server.key").toString(),
                "--tls-client-ca", pki.resolve("ca.pem").toString()));
  }

  @AfterAll
  static void stop() {
    mtls.close();
  }

  private static long[] stats(TestSupport.ProcessResult r) {
    String line =
        r.stdout.lines().filter(l -> l.startsWith("STATS ")).findFirst().orElseThrow(
            () -> new AssertionError(r.toString()));
    String[] v = line.substring(6).split(" ");
    long[] out = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Long.parseLong(v[i]);
    }
    return out;
  }

  private static Map<String, String> tlsEnv(
      String endpoint, String protocol, String ca, boolean client, String service) {
    Map<String, String> env = new HashMap<>();
    env.put("OTEL_SERVICE_NAME", service);
    env.put("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
    env.put("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.resolve(ca).toString());
    env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "1000");
    env.put("OTEL_BSP_EXPORT_TIMEOUT", "1500");
    if (client) {
      env.put("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", pki.resolve("client.pem").toString());
      env.put("OTEL_EXPORTER_OTLP_CLIENT_KEY", pki.resolve("client.key").toString());
    }
    return env;
  }

  private static long received(String service) throws Exception {
    return mtls.spans().stream()
        .filter(s -> service.equals(s.resource.get("service.name")))
        .count();
  }

  @Test
  void mtlsExportOverHttpAndGrpc() throws Exception {
    for (String protocol : List.of("http/protobuf", "grpc")) {
      String service = "java-mtls-" + protocol.replace('/', '-');
      String endpoint = protocol.equals("grpc") ? mtls.grpc : mtls.http;
      TestSupport.ProcessResult r =
          TestSupport.java(
              List.of(),
              "io.polytrace.EnvExportMain",
              List.of("tls"),
              tlsEnv(endpoint, protocol, "ca.pem", true, service),
              null);
      assertEquals(0, r.status, r.toString());
      long[] st = stats(r);
      assertEquals(5, st[1], protocol + " exported: " + r);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (received(service) < 5 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(5, received(service), protocol);
    }
  }

  @Test
  void aFailedHandshakeIsCountedAndNeverPlaintext() throws Exception {
    for (String protocol : List.of("http/protobuf", "grpc")) {
      for (boolean untrusted : List.of(true, false)) {
        String service = "java-bad-tls-" + protocol.replace('/', '-') + "-" + untrusted;
        String endpoint = protocol.equals("grpc") ? mtls.grpc : mtls.http;
        Map<String, String> env =
            untrusted
                ? tlsEnv(endpoint, protocol, "other-ca.pem", true, service)
                : tlsEnv(endpoint, protocol, "ca.pem", false, service);
        TestSupport.ProcessResult r =
            TestSupport.java(List.of(), "io.polytrace.EnvExportMain", List.of("tls"), env, null);
        assertEquals(0, r.status, r.toString());
        assertTrue(r.stderr.contains("export of 5 spans failed"), r.toString());
        long[] st = stats(r);
        String what = service + ": " + r;
        assertEquals(5, st[0], what);
        assertEquals(0, st[1], what);
        assertEquals(5, st[3], "dropped_export_failed " + what);
        assertTrue(st[4] >= 1, "export_failures " + what);
        assertEquals(st[0], st[1] + st[2], what);
        assertEquals(0, received(service), what);
      }
    }
  }

  @Test
  void headerValuesNeverAppearInOutput() throws Exception {
    for (String protocol : List.of("http/protobuf", "grpc")) {
      String secret = "sk-" + UUID.randomUUID().toString().replace("-", "");
      int port;
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        port = s.getLocalPort();
      }
      Map<String, String> env = new HashMap<>();
      env.put("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + port);
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
      env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "500");
      env.put("OTEL_BSP_EXPORT_TIMEOUT", "800");
      // Valid headers, one that cannot be used (a space in its name), and a per-signal
      // variable that is entirely invalid (so the core warns about it).
      env.put(
          "OTEL_EXPORTER_OTLP_HEADERS",
          "x-api-key="
              + secret
              + ",authorization=Bearer%20"
              + secret
              + "B,bad name="
              + secret
              + "C");
      env.put("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "no-equals-" + secret + "D");
      TestSupport.ProcessResult r =
          TestSupport.java(
              List.of("-Djava.util.logging.ConsoleHandler.level=ALL"),
              "io.polytrace.EnvExportMain",
              List.of("secrets"),
              env,
              null);
      String printed = r.stdout + r.stderr;
      assertEquals(0, r.status, printed);
      // The process did report things: the failed export, the bad header entries by name.
      assertTrue(printed.contains("export of 5 spans failed"), printed);
      assertTrue(printed.contains("OTEL_EXPORTER_OTLP_HEADERS"), printed);
      assertTrue(printed.contains("\"bad name\""), printed);
      // The effective configuration names the headers, without their values.
      assertTrue(printed.contains("x-api-key=***,authorization=***"), printed);
      assertFalse(printed.contains(secret), printed);
    }
  }

  @Test
  void redactionAtTheReceiver() throws Exception {
    try (TestSupport.Receiver receiver = new TestSupport.Receiver()) {
      for (String protocol : List.of("http/protobuf", "grpc", "http/json")) {
        String service = "java-redact-" + protocol.replace('/', '-');
        Map<String, String> env = new HashMap<>();
        env.put("OTEL_SERVICE_NAME", service);
        env.put(
            "OTEL_EXPORTER_OTLP_ENDPOINT", protocol.equals("grpc") ? receiver.grpc : receiver.http);
        env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
        env.put("POLYTRACE_REDACT", "email,card,ssn");
        env.put("POLYTRACE_REDACT_HASH_KEYS", "user.id,user.n");
        TestSupport.ProcessResult r =
            TestSupport.java(List.of(), "io.polytrace.EnvExportMain", List.of("redact"), env, null);
        assertEquals(0, r.status, r.toString());
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<TestSupport.RSpan> spans = List.of();
        while (spans.size() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(20);
          spans =
              receiver.spans().stream()
                  .filter(s -> service.equals(s.resource.get("service.name")))
                  .collect(Collectors.toList());
        }
        assertEquals(2, spans.size(), protocol);
        String raw = spans.stream().map(TestSupport.RSpan::toString).collect(Collectors.joining());
        for (String leaked :
            List.of(
                    "jane@example.com",
                "bob@example.org",
                "ann@example.net",
                "4111 1111",
                "123-45-6789",
                "078-05-1120",
                "5500-0000",
                "u-42")) {
          assertFalse(raw.contains(leaked), protocol + ": " + leaked + " reached the receiver");
        }
        TestSupport.RSpan s = TestSupport.byName(spans).get("GET /users/[REDACTED:email]");
        assertTrue(s != null, protocol + ": " + raw);
        Map<String, Object> a = s.attrs;
        assertEquals("card [REDACTED:card] please", a.get("q"), protocol);
        assertEquals("order 1234567812345678", a.get("order"), protocol);
        assertEquals(List.of("ok", "[REDACTED:email]", "[REDACTED:ssn]"), a.get("list"), protocol);
        assertTrue(String.valueOf(a.get("user.id")).startsWith("sha256:"), protocol + " " + a);
        assertTrue(String.valueOf(a.get("user.n")).startsWith("sha256:"), protocol + " " + a);
        assertEquals(
            "card [REDACTED:card] declined", s.status().get("message").getAsString(), protocol);
        Map<String, Map<String, Object>> events = new HashMap<>();
        s.array("events")
            .forEach(
                e ->
                    events.put(
                        e.getAsJsonObject().get("name").getAsString(),
                        TestSupport.attrs(e.getAsJsonObject().getAsJsonArray("attributes"))));
        assertEquals(
            Map.of("to", "[REDACTED:email]"), events.get("mailed [REDACTED:email]"), protocol);
        assertEquals(
            "no account for [REDACTED:email]",
            events.get("exception").get("exception.message"),
            protocol);
        assertEquals(
            Map.of("ssn", "[REDACTED:ssn]", "plain", "kept"),
            TestSupport.attrs(
                s.array("links").get(0).getAsJsonObject().getAsJsonArray("attributes")),
            protocol);
      }
    }
  }
}
