package io.polytrace;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared helpers: the repository, the real OTLP receiver ({@code polytrace receive}), spans. */
final class TestSupport {
  private TestSupport() {}

  /** The repository root (set by Surefire). */
  static Path root() {
    return Path.of(System.getProperty("polytrace.root", "../..")).toAbsolutePath().normalize();
  }

  /** The {@code polytrace} CLI built by the Maven build (scripts/build-native.sh cli). */
  static Path cli() throws IOException {
    Properties p = new Properties();
    try (InputStream in = TestSupport.class.getResourceAsStream("/polytrace-test.properties")) {
      if (in == null) {
        throw new IOException("polytrace-test.properties is missing: run the Maven build");
      }
      p.load(in);
    }
    return Path.of(p.getProperty("cli"));
  }

  static JsonElement json(Path p) throws IOException {
    return JsonParser.parseString(Files.readString(p));
  }

  /** The {@code cases} of a file of shared vectors, {@code tests/vectors/<file>}. */
  static JsonArray vectorCases(String file) throws IOException {
    return json(root().resolve("tests/vectors").resolve(file))
        .getAsJsonObject()
        .getAsJsonArray("cases");
  }

  /** A running {@code polytrace receive} on loopback, on ports the system chose. */
  static final class Receiver implements AutoCloseable {
    final Process process;
    final String grpc;
    final String http;
    final Path file;
    private final StringBuilder stderr = new StringBuilder();

    Receiver() throws IOException, InterruptedException {
      this(List.of());
    }

    /** With more {@code polytrace receive} arguments; {@code --tls-cert} makes it serve https. */
    Receiver(List<String> extra) throws IOException, InterruptedException {
      Path dir = Files.createTempDirectory("polytrace-java-recv-");
      file = dir.resolve("received.jsonl");
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  cli().toString(),
                  "receive",
                  "--grpc",
                  "127.0.0.1:0",
                  "--http",
                  "127.0.0.1:0",
                  "--out",
                  file.toString()));
      cmd.addAll(extra);
      String scheme = extra.contains("--tls-cert") ? "https://" : "http://";
      process = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      BufferedReader err =
          new BufferedReader(
              new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
      Pattern listening = Pattern.compile("listening grpc=(\\S+) http=(\\S+)");
      String g = null;
      String h = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      String line;
      while (System.nanoTime() < deadline && (line = err.readLine()) != null) {
        stderr.append(line).append('\n');
        Matcher m = listening.matcher(line);
        if (m.find()) {
          g = scheme + m.group(1);
          h = scheme + m.group(2);
          break;
        }
      }
      if (g == null) {
        process.destroyForcibly();
        throw new IOException("the receiver did not start: " + stderr);
      }
      grpc = g;
      http = h;
      // Keep draining stderr so the receiver never blocks on it.
      Thread t =
          new Thread(
              () -> {
                try {
                  while (err.readLine() != null) {
                    // discarded
                  }
                } catch (IOException e) {
                  // the receiver exited
                }
              },
              "receiver-stderr");
      t.setDaemon(true);
      t.start();
    }

    /** An SDK builder exporting OTLP/HTTP protobuf here, with a short schedule delay. */
    PolytraceBuilder sdk(String service) {
      return Polytrace.builder()
          .setServiceName(service)
          .setEndpoint(http)
          .setProtocol("http/protobuf")
          .setOption("schedule_delay", 50L)
          .setShutdownHook(false);
    }

    /** Every span received so far. */
    List<RSpan> spans() throws IOException {
      return readSpans(file);
    }

    /** Waits (at most 20 s) until at least {@code n} spans arrived. */
    List<RSpan> waitFor(int n) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      List<RSpan> s = spans();
      while (s.size() < n && System.nanoTime() < deadline) {
        Thread.sleep(20);
        s = spans();
      }
      return s;
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A received span, flattened with its resource and scope. */
  static final class RSpan {
    final JsonObject span;
    final Map<String, Object> attrs;
    final Map<String, Object> resource;
    final String scope;

    RSpan(JsonObject span, Map<String, Object> resource, String scope) {
      this.span = span;
      this.attrs = attrs(span.getAsJsonArray("attributes"));
      this.resource = resource;
      this.scope = scope;
    }

    String name() {
      JsonElement n = span.get("name");
      return n == null ? "" : n.getAsString();
    }

    String traceId() {
      return span.get("traceId").getAsString();
    }

    String spanId() {
      return span.get("spanId").getAsString();
    }

    String parentSpanId() {
      JsonElement p = span.get("parentSpanId");
      return p == null ? "" : p.getAsString();
    }

