package io.polytrace.bench;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The calling thread's cost per operation (ns/op; with {@code -prof gc}, bytes allocated per
 * op). Both implementations export OTLP/gRPC to the same loopback receiver; at this rate both
 * drop what their queues cannot hold (counted and printed at tear-down).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Spans {
  @Param({"sdk", "polytrace"})
  public String impl;

  Impl.Handle handle;
  Tracer tracer;
  TextMapPropagator propagator;
  Context current;
  long ops;

  @Setup(Level.Trial)
  public void setUp() {
    handle = Impl.create(impl, 2048);
    tracer = handle.otel().getTracer("bench");
    propagator = handle.otel().getPropagators().getTextMapPropagator();
    Span parent = tracer.spanBuilder("parent").startSpan();
    current = Context.root().with(parent);
    parent.end();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    handle.flush();
    System.out.println("\n" + impl + ": exported " + handle.exported());
    handle.close();
  }

  @Benchmark
  public Span w1() {
    return Workloads.w1(tracer);
  }

  @Benchmark
  public Span w3() {
    return Workloads.w3(tracer);
  }

  @Benchmark
  public Context w4() {
    return Workloads.w4(propagator, current);
  }
}
