package vmafs.vma.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * One 64-bit entry per cluster of a device, outside the Java heap: in direct memory while an index
 * is built for one use, or in a memory-mapped index file (so a 1 TiB disk's 16 M entries cost
 * page cache, not heap, and a remount parses nothing).
 *
 * <p>Entry layout (a zero entry means "never seen"):
 * <pre>
 *   bit  63      PRESENT  the cluster appeared in the archive
 *   bits 62..47  mask     bit j set: 4 KiB block j is stored (clipped to the device end)
 *   bits 46..0   offset   stream offset of the cluster's first stored block (128 TiB range)
 * </pre>
 */
public final class ClusterTable {
  public static final int ENTRY_BYTES = 8;
  static final long PRESENT = 1L << 63;
  static final int MASK_SHIFT = 47;
  static final long OFFSET_MASK = (1L << MASK_SHIFT) - 1;
  /** The largest stream offset an entry can hold. */
  public static final long MAX_OFFSET = OFFSET_MASK;

  /** 2^27 entries (1 GiB) per buffer: a ByteBuffer cannot address more than 2 GiB. */
  private static final int CHUNK_SHIFT = 27;
  private static final long CHUNK_ENTRIES = 1L << CHUNK_SHIFT;

  private final ByteBuffer[] chunks;
  private final long length;

  private ClusterTable(ByteBuffer[] chunks, long length) {
    this.chunks = chunks;
    this.length = length;
  }

  /** A zeroed table in direct memory. */
  public static ClusterTable allocate(long entries) {
    ByteBuffer[] chunks = new ByteBuffer[chunkCount(entries)];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = ByteBuffer.allocateDirect(chunkBytes(entries, i)).order(ByteOrder.nativeOrder());
    }
    return new ClusterTable(chunks, entries);
  }

  /**
   * A table mapped from {@code channel} at {@code position} ({@code entries × 8} bytes). The
   * entries are little-endian on disk whatever the machine, so index files are portable.
   */
  public static ClusterTable map(FileChannel channel, long position, long entries,
      FileChannel.MapMode mode) throws IOException {
    ByteBuffer[] chunks = new ByteBuffer[chunkCount(entries)];
    for (int i = 0; i < chunks.length; i++) {
      long at = position + ((long) i << CHUNK_SHIFT) * ENTRY_BYTES;
      chunks[i] = channel.map(mode, at, chunkBytes(entries, i)).order(ByteOrder.LITTLE_ENDIAN);
    }
    return new ClusterTable(chunks, entries);
  }

  private static int chunkCount(long entries) {
    return (int) ((entries + CHUNK_ENTRIES - 1) >>> CHUNK_SHIFT);
  }

  private static int chunkBytes(long entries, int chunk) {
    long first = (long) chunk << CHUNK_SHIFT;
    return (int) (Math.min(CHUNK_ENTRIES, entries - first) * ENTRY_BYTES);
  }

  public long length() {
    return length;
  }

  public long get(long cluster) {
    return chunks[(int) (cluster >>> CHUNK_SHIFT)].getLong(
        (int) (cluster & (CHUNK_ENTRIES - 1)) * ENTRY_BYTES);
  }

  void set(long cluster, long entry) {
    chunks[(int) (cluster >>> CHUNK_SHIFT)].putLong(
        (int) (cluster & (CHUNK_ENTRIES - 1)) * ENTRY_BYTES, entry);
  }

  /** Copies every entry into {@code target} (same length), converting byte order if needed. */
  void copyTo(ClusterTable target) {
    for (long c = 0; c < length; c++) {
      target.set(c, get(c));
    }
  }

  // ---- entry codec ----

  static long entry(int mask, long offset) {
    return PRESENT | ((long) mask << MASK_SHIFT) | offset;
  }

  public static boolean isPresent(long entry) {
    return entry < 0; // PRESENT is the sign bit
  }

  public static int mask(long entry) {
    return (int) (entry >>> MASK_SHIFT) & 0xFFFF;
  }

  public static long offset(long entry) {
    return entry & OFFSET_MASK;
  }
}
