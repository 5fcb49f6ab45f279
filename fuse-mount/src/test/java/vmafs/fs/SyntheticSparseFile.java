package vmafs.fs;

import vmafs.image.ImageContent;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A sparse file computed from offsets: data ranges whose bytes are a hash of their offset, zeros
 * elsewhere. Big files cost nothing, and every byte read through a mount can be checked.
 */
final class SyntheticSparseFile implements ImageContent {
  /** Allocated bytes [start, end); ranges are sorted, disjoint and not adjacent. */
  record Range(long start, long end) {
    long length() {
      return end - start;
    }
  }

  private static final byte[] ZEROS = new byte[64 * 1024];

  private final long size;
  private final List<Range> data;

  SyntheticSparseFile(long size, List<Range> data) {
    this.size = size;
    this.data = List.copyOf(data);
  }

  List<Range> data() {
    return data;
  }

  /** The byte at {@code offset}, hole or not. */
  byte byteAt(long offset) {
    for (Range r : data) {
      if (offset >= r.start() && offset < r.end()) {
        return dataByte(offset);
      }
    }
    return 0;
  }

  static byte dataByte(long offset) {
    return (byte) ((offset * 0x9E3779B97F4A7C15L) >>> 56);
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public long allocatedBytes() {
    return data.stream().mapToLong(Range::length).sum();
  }

  @Override
  public int read(long offset, ByteBuffer dst) {
    long end = Math.min(size, offset + dst.remaining());
    long p = offset;
    while (p < end) {
      long dataStart = nextData(p);
      if (dataStart < 0 || dataStart > p) {
        long holeEnd = dataStart < 0 ? end : Math.min(end, dataStart);
        while (p < holeEnd) {
          int n = (int) Math.min(ZEROS.length, holeEnd - p);
          dst.put(ZEROS, 0, n);
          p += n;
        }
      } else {
        long dataEnd = Math.min(end, nextHole(p));
        for (; p < dataEnd; p++) {
          dst.put(dataByte(p));
        }
      }
    }
    return (int) Math.max(0, end - offset);
  }

  @Override
  public long nextData(long offset) {
    for (Range r : data) {
      if (r.end() > offset) {
        return Math.max(r.start(), offset);
      }
    }
    return -1;
  }

  @Override
  public long nextHole(long offset) {
    for (Range r : data) {
      if (offset >= r.start() && offset < r.end()) {
        return r.end();
      }
    }
    return Math.min(offset, size);
  }
}
