package io.polytrace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Collects a span's start options. The parent is the span in the given {@link Context} (the
 * current one by default); {@link #startSpan()} follows the core's start plan with no call into
 * Rust (see {@link Pipeline#start}). Bad input is ignored, never thrown.
 */
final class PtSpanBuilder implements SpanBuilder {
  final PtTracer tracer;
  final String name;
  private Context parent;
  private boolean noParent;
  int kind;
  private Object[] attrs;
  private int nAttrs;
  private PtSpan.Lk[] links;
  private int nLinks;
  private long startNanos;

  PtSpanBuilder(PtTracer tracer, String name) {
    this.tracer = tracer;
    this.name = name == null ? "" : name;
  }

  @Override
  public SpanBuilder setParent(Context context) {
    if (context != null) {
      parent = context;
      noParent = false;
    }
    return this;
  }

  @Override
  public SpanBuilder setNoParent() {
    noParent = true;
    parent = null;
    return this;
  }

  @Override
  public SpanBuilder addLink(SpanContext spanContext) {
    return addLink(spanContext, Attributes.empty());
  }

  @Override
  public SpanBuilder addLink(SpanContext spanContext, Attributes attributes) {
    if (spanContext == null) {
      return this;
    }
    if (links == null) {
      links = new PtSpan.Lk[2];
    } else if (nLinks == links.length) {
      links = java.util.Arrays.copyOf(links, nLinks * 2);
    }
    links[nLinks++] =
        new PtSpan.Lk(spanContext, attributes == null ? Attributes.empty() : attributes);
    return this;
  }

  private void put(String key, Object value) {
    if (attrs == null) {
      attrs = new Object[8];
    } else if (2 * nAttrs == attrs.length) {
      attrs = java.util.Arrays.copyOf(attrs, attrs.length * 2);
    }
    attrs[2 * nAttrs] = key;
    attrs[2 * nAttrs + 1] = value;
    nAttrs++;
  }

  @Override
  public SpanBuilder setAttribute(String key, String value) {
    if (Attrs.valid(key, value)) {
      put(key, value);
    }
    return this;
  }

  @Override
  public SpanBuilder setAttribute(String key, long value) {
    if (Attrs.valid(key, "")) {
      put(key, value);
    }
    return this;
  }

  @Override
  public SpanBuilder setAttribute(String key, double value) {
    if (Attrs.valid(key, "")) {
      put(key, value);
    }
    return this;
  }

  @Override
  public SpanBuilder setAttribute(String key, boolean value) {
    if (Attrs.valid(key, "")) {
      put(key, value);
    }
    return this;
  }

  @Override
  public <T> SpanBuilder setAttribute(AttributeKey<T> key, T value) {
    String k = Attrs.key(key);
    if (k != null) {
      Object v = Attrs.convert(key.getType(), value);
      if (v != null) {
        put(k, v);
      }
    }
    return this;
  }

  @Override
  public SpanBuilder setSpanKind(SpanKind spanKind) {
    if (spanKind != null) {
      kind = spanKind.ordinal();
    }
    return this;
  }

  @Override
  public SpanBuilder setStartTimestamp(long startTimestamp, TimeUnit unit) {
    if (unit != null && startTimestamp >= 0) {
      startNanos = unit.toNanos(startTimestamp);
    }
    return this;
  }

  @Override
  public SpanBuilder setStartTimestamp(Instant startTimestamp) {
    if (startTimestamp != null) {
      startNanos = Pipeline.nanos(startTimestamp);
    }
    return this;
  }

  @Override
  public Span startSpan() {
    SpanContext p;
    if (noParent) {
      p = SpanContext.getInvalid();
    } else {
      Context c = parent == null ? Context.current() : parent;
      p = Span.fromContext(c).getSpanContext();
    }
    return tracer.pipeline.start(this, p);
  }

  /** The recording span for a decided context (called back by {@link Pipeline#start}). */
  PtSpan recording(PtSpanContext context, PtSpanContext parent) {
    Pipeline p = tracer.pipeline;
    long start = startNanos != 0 ? startNanos : p.now();
    int parentBits = parent == null ? 0 : parent.remote ? 3 : 1;
    PtSpan s =
        new PtSpan(
            tracer, context, parent == null ? 0 : parent.spanId, parentBits, kind, name, start);
    if (nAttrs > 0 || nLinks > 0) {
      synchronized (s) {
        for (int i = 0; i < nAttrs; i++) {
          s.putLocked((String) attrs[2 * i], attrs[2 * i + 1]);
        }
        for (int i = 0; i < nLinks; i++) {
          s.addLinkLocked(links[i].context, links[i].attributes);
        }
      }
    }
    return s;
  }
}
