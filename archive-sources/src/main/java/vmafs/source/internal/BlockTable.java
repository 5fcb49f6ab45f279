package vmafs.source.internal;

import java.util.Arrays;

/**
 * Where each independently decodable block starts in the uncompressed stream. Shared by the lzop,
 * zstd-frame and gzip-checkpoint sources so that the position arithmetic exists once.
 */
public final class BlockTable {
  private final long[] starts;
  private final long size;

  /**
   * @param starts ascending uncompressed start offsets; {@code starts[0] == 0} unless empty
   * @param size the uncompressed stream length; the last block ends there
   */
  public BlockTable(long[] starts, long size) {
    for (int i = 0; i < starts.length; i++) {
      long prevEnd = i == 0 ? 0 : starts[i - 1];
      if (i == 0 ? starts[0] != 0 : starts[i] <= prevEnd) {
        throw new IllegalArgumentException("block starts must begin at 0 and increase: #" + i);
      }
    }
    if (starts.length > 0 ? size <= starts[starts.length - 1] : size != 0) {
      throw new IllegalArgumentException("stream size " + size + " does not fit the blocks");
    }
    this.starts = starts.clone();
    this.size = size;
  }

  int count() {
    return starts.length;
  }

  public long size() {
    return size;
  }

  public long start(int index) {
    return starts[index];
  }

  long end(int index) {
    return index + 1 < starts.length ? starts[index + 1] : size;
  }

  public int length(int index) {
    return Math.toIntExact(end(index) - start(index));
  }

  /** The block holding {@code position}, which must be in {@code [0, size)}. */
  public int indexOf(long position) {
    int i = Arrays.binarySearch(starts, position);
    return i >= 0 ? i : -i - 2;
  }
}
