package io.polytrace;

/** Ids between the {@code long}s polytrace keeps and the lowercase hex the API shows. */
final class Hex {
  private Hex() {}

  private static final char[] DIGITS = "0123456789abcdef".toCharArray();

  /** 16 hex digits of {@code v}. */
  static String of(long v) {
    char[] c = new char[16];
    put(c, 0, v);
    return new String(c);
  }

  /** 32 hex digits of the 128-bit value {@code hi:lo}. */
  static String of(long hi, long lo) {
    char[] c = new char[32];
    put(c, 0, hi);
    put(c, 16, lo);
    return new String(c);
  }

  private static void put(char[] c, int off, long v) {
    for (int i = 15; i >= 0; i--) {
      c[off + i] = DIGITS[(int) (v & 0xf)];
      v >>>= 4;
    }
  }

  /** The 16 hex digits of {@code s} from {@code off} as a {@code long} (valid ids only). */
  static long parse(String s, int off) {
    long v = 0;
    for (int i = 0; i < 16; i++) {
      v = (v << 4) | Character.digit(s.charAt(off + i), 16);
    }
    return v;
  }
}
