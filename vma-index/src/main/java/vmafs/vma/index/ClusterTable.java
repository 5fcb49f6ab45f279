package vmafs.vma.index;

import static vmafs.vma.VmaFormat.BLOCKS_PER_CLUSTER;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One entry per cluster of a device, outside the Java heap, stored in pages of {@value
 * #PAGE_CLUSTERS} entries that exist only once a cluster of theirs is listed: memory and index-file
 * size grow with what the archive lists, not with the size its header claims (a crafted 13 KiB
 * archive may declare 256 TiB disks). Pages live in direct memory while an index is built, or in a
 * memory-mapped index file (so a 1 TiB disk's 16 M entries cost page cache, not heap, and a remount
 * parses nothing).
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
 *
 * <p>A page is also the unit of the hole summary: the table counts the stored blocks of each page,
 * so hole searches skip empty or full pages (and pages never listed) without reading entries.
 * Written by one thread; read by any number once built.
 */
public final class ClusterTable {
  public static final int ENTRY_BYTES = 7;
  static final long PRESENT = 1L << 63;
  static final int MASK_SHIFT = 47;
  static final long OFFSET_MASK = (1L << MASK_SHIFT) - 1;
  /** The largest stream offset an entry can hold. */
  public static final long MAX_OFFSET = OFFSET_MASK;

  /** Entries per page: 256 clusters, 16 MiB of disk, 1792 bytes. */
  public static final int PAGE_SHIFT = 8;
  public static final int PAGE_CLUSTERS = 1 << PAGE_SHIFT;
  public static final int PAGE_BYTES = PAGE_CLUSTERS * ENTRY_BYTES;
  /** Stored blocks of a page whose clusters are all full. */
  public static final int FULL_PAGE_BLOCKS = PAGE_CLUSTERS * BLOCKS_PER_CLUSTER;

  /** Alignment of every block offset relative to the base (the VMA header size). */
  static final int OFFSET_UNIT_SHIFT = 9;
  private static final long STORED_PRESENT = 1L << 55;
  private static final int STORED_MASK_SHIFT = 39;
  private static final long STORED_OFFSET_MASK = (1L << STORED_MASK_SHIFT) - 1;

  /** Pages per direct-memory slab while building (112 KiB): few buffers, little waste. */
  private static final int MEMORY_SLAB_SHIFT = 6;
  /** Pages per mapping of a loaded table (896 MiB): a ByteBuffer addresses at most 2 GiB. */
  private static final int MAPPED_SLAB_SHIFT = 19;

  private final long length;
  private final long base;
  private final int slabShift;
  private final boolean writable;
  private ByteBuffer[] slabs;
  /** Stored blocks per page, by slot. */
  private int[] pageBlocks;
  private int pages;
  /** Page number -> slot: open addressing, linear probing, keys stored +1 (0 = empty). */
  private int[] keys;
  private int[] slots;
  /** Touched page numbers in ascending order, computed after the last {@link #set}. */
  private volatile int[] sorted;
  /**
   * The page the writer touched last and its slot: an extent lists neighbouring clusters, so the
   * pass mostly stays on one page. Used only by the one thread that builds the table.
   */
  private int writerPage = -1;
  private int writerSlot;

  private ClusterTable(long length, long base, int slabShift, boolean writable, int capacity) {
    if (length < 0 || length > (1L << 32)) {
      throw new IllegalArgumentException("table of " + length + " entries");
    }
    this.length = length;
    this.base = base;
    this.slabShift = slabShift;
    this.writable = writable;
    this.slabs = new ByteBuffer[0];
    this.pageBlocks = new int[Math.max(capacity, 16)];
    int cap = Integer.highestOneBit(Math.max(32, capacity * 2)) << 1;
    this.keys = new int[cap];
    this.slots = new int[cap];
  }

  /**
   * An empty table in direct memory; pages are allocated as clusters are set.
   *
   * @param base the stream offset block offsets are counted from: the archive's header size
   */
  public static ClusterTable allocate(long entries, long base) {
    return new ClusterTable(entries, base, MEMORY_SLAB_SHIFT, true, 16);
  }

  /**
   * A read-only table whose pages are mapped from {@code channel} at {@code position}, one after
   * another in the order of {@code pageNumbers} (ascending) as {@link #writeTo} wrote them. The
   * entries are little-endian on disk whatever the machine, so index files are portable.
   *
   * @param pageBlocks the stored blocks of each page, as {@link #pageBlocksInOrder} reported them
   */
  static ClusterTable map(FileChannel channel, long position, long entries, long base,
      int[] pageNumbers, int[] pageBlocks) throws IOException {
    ClusterTable t = new ClusterTable(entries, base, MAPPED_SLAB_SHIFT, false, pageNumbers.length);
    int perSlab = 1 << MAPPED_SLAB_SHIFT;
    t.slabs = new ByteBuffer[(pageNumbers.length + perSlab - 1) >>> MAPPED_SLAB_SHIFT];
    for (int s = 0; s < t.slabs.length; s++) {
      int n = Math.min(perSlab, pageNumbers.length - s * perSlab);
      t.slabs[s] = channel.map(FileChannel.MapMode.READ_ONLY,
          position + (long) s * perSlab * PAGE_BYTES, (long) n * PAGE_BYTES)
          .order(ByteOrder.LITTLE_ENDIAN);
    }
    for (int i = 0; i < pageNumbers.length; i++) {
      if (pageNumbers[i] < 0 || pageNumbers[i] >= t.pageCount()
          || (i > 0 && pageNumbers[i] <= pageNumbers[i - 1])) {
        throw new IllegalArgumentException("page numbers must ascend within the table: #" + i);
      }
      t.put(pageNumbers[i], i);
      t.pageBlocks[i] = pageBlocks[i];
      t.pages = i + 1;
    }
    t.sorted = pageNumbers.clone();
    return t;
  }

  /** Bytes the stored pages take in an index file. */
  long storedBytes() {
    return (long) pages * PAGE_BYTES;
  }

  public long length() {
    return length;
  }

  /** Pages the table's length spans (listed or not). */
  long pageCount() {
    return pagesFor(length);
  }

  /** Pages a table of {@code entries} spans. */
  static int pagesFor(long entries) {
    return (int) ((entries + PAGE_CLUSTERS - 1) >>> PAGE_SHIFT);
  }

  /** Pages that exist: those with at least one listed cluster. */
  int touchedPages() {
    return pages;
  }

  // ---- page directory ----

  private static int hash(int page) {
    int h = page * 0x9E3779B1;
    return h ^ (h >>> 16);
  }

  /** The slot of {@code page}, or -1 if it has no entries. */
  private int slotOf(int page) {
    int mask = keys.length - 1;
    for (int i = hash(page) & mask; ; i = (i + 1) & mask) {
      int k = keys[i];
      if (k == page + 1) {
        return slots[i];
      }
      if (k == 0) {
        return -1;
      }
    }
  }

  private void put(int page, int slot) {
    if ((pages + 1) * 2 > keys.length) {
      grow();
    }
    int mask = keys.length - 1;
    int i = hash(page) & mask;
    while (keys[i] != 0) {
      i = (i + 1) & mask;
    }
    keys[i] = page + 1;
    slots[i] = slot;
  }

  private void grow() {
    int[] oldKeys = keys;
    int[] oldSlots = slots;
    keys = new int[oldKeys.length * 2];
    slots = new int[oldKeys.length * 2];
    int mask = keys.length - 1;
    for (int j = 0; j < oldKeys.length; j++) {
      if (oldKeys[j] != 0) {
        int i = hash(oldKeys[j] - 1) & mask;
        while (keys[i] != 0) {
          i = (i + 1) & mask;
        }
        keys[i] = oldKeys[j];
        slots[i] = oldSlots[j];
      }
    }
  }

  /** A new zeroed page for {@code page}; fails cleanly when memory runs out. */
  private int newPage(int page) {
    int slot = pages;
    int slab = slot >>> slabShift;
    if (slab == slabs.length) {
      slabs = Arrays.copyOf(slabs, Math.max(4, slabs.length * 2));
    }
    if (slabs[slab] == null) {
      try {
        slabs[slab] = ByteBuffer.allocateDirect(PAGE_BYTES << slabShift).order(ByteOrder.LITTLE_ENDIAN);
      } catch (OutOfMemoryError e) {
        throw new TableMemoryException(pages, e);
      }
    }
    if (slot == pageBlocks.length) {
      pageBlocks = Arrays.copyOf(pageBlocks, slot * 2);
    }
    put(page, slot);
    pages++;
    sorted = null;
    return slot;
  }

  /** The table could not get memory for another page. */
  public static final class TableMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TableMemoryException(int pages, OutOfMemoryError cause) {
      super("out of memory for the cluster tables after " + pages + " pages ("
          + ((long) pages * PAGE_BYTES >> 20) + " MiB)", cause);
    }
  }

  private ByteBuffer slabOf(int slot) {
    return slabs[slot >>> slabShift];
  }

  private int positionOf(int slot, long cluster) {
    return ((slot & ((1 << slabShift) - 1)) * PAGE_CLUSTERS + (int) (cluster & (PAGE_CLUSTERS - 1)))
        * ENTRY_BYTES;
  }

  // ---- entries ----

  public long get(long cluster) {
    int slot = slotOf((int) (cluster >>> PAGE_SHIFT));
    if (slot < 0) {
      return 0;
    }
    ByteBuffer b = slabOf(slot);
    int at = positionOf(slot, cluster);
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
    int slot = writerSlotOf((int) (cluster >>> PAGE_SHIFT));
    return slot >= 0 && slabOf(slot).get(positionOf(slot, cluster) + 6) < 0; // bit 55
  }

  /** {@link #slotOf} for the building thread, remembering the last page. */
  private int writerSlotOf(int page) {
    if (page != writerPage) {
      int slot = slotOf(page);
      if (slot < 0) {
        return -1;
      }
      writerPage = page;
      writerSlot = slot;
    }
    return writerSlot;
  }

  /**
   * Stores {@code entry} and keeps its page's block count. The offset of a present entry must lie
   * at {@code base} plus a multiple of 512, which every VMA block offset does; anything else is a
   * caller's bug, not bad input.
   */
  void set(long cluster, long entry) {
    if (!writable) {
      throw new IllegalStateException("a loaded table is read-only");
    }
    if (cluster < 0 || cluster >= length) {
      throw new IndexOutOfBoundsException("cluster " + cluster + " of " + length);
    }
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
    int page = (int) (cluster >>> PAGE_SHIFT);
    int slot = writerSlotOf(page);
    if (slot < 0) {
      if (stored == 0) {
        return; // clearing what was never there
      }
      slot = newPage(page);
    }
    ByteBuffer b = slabOf(slot);
    int at = positionOf(slot, cluster);
    int oldMask = b.get(at + 6) < 0 ? (int) (b.getInt(at + 3) >>> 15) & 0xFFFF : 0; // bits 54..39
    pageBlocks[slot] += Integer.bitCount(mask(entry)) - Integer.bitCount(oldMask);
    b.putInt(at, (int) stored);
    b.putShort(at + 4, (short) (stored >>> 32));
    b.put(at + 6, (byte) (stored >>> 48));
  }

  // ---- pages, for the summary and hole searches ----

  /** Stored 4 KiB blocks in the clusters of page {@code page} (0 for a page never listed). */
  int storedBlocks(long page) {
    int slot = page < 0 || page >= pageCount() ? -1 : slotOf((int) page);
    return slot < 0 ? 0 : pageBlocks[slot];
  }

  /** Whether any cluster of page {@code page} was listed. */
  boolean isTouched(long page) {
    return page >= 0 && page < pageCount() && slotOf((int) page) >= 0;
  }

  /** The first touched page at or after {@code page}, or {@link #pageCount()} if none. */
  long nextTouchedPage(long page) {
    int[] s = sealed();
    if (page >= pageCount()) {
      return pageCount();
    }
    int i = Arrays.binarySearch(s, (int) Math.max(0, page));
    i = i >= 0 ? i : -i - 1;
    return i < s.length ? s[i] : pageCount();
  }

  /** The first page at or after {@code page} that is not touched (may be {@link #pageCount()}). */
  long nextUntouchedPage(long page) {
    long p = Math.max(0, page);
    while (p < pageCount() && isTouched(p)) {
      p++;
    }
    return p;
  }

  /** Ascending page numbers of the touched pages (computed once, after the last {@link #set}). */
  int[] sealed() {
    int[] s = sorted;
    if (s == null) {
      s = new int[pages];
      int n = 0;
      for (int k : keys) {
        if (k != 0) {
          s[n++] = k - 1;
        }
      }
      Arrays.sort(s);
      sorted = s;
    }
    return s;
  }

  /**
   * Writes the touched pages in ascending page order to {@code ch} at {@code position} with plain
   * writes (a full disk is then an {@link IOException}, never a fault through a mapping).
   *
   * @return the CRC32C of what was written
   */
  int writeTo(FileChannel ch, long position) throws IOException {
    CRC32C crc = new CRC32C();
    long at = position;
    for (int page : sealed()) {
      int slot = slotOf(page);
      ByteBuffer b = slabOf(slot).duplicate();
      int from = positionOf(slot, (long) page << PAGE_SHIFT);
      b.limit(from + PAGE_BYTES).position(from);
      crc.update(b.duplicate());
      while (b.hasRemaining()) {
        at += ch.write(b, at);
      }
    }
    return (int) crc.getValue();
  }

  /** Stored blocks of each touched page, in the order of {@link #sealed()}. */
  int[] pageBlocksInOrder() {
    int[] s = sealed();
    int[] out = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      out[i] = pageBlocks[slotOf(s[i])];
    }
    return out;
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
