package io.polytrace;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.logging.Level;

/**
 * The configured propagators ({@code OTEL_PROPAGATORS}, W3C tracecontext and baggage by
 * default) as a {@link TextMapPropagator}. Formats, parsing and validation are the core's: this
 * only hands it the context and the carrier's values of the {@link #fields()}, and turns its
 * answer back into a {@link Context}. Malformed headers are ignored; nothing here throws.
 */
final class PtPropagator implements TextMapPropagator {
  private final Pipeline pipeline;
  private final List<String> fields;

  /** The same, as an array: the per-call loops index it without interface calls. */
  private final String[] names;

  PtPropagator(Pipeline pipeline) {
    this.pipeline = pipeline;
    this.names = Native.fields(pipeline.handle);
    this.fields = Collections.unmodifiableList(Arrays.asList(names.clone()));
  }

  @Override
  public Collection<String> fields() {
    return fields;
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    if (context == null || setter == null || names.length == 0) {
      return;
    }
    SpanContext sc = Span.fromContext(context).getSpanContext();
    PtSpanContext c = sc.isValid() ? PtSpanContext.of(sc) : null;
    Baggage baggage = Baggage.fromContext(context);
    if (c == null && baggage.isEmpty()) {
      return;
    }
    Wire.Scratch w = Wire.acquire();
    try {
      if (c != null) {
        Wire.i64(w, c.traceHi);
        Wire.i64(w, c.traceLo);
        Wire.i64(w, c.spanId);
        Wire.u8(w, c.flags);
        Wire.u8(w, 1);
        Wire.string(w, c.traceStateHeader());
      } else {
        Wire.i64(w, 0);
        Wire.i64(w, 0);
        Wire.i64(w, 0);
        Wire.u8(w, 0);
        Wire.u8(w, 0);
        Wire.string(w, "");
      }
      if (!baggage.isEmpty()) {
        baggage.forEach(
            (k, e) -> {
              Wire.string(w, k);
              Wire.string(w, e.getValue());
              Wire.string(w, e.getMetadata().getValue());
            });
      }
      Wire.Reader r;
      try {
        r = w.call(pipeline.handle, false);
      } catch (RuntimeException e) {
        Attrs.LOG.log(Level.SEVERE, "polytrace: inject failed", e);
        return;
      }
      while (!r.done()) {
        String field = names[r.u8()];
        setter.set(carrier, field, r.string());
      }
    } finally {
      Wire.release(w);
    }
  }

  @Override
  public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
    if (context == null) {
      context = Context.root();
    }
    if (getter == null || names.length == 0) {
      return context;
    }
    Wire.Scratch w = Wire.acquire();
    try {
      for (int i = 0; i < names.length; i++) {
        // Every value of a repeated header, in order: the core decides what repeats mean.
        Iterator<String> values = getter.getAll(carrier, names[i]);
        while (values != null && values.hasNext()) {
          String v = values.next();
          if (v != null) {
            Wire.u8(w, i);
            Wire.string(w, v);
          }
        }
      }
      if (w.inLength == 0) {
        return context;
      }
      Wire.Reader r;
      try {
        r = w.call(pipeline.handle, true);
      } catch (RuntimeException e) {
        Attrs.LOG.log(Level.SEVERE, "polytrace: extract failed", e);
        return context;
      }
      return remote(context, r);
    } finally {
      Wire.release(w);
    }
  }

  /** The context with what {@code Native.extract} answered: a remote parent, baggage. */
  private static Context remote(Context context, Wire.Reader r) {
    long traceHi = r.i64();
    long traceLo = r.i64();
    long spanId = r.i64();
    byte flags = (byte) r.u8();
    boolean valid = r.u8() != 0;
    String header = r.string();
    int entries = r.u32();
    if (valid) {
      TraceState ts = TraceState.getDefault();
      if (entries > 0) {
        String[] flat = new String[2 * entries];
        for (int i = 0; i < flat.length; i++) {
          flat[i] = r.string();
        }
        ts = TraceStates.of(flat, 0, entries);
      }
      PtSpanContext remote = new PtSpanContext(traceHi, traceLo, spanId, flags, ts, header, true);
      context = context.with(Span.wrap(remote));
    }
    if (!r.done()) {
      List<String> triples = new ArrayList<>();
      while (!r.done()) {
        triples.add(r.string());
      }
      context = context.with(PtBaggage.of(triples.toArray(new String[0]), 0));
    }
    return context;
  }

  @Override
  public String toString() {
    return "PolytracePropagator{fields=" + fields + "}";
  }
}
