// polytrace for Java: an HTTP service (com.sun.net.httpserver) with a checkout endpoint that
// prices a cart through an internal "price" endpoint — a real HTTP hop on loopback made by an
// instrumented java.net.http client, so the trace shows client and server spans — hashes the
// order, and fails on an empty cart. Configuration is the OTEL_* environment (and otel.*
// system properties); the core exports OTLP.
//
//   java -cp polytrace.jar:opentelemetry-api.jar:opentelemetry-context.jar Quickstart.java
//       serves on PORT (default 8080)
//   ... Quickstart.java --once
//       serves on a free port, calls /checkout once (and once with an empty cart), prints
//       trace_id=<hex> and exits

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.polytrace.Polytrace;
import io.polytrace.PolytraceSdk;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

public class Quickstart {
  static final Map<String, Integer> PRICES = Map.of("apple", 120, "pear", 95, "fig", 310);

  static final TextMapGetter<Headers> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers h) {
          return h.keySet();
        }

        @Override
        public String get(Headers h, String key) {
          return h.getFirst(key);
        }
      };

  final OpenTelemetry otel;
  final Tracer tracer;
  final TextMapPropagator propagator;
  final HttpClient client = HttpClient.newHttpClient();
  int port;

  Quickstart(OpenTelemetry otel) {
    this.otel = otel;
    this.tracer = otel.getTracer("polytrace-example-java", "0.1.0");
    this.propagator = otel.getPropagators().getTextMapPropagator();
  }

  /** A client call with its CLIENT span, the context injected into the request's headers. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    Span span = tracer.spanBuilder("GET").setSpanKind(SpanKind.CLIENT).startSpan();
    try (Scope s = span.makeCurrent()) {
      URI uri = URI.create("http://127.0.0.1:" + port + path);
      span.setAttribute("http.request.method", "GET");
      span.setAttribute("url.full", uri.toString());
      HttpRequest.Builder req = HttpRequest.newBuilder(uri);
      propagator.inject(Context.current(), req, HttpRequest.Builder::header);
      HttpResponse<String> r = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
      span.setAttribute("http.response.status_code", r.statusCode());
      if (r.statusCode() >= 400) {
        span.setStatus(StatusCode.ERROR);
      }
      return r;
    } catch (IOException | InterruptedException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  /** Every request gets a SERVER span whose parent is the caller's propagated context. */
  void serve(HttpExchange ex) throws IOException {
    Context parent = propagator.extract(Context.root(), ex.getRequestHeaders(), HEADERS);
    String path = ex.getRequestURI().getPath();
    Span span =
        tracer
            .spanBuilder("GET " + path)
            .setParent(parent)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute("http.request.method", "GET")
            .setAttribute("url.path", path)
            .startSpan();
    int status;
    String body;
    try (Scope s = span.makeCurrent()) {
      String query = ex.getRequestURI().getQuery() == null ? "" : ex.getRequestURI().getQuery();
      if (path.equals("/price")) {
        Integer price = PRICES.get(query.replace("item=", ""));
        status = price == null ? 404 : 200;
        body = "{\"price\":" + price + "}";
      } else if (path.equals("/checkout")) {
        String items = query.replace("items=", "");
        body = checkout(items.isEmpty() ? new String[0] : items.split(","));
        status = 200;
      } else {
        status = 404;
        body = "{}";
      }
    } catch (Exception e) {
      status = 500;
      body = "{\"error\":\"" + e.getMessage() + "\"}";
    }
    span.setAttribute("http.response.status_code", status);
    if (status >= 500) {
      span.setStatus(StatusCode.ERROR);
    }
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("content-type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    } finally {
      span.end();
    }
  }

  /** The handler's own span: attributes, an event, and an exception on failure. */
  String checkout(String[] items) throws Exception {
    Span span = tracer.spanBuilder("checkout").startSpan();
    try (Scope s = span.makeCurrent()) {
      span.setAttribute("app.items", items.length);
      if (items.length == 0) {
        throw new IllegalArgumentException("the cart is empty");
      }
      int total = 0;
      for (String item : items) {
        HttpResponse<String> r = get("/price?item=" + item);
        if (r.statusCode() != 200) {
          throw new IllegalStateException("no price for " + item);
        }
        total += Integer.parseInt(r.body().replaceAll("[^0-9]", ""));
      }
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(String.join(",", items).getBytes(StandardCharsets.UTF_8));
      String order = HexFormat.of().formatHex(digest).substring(0, 16);
      span.addEvent("priced", Attributes.of(AttributeKey.longKey("app.total_cents"), (long) total));
      span.setAttribute("app.order", order);
      return "{\"order\":\"" + order + "\",\"total\":" + total + "}";
    } catch (Exception e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  public static void main(String[] args) throws Exception {
    boolean once = args.length > 0 && args[0].equals("--once");
    // OTEL_* environment and otel.* system properties; the service name defaults here.
    PolytraceSdk sdk =
        Polytrace.builder()
            .setServiceName(System.getenv().getOrDefault("OTEL_SERVICE_NAME", "quickstart-java"))
            .build();
    Quickstart app = new Quickstart(sdk);
    int port = once ? 0 : Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/", app::serve);
    server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    server.start();
    app.port = server.getAddress().getPort();
    if (!once) {
      System.out.println("listening on http://127.0.0.1:" + app.port + "/checkout?items=apple,fig");
      return;
    }
    Span root = app.tracer.spanBuilder("quickstart").startSpan();
    try (Scope s = root.makeCurrent()) {
      HttpResponse<String> ok = app.get("/checkout?items=apple,fig");
      HttpResponse<String> empty = app.get("/checkout?items=");
      System.out.println("checkout: " + ok.statusCode() + " " + ok.body());
      System.out.println("empty cart: " + empty.statusCode() + " " + empty.body());
    } finally {
      root.end();
    }
    System.out.println("trace_id=" + root.getSpanContext().getTraceId());
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdown();
    boolean flushed = sdk.forceFlush(Duration.ofSeconds(10));
    sdk.shutdown();
    System.out.println("flushed=" + flushed + " " + sdk.stats());
  }
}
