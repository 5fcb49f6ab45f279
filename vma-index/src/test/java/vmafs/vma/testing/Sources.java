package vmafs.vma.testing;

import static vmafs.vma.VmaFormat.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Device contents with a known shape, and the facts tests derive from them (which 4 KiB blocks
 * hold data) independently of the code under test.
 */
public final class Sources {
  private Sources() {}

  /** Random bytes: every block is data. */
  public static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /**
   * A mix the writer must get exactly right: whole zero clusters, clusters with some zero 4 KiB
   * blocks, random blocks, and blocks whose only non-zero byte is their first or last (a zero
   * test that stops early or looks at the wrong block would drop those).
   */
  public static byte[] mixed(int size, long seed) {
    Random r = new Random(seed);
    byte[] b = new byte[size];
    for (int cluster = 0; cluster < size; cluster += CLUSTER_SIZE) {
      if (r.nextInt(5) == 0) {
        continue; // an all-zero cluster
      }
      for (int block = cluster; block < Math.min(size, cluster + CLUSTER_SIZE); block += BLOCK_SIZE) {
        int end = Math.min(size, block + BLOCK_SIZE);
        switch (r.nextInt(4)) {
          case 0 -> { } // zero block
          case 1 -> b[block] = (byte) (1 + r.nextInt(255));
          case 2 -> b[end - 1] = (byte) (1 + r.nextInt(255));
          default -> {
            for (int i = block; i < end; i++) {
              b[i] = (byte) r.nextInt();
            }
          }
        }
      }
    }
    return b;
  }

  /** Only the listed 4 KiB blocks hold data (random bytes). */
  public static byte[] withDataBlocks(int size, long seed, long... blocks) {
    Random r = new Random(seed);
    byte[] b = new byte[size];
    for (long block : blocks) {
      int from = (int) (block << BLOCK_SHIFT);
      for (int i = from; i < Math.min(size, from + BLOCK_SIZE); i++) {
        b[i] = (byte) (1 + r.nextInt(255));
      }
    }
    return b;
  }

  /**
   * The data ranges SEEK_DATA/SEEK_HOLE must report: maximal runs of 4 KiB blocks with a non-zero
   * byte, as [start, end) pairs, the last one clipped to the size.
   */
  public static List<long[]> dataRanges(byte[] b) {
    List<long[]> out = new ArrayList<>();
    long start = -1;
    for (int block = 0; block < b.length; block += BLOCK_SIZE) {
      boolean data = !VmaArchiveBuilder.isZero(b, block, Math.min(b.length, block + BLOCK_SIZE));
      if (data && start < 0) {
        start = block;
      } else if (!data && start >= 0) {
        out.add(new long[] {start, block});
        start = -1;
      }
    }
    if (start >= 0) {
      out.add(new long[] {start, b.length});
    }
    return out;
  }

  /** Number of 4 KiB blocks of {@code b} that hold a non-zero byte. */
  public static long dataBlocks(byte[] b) {
    return dataRanges(b).stream().mapToLong(r -> (r[1] - r[0] + BLOCK_SIZE - 1) / BLOCK_SIZE).sum();
  }
}
