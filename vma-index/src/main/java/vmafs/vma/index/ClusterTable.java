package vmafs.vma.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * One entry per cluster of a device, outside the Java heap: in direct memory while an index is
 * built for one use, or in a memory-mapped index file (so a 1 TiB disk's 16 M entries cost page
 * cache, not heap, and a remount parses nothing).
 *
 * <p>Callers see a 64-bit entry (a zero entry means "never seen"):
 * <pre>
 *   bit  63      PRESENT  the cluster appeared in the archive
 *   bits 62..47  mask     bit j set: 4 KiB block j is stored (clipped to the device end)
 *   bits 46..0   offset   stream offset of the cluster's first stored block (128 TiB range)
 * </pre>
 *
 * <p>Stored, an entry takes {@value #ENTRY_BYTES} bytes, little-endian: every block of a VMA stream
 * starts a multiple of 512 bytes after the header ({@code base}), since extents are 512 + n × 4096
 * bytes long, so the offset is kept as {@code (offset - base) / 512} in 39 bits (256 TiB):
 * <pre>
 *   bit  55      PRESENT
 *   bits 54..39  mask
 *   bits 38..0   (offset - base) / 512
 * </pre>
 */
public final class ClusterTable {
  public static final int ENTRY_BYTES = 7;
  static final long PRESENT = 1L << 63;
  static final int MASK_SHIFT = 47;
  static final long OFFSET_MASK = (1L << MASK_SHIFT) - 1;
  /** The largest stream offset an entry can hold. */
  public static final long MAX_OFFSET = OFFSET_MASK;

  /** Alignment of every block offset relative to the base (the VMA header size). */
  static final int OFFSET_UNIT_SHIFT = 9;
  private static final long STORED_PRESENT = 1L << 55;
  private static final int STORED_MASK_SHIFT = 39;
  private static final long STORED_OFFSET_MASK = (1L << STORED_MASK_SHIFT) - 1;

  /** 2^27 entries (896 MiB) per buffer: a ByteBuffer cannot address more than 2 GiB. */
  private static final int CHUNK_SHIFT = 27;
  private static final long CHUNK_ENTRIES = 1L << CHUNK_SHIFT;

  private final ByteBuffer[] chunks;
  private final long length;
  private final long base;

  private ClusterTable(ByteBuffer[] chunks, long length, long base) {
    this.chunks = chunks;
    this.length = length;
    this.base = base;
  }

  /**
   * A zeroed table in direct memory.
   *
   * @param base the stream offset block offsets are counted from: the archive's header size
   */
  public static ClusterTable allocate(long entries, long base) {
    ByteBuffer[] chunks = new ByteBuffer[chunkCount(entries)];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = ByteBuffer.allocateDirect(chunkBytes(entries, i)).order(ByteOrder.LITTLE_ENDIAN);
    }
    return new ClusterTable(chunks, entries, base);
  }

  /**
   * A table mapped from {@code channel} at {@code position} ({@code entries × ENTRY_BYTES} bytes).
   * The entries are little-endian on disk whatever the machine, so index files are portable.
   */
  public static ClusterTable map(FileChannel channel, long position, long entries, long base,
      FileChannel.MapMode mode) throws IOException {
    ByteBuffer[] chunks = new ByteBuffer[chunkCount(entries)];
    for (int i = 0; i < chunks.length; i++) {
      long at = position + bytes((long) i << CHUNK_SHIFT);
      chunks[i] = channel.map(mode, at, chunkBytes(entries, i)).order(ByteOrder.LITTLE_ENDIAN);
    }
    return new ClusterTable(chunks, entries, base);
  }

  /** Bytes a table of {@code entries} takes on disk. */
  public static long bytes(long entries) {
    return entries * ENTRY_BYTES;
  }

  private static int chunkCount(long entries) {
    return (int) ((entries + CHUNK_ENTRIES - 1) >>> CHUNK_SHIFT);
  }

  private static int chunkBytes(long entries, int chunk) {
    long first = (long) chunk << CHUNK_SHIFT;
    return (int) bytes(Math.min(CHUNK_ENTRIES, entries - first));
  }

  public long length() {
    return length;
  }

  private ByteBuffer chunkOf(long cluster) {
    return chunks[(int) (cluster >>> CHUNK_SHIFT)];
  }

  /** Byte position of the entry within its chunk. */
  private static int positionOf(long cluster) {
    return (int) (cluster & (CHUNK_ENTRIES - 1)) * ENTRY_BYTES;
  }

  public long get(long cluster) {
    ByteBuffer b = chunkOf(cluster);
    int at = positionOf(cluster);
    long stored = (b.getInt(at) & 0xFFFF_FFFFL) | (b.getShort(at + 4) & 0xFFFFL) << 32
        | (b.get(at + 6) & 0xFFL) << 48;
    if ((stored & STORED_PRESENT) == 0) {
      return 0;
    }
    int mask = (int) (stored >>> STORED_MASK_SHIFT) & 0xFFFF;
    return entry(mask, base + ((stored & STORED_OFFSET_MASK) << OFFSET_UNIT_SHIFT));
  }

  /** Whether the cluster was seen: one byte read, for the index pass's hot path. */
  boolean isSeen(long cluster) {
    return chunkOf(cluster).get(positionOf(cluster) + 6) < 0; // bit 55
  }

  /**
   * Stores {@code entry}. The offset of a present entry must lie at {@code base} plus a multiple of
   * 512, which every VMA block offset does; anything else is a caller's bug, not bad input.
   */
  void set(long cluster, long entry) {
    long stored = 0;
    if (isPresent(entry)) {
      long rel = offset(entry) - base;
      if (rel < 0 || (rel & ((1 << OFFSET_UNIT_SHIFT) - 1)) != 0
          || (rel >>> OFFSET_UNIT_SHIFT) > STORED_OFFSET_MASK) {
        throw new IllegalArgumentException("cluster " + cluster + ": block offset " + offset(entry)
            + " is not the table base " + base + " plus a multiple of 512");
      }
      stored = STORED_PRESENT | (long) mask(entry) << STORED_MASK_SHIFT | rel >>> OFFSET_UNIT_SHIFT;
    }
    ByteBuffer b = chunkOf(cluster);
    int at = positionOf(cluster);
    b.putInt(at, (int) stored);
    b.putShort(at + 4, (short) (stored >>> 32));
    b.put(at + 6, (byte) (stored >>> 48));
  }

  /** Copies every entry into {@code target} (same length). */
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
