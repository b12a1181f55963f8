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

  PtPropagator(Pipeline pipeline) {
    this.pipeline = pipeline;
    this.fields = Collections.unmodifiableList(Arrays.asList(Native.fields(pipeline.handle)));
  }

  @Override
  public Collection<String> fields() {
    return fields;
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    if (context == null || setter == null || fields.isEmpty()) {
      return;
    }
    SpanContext sc = Span.fromContext(context).getSpanContext();
    PtSpanContext c = sc.isValid() ? PtSpanContext.of(sc) : null;
    Baggage baggage = Baggage.fromContext(context);
    if (c == null && baggage.isEmpty()) {
      return;
    }
    Wire.Scratch w = Wire.SCRATCH.get();
    long[] ids = w.ids;
    if (c != null) {
      ids[0] = c.traceHi;
      ids[1] = c.traceLo;
      ids[2] = c.spanId;
      ids[3] = c.flags;
      ids[4] = 1;
    } else {
      ids[4] = 0;
    }
    String ts = c == null ? "" : c.traceStateHeader();
    byte[] in = null;
    if (!ts.isEmpty() || !baggage.isEmpty()) {
      Wire.reset(w);
      Wire.string(w, ts);
      baggage.forEach(
          (k, e) -> {
            Wire.string(w, k);
            Wire.string(w, e.getValue());
            Wire.string(w, e.getMetadata().getValue());
          });
      in = Wire.input(w);
    }
    int n;
    try {
      n = Native.inject(pipeline.handle, ids, in, w.out);
      if (n < 0) {
        w.out = new byte[-n];
        n = Native.inject(pipeline.handle, ids, in, w.out);
      }
    } catch (RuntimeException e) {
      Attrs.LOG.log(Level.SEVERE, "polytrace: inject failed", e);
      return;
    }
    Wire.Reader r = new Wire.Reader(w.out, n);
    while (!r.done()) {
      String field = fields.get(r.u8());
      setter.set(carrier, field, r.string());
    }
  }

  @Override
  public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
    if (context == null) {
      context = Context.root();
    }
    if (getter == null || fields.isEmpty()) {
      return context;
    }
    Wire.Scratch w = Wire.SCRATCH.get();
    Wire.reset(w);
    for (int i = 0; i < fields.size(); i++) {
      // Every value of a repeated header, in order: the core decides what repeats mean.
      Iterator<String> values = getter.getAll(carrier, fields.get(i));
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
    byte[] in = Wire.input(w);
    long[] ids = w.ids;
    int n;
    try {
      n = Native.extract(pipeline.handle, in, ids, w.out);
      if (n < 0) {
        w.out = new byte[-n];
        n = Native.extract(pipeline.handle, in, ids, w.out);
      }
    } catch (RuntimeException e) {
      Attrs.LOG.log(Level.SEVERE, "polytrace: extract failed", e);
      return context;
    }
    Wire.Reader r = new Wire.Reader(w.out, n);
    String header = r.string();
    int entries = r.u32();
    if (ids[4] != 0) {
      TraceState ts = TraceState.getDefault();
      if (entries > 0) {
        String[] flat = new String[2 * entries];
        for (int i = 0; i < flat.length; i++) {
          flat[i] = r.string();
        }
        ts = TraceStates.of(flat, 0, entries);
      }
      PtSpanContext remote =
          new PtSpanContext(ids[0], ids[1], ids[2], (byte) ids[3], ts, header, true);
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
