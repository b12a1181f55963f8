package io.polytrace;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import java.util.Objects;

/**
 * A span context whose ids are kept as {@code long}s (what the finished-span format carries):
 * the hex strings the API's getters return are made only when asked for, once.
 */
final class PtSpanContext implements SpanContext {
  final long traceHi;
  final long traceLo;
  final long spanId;
  final byte flags;
  final TraceState traceState;
  final boolean remote;
  /** The trace state as its header ({@code ""} when empty), made when first needed. */
  private String traceStateHeader;

  private String traceHex;
  private String spanHex;

  PtSpanContext(
      long traceHi,
      long traceLo,
      long spanId,
      byte flags,
      TraceState traceState,
      String traceStateHeader,
      boolean remote) {
    this.traceHi = traceHi;
    this.traceLo = traceLo;
    this.spanId = spanId;
    this.flags = flags;
    this.traceState = traceState;
    this.traceStateHeader = traceStateHeader;
    this.remote = remote;
  }

  /** A context of ours for any API span context (ids parsed from its hex). */
  static PtSpanContext of(SpanContext c) {
    if (c instanceof PtSpanContext) {
      return (PtSpanContext) c;
    }
    if (!c.isValid()) {
      return null;
    }
    String t = c.getTraceId();
    return new PtSpanContext(
        Hex.parse(t, 0),
        Hex.parse(t, 16),
        Hex.parse(c.getSpanId(), 0),
        c.getTraceFlags().asByte(),
        c.getTraceState(),
        null,
        c.isRemote());
  }

  /** The trace state's header form, {@code ""} when empty. */
  String traceStateHeader() {
    String h = traceStateHeader;
    if (h == null) {
      h = TraceStates.header(traceState);
      traceStateHeader = h;
    }
    return h;
  }

  @Override
  public String getTraceId() {
    String h = traceHex;
    if (h == null) {
      h = Hex.of(traceHi, traceLo);
      traceHex = h;
    }
    return h;
  }

  @Override
  public String getSpanId() {
    String h = spanHex;
    if (h == null) {
      h = Hex.of(spanId);
      spanHex = h;
    }
    return h;
  }

  @Override
  public TraceFlags getTraceFlags() {
    return TraceFlags.fromByte(flags);
  }

  @Override
  public TraceState getTraceState() {
    return traceState;
  }

  @Override
  public boolean isRemote() {
    return remote;
  }

  @Override
  public boolean isValid() {
    return (traceHi | traceLo) != 0 && spanId != 0;
  }

  @Override
  public boolean isSampled() {
    return (flags & 1) != 0;
  }

  /** Equal to any span context with the same ids, flags, state and remoteness. */
  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (o instanceof PtSpanContext) {
      PtSpanContext c = (PtSpanContext) o;
      return traceHi == c.traceHi
          && traceLo == c.traceLo
          && spanId == c.spanId
          && flags == c.flags
          && remote == c.remote
          && traceState.equals(c.traceState);
    }
    if (o instanceof SpanContext) {
      SpanContext c = (SpanContext) o;
      return getTraceId().equals(c.getTraceId())
          && getSpanId().equals(c.getSpanId())
          && getTraceFlags().equals(c.getTraceFlags())
          && remote == c.isRemote()
          && traceState.equals(c.getTraceState());
    }
    return false;
  }

  @Override
  public int hashCode() {
    return Objects.hash(getTraceId(), getSpanId(), flags, traceState, remote);
  }

  @Override
  public String toString() {
    return "SpanContext{traceId="
        + getTraceId()
        + ", spanId="
        + getSpanId()
        + ", traceFlags="
        + getTraceFlags()
        + ", traceState="
        + traceState
        + ", remote="
        + remote
        + "}";
  }
}
