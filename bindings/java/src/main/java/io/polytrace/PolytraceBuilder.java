package io.polytrace;

import io.opentelemetry.api.GlobalOpenTelemetry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Configures a {@link PolytraceSdk}. Options are the core's ({@code docs/configuration.md}),
 * named as there ({@code max_queue_size}, also {@code maxQueueSize} or {@code max-queue-size}:
 * the core normalises the spelling). Resolution is the core's: an explicit option wins over an
 * {@code otel.*} system property ({@code otel.service.name} stands for {@code
 * OTEL_SERVICE_NAME}, as the Java ecosystem expects), which wins over the environment, which
 * wins over the specification's default. A bad explicit option makes {@link #build()} throw an
 * {@link IllegalArgumentException} naming it; a bad environment or system property value is
 * logged and its default used.
 */
public final class PolytraceBuilder {
  private final List<String> options = new ArrayList<>();
  private boolean systemProperties = true;
  private boolean shutdownHook = true;

  PolytraceBuilder() {}

  private PolytraceBuilder add(String name, String tag, String... values) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("polytrace: an option name is null or empty");
    }
    options.add(name);
    options.add(tag);
    for (String v : values) {
      options.add(v);
    }
    return this;
  }

  private static <T> T nonNull(String name, T value) {
    if (value == null) {
      throw new IllegalArgumentException("polytrace: option \"" + name + "\": the value is null");
    }
    return value;
  }

  /** Sets option {@code name} to a string (numbers and booleans are parsed by the core). */
  public PolytraceBuilder setOption(String name, String value) {
    return add(name, "s", nonNull(name, value));
  }

  /** Sets option {@code name} to an integer. */
  public PolytraceBuilder setOption(String name, long value) {
    return add(name, "i", Long.toString(value));
  }

  /** Sets option {@code name} to a number. */
  public PolytraceBuilder setOption(String name, double value) {
    return add(name, "f", Double.toString(value));
  }

  /** Sets option {@code name} to a boolean. */
  public PolytraceBuilder setOption(String name, boolean value) {
    return add(name, "b", Boolean.toString(value));
  }

  /** Sets option {@code name} to a list (e.g. {@code propagators}). */
  public PolytraceBuilder setOption(String name, List<String> value) {
    List<String> l = nonNull(name, value);
    String[] v = new String[1 + l.size()];
    v[0] = Integer.toString(l.size());
    for (int i = 0; i < l.size(); i++) {
      v[1 + i] = nonNull(name, l.get(i));
    }
    return add(name, "l", v);
  }

  /** Sets option {@code name} to a map (e.g. {@code headers}, {@code resource_attributes}). */
  public PolytraceBuilder setOption(String name, Map<String, String> value) {
    Map<String, String> m = nonNull(name, value);
    String[] v = new String[1 + 2 * m.size()];
    v[0] = Integer.toString(m.size());
    int i = 1;
    for (Map.Entry<String, String> e : m.entrySet()) {
      v[i++] = nonNull(name, e.getKey());
      v[i++] = nonNull(name, e.getValue());
    }
    return add(name, "m", v);
  }

  /** {@code service_name} ({@code OTEL_SERVICE_NAME}). */
  public PolytraceBuilder setServiceName(String serviceName) {
    return setOption("service_name", serviceName);
  }

  /** {@code exporter} ({@code OTEL_TRACES_EXPORTER}: otlp, console, file, none). */
  public PolytraceBuilder setExporter(String exporter) {
    return setOption("exporter", exporter);
  }

  /** {@code endpoint} ({@code OTEL_EXPORTER_OTLP_ENDPOINT}). */
  public PolytraceBuilder setEndpoint(String endpoint) {
    return setOption("endpoint", endpoint);
  }

  /** {@code protocol} ({@code OTEL_EXPORTER_OTLP_PROTOCOL}: grpc, http/protobuf, http/json). */
  public PolytraceBuilder setProtocol(String protocol) {
    return setOption("protocol", protocol);
  }

  /** {@code resource_attributes} ({@code OTEL_RESOURCE_ATTRIBUTES}). */
  public PolytraceBuilder setResourceAttributes(Map<String, String> attributes) {
    return setOption("resource_attributes", attributes);
  }

  /** {@code sampler} and {@code sampler_arg} ({@code OTEL_TRACES_SAMPLER[_ARG]}). */
  public PolytraceBuilder setSampler(String sampler, double argument) {
    return setOption("sampler", sampler).setOption("sampler_arg", argument);
  }

  /**
   * Whether {@code otel.*} system properties are read (default true): {@code otel.foo.bar}
   * stands for the variable {@code OTEL_FOO_BAR} and wins over the environment.
   */
  public PolytraceBuilder setReadSystemProperties(boolean read) {
    systemProperties = read;
    return this;
  }

  /**
   * Whether a JVM shutdown hook shuts the SDK down at exit (default true), bounded by the export
   * timeout even when the back end is down.
   */
  public PolytraceBuilder setShutdownHook(boolean register) {
    shutdownHook = register;
    return this;
  }

  /**
   * Builds the SDK.
   *
   * @throws IllegalArgumentException naming the option, when an explicit option is invalid
   */
  public PolytraceSdk build() {
    // The resource's telemetry.sdk.language; the SDK sets it, so it is not an option of users.
    List<String> opts = new ArrayList<>(options);
    opts.add("sdk_language");
    opts.add("s");
    opts.add("java");
    Pipeline p;
    try {
      p = new Pipeline(opts.toArray(new String[0]), properties());
    } catch (PolytraceException.InvalidConfig | PolytraceException.InvalidArgument e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return new PolytraceSdk(p, shutdownHook);
  }

  /**
   * Builds the SDK and sets it as {@link GlobalOpenTelemetry}.
   *
   * @throws IllegalStateException if {@code GlobalOpenTelemetry} was already set
   */
  public PolytraceSdk buildAndRegisterGlobal() {
    PolytraceSdk sdk = build();
    try {
      GlobalOpenTelemetry.set(sdk);
    } catch (IllegalStateException e) {
      sdk.shutdown();
      throw e;
    }
    return sdk;
  }

  /** {@code otel.*} system properties as {@code OTEL_*} variables: flat name, value pairs. */
  private String[] properties() {
    if (!systemProperties) {
      return new String[0];
    }
    List<String> out = new ArrayList<>();
    Properties props = System.getProperties();
    for (String name : props.stringPropertyNames()) {
      if (name.startsWith("otel.")) {
        String value = props.getProperty(name);
        if (value != null) {
          out.add(name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
          out.add(value);
        }
      }
    }
    return out.toArray(new String[0]);
  }
}
