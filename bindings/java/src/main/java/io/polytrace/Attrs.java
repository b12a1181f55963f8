package io.polytrace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributeType;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Attribute values as the finished-span format carries them: {@code String}, {@code Long},
 * {@code Double}, {@code Boolean}, or a copy as {@code String[]}, {@code long[]}, {@code
 * double[]}, {@code boolean[]}. Invalid input (a null key or value, an empty key, a value whose
 * runtime type does not match its key's type, a {@code VALUE} attribute) is ignored, as the
 * OpenTelemetry API asks; each cause is logged once.
 */
final class Attrs {
  private Attrs() {}

  static final Logger LOG = Logger.getLogger("io.polytrace");
  private static final boolean[] REPORTED = new boolean[4];

  /** Logs a dropped attribute, once per cause for the process. */
  static void dropped(int cause, String what) {
    synchronized (REPORTED) {
      if (REPORTED[cause]) {
        return;
      }
      REPORTED[cause] = true;
    }
    LOG.log(
        Level.WARNING,
        "polytrace: attribute dropped: "
            + what
            + "; later attributes dropped for this reason are not reported");
  }

  /** Whether a plain key and its value can be recorded (logs the cause once when not). */
  static boolean valid(String key, Object value) {
    if (key == null || key.isEmpty()) {
      dropped(0, "the key is null or empty");
      return false;
    }
    if (value == null) {
      dropped(1, "the value is null");
      return false;
    }
    return true;
  }

  /** The key's name, or null when it is not a valid key. */
  static String key(AttributeKey<?> key) {
    if (key == null) {
      dropped(0, "the key is null");
      return null;
    }
    String k = key.getKey();
    if (k == null || k.isEmpty()) {
      dropped(0, "the key is empty");
      return null;
    }
    return k;
  }

  /** A value of {@code type} converted for a span, or null when invalid. */
  static Object convert(AttributeType type, Object v) {
    if (v == null) {
      dropped(1, "the value is null");
      return null;
    }
    switch (type) {
      case STRING:
        return v instanceof String ? v : bad();
      case LONG:
        return v instanceof Long ? v : v instanceof Integer ? Long.valueOf((Integer) v) : bad();
      case DOUBLE:
        return v instanceof Double ? v : v instanceof Float ? Double.valueOf((Float) v) : bad();
      case BOOLEAN:
        return v instanceof Boolean ? v : bad();
      case STRING_ARRAY:
        return v instanceof List ? strings((List<?>) v) : bad();
      case LONG_ARRAY:
        return v instanceof List ? longs((List<?>) v) : bad();
      case DOUBLE_ARRAY:
        return v instanceof List ? doubles((List<?>) v) : bad();
      case BOOLEAN_ARRAY:
        return v instanceof List ? booleans((List<?>) v) : bad();
      default:
        dropped(3, "values of type " + type + " are not supported");
        return null;
    }
  }

  private static Object bad() {
    dropped(2, "the value does not have its key's type");
    return null;
  }

  // Null elements of an array value are left out.

  private static String[] strings(List<?> l) {
    int n = 0;
    for (Object o : l) {
      if (o instanceof String) {
        n++;
      }
    }
    String[] a = new String[n];
    int i = 0;
    for (Object o : l) {
      if (o instanceof String) {
        a[i++] = (String) o;
      }
    }
    return a;
  }

  private static long[] longs(List<?> l) {
    int n = 0;
    for (Object o : l) {
      if (o instanceof Number) {
        n++;
      }
    }
    long[] a = new long[n];
    int i = 0;
    for (Object o : l) {
      if (o instanceof Number) {
        a[i++] = ((Number) o).longValue();
      }
    }
    return a;
  }

  private static double[] doubles(List<?> l) {
    int n = 0;
    for (Object o : l) {
      if (o instanceof Number) {
        n++;
      }
    }
    double[] a = new double[n];
    int i = 0;
    for (Object o : l) {
      if (o instanceof Number) {
        a[i++] = ((Number) o).doubleValue();
      }
    }
    return a;
  }

  private static boolean[] booleans(List<?> l) {
    int n = 0;
    for (Object o : l) {
      if (o instanceof Boolean) {
        n++;
      }
    }
    boolean[] a = new boolean[n];
    int i = 0;
    for (Object o : l) {
      if (o instanceof Boolean) {
        a[i++] = (Boolean) o;
      }
    }
    return a;
  }
}
