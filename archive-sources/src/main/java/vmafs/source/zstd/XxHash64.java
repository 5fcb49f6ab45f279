package vmafs.source.zstd;

import vmafs.vma.io.Endian;

/**
 * XXH64 with seed 0, incremental: what a zstd frame's content checksum and the seekable format's
 * per-frame checksum hold (the low 32 bits). Needed for frames that carry no checksum of their own
 * but are listed with one in the seek table; zstd-jni does not expose its XXH64 and
 * aircompressor's is package-private. Algorithm as specified in xxHash's {@code doc/xxhash_spec.md}.
 */
final class XxHash64 {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private long v1 = P1 + P2;
  private long v2 = P2;
  private long v3 = 0;
  private long v4 = -P1;
  private final byte[] pending = new byte[32];
  private int pendingLength;
  private long total;

  void update(byte[] b, int off, int len) {
    total += len;
    if (pendingLength > 0) {
      int k = Math.min(len, 32 - pendingLength);
      System.arraycopy(b, off, pending, pendingLength, k);
      pendingLength += k;
      off += k;
      len -= k;
      if (pendingLength < 32) {
        return;
      }
      stripe(pending, 0);
      pendingLength = 0;
    }
    while (len >= 32) {
      stripe(b, off);
      off += 32;
      len -= 32;
    }
    System.arraycopy(b, off, pending, 0, len);
    pendingLength = len;
  }

  private void stripe(byte[] b, int at) {
    v1 = round(v1, Endian.le64(b, at));
    v2 = round(v2, Endian.le64(b, at + 8));
    v3 = round(v3, Endian.le64(b, at + 16));
    v4 = round(v4, Endian.le64(b, at + 24));
  }

  long hash() {
    long h;
    if (total >= 32) {
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12)
          + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = P5;
    }
    h += total;
    int i = 0;
    for (; i + 8 <= pendingLength; i += 8) {
      h ^= round(0, Endian.le64(pending, i));
      h = Long.rotateLeft(h, 27) * P1 + P4;
    }
    if (i + 4 <= pendingLength) {
      h ^= Endian.le32Unsigned(pending, i) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      i += 4;
    }
    for (; i < pendingLength; i++) {
      h ^= (pending[i] & 0xFFL) * P5;
      h = Long.rotateLeft(h, 11) * P1;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }

  static long of(byte[] b, int off, int len) {
    XxHash64 x = new XxHash64();
    x.update(b, off, len);
    return x.hash();
  }

  private static long round(long acc, long input) {
    return Long.rotateLeft(acc + input * P2, 31) * P1;
  }

  private static long merge(long h, long v) {
    return (h ^ round(0, v)) * P1 + P4;
  }
}
