package io.polytrace;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.BaggageBuilder;
import io.opentelemetry.api.baggage.BaggageEntry;
import io.opentelemetry.api.baggage.BaggageEntryMetadata;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Extracted baggage, in the order the core read it (the API's own {@code Baggage} sorts its
 * keys): a service that extracts baggage and injects it again forwards it as received. Changing
 * it ({@link #toBuilder()}) gives the API's ordinary baggage.
 */
final class PtBaggage implements Baggage {
  private final Map<String, BaggageEntry> entries;

  private PtBaggage(Map<String, BaggageEntry> entries) {
    this.entries = entries;
  }

  /** Baggage from the core's flat key, value, metadata triples from {@code from}. */
  static PtBaggage of(String[] flat, int from) {
    Map<String, BaggageEntry> m = new LinkedHashMap<>();
    for (int j = from; j + 2 < flat.length; j += 3) {
      m.put(flat[j], new Entry(flat[j + 1], BaggageEntryMetadata.create(flat[j + 2])));
    }
    return new PtBaggage(Collections.unmodifiableMap(m));
  }

  private static final class Entry implements BaggageEntry {
    private final String value;
    private final BaggageEntryMetadata metadata;

    Entry(String value, BaggageEntryMetadata metadata) {
      this.value = value;
      this.metadata = metadata;
    }

    @Override
    public String getValue() {
      return value;
    }

    @Override
    public BaggageEntryMetadata getMetadata() {
      return metadata;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BaggageEntry
          && value.equals(((BaggageEntry) o).getValue())
          && metadata.equals(((BaggageEntry) o).getMetadata());
    }

    @Override
    public int hashCode() {
      return value.hashCode() * 31 + metadata.hashCode();
    }

    @Override
    public String toString() {
      return "BaggageEntry{value=" + value + ", metadata=" + metadata.getValue() + "}";
    }
  }

  @Override
  public int size() {
    return entries.size();
  }

  @Override
  public void forEach(BiConsumer<? super String, ? super BaggageEntry> consumer) {
    entries.forEach(consumer);
  }

  @Override
  public Map<String, BaggageEntry> asMap() {
    return entries;
  }

  @Override
  public String getEntryValue(String key) {
    BaggageEntry e = entries.get(key);
    return e == null ? null : e.getValue();
  }

  @Override
  public BaggageBuilder toBuilder() {
    BaggageBuilder b = Baggage.builder();
    entries.forEach((k, e) -> b.put(k, e.getValue(), e.getMetadata()));
    return b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Baggage && entries.equals(((Baggage) o).asMap());
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    return "Baggage" + entries;
  }
}
