package io.polytrace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;

/**
 * The Java half of one core pipeline: the native handle, the core's start plan, the stripes
 * that carry finished spans to the core, the clock, and the registered tracers.
 */
final class Pipeline {
  /** How long a finished span may wait in a stripe before the flush thread hands it over. */
  static final long MAX_DELAY_NANOS = 100_000_000L;

  private static final Cleaner CLEANER = Cleaner.create();

  final long handle;
  private final Stripe[] stripes;
  private final int mask;

  /**
   * The core's start decisions ({@code StartPlan::to_table}): {@code [noop, root×3,
   * sampledParent×3, unsampledParent×3]}, each case {@code [decision, keepFlags, setFlags]}.
   */
  private volatile int[] table;

  /** The caps of a live span's memory ({@code Provider::caps}); what is past them is counted. */
  final int capAttributes;

  final int capEvents;
  final int capLinks;
  final int capStatus;

  private final long epochBase;
  private final long nanoBase;
  private final ConcurrentHashMap<List<String>, PtTracer> tracers = new ConcurrentHashMap<>();

  Pipeline(String[] options, String[] properties) {
    Native.ensureLoaded();
    int n = Integer.highestOneBit(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
    n = Math.min(n, 64);
    long h;
    try {
      h = Native.providerNew(options, properties, n);
    } finally {
      logDiagnostics();
    }
    handle = h;
    stripes = new Stripe[n];
    for (int i = 0; i < n; i++) {
      stripes[i] = new Stripe(this, i);
    }
    mask = n - 1;
    refreshPlan();
    int[] caps = Native.caps(handle);
    capAttributes = caps[0];
    capEvents = caps[1];
    capLinks = caps[2];
    capStatus = caps[3];
    Instant now = Instant.now();
    nanoBase = System.nanoTime();
    epochBase = nanos(now);
    CLEANER.register(this, new Free(h));
    Flusher.register(this);
  }

  /** Frees the native handle once the pipeline is unreachable (nothing can call it then). */
  private static final class Free implements Runnable {
    private final long handle;

    Free(long handle) {
      this.handle = handle;
    }

    @Override
    public void run() {
      Native.providerFree(handle);
    }
  }

  void refreshPlan() {
    table = Native.plan(handle);
  }

  // ---- time

  /** Nanoseconds since the epoch, from the monotonic clock anchored at construction. */
  long now() {
    return epochBase + (System.nanoTime() - nanoBase);
  }

  static long nanos(Instant t) {
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  // ---- tracers

  PtTracer tracer(String name, String version, String schemaUrl) {
    List<String> key = Arrays.asList(name, version, schemaUrl);
    PtTracer t = tracers.get(key);
    if (t == null) {
      t =
          tracers.computeIfAbsent(
              key, k -> new PtTracer(this, Native.tracer(handle, name, version, schemaUrl), name));
    }
    return t;
  }

  // ---- spans

  /** The stripe of the calling thread (threads are spread over stripes by id). */
  Stripe stripe() {
    return stripes[(int) Thread.currentThread().getId() & mask];
  }

  /**
   * Starts a span under {@code parent} (invalid: a root) following the core's start plan; a
   * start the plan cannot decide asks the core.
   */
  Span start(PtSpanBuilder b, SpanContext parent) {
    int[] t = table;
    boolean valid = parent.isValid();
    if (t[0] != 0) {
      return valid ? Span.wrap(parent) : Span.getInvalid();
    }
    PtSpanContext p = valid ? PtSpanContext.of(parent) : null;
    int base = !valid ? 1 : p.isSampled() ? 4 : 7;
    int decision = t[base];
    if (decision == 3) {
      return begin(b, p);
    }
    Stripe s = stripe();
    long hi;
    long lo;
    long id;
    synchronized (s) {
      id = s.nextSpanId();
      if (valid) {
        hi = p.traceHi;
        lo = p.traceLo;
      } else {
        hi = s.traceHi();
        lo = s.traceLo();
      }
      if (decision != 0) {
        s.started++;
      }
    }
    int flags = ((valid ? p.flags : 0) & t[base + 1]) | t[base + 2];
    PtSpanContext c =
        valid
            ? new PtSpanContext(
                hi, lo, id, (byte) flags, p.traceState, p.traceStateHeader(), false)
            : new PtSpanContext(hi, lo, id, (byte) flags, TraceState.getDefault(), "", false);
    if (decision == 0) {
      return Span.wrap(c);
    }
    return b.recording(c, p);
  }

  private Span begin(PtSpanBuilder b, PtSpanContext p) {
    long[] r;
    try {
      long[] parent =
          p == null ? null : new long[] {p.traceHi, p.traceLo, p.spanId, p.flags, p.remote ? 1 : 0};
      r =
          Native.begin(
              handle,
              b.tracer.index,
              b.name,
              b.kind,
              parent,
              p == null ? null : p.traceStateHeader());
    } catch (RuntimeException e) {
      Attrs.LOG.log(Level.SEVERE, "polytrace: the core could not start a span", e);
      return p == null ? Span.getInvalid() : Span.wrap(p);
    }
    TraceState ts = p == null ? TraceState.getDefault() : p.traceState;
    String tsh = p == null ? "" : p.traceStateHeader();
    PtSpanContext c = new PtSpanContext(r[0], r[1], r[2], (byte) r[3], ts, tsh, false);
    if (r[4] == 0) {
      return Span.wrap(c);
    }
    return b.recording(c, p);
  }

  /** A span ended: into the calling thread's stripe. */
  void ended(PtSpan span) {
    Stripe s = stripe();
    synchronized (s) {
      s.write(span);
    }
  }

  /** Hands every stripe's open batch to the core. */
  void submitAll() {
    for (Stripe s : stripes) {
      synchronized (s) {
        s.submit();
      }
    }
  }

  /** Hands over the batches that have waited long enough (the flush thread). */
  void submitDue(long now) {
    for (Stripe s : stripes) {
      // A racy look first: most stripes are empty or young.
      if (s.pos > 0 && now - s.pendingSince >= MAX_DELAY_NANOS) {
        synchronized (s) {
          if (s.pos > 0 && now - s.pendingSince >= MAX_DELAY_NANOS) {
            s.submit();
          }
        }
      }
    }
  }

  // ---- the rare paths

  Stats stats() {
    submitAll();
    return Stats.of(Native.stats(handle));
  }

  void flush(long timeoutMillis) {
    submitAll();
    try {
      Native.flush(handle, timeoutMillis);
    } finally {
      logDiagnostics();
    }
  }

  void shutdown(long timeoutMillis) {
    submitAll();
    try {
      Native.shutdown(handle, timeoutMillis);
    } finally {
      refreshPlan();
      logDiagnostics();
    }
  }

  boolean isShutdown() {
    return Native.isShutdown(handle);
  }

  /** Logs the core's pending diagnostics through {@code java.util.logging}. */
  static void logDiagnostics() {
    String[] d;
    try {
      d = Native.takeDiagnostics();
    } catch (RuntimeException e) {
      return;
    }
    for (String m : d) {
      if (m.isEmpty()) {
        continue;
      }
      Attrs.LOG.log(
          m.charAt(0) == 'E' ? Level.SEVERE : Level.WARNING, "polytrace: " + m.substring(1));
    }
  }

  /**
   * The one flush thread of the process: hands over stripes whose batch has waited {@link
   * #MAX_DELAY_NANOS} and logs the core's diagnostics. It holds pipelines weakly.
   */
  static final class Flusher implements Runnable {
    private static final List<WeakReference<Pipeline>> PIPELINES =
        Collections.synchronizedList(new ArrayList<>());
    private static Thread thread;

    static synchronized void register(Pipeline p) {
      PIPELINES.add(new WeakReference<>(p));
      if (thread == null) {
        thread = new Thread(new Flusher(), "polytrace-flush");
        thread.setDaemon(true);
        thread.start();
      }
    }

    @Override
    public void run() {
      List<Pipeline> live = new ArrayList<>();
      for (; ; ) {
        try {
          Thread.sleep(MAX_DELAY_NANOS / 2_000_000L);
        } catch (InterruptedException e) {
          return;
        }
        live.clear();
        synchronized (PIPELINES) {
          for (Iterator<WeakReference<Pipeline>> it = PIPELINES.iterator(); it.hasNext(); ) {
            Pipeline p = it.next().get();
            if (p == null) {
              it.remove();
            } else {
              live.add(p);
            }
          }
        }
        long now = System.nanoTime();
        for (Pipeline p : live) {
          try {
            p.submitDue(now);
          } catch (RuntimeException e) {
            Attrs.LOG.log(Level.SEVERE, "polytrace: the flush thread failed", e);
          }
        }
        live.clear();
        logDiagnostics();
      }
    }
  }
}
