package io.polytrace;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
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
    String[] bag = new String[3 * baggage.size()];
    int[] i = {0};
    baggage.forEach(
        (k, e) -> {
          bag[i[0]++] = k;
          bag[i[0]++] = e.getValue();
          bag[i[0]++] = e.getMetadata().getValue();
        });
    String[] headers;
    try {
      headers =
          Native.inject(
              pipeline.handle,
              c == null ? null : new long[] {c.traceHi, c.traceLo, c.spanId, c.flags},
              c == null ? null : c.traceStateHeader(),
              bag);
    } catch (RuntimeException e) {
      Attrs.LOG.log(Level.SEVERE, "polytrace: inject failed", e);
      return;
    }
    for (int j = 0; j + 1 < headers.length; j += 2) {
      setter.set(carrier, headers[j], headers[j + 1]);
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
    List<String> pairs = new ArrayList<>(4);
    for (String f : fields) {
      // Every value of a repeated header, in order: the core decides what repeats mean.
      Iterator<String> values = getter.getAll(carrier, f);
      while (values != null && values.hasNext()) {
        String v = values.next();
        if (v != null) {
          pairs.add(f);
          pairs.add(v);
        }
      }
    }
    if (pairs.isEmpty()) {
      return context;
    }
    long[] ids = new long[5];
    String[] r;
    try {
      r = Native.extract(pipeline.handle, pairs.toArray(new String[0]), ids);
    } catch (RuntimeException e) {
      Attrs.LOG.log(Level.SEVERE, "polytrace: extract failed", e);
      return context;
    }
    int n = Integer.parseInt(r[1]);
    if (ids[4] != 0) {
      PtSpanContext remote =
          new PtSpanContext(
              ids[0], ids[1], ids[2], (byte) ids[3], TraceStates.of(r, 2, n), r[0], true);
      context = context.with(Span.wrap(remote));
    }
    int from = 2 + 2 * n;
    if (from < r.length) {
      context = context.with(PtBaggage.of(r, from));
    }
    return context;
  }

  @Override
  public String toString() {
    return "PolytracePropagator{fields=" + fields + "}";
  }
}
