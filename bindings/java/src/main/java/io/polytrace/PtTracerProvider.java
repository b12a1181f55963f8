package io.polytrace;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerBuilder;
import io.opentelemetry.api.trace.TracerProvider;

/** The tracer provider of a {@link PolytraceSdk}: tracers are cached per scope. */
final class PtTracerProvider implements TracerProvider {
  private final Pipeline pipeline;

  PtTracerProvider(Pipeline pipeline) {
    this.pipeline = pipeline;
  }

  private static String scope(String name) {
    if (name == null || name.isEmpty()) {
      Attrs.LOG.warning("polytrace: a tracer was asked for with a null or empty name");
      return "";
    }
    return name;
  }

  @Override
  public Tracer get(String instrumentationScopeName) {
    return pipeline.tracer(scope(instrumentationScopeName), null, null);
  }

  @Override
  public Tracer get(String instrumentationScopeName, String instrumentationScopeVersion) {
    return pipeline.tracer(scope(instrumentationScopeName), instrumentationScopeVersion, null);
  }

  @Override
  public TracerBuilder tracerBuilder(String instrumentationScopeName) {
    String name = scope(instrumentationScopeName);
    return new TracerBuilder() {
      private String version;
      private String schemaUrl;

      @Override
      public TracerBuilder setSchemaUrl(String url) {
        schemaUrl = url;
        return this;
      }

      @Override
      public TracerBuilder setInstrumentationVersion(String v) {
        version = v;
        return this;
      }

      @Override
      public Tracer build() {
        return pipeline.tracer(name, version, schemaUrl);
      }
    };
  }
}
