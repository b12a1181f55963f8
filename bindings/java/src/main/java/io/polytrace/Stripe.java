package io.polytrace;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.logging.Level;

/**
 * One byte stream of finished spans, shared by the threads whose ids fall on it (see {@link
 * Pipeline#stripe()}), with its own block of ids from the core. Every method runs under the
 * stripe's monitor.
 *
 * <p>Spans are written into a direct, little-endian {@link ByteBuffer} in the core's
 * finished-span format ({@code docs/finished-spans.md}, version 1, times as epoch
 * nanoseconds). A batch is handed to the core when it holds {@link #FLUSH_SPANS} spans or
 * {@link #FLUSH_BYTES} bytes, by the flush thread when it has waited {@link
 * Pipeline#MAX_DELAY_NANOS}, and before flush, shutdown and stats. Memory is bounded by one
 * batch (plus one oversized span).
 *
 * <p>Span names, attribute keys and short values are numbered the first time the stream writes
 * them and referred to by number afterwards; ASCII text crosses as bytes, anything else as
 * UTF-16 code units, never through Java's lossy {@code getBytes}: the core decodes them by its
 * one rule for text that is not valid Unicode ({@code polytrace_core::text}, a lone surrogate
 * becomes U+FFFD).
 */
final class Stripe {
  static final int INITIAL = 64 * 1024;
  static final int FLUSH_BYTES = 48 * 1024;
  static final int FLUSH_SPANS = 512;
  /** Strings numbered per stream at most (names, keys, short values). */
  static final int MAX_STRINGS = 8192;
  /** Of which attribute values at most (they are more often unique). */
  static final int MAX_VALUE_STRINGS = 2048;
  static final int MAX_NAME_LEN = 256;
  static final int MAX_VALUE_LEN = 32;
  /** Entries of the direct-mapped cache in front of the string numbers (a power of two). */
  static final int CACHE = 256;
  /** Ids fetched from the core per call. */
  static final int ID_BLOCK = 256;

  static final int NEVER = 0;
  static final int NAME = 1;
  static final int VALUE = 2;

  private final Pipeline pipeline;
  final int index;

  private ByteBuffer buf;
  /** Bytes written in the current batch (0: no batch open). */
  int pos;
  private int spans;
  /** Recording spans started from the start plan on this stripe since the last batch. */
  int started;
  /** The next batch makes the core forget this stream's string numbers. */
  private boolean fresh = true;
  /** When the oldest span of the open batch was written ({@code System.nanoTime}). */
  long pendingSince;

  private final HashMap<String, Integer> strings = new HashMap<>();
  private int valueStrings;
  private final String[] cacheKeys = new String[CACHE];
  private final int[] cacheIds = new int[CACHE];

  private static final long[] NONE = new long[0];
  private final long[] spanIds = new long[ID_BLOCK];
  private int spanIdNext = ID_BLOCK;
  private final long[] traceIds = new long[2 * ID_BLOCK];
  private int traceIdNext = 2 * ID_BLOCK;

  Stripe(Pipeline pipeline, int index) {
    this.pipeline = pipeline;
    this.index = index;
    this.buf = allocate(INITIAL);
  }

