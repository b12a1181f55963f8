package io.polytrace.bench;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.polytrace.Polytrace;
import io.polytrace.PolytraceSdk;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The two implementations under test, configured alike: a batch processor with the
 * specification's defaults (queue 2,048, batches of 512, 5 s delay) exporting OTLP/gRPC to the
 * same loopback receiver ({@code polytrace receive --count-only}).
 */
final class Impl {
  private Impl() {}

  static {
    // Both implementations log every drop at this rate; the drops are counted instead.
    java.util.logging.Logger.getLogger("io.opentelemetry").setLevel(java.util.logging.Level.OFF);
    java.util.logging.Logger.getLogger("io.polytrace").setLevel(java.util.logging.Level.OFF);
  }

  /** An implementation with its flush, counters and close. */
  interface Handle extends AutoCloseable {
    OpenTelemetry otel();

    /** Exports everything ended so far. */
    boolean flush();

    /** Spans the exporter reported as exported. */
    long exported();

    /** Spans dropped (queue full or failed), as far as the implementation counts them. */
    long dropped(long ended);

    @Override
    void close();
  }

  static String grpc() {
    return System.getProperty("bench.grpc", "http://127.0.0.1:4317");
  }

  static Handle create(String impl, int queue) {
    switch (impl) {
      case "sdk":
        return sdk(grpc(), queue);
      case "sdk-discard":
        return sdkDiscard(queue);
      case "polytrace":
        return polytrace(grpc(), queue);
      default:
        throw new IllegalArgumentException(impl);
    }
  }

  /** Counts what the wrapped exporter exported. */
  static final class Counting implements SpanExporter {
    final SpanExporter inner;
    final AtomicLong exported = new AtomicLong();

    Counting(SpanExporter inner) {
      this.inner = inner;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      CompletableResultCode r = inner.export(spans);
      int n = spans.size();
      r.whenComplete(
          () -> {
            if (r.isSuccess()) {
              exported.addAndGet(n);
            }
          });
      return r;
    }

    @Override
    public CompletableResultCode flush() {
      return inner.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return inner.shutdown();
    }
  }

  static Handle sdk(String endpoint, int queue) {
    return sdkWith(new Counting(OtlpGrpcSpanExporter.builder().setEndpoint(endpoint).build()), queue);
  }

  static Handle sdkDiscard(int queue) {
    SpanExporter discard =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
          }
        };
    return sdkWith(new Counting(discard), queue);
  }

  private static Handle sdkWith(Counting exporter, int queue) {
    SdkTracerProvider tp =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault().merge(
                    Resource.create(
                        io.opentelemetry.api.common.Attributes.of(
                            AttributeKey.stringKey("service.name"), "bench-sdk"))))
            .addSpanProcessor(
                BatchSpanProcessor.builder(exporter).setMaxQueueSize(queue).build())
            .build();
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(tp)
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())))
            .build();
    return new Handle() {
      @Override
      public OpenTelemetry otel() {
        return sdk;
      }

      @Override
      public boolean flush() {
        return tp.forceFlush().join(30, TimeUnit.SECONDS).isSuccess();
      }

      @Override
      public long exported() {
        return exporter.exported.get();
      }

      @Override
      public long dropped(long ended) {
        return ended - exporter.exported.get();
      }

      @Override
      public void close() {
        sdk.shutdown().join(30, TimeUnit.SECONDS);
      }
    };
  }

  static Handle polytrace(String endpoint, int queue) {
    PolytraceSdk sdk =
        Polytrace.builder()
            .setServiceName("bench-polytrace")
            .setEndpoint(endpoint)
            .setProtocol("grpc")
            .setOption("max_queue_size", (long) queue)
            .setShutdownHook(false)
            .build();
    return new Handle() {
      @Override
      public OpenTelemetry otel() {
        return sdk;
      }

      @Override
      public boolean flush() {
        return sdk.forceFlush(Duration.ofSeconds(30));
      }

      @Override
      public long exported() {
        return sdk.stats().spansExported();
      }

      @Override
      public long dropped(long ended) {
        return sdk.stats().spansDropped();
      }

      @Override
      public void close() {
        sdk.shutdown();
      }
    };
  }
}
