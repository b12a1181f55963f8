package io.polytrace;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The byte form of the propagation calls ({@code src/wire.rs}): a string is a little-endian
 * {@code u32} byte length and its UTF-8, an index a {@code u8}, a count a {@code u32}. One
 * {@code byte[]} crosses each way instead of arrays of strings. A per-thread {@link Scratch}
 * holds the arrays, so a call allocates only the strings it returns.
 */
final class Wire {
  private Wire() {}

  /** Per-thread arrays of the propagation calls. */
  static final class Scratch {
    final long[] ids = new long[5];
    byte[] out = new byte[256];
    byte[] in = new byte[256];
    int inLength;
  }

  static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  // ---- writing into Scratch.in

  static void reset(Scratch s) {
    s.inLength = 0;
  }

  private static void ensure(Scratch s, int n) {
    if (s.inLength + n > s.in.length) {
      s.in = Arrays.copyOf(s.in, Math.max(s.in.length * 2, s.inLength + n));
    }
  }

  static void u8(Scratch s, int v) {
    ensure(s, 1);
    s.in[s.inLength++] = (byte) v;
  }

  static void string(Scratch s, String v) {
    byte[] b = v.getBytes(StandardCharsets.UTF_8);
    ensure(s, 4 + b.length);
    putInt(s.in, s.inLength, b.length);
    System.arraycopy(b, 0, s.in, s.inLength + 4, b.length);
    s.inLength += 4 + b.length;
  }

  /** The written bytes as an array of their own (what crosses). */
  static byte[] input(Scratch s) {
    return Arrays.copyOf(s.in, s.inLength);
  }

  // ---- reading

  static int getInt(byte[] b, int off) {
    return (b[off] & 0xff)
        | (b[off + 1] & 0xff) << 8
        | (b[off + 2] & 0xff) << 16
        | (b[off + 3] & 0xff) << 24;
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) v;
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) (v >>> 16);
    b[off + 3] = (byte) (v >>> 24);
  }

  /** A reader over the first {@code length} bytes of {@code b}. */
  static final class Reader {
    final byte[] b;
    final int length;
    int pos;

    Reader(byte[] b, int length) {
      this.b = b;
      this.length = length;
    }

    boolean done() {
      return pos >= length;
    }

    int u8() {
      return b[pos++] & 0xff;
    }

    int u32() {
      int v = getInt(b, pos);
      pos += 4;
      return v;
    }

    String string() {
      int n = u32();
      String s = n == 0 ? "" : new String(b, pos, n, StandardCharsets.UTF_8);
      pos += n;
      return s;
    }
  }
}