  private static ByteBuffer allocate(int n) {
    return ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  // ---- ids

  long nextSpanId() {
    if (spanIdNext == ID_BLOCK) {
      Native.ids(spanIds, NONE);
      spanIdNext = 0;
    }
    return spanIds[spanIdNext++];
  }

  /** The next trace id's high half; {@link #traceLo()} right after gives its low half. */
  long traceHi() {
    if (traceIdNext == traceIds.length) {
      Native.ids(NONE, traceIds);
      traceIdNext = 0;
    }
    return traceIds[traceIdNext++];
  }

  long traceLo() {
    return traceIds[traceIdNext++];
  }

  // ---- primitives

  private void ensure(int n) {
    if (pos + n > buf.capacity()) {
      grow(pos + n);
    }
  }

  private void grow(int min) {
    int c = buf.capacity() * 2;
    while (c < min) {
      c *= 2;
    }
    ByteBuffer next = allocate(c);
    ByteBuffer old = buf.duplicate();
    old.position(0).limit(pos);
    next.put(old);
    buf = next;
  }

  private void u8(int v) {
    ensure(1);
    buf.put(pos, (byte) v);
    pos += 1;
  }

  private void u32(int v) {
    ensure(4);
    buf.putInt(pos, v);
    pos += 4;
  }

  private void i64(long v) {
    ensure(8);
    buf.putLong(pos, v);
    pos += 8;
  }

  private void f64(double v) {
    ensure(8);
    buf.putDouble(pos, v);
    pos += 8;
  }

  /** An id8: two words, each the big-endian value of 4 bytes of the id. */
  private void id8(long v) {
    ensure(8);
    buf.putInt(pos, (int) (v >>> 32));
    buf.putInt(pos + 4, (int) v);
    pos += 8;
  }

  // ---- strings

  /** A string, numbered on first use when {@code mode} allows (see the format's {@code str}). */
  private void str(String s, int mode) {
    if (mode != NEVER) {
      int slot = s.hashCode() & (CACHE - 1);
      if (cacheKeys[slot] == s) {
        u32(cacheIds[slot] << 3);
        return;
      }
      Integer id = strings.get(s);
      if (id != null) {
        cacheKeys[slot] = s;
        cacheIds[slot] = id;
        u32(id << 3);
        return;
      }
      int n = s.length();
      if (strings.size() < MAX_STRINGS
          && (mode == NAME
              ? n <= MAX_NAME_LEN
              : n <= MAX_VALUE_LEN && valueStrings < MAX_VALUE_STRINGS)) {
        if (mode == VALUE) {
          valueStrings++;
        }
        int next = strings.size();
        strings.put(s, next);
        cacheKeys[slot] = s;
        cacheIds[slot] = next;
        inline(s, true);
        return;
      }
    }
    inline(s, false);
  }

  /** The text itself: kind 1/2 (bytes) when it is ASCII, else kind 3/4 (UTF-16LE units). */
  private void inline(String s, boolean numbered) {
    int n = s.length();
    ensure(4 + 2 * n);
    int start = pos + 4;
    int i = 0;
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        break;
      }
      buf.put(start + i, (byte) c);
    }
    if (i == n) {
      buf.putInt(pos, (n << 3) | (numbered ? 2 : 1));
      pos = start + n;
      return;
    }
    for (i = 0; i < n; i++) {
      buf.putChar(start + 2 * i, s.charAt(i));
    }
    buf.putInt(pos, (n << 3) | (numbered ? 4 : 3));
    pos = start + 2 * n;
  }

  // ---- values

  /** A converted value (see {@link Attrs}). */
  private void value(Object v) {
    if (v instanceof String) {
      u8(0);
      str((String) v, VALUE);
    } else if (v instanceof Long) {
      u8(9);
      i64((Long) v);
    } else if (v instanceof Double) {
      u8(2);
      f64((Double) v);
    } else if (v instanceof Boolean) {
      u8((Boolean) v ? 4 : 3);
    } else if (v instanceof String[]) {
      String[] a = (String[]) v;
      u8(5);
      u32(a.length);
      for (String s : a) {
        str(s, NEVER);
      }
    } else if (v instanceof long[]) {
      long[] a = (long[]) v;
      u8(10);
      u32(a.length);
      for (long x : a) {
        i64(x);
      }
    } else if (v instanceof double[]) {
      double[] a = (double[]) v;
      u8(7);
      u32(a.length);
      for (double x : a) {
        f64(x);
      }
    } else {
      boolean[] a = (boolean[]) v;
      u8(8);
      u32(a.length);
      for (boolean x : a) {
        u8(x ? 1 : 0);
      }
    }
  }

  /** An API {@link Attributes} (of an event or a link): {@code u32 n, attr×n}. */
  private void attributes(Attributes a) {
    int at = pos;
    u32(0);
    int[] n = {0};
    a.forEach(
        (k, v) -> {
          String key = Attrs.key(k);
          Object value = key == null ? null : Attrs.convert(k.getType(), v);
          if (value != null) {
            str(key, NAME);
            value(value);
            n[0]++;
          }
        });
    buf.putInt(at, n[0]);
  }

  // ---- records

  private void header() {
    ensure(8);
    buf.put(0, (byte) 0x50);
    buf.put(1, (byte) 1);
    buf.put(2, (byte) 0);
    buf.put(3, (byte) (fresh ? 1 : 0));
    buf.putInt(4, 0);
    pos = 8;
    fresh = false;
    pendingSince = System.nanoTime();
  }

  /** Appends a finished span and hands the batch over when it is full. Never throws. */
  void write(PtSpan s) {
    if (pos == 0) {
      header();
    }
    int mark = pos;
    try {
      span(s);
    } catch (RuntimeException | OutOfMemoryError e) {
      // A bug (or no memory): drop this span, hand over the spans before it, and number
      // strings afresh in case the lost bytes defined some.
      pos = mark;
      submit();
      forgetStrings();
      Attrs.LOG.log(Level.SEVERE, "polytrace: a span could not be encoded and was dropped", e);
      return;
    }
    spans++;
    if (pos >= FLUSH_BYTES || spans >= FLUSH_SPANS) {
      submit();
    }
  }

  private void span(PtSpan s) {
    PtSpanContext c = s.context;
    String ts = c.traceStateHeader();
    boolean discarded = (s.discardedAttrs | s.discardedEvents | s.discardedLinks) != 0;
    int bits = s.parentBits | (ts.isEmpty() ? 0 : 4) | (discarded ? 8 : 0);
    ensure(64);
    buf.put(pos, (byte) 1);
    buf.put(pos + 1, (byte) s.kind);
    buf.put(pos + 2, c.flags);
    buf.put(pos + 3, (byte) bits);
    buf.putInt(pos + 4, s.tracer.index);
    buf.putInt(pos + 8, (int) (c.traceHi >>> 32));
    buf.putInt(pos + 12, (int) c.traceHi);
    buf.putInt(pos + 16, (int) (c.traceLo >>> 32));
    buf.putInt(pos + 20, (int) c.traceLo);
    buf.putInt(pos + 24, (int) (c.spanId >>> 32));
    buf.putInt(pos + 28, (int) c.spanId);
    pos += 32;
    if ((bits & 1) != 0) {
      id8(s.parentSpanId);
    }
    i64(s.start);
    i64(s.end);
    str(s.name, NAME);
    if (!ts.isEmpty()) {
      str(ts, NEVER);
    }
    u32(s.nAttrs);
    Object[] a = s.attrs;
    for (int i = 0; i < s.nAttrs; i++) {
      str((String) a[2 * i], NAME);
      value(a[2 * i + 1]);
    }
    u32(s.nEvents);
    for (int i = 0; i < s.nEvents; i++) {
      event(s.events[i]);
    }
    u32(s.nLinks);
    for (int i = 0; i < s.nLinks; i++) {
      link(s.links[i]);
    }
    u32(s.nStatus);
    for (int i = 0; i < s.nStatus; i++) {
      int code = s.statusCodes[i];
      u8(code);
      if (code == 2) {
        str(s.statusDescriptions[i], NEVER);
      }
    }
    if (discarded) {
      u32(s.discardedAttrs);
      u32(s.discardedEvents);
      u32(s.discardedLinks);
    }
  }

  private void event(PtSpan.Ev e) {
    if (!e.exception) {
      u8(0);
      i64(e.time);
      str(e.name, NAME);
    } else {
      u8(1);
      i64(e.time);
      str(e.name, NAME);
      str(e.message, NEVER);
      u8(e.stacktrace != null ? 1 : 0);
      if (e.stacktrace != null) {
        str(e.stacktrace, NEVER);
      }
    }
    attributes(e.attributes);
  }

  private void link(PtSpan.Lk l) {
    SpanContext sc = l.context;
    PtSpanContext c = sc instanceof PtSpanContext ? (PtSpanContext) sc : null;
    String ts = c != null ? c.traceStateHeader() : TraceStates.header(sc.getTraceState());
    int bits = (ts.isEmpty() ? 0 : 1) | (sc.isRemote() ? 2 : 0) | (c == null ? 4 : 0);
    u8(bits);
    u8(sc.getTraceFlags().asByte());
    if (c != null) {
      id8(c.traceHi);
      id8(c.traceLo);
      id8(c.spanId);
    } else {
      // Another implementation's context: its hex ids as they are (the core parses them).
      str(sc.getTraceId(), NEVER);
      str(sc.getSpanId(), NEVER);
    }
    if (!ts.isEmpty()) {
      str(ts, NEVER);
    }
    attributes(l.attributes);
  }

  // ---- hand-over

  /** Hands the open batch (and the count of plan-started spans) to the core. Never throws. */
  void submit() {
    if (pos == 0 && started == 0) {
      return;
    }
    if (pos == 0) {
      header();
    }
    if (started > 0) {
      u8(2);
      u32(started);
      started = 0;
    }
    buf.putInt(4, spans);
    int length = pos;
    pos = 0;
    spans = 0;
    int reset;
    try {
      reset = Native.submit(pipeline.handle, index, buf, length);
    } catch (RuntimeException e) {
      reset = 1;
      Attrs.LOG.log(Level.SEVERE, "polytrace: a batch of spans was lost", e);
    }
    if (reset == 1) {
      forgetStrings();
    }
    if (buf.capacity() > INITIAL * 4) {
      buf = allocate(INITIAL);
    }
  }

  /** Starts numbering strings again; the next batch (none is open) says so to the core. */
  private void forgetStrings() {
    strings.clear();
    Arrays.fill(cacheKeys, null);
    valueStrings = 0;
    fresh = true;
  }
}
