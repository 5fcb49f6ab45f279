package vmafs.vma.testing;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaHeader;
import vmafs.vma.io.ArchiveSource;

/**
 * Turns fuzzer bytes into archives worth parsing. Without help a mutation almost never gets past a
 * checksum, so {@link #repairVma} recomputes the header MD5 and each extent's MD5 and uuid: the
 * fuzzer then explores the fields behind them (the checksum checks themselves are covered by the
 * {@link Defects} tests). It also caps declared device sizes: a crafted size allocates a cluster
 * table for every cluster it claims, a known defect of issue #13 that would otherwise mask every
 * other finding (docs/fuzzing.md).
 */
public final class FuzzInputs {
  /** Devices are capped at this many clusters (16 MiB) before parsing. */
  public static final long MAX_FUZZ_CLUSTERS = 256;

  private FuzzInputs() {}

  /** A copy of {@code in} with device sizes capped and every reachable MD5 and uuid made valid. */
  public static byte[] repairVma(byte[] in) {
    byte[] b = in.clone();
    if (b.length < FIXED_HEADER_SIZE || !java.util.Arrays.equals(b, 0, 4, MAGIC, 0, 4)) {
      return b;
    }
    ByteBuffer bb = ByteBuffer.wrap(b);
    for (int id = FIRST_DEV_ID; id <= LAST_DEV_ID; id++) {
      int at = OFF_DEV_INFO + id * DEV_INFO_SIZE + DEV_OFF_SIZE;
      long size = bb.getLong(at);
      // Negative and > 256 TiB sizes are rejected before anything is allocated: keep them.
      if (size > MAX_FUZZ_CLUSTERS << CLUSTER_SHIFT && clusterCount(size) <= 1L << 32) {
        bb.putLong(at, 1 + size % (MAX_FUZZ_CLUSTERS << CLUSTER_SHIFT));
      }
    }
    long headerSize = bb.getInt(OFF_HEADER_SIZE) & 0xFFFF_FFFFL;
    if (headerSize <= FIXED_HEADER_SIZE || headerSize > b.length) {
      return b;
    }
    System.arraycopy(VmaHeader.headerMd5(java.util.Arrays.copyOf(b, (int) headerSize)), 0, b,
        OFF_HEADER_MD5, MD5_SIZE);
    long pos = headerSize;
    while (pos + EXTENT_HEADER_SIZE <= b.length
        && java.util.Arrays.equals(b, (int) pos, (int) pos + 4, EXTENT_MAGIC, 0, 4)) {
      int p = (int) pos;
      System.arraycopy(b, OFF_UUID, b, p + EXT_OFF_UUID, UUID_SIZE);
      System.arraycopy(ExtentHeader.md5(b, p), 0, b, p + EXT_OFF_MD5, MD5_SIZE);
      pos += EXTENT_HEADER_SIZE + (long) (bb.getShort(p + EXT_OFF_BLOCK_COUNT) & 0xFFFF) * BLOCK_SIZE;
    }
    return b;
  }

  /**
   * A stream over {@code b} that hands out short reads and short or zero skips, as pipes and
   * decompressors do, so that readers relying on one call filling a buffer show it.
   */
  public static InputStream choppy(byte[] b) {
    return new InputStream() {
      private int pos;
      private int calls;

      @Override
      public int read() {
        return pos < b.length ? b[pos++] & 0xFF : -1;
      }

      @Override
      public int read(byte[] dst, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        if (len == 0) {
          return 0;
        }
        if (pos >= b.length) {
          return -1;
        }
        int n = Math.min(Math.min(len, b.length - pos), 1 + (++calls * 7919) % 8191);
        System.arraycopy(b, pos, dst, off, n);
        pos += n;
        return n;
      }

      @Override
      public long skip(long n) {
        int k = ++calls % 5;
        long s = k == 0 || n <= 0 ? 0 : Math.min(Math.min(n, 1 + (long) k * 3001), b.length - pos);
        pos += (int) s;
        return s;
      }
    };
  }

  /** An archive source over bytes in memory. */
  public static ArchiveSource source(byte[] b) {
    return new ArchiveSource() {
      @Override
      public void readFully(long position, ByteBuffer dst) throws IOException {
        if (position < 0 || position > b.length - dst.remaining()) {
          throw new java.io.EOFException("read of " + dst.remaining() + " bytes at " + position
              + " is outside the " + b.length + "-byte stream");
        }
        dst.put(b, (int) position, dst.remaining());
      }

      @Override
      public long size() {
        return b.length;
      }

      @Override
      public String name() {
        return "fuzz input";
      }

      @Override
      public void close() {}
    };
  }
}
