package io.polytrace;

import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Map;

/** A getter over a plain map carrier. */
final class VectorsGetter {
  private VectorsGetter() {}

  static final TextMapGetter<Map<String, String>> MAP =
      new TextMapGetter<>() {
        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };
}
