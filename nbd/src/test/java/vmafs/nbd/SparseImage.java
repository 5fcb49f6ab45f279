package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import vmafs.image.ImageContent;

/**
 * An image for the server's tests: data extents at given places, holes elsewhere, every data byte a
 * function of its offset (so any read can be checked without keeping the image), optionally a
 * range whose reads fail as a corrupt archive block would.
 */
final class SparseImage implements ImageContent {
  private final long size;
  /** start -> end of each data extent, non-overlapping. */
  private final TreeMap<Long, Long> data = new TreeMap<>();
  private long failFrom = -1;
  private long failTo = -1;

  SparseImage(long size) {
    this.size = size;
  }

  SparseImage data(long start, long end) {
    data.put(start, Math.min(end, size));
    return this;
  }

  /** Reads touching [from, to) fail with an IOException, as a failed checksum does. */
  SparseImage failing(long from, long to) {
    failFrom = from;
    failTo = to;
    return this;
  }

  /** The byte at {@code offset}: zero in holes. */
  byte at(long offset) {
    Map.Entry<Long, Long> e = data.floorEntry(offset);
    if (e == null || offset >= e.getValue()) {
      return 0;
    }
    long x = offset * 0x9E3779B97F4A7C15L;
    byte b = (byte) (x >>> 56 ^ x >>> 29);
    return b == 0 ? 1 : b; // data is never zero, so a hole cannot pass for data
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public long allocatedBytes() {
    return data.entrySet().stream().mapToLong(e -> e.getValue() - e.getKey()).sum();
  }

  @Override
  public int read(long offset, ByteBuffer dst) throws IOException {
    if (offset >= size) {
      return 0;
    }
    int n = (int) Math.min(dst.remaining(), size - offset);
    if (failFrom >= 0 && offset < failTo && offset + n > failFrom) {
      throw new IOException("checksum mismatch in block at offset " + failFrom);
    }
    for (int i = 0; i < n; i++) {
      dst.put(at(offset + i));
    }
    return n;
  }

  @Override
  public long nextData(long offset) {
    Map.Entry<Long, Long> e = data.floorEntry(offset);
    if (e != null && offset < e.getValue()) {
      return offset;
    }
    Long next = data.higherKey(offset);
    return next == null ? -1 : next;
  }

  @Override
  public long nextHole(long offset) {
    Map.Entry<Long, Long> e = data.floorEntry(offset);
    if (e != null && offset < e.getValue()) {
      long end = e.getValue();
      // adjacent extents merge
      Long following;
      while ((following = data.get(end)) != null) {
        end = following;
      }
      return end;
    }
    return Math.min(Math.max(offset, 0), size);
  }
}
