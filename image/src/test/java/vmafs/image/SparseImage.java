package vmafs.image;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;

/**
 * A test disk of any size held as a map of written 512-byte sectors: everything never written is a
 * hole of zeros. Counts what is read of it, so tests can bound what a reader asks for.
 */
public final class SparseImage implements ImageContent {
  public static final int UNIT = 512;
  private static final byte[] ZEROS = new byte[UNIT];

  private final long size;
  private final TreeMap<Long, byte[]> sectors = new TreeMap<>();
  private long bytesRead;
  private int largestRead;
  private int reads;

  public SparseImage(long size) {
    this.size = size;
  }

  /** Writes {@code b} at {@code offset}; the sectors it touches become data. */
  public SparseImage write(long offset, byte[] b) {
    for (int i = 0; i < b.length; ) {
      long pos = offset + i;
      long s = pos / UNIT;
      int in = (int) (pos % UNIT);
      int n = Math.min(UNIT - in, b.length - i);
      byte[] sector = sectors.computeIfAbsent(s, k -> new byte[UNIT]);
      System.arraycopy(b, i, sector, in, n);
      i += n;
    }
    return this;
  }

  public byte[] bytes(long offset, int length) {
    byte[] out = new byte[length];
    read(offset, ByteBuffer.wrap(out));
    return out;
  }

  /** A copy cut to {@code newSize} bytes (a truncated image). */
  public SparseImage truncated(long newSize) {
    SparseImage t = new SparseImage(newSize);
    for (Map.Entry<Long, byte[]> e : sectors.entrySet()) {
      long at = e.getKey() * UNIT;
      if (at < newSize) {
        t.write(at, java.util.Arrays.copyOf(e.getValue(), (int) Math.min(UNIT, newSize - at)));
      }
    }
    return t;
  }

  public SparseImage copy() {
    return truncated(size);
  }

  public Iterable<Long> writtenSectors() {
    return sectors.keySet();
  }

  public long bytesRead() {
    return bytesRead;
  }

  public int largestRead() {
    return largestRead;
  }

  public int reads() {
    return reads;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public long allocatedBytes() {
    return (long) sectors.size() * UNIT;
  }

  @Override
  public synchronized int read(long offset, ByteBuffer dst) {
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset");
    }
    reads++;
    largestRead = Math.max(largestRead, dst.remaining());
    if (offset >= size) {
      return 0;
    }
    int n = (int) Math.min(dst.remaining(), size - offset);
    bytesRead += n;
    for (int i = 0; i < n; ) {
      long pos = offset + i;
      byte[] sector = sectors.get(pos / UNIT);
      int in = (int) (pos % UNIT);
      int len = Math.min(UNIT - in, n - i);
      if (sector == null) {
        dst.put(ZEROS, 0, len);
      } else {
        dst.put(sector, in, len);
      }
      i += len;
    }
    return n;
  }

  @Override
  public long nextData(long offset) {
    if (offset >= size) {
      return -1;
    }
    Long s = sectors.ceilingKey(offset / UNIT);
    if (s == null || s * UNIT >= size) {
      return -1;
    }
    return Math.max(offset, s * UNIT);
  }

  @Override
  public long nextHole(long offset) {
    long s = offset / UNIT;
    while (sectors.containsKey(s)) {
      s++;
    }
    return Math.min(size, Math.max(offset, s * UNIT));
  }
}
