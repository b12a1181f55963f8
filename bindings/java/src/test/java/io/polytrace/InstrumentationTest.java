package io.polytrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.instrumentation.okhttp.v3_0.OkHttpTelemetry;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * Existing instrumentation works unchanged: OkHttp's official library instrumentation on top of
 * polytrace, over a real HTTP hop on loopback, checked at a real OTLP receiver.
 */
class InstrumentationTest {
  static final TextMapGetter<Headers> HEADERS =
      new TextMapGetter<>() {

        @Override
        public String get(Headers h, String key) {
          return h == null ? null : h.getFirst(key);
        }
      };

  @Test
  void okHttpClientSpansPropagateToTheServer() throws Exception {
    try (TestSupport.Receiver receiver = new TestSupport.Receiver();
        PolytraceSdk sdk = receiver.sdk("okhttp").build()) {
      Tracer serverTracer = sdk.getTracer("test-server");
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext(
          "/hello",
          exchange -> {
            Context parent =
                sdk.getPropagators()
                    .getTextMapPropagator()
                    .extract(Context.root(), exchange.getRequestHeaders(), HEADERS);
            Span span =
                serverTracer
                    .spanBuilder("GET /hello")
                    .setParent(parent)
                    .setSpanKind(SpanKind.SERVER)
                    .setAttribute("http.route", "/hello")
                    .startSpan();
            try (Scope s = span.makeCurrent()) {
              byte[] body = "hi".getBytes(StandardCharsets.UTF_8);
              exchange.sendResponseHeaders(200, body.length);
              try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
              }
            } finally {
              span.end();
            }
          });
      server.start();
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hello";
      OkHttpClient client = new OkHttpClient();
      Call.Factory calls = OkHttpTelemetry.create(sdk).createCallFactory(client);
      Span op = sdk.getTracer("test-client").spanBuilder("checkout").startSpan();
      try (Scope s = op.makeCurrent();
          Response r = calls.newCall(new Request.Builder().url(url).build()).execute()) {
        assertEquals(200, r.code());
        assertEquals("hi", r.body().string());
      } finally {
        op.end();
        server.stop(0);
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
      }
      assertTrue(sdk.forceFlush(Duration.ofSeconds(10)));
      List<TestSupport.RSpan> spans = receiver.waitFor(3);
      Map<String, TestSupport.RSpan> by = TestSupport.byName(spans);
      TestSupport.RSpan checkout = by.get("checkout");
      TestSupport.RSpan client1 = by.get("GET");
      TestSupport.RSpan serverSpan = by.get("GET /hello");
      assertNotNull(checkout, spans.toString());
      assertNotNull(client1, "the instrumentation's client span: " + spans);
      assertNotNull(serverSpan, spans.toString());
      assertEquals(3, client1.kind(), "CLIENT");
      assertEquals("GET", client1.attrs.get("http.request.method"));
      assertEquals(200L, client1.attrs.get("http.response.status_code"));
      assertEquals(url, client1.attrs.get("url.full"));
      assertTrue(client1.scope.contains("okhttp"), client1.scope);
      assertEquals(checkout.traceId(), client1.traceId());
      assertEquals(checkout.spanId(), client1.parentSpanId());
      assertEquals(client1.traceId(), serverSpan.traceId(), "one trace across the hop");
      assertEquals(client1.spanId(), serverSpan.parentSpanId(), "the server's parent: the client");
      assertEquals(2, serverSpan.kind(), "SERVER");
    }
  }
}
