package io.polytrace.bench;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.HashMap;
import java.util.Map;

/** The workloads, shared by the JMH benchmarks and the CPU loop. */
final class Workloads {
  private Workloads() {}

  static final TextMapGetter<Map<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier.get(key);
        }
      };

  /** W1: start, three attributes (string, long, boolean), end. */
  static Span w1(Tracer t) {
    Span s = t.spanBuilder("GET /api/orders").startSpan();
    s.setAttribute("http.request.method", "GET");
    s.setAttribute("http.response.status_code", 200L);
    s.setAttribute("app.cache_hit", true);
    s.end();
    return s;
  }

  /** W3: three nested spans, each current while its child starts (3 spans per call). */
  static Span w3(Tracer t) {
    Span a = t.spanBuilder("request").startSpan();
    try (Scope sa = a.makeCurrent()) {
      Span b = t.spanBuilder("handler").startSpan();
      try (Scope sb = b.makeCurrent()) {
        Span c = t.spanBuilder("db.query").startSpan();
        c.setAttribute("db.system", "postgresql");
        c.end();
      } finally {
        b.end();
      }
    } finally {
      a.end();
    }
    return a;
  }

  /** W4: inject the current context into headers, extract it on the other side. */
  static Context w4(TextMapPropagator p, Context ctx) {
    Map<String, String> headers = new HashMap<>(4);
    p.inject(ctx, headers, Map::put);
    return p.extract(Context.root(), headers, GETTER);
  }
}
