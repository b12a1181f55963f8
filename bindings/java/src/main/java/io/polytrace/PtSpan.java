package io.polytrace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * A recording span: a plain Java object that records what the user did with it. Its methods
 * are thread-safe (each takes the span's monitor, uncontended in practice), never throw, and
 * are no-ops once it has ended. At {@link #end()} it is written into a stripe's byte stream in
 * the finished-span format; limits, truncation and status precedence are the core's, applied
 * when the core reads it. The caps ({@link Pipeline#capAttributes} ...) only bound its memory.
 */
final class PtSpan implements Span {
  /** An event: a plain one ({@code exception == false}) or an exception. */
  static final class Ev {
    final long time;
    final String name;
    final Attributes attributes;
    final boolean exception;
    final String message;
    final String stacktrace;

    Ev(long time, String name, Attributes attributes) {
      this.time = time;
      this.name = name;
      this.attributes = attributes;
      this.exception = false;
      this.message = null;
      this.stacktrace = null;
    }

    Ev(long time, String type, String message, String stacktrace, Attributes attributes) {
      this.time = time;
      this.name = type;
      this.attributes = attributes;
      this.exception = true;
      this.message = message;
      this.stacktrace = stacktrace;
    }
  }

  /** A link. */
  static final class Lk {
    final SpanContext context;
    final Attributes attributes;

    Lk(SpanContext context, Attributes attributes) {
      this.context = context;
      this.attributes = attributes;
    }
  }

  final PtTracer tracer;
  final PtSpanContext context;
  final long parentSpanId;
  /** Bits of the format: 1 has parent, 2 parent is remote. */
  final int parentBits;
  final int kind;
  final long start;

  // Written under the monitor until `ended`; read by the encoder after `end`.
  String name;
  long end;
  boolean ended;
  /** Key, value pairs in call order (a repeated key keeps its first position). */
  Object[] attrs;
  int nAttrs;
  Ev[] events;
  int nEvents;
  Lk[] links;
  int nLinks;
  byte[] statusCodes;
  String[] statusDescriptions;
  int nStatus;
  int discardedAttrs;
  int discardedEvents;
  int discardedLinks;

  PtSpan(
      PtTracer tracer,
      PtSpanContext context,
      long parentSpanId,
      int parentBits,
      int kind,
      String name,
      long start) {
    this.tracer = tracer;
    this.context = context;
    this.parentSpanId = parentSpanId;
    this.parentBits = parentBits;
    this.kind = kind;
    this.name = name;
    this.start = start;
  }

  // ---- attributes

  /** Records an already converted attribute (see {@link Attrs}); the caller holds the lock. */
  void putLocked(String key, Object value) {
    Object[] a = attrs;
    int n = nAttrs;
    for (int i = 0; i < n; i++) {
      if (key.equals(a[2 * i])) {
        a[2 * i + 1] = value;
        return;
      }
    }
    if (n >= tracer.pipeline.capAttributes) {
      discardedAttrs++;
      return;
    }
    if (a == null) {
      a = new Object[8];
      attrs = a;
    } else if (2 * n == a.length) {
      a = java.util.Arrays.copyOf(a, a.length * 2);
      attrs = a;
    }
    a[2 * n] = key;
    a[2 * n + 1] = value;
    nAttrs = n + 1;
  }

  private synchronized void put(String key, Object value) {
    if (!ended) {
      putLocked(key, value);
    }
  }

  @Override
  public Span setAttribute(String key, String value) {
    if (Attrs.valid(key, value)) {
      put(key, value);
    }
    return this;
  }

  @Override
  public Span setAttribute(String key, long value) {
    if (Attrs.valid(key, "")) {
      put(key, value);
    }
    return this;
  }

  @Override
  public Span setAttribute(String key, double value) {
    if (Attrs.valid(key, "")) {
      put(key, value);
    }
    return this;
  }

  @Override
  public Span setAttribute(String key, boolean value) {
    if (Attrs.valid(key, "")) {
      put(key, value);
    }
    return this;
  }

  @Override
  public <T> Span setAttribute(AttributeKey<T> key, T value) {
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
  public Span setAllAttributes(Attributes attributes) {
    if (attributes == null || attributes.isEmpty()) {
      return this;
    }
    synchronized (this) {
      if (!ended) {
        attributes.forEach(
            (k, v) -> {
              String key = Attrs.key(k);
              if (key != null) {
                Object value = Attrs.convert(k.getType(), v);
                if (value != null) {
                  putLocked(key, value);
                }
              }
            });
      }
    }
    return this;
  }

  // ---- events

  private synchronized void addEv(Ev e) {
    if (ended) {
      return;
    }
    if (nEvents >= tracer.pipeline.capEvents) {
      discardedEvents++;
      return;
    }
    if (events == null) {
      events = new Ev[4];
    } else if (nEvents == events.length) {
      events = java.util.Arrays.copyOf(events, nEvents * 2);
    }
    events[nEvents++] = e;
  }

  private static Attributes attrsOrEmpty(Attributes a) {
    return a == null ? Attributes.empty() : a;
  }

  @Override
  public Span addEvent(String name, Attributes attributes) {
    if (name != null) {
      addEv(new Ev(tracer.pipeline.now(), name, attrsOrEmpty(attributes)));
    }
    return this;
  }

  @Override
  public Span addEvent(String name, Attributes attributes, long timestamp, TimeUnit unit) {
    if (name != null) {
      long t = unit == null ? tracer.pipeline.now() : unit.toNanos(timestamp);
      addEv(new Ev(t, name, attrsOrEmpty(attributes)));
    }
    return this;
  }

  @Override
  public Span addEvent(String name, Attributes attributes, Instant timestamp) {
    if (timestamp == null) {
      return addEvent(name, attributes);
    }
    return addEvent(name, attributes, Pipeline.nanos(timestamp), TimeUnit.NANOSECONDS);
  }

  @Override
  public Span addEvent(String name, Instant timestamp) {
    return addEvent(name, Attributes.empty(), timestamp);
  }

  @Override
  public Span recordException(Throwable exception, Attributes additionalAttributes) {
    if (exception == null || ended) {
      return this;
    }
    String message;
    String stack;
    try {
      // User code (getMessage, printStackTrace) runs here, never while encoding.
      message = exception.getMessage();
      StringWriter w = new StringWriter();
      exception.printStackTrace(new PrintWriter(w));
      stack = w.toString();
    } catch (RuntimeException e) {
      message = null;
      stack = null;
    }
    addEv(
        new Ev(
            tracer.pipeline.now(),
            exception.getClass().getName(),
            message == null ? "" : message,
            stack,
            attrsOrEmpty(additionalAttributes)));
    return this;
  }

  // ---- links, status, name

  @Override
  public synchronized Span addLink(SpanContext spanContext, Attributes attributes) {
    if (spanContext == null || ended) {
      return this;
    }
    addLinkLocked(spanContext, attrsOrEmpty(attributes));
    return this;
  }

  void addLinkLocked(SpanContext spanContext, Attributes attributes) {
    // The caps (docs/finished-spans.md): a link with an invalid context and no attributes,
    // which the core drops silently, takes no place and is not counted.
    if (!spanContext.isValid() && attributes.isEmpty()) {
      return;
    }
    if (nLinks >= tracer.pipeline.capLinks) {
      discardedLinks++;
      return;
    }
    if (links == null) {
      links = new Lk[2];
    } else if (nLinks == links.length) {
      links = java.util.Arrays.copyOf(links, nLinks * 2);
    }
    links[nLinks++] = new Lk(spanContext, attributes);
  }

  @Override
  public synchronized Span setStatus(StatusCode statusCode, String description) {
    if (statusCode == null || ended || nStatus >= tracer.pipeline.capStatus) {
      return this;
    }
    if (statusCodes == null) {
      statusCodes = new byte[2];
      statusDescriptions = new String[2];
    } else if (nStatus == statusCodes.length) {
      statusCodes = java.util.Arrays.copyOf(statusCodes, nStatus * 2);
      statusDescriptions = java.util.Arrays.copyOf(statusDescriptions, nStatus * 2);
    }
    statusCodes[nStatus] = (byte) statusCode.ordinal();
    statusDescriptions[nStatus] = description == null ? "" : description;
    nStatus++;
    return this;
  }

  @Override
  public synchronized Span updateName(String name) {
    if (name != null && !ended) {
      this.name = name;
    }
    return this;
  }

  // ---- end

  @Override
  public void end() {
    endAt(tracer.pipeline.now());
  }

  @Override
  public void end(long timestamp, TimeUnit unit) {
    endAt(unit == null ? tracer.pipeline.now() : unit.toNanos(timestamp));
  }

  @Override
  public void end(Instant timestamp) {
    endAt(timestamp == null ? tracer.pipeline.now() : Pipeline.nanos(timestamp));
  }

  private void endAt(long t) {
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      end = t;
    }
    // Nothing changes the span any more: it is encoded outside its monitor.
    tracer.pipeline.ended(this);
  }

  @Override
  public SpanContext getSpanContext() {
    return context;
  }

  @Override
  public synchronized boolean isRecording() {
    return !ended;
  }

  @Override
  public String toString() {
    return "PolytraceSpan{name=" + name + ", context=" + context + "}";
  }
}