    int kind() {
      JsonElement k = span.get("kind");
      return k == null ? 0 : k.getAsInt();
    }

    long start() {
      return Long.parseLong(span.get("startTimeUnixNano").getAsString());
    }

    long end() {
      return Long.parseLong(span.get("endTimeUnixNano").getAsString());
    }

    JsonArray array(String name) {
      JsonArray a = span.getAsJsonArray(name);
      return a == null ? new JsonArray() : a;
    }

    JsonObject status() {
      JsonObject s = span.getAsJsonObject("status");
      return s == null ? new JsonObject() : s;
    }

    int intField(String name) {
      JsonElement e = span.get(name);
      return e == null ? 0 : e.getAsInt();
    }

    @Override
    public String toString() {
      return span.toString();
    }
  }

  static List<RSpan> readSpans(Path file) throws IOException {
    List<RSpan> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      JsonObject req;
      try {
        req = JsonParser.parseString(line).getAsJsonObject();
      } catch (RuntimeException e) {
        continue; // a line being written
      }
      JsonArray rss = req.getAsJsonArray("resourceSpans");
      if (rss == null) {
        continue;
      }
      for (JsonElement rse : rss) {
        JsonObject rs = rse.getAsJsonObject();
        JsonObject res = rs.getAsJsonObject("resource");
        Map<String, Object> resource =
            attrs(res == null ? null : res.getAsJsonArray("attributes"));
        JsonArray sss = rs.getAsJsonArray("scopeSpans");
        if (sss == null) {
          continue;
        }
        for (JsonElement sse : sss) {
          JsonObject ss = sse.getAsJsonObject();
          JsonObject scope = ss.getAsJsonObject("scope");
          String scopeName =
              scope == null || scope.get("name") == null ? "" : scope.get("name").getAsString();
          JsonArray spans = ss.getAsJsonArray("spans");
          if (spans == null) {
            continue;
          }
          for (JsonElement s : spans) {
            out.add(new RSpan(s.getAsJsonObject(), resource, scopeName));
          }
        }
      }
    }
    return out;
  }

  /** OTLP/JSON key-values as a map of plain values (ints as Long, arrays as List). */
  static Map<String, Object> attrs(JsonArray list) {
    Map<String, Object> m = new HashMap<>();
    if (list == null) {
      return m;
    }
    for (JsonElement e : list) {
      JsonObject kv = e.getAsJsonObject();
      m.put(kv.get("key").getAsString(), value(kv.getAsJsonObject("value")));
    }
    return m;
  }

  static Object value(JsonObject v) {
    if (v == null) {
      return null;
    }
    if (v.has("stringValue")) {
      return v.get("stringValue").getAsString();
    }
    if (v.has("intValue")) {
      return v.get("intValue").getAsLong();
    }
    if (v.has("doubleValue")) {
      return v.get("doubleValue").getAsDouble();
    }
    if (v.has("boolValue")) {
      return v.get("boolValue").getAsBoolean();
    }
    if (v.has("arrayValue")) {
      List<Object> l = new ArrayList<>();
      JsonArray vals = v.getAsJsonObject("arrayValue").getAsJsonArray("values");
      if (vals != null) {
        for (JsonElement e : vals) {
          l.add(value(e.getAsJsonObject()));
        }
      }
      return l;
    }
    return null;
  }

  /** The received spans by name (the last of each name). */
  static Map<String, RSpan> byName(List<RSpan> spans) {
    Map<String, RSpan> m = new HashMap<>();
    for (RSpan s : spans) {
      m.put(s.name(), s);
    }
    return m;
  }

  /** Runs a Java program in a child JVM with this test classpath. */
  static ProcessResult java(List<String> jvmArgs, String mainClass, List<String> args, Map<String, String> env, String javaHome)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    String home = javaHome != null ? javaHome : System.getProperty("java.home");
    cmd.add(Path.of(home, "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.addAll(jvmArgs);
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Path out = Files.createTempFile("polytrace-child-", ".out");
    Path err = Files.createTempFile("polytrace-child-", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    long t0 = System.nanoTime();
    Process p = pb.start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    if (!done) {
      p.destroyForcibly();
    }
    return new ProcessResult(
        done ? p.exitValue() : -1, Files.readString(out), Files.readString(err), ms);
  }

  static final class ProcessResult {
    final int status;
    final String stdout;
    final String stderr;
    final long millis;

    ProcessResult(int status, String stdout, String stderr, long millis) {
      this.status = status;
      this.stdout = stdout;
      this.stderr = stderr;
      this.millis = millis;
    }

    @Override
    public String toString() {
      return "status " + status + " in " + millis + " ms\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
  }
}
