package io.polytrace;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The byte form of the propagation calls ({@code src/wire.rs}): a string is a little-endian
 * {@code u32} header, its length {@code n} shifted left by one with the low bit telling what
 * follows ({@code 0}: {@code n} bytes of UTF-8, {@code 1}: {@code n} UTF-16LE code units); an
 * index a {@code u8}, a count a {@code u32}, an id an {@code i64}. One buffer crosses each way
 * instead of arrays of strings: a {@link Scratch} holds two direct buffers whose addresses the
 * native side reads and writes in place (no JNI array copy, each of which is a JNI call of its
 * own), and the arrays the form is built and read in, so a call allocates only the strings it
 * returns. Scratches are pooled, not per thread, so that a virtual thread per request does not
 * allocate direct buffers for each request.
 *
 * <p>A string that is not ASCII crosses as its code units and the core decodes it by its one
 * rule for text that is not valid Unicode (a lone surrogate becomes U+FFFD), never through
 * Java's {@code getBytes}, which would write {@code ?}. What the core sends back is valid
 * Unicode, as UTF-8.
 */
final class Wire {
  private Wire() {}

  /** The buffers of one propagation call at a time (see {@link #acquire}). */
  static final class Scratch {
    /** The form is written here, then copied into {@link #inDirect} at once. */
    byte[] in = new byte[256];

    int inLength;

    /** A string's characters, copied out of it before they are narrowed. */
    char[] chars = new char[128];

    /** The pool slot it was taken from. */
    int slot;

    /** The answer, copied out of {@link #outDirect} at once. */
    byte[] out = new byte[256];

    private ByteBuffer inDirect;
    private long inAddress;
    private ByteBuffer outDirect;
    private long outAddress;

    /**
     * Copies the written form into the direct input buffer (grown as needed) and returns its
     * address, which stays valid while this scratch holds the buffer.
     */
    long inAddress() {
      if (inDirect == null || inDirect.capacity() < inLength) {
        inDirect = ByteBuffer.allocateDirect(Math.max(in.length, inLength));
        inAddress = Native.address(inDirect);
      }
      inDirect.put(0, in, 0, inLength);
      return inAddress;
    }

    /** The direct output buffer's address, at least {@code capacity} bytes (grown as needed). */
    long outAddress(int capacity) {
      if (outDirect == null || outDirect.capacity() < capacity) {
        outDirect = ByteBuffer.allocateDirect(capacity);
        outAddress = Native.address(outDirect);
      }
      return outAddress;
    }

    /**
     * Calls {@code Native.extract} (else {@code Native.inject}) on the written form, again with
     * a larger output buffer when the native side asks for one; returns the answer.
     */
    Reader call(long handle, boolean extract) {
      long inAt = inAddress();
      int n = call(handle, extract, inAt, outAddress(out.length));
      if (n < 0) {
        n = call(handle, extract, inAt, outAddress(-n));
        if (n < 0) {
          throw new PolytraceException.Internal("the propagation answer does not fit");
        }
      }
      return answer(n);
    }

    private int call(long handle, boolean extract, long inAt, long outAt) {
      int capacity = outDirect.capacity();
      return extract
          ? Native.extract(handle, inAt, inLength, outAt, capacity)
          : Native.inject(handle, inAt, inLength, outAt, capacity);
    }

    /** True when its buffers are small enough to keep in the pool. */
    boolean small() {
      return in.length <= KEEP
          && out.length <= KEEP
          && (inDirect == null || inDirect.capacity() <= KEEP)
          && (outDirect == null || outDirect.capacity() <= KEEP);
    }

    /** A reader over the first {@code n} bytes the native side wrote. */
    private Reader answer(int n) {
      if (out.length < n) {
        out = new byte[n];
      }
      outDirect.get(0, out, 0, n);
      return new Reader(out, n);
    }
  }

  /** Largest buffer a scratch keeps when it goes back to the pool (memory stays bounded). */
  private static final int KEEP = 64 * 1024;

  /** Idle scratches; a thread takes the one of its slot, or makes one when it is taken. */
  private static final AtomicReferenceArray<Scratch> POOL = new AtomicReferenceArray<>(pool());

  private static int pool() {
    int n = Integer.highestOneBit(Math.max(8, 4 * Runtime.getRuntime().availableProcessors()));
    return Math.min(n, 256);
  }

  /** A scratch for one call, its form reset; give it back with {@link #release}. */
  static Scratch acquire() {
    int slot = (int) Thread.currentThread().getId() & (POOL.length() - 1);
    Scratch s = POOL.getAndSet(slot, null);
    if (s == null) {
      s = new Scratch();
    }
    s.slot = slot;
    s.inLength = 0;
    return s;
  }

  /** Returns a scratch to the pool, unless it grew too large to keep. */
  static void release(Scratch s) {
    if (s.small()) {
      // A release store suffices: the next taker's getAndSet sees the scratch's writes.
      POOL.lazySet(s.slot, s);
    }
  }

  // ---- writing into Scratch.in

  private static void ensure(Scratch s, int n) {
    if (s.inLength + n > s.in.length) {
      s.in = Arrays.copyOf(s.in, Math.max(s.in.length * 2, s.inLength + n));
    }
  }

  static void u8(Scratch s, int v) {
    ensure(s, 1);
    s.in[s.inLength++] = (byte) v;
  }

  /** A little-endian {@code i64}. */
  static void i64(Scratch s, long v) {
    ensure(s, 8);
    putInt(s.in, s.inLength, (int) v);
    putInt(s.in, s.inLength + 4, (int) (v >>> 32));
    s.inLength += 8;
  }

  /**
   * A string: its bytes when it is ASCII, else its UTF-16 code units. The characters are copied
   * out first ({@code getChars} is one intrinsic copy), then narrowed in a loop with no exit and
   * no per-character string access, which is what makes a 55-character header cheap.
   */
  static void string(Scratch s, String v) {
    int n = v.length();
    ensure(s, 4 + 2 * n);
    if (s.chars.length < n) {
      s.chars = new char[Math.max(n, 2 * s.chars.length)];
    }
    char[] c = s.chars;
    v.getChars(0, n, c, 0);
    byte[] b = s.in;
    int at = s.inLength + 4;
    int all = 0;
    for (int i = 0; i < n; i++) {
      all |= c[i];
      b[at + i] = (byte) c[i];
    }
    if (all < 0x80) {
      putInt(b, s.inLength, n << 1);
      s.inLength = at + n;
      return;
    }
    for (int i = 0; i < n; i++) {
      b[at + 2 * i] = (byte) c[i];
      b[at + 2 * i + 1] = (byte) (c[i] >>> 8);
    }
    putInt(b, s.inLength, (n << 1) | 1);
    s.inLength = at + 2 * n;
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

    long i64() {
      long v = (getInt(b, pos) & 0xffffffffL) | ((long) getInt(b, pos + 4) << 32);
      pos += 8;
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
