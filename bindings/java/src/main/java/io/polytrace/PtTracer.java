package io.polytrace;

import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.Tracer;

/** A tracer: one instrumentation scope of a pipeline, known to the core by its number. */
final class PtTracer implements Tracer {
  final Pipeline pipeline;
  final int index;
  final String name;

  PtTracer(Pipeline pipeline, int index, String name) {
    this.pipeline = pipeline;
    this.index = index;
    this.name = name;
  }

  @Override
  public SpanBuilder spanBuilder(String spanName) {
    return new PtSpanBuilder(this, spanName);
  }

  @Override
  public String toString() {
    return "PolytraceTracer{" + name + "}";
  }
}
