package io.polytrace;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The byte form of the propagation calls ({@code src/wire.rs}): a string is a little-endian
 * {@code u32} header, its length {@code n} shifted left by one with the low bit telling what
 * follows ({@code 0}: {@code n} bytes of UTF-8, {@code 1}: {@code n} UTF-16LE code units); an
 * index a {@code u8}, a count a {@code u32}. One {@code byte[]} crosses each way instead of
 * arrays of strings. A per-thread {@link Scratch} holds the arrays, so a call allocates only
 * the strings it returns.
 *
 * <p>A string that is not ASCII crosses as its code units and the core decodes it by its one
 * rule for text that is not valid Unicode (a lone surrogate becomes U+FFFD), never through
 * Java's {@code getBytes}, which would write {@code ?}. What the core sends back is valid
 * Unicode, as UTF-8.
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

  /** A string: its bytes when it is ASCII, else its UTF-16 code units. */
  static void string(Scratch s, String v) {
    int n = v.length();
    ensure(s, 4 + 2 * n);
    byte[] b = s.in;
    int at = s.inLength + 4;
    int i = 0;
    for (; i < n; i++) {
      char c = v.charAt(i);
      if (c >= 0x80) {
        break;
      }
      b[at + i] = (byte) c;
    }
    if (i == n) {
      putInt(b, s.inLength, n << 1);
      s.inLength = at + n;
      return;
    }
    for (i = 0; i < n; i++) {
      char c = v.charAt(i);
      b[at + 2 * i] = (byte) c;
      b[at + 2 * i + 1] = (byte) (c >>> 8);
    }
    putInt(b, s.inLength, (n << 1) | 1);
    s.inLength = at + 2 * n;
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

    /** A string the core wrote (always UTF-8: the header's low bit is 0). */
    String string() {
      int n = u32() >>> 1;
      String s = n == 0 ? "" : new String(b, pos, n, StandardCharsets.UTF_8);
      pos += n;
      return s;
    }
  }
}
