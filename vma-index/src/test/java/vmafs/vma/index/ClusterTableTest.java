package vmafs.vma.index;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterTableTest {
  /** A header size as the official writer makes them: 12288 + a 512-byte blob table. */
  private static final long BASE = 12_800;

  @TempDir Path dir;

  @Test
  void entryCodecRoundTripsMaskAndOffset() {
    for (int mask : new int[] {0, 1, 0x8000, 0xFFFF, 0x1234}) {
      for (long offset : new long[] {0, 512, 12_800, ClusterTable.MAX_OFFSET}) {
        long e = ClusterTable.entry(mask, offset);
        assertTrue(ClusterTable.isPresent(e));
        assertEquals(mask, ClusterTable.mask(e));
        assertEquals(offset, ClusterTable.offset(e));
      }
    }
    assertFalse(ClusterTable.isPresent(0), "a zeroed table means: nothing seen");
  }

  @Test
  void storedEntriesKeepEveryMaskAndEveryAlignedOffset() {
    ClusterTable t = ClusterTable.allocate(64, BASE);
    long[] offsets = {BASE, BASE + 512, BASE + 512 + 4096 * 59, BASE + (1L << 40) + 512,
        ClusterTable.MAX_OFFSET & ~511L};
    int[] masks = {0, 1, 0x8000, 0xFFFF, 0x1234};
    int c = 0;
    for (int mask : masks) {
      for (long offset : offsets) {
        long off = offset < BASE ? BASE : offset;
        off = BASE + ((off - BASE) & ~511L);
        assertFalse(t.isSeen(c));
        t.set(c, ClusterTable.entry(mask, off));
        assertEquals(ClusterTable.entry(mask, off), t.get(c), "cluster " + c);
        assertTrue(t.isSeen(c), "cluster " + c);
        c++;
      }
    }
    // Neighbours are untouched by a 7-byte write in between.
    assertEquals(0, t.get(c));
    t.set(c + 1, ClusterTable.entry(0xFFFF, BASE));
    assertEquals(ClusterTable.entry(masks[4], BASE + ((offsets[4] - BASE) & ~511L)), t.get(c - 1));
    assertEquals(0, t.get(c));
    t.set(c + 1, 0);
    assertEquals(0, t.get(c + 1), "storing 0 clears an entry");
  }

  @Test
  void offsetsOffTheBlockGridAreRefused() {
    ClusterTable t = ClusterTable.allocate(4, BASE);
    assertThrows(IllegalArgumentException.class, () -> t.set(0, ClusterTable.entry(1, BASE + 100)));
    assertThrows(IllegalArgumentException.class, () -> t.set(0, ClusterTable.entry(1, BASE - 512)));
    assertEquals(0, t.get(0));
  }

  @Test
  void allocatedTableStartsEmptyAndKeepsEntries() {
    ClusterTable t = ClusterTable.allocate(1000, BASE);
    assertEquals(1000, t.length());
    for (long c = 0; c < 1000; c++) {
      assertEquals(0, t.get(c));
    }
    t.set(0, ClusterTable.entry(1, BASE + 512));
    t.set(999, ClusterTable.entry(0xFFFF, BASE + 1024));
    assertEquals(ClusterTable.entry(1, BASE + 512), t.get(0));
    assertEquals(ClusterTable.entry(0xFFFF, BASE + 1024), t.get(999));
  }

  @Test
  void writtenPagesAreSevenBytesLittleEndianAndMapBack() throws IOException {
    Path f = dir.resolve("index");
    long position = 4096; // a table need not start at the beginning of its file
    long entries = 5000;
    long offset = BASE + 0x1234_5678L * 512;
    long e = ClusterTable.entry(0x00F0, offset);
    ClusterTable t = ClusterTable.allocate(entries, BASE);
    t.set(4999, e);
    t.set(3, ClusterTable.entry(0xFFFF, BASE));
    int[] pages = t.sealed();
    assertArrayEquals(new int[] {0, 4999 / 256}, pages, "only the listed pages exist, ascending");
    assertArrayEquals(new int[] {16, 4}, t.pageBlocksInOrder(), "stored blocks per page");
    int crc;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      crc = t.writeTo(ch, position);
      assertEquals(position + 2 * ClusterTable.PAGE_BYTES, ch.size());
    }
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      long stored = 1L << 55 | 0x00F0L << 39 | 0x1234_5678L;
      // Page 19 is the second stored page; cluster 4999 is its entry 4999 % 256.
      assertEquals(stored, rawEntry(ch, position + ClusterTable.PAGE_BYTES + (4999 % 256) * 7));
      ByteBuffer all = ByteBuffer.allocate(2 * ClusterTable.PAGE_BYTES);
      ch.read(all, position);
      java.util.zip.CRC32C c = new java.util.zip.CRC32C();
      c.update(all.flip());
      assertEquals((int) c.getValue(), crc, "the CRC covers exactly what was written");
      ClusterTable again = ClusterTable.map(ch, position, entries, BASE, pages, t.pageBlocksInOrder());
      assertEquals(e, again.get(4999));
      assertEquals(ClusterTable.entry(0xFFFF, BASE), again.get(3));
      assertEquals(0, again.get(4998));
      assertEquals(0, again.get(1000), "a page never listed reads as never seen");
      assertEquals(4, again.storedBlocks(4999 / 256));
      assertThrows(IllegalStateException.class, () -> again.set(0, 0), "a loaded table is read-only");
    }
  }

  /**
   * A crafted header may declare a 256 TiB disk (2^32 clusters): the table costs what the archive
   * lists, a few pages, not 28 GiB.
   */
  @Test
  void aHugeDeclaredTableCostsOnlyItsListedPages() {
    long entries = 1L << 32;
    ClusterTable t = ClusterTable.allocate(entries, BASE);
    long[] clusters = {0, 1L << 27, (1L << 32) - 1};
    for (long c : clusters) {
      t.set(c, ClusterTable.entry(1, BASE + c * 512));
    }
    assertEquals(3, t.touchedPages());
    assertEquals(3L * ClusterTable.PAGE_BYTES, t.storedBytes());
    for (long c : clusters) {
      assertEquals(ClusterTable.entry(1, BASE + c * 512), t.get(c));
      assertEquals(0, t.get(c ^ 1));
    }
    assertEquals(1L << 27 >>> 8, t.nextTouchedPage(1));
    assertEquals(t.pageCount(), t.nextTouchedPage(((1L << 32) - 1 >>> 8) + 1));
    assertFalse(t.isTouched(5));
    assertEquals(0, t.storedBlocks(5));
  }

  /** Thousands of pages: every memory slab and every growth of the page directory. */
  @Test
  void manyPagesKeepTheirEntries() {
    long entries = 5000L * 256;
    ClusterTable t = ClusterTable.allocate(entries, BASE);
    for (long p = 4999; p >= 0; p -= 3) {
      t.set(p * 256 + (p % 256), ClusterTable.entry((int) (p & 0xFFFF), BASE + p * 4096));
    }
    for (long p = 0; p < 5000; p++) {
      long c = p * 256 + (p % 256);
      long want = (4999 - p) % 3 == 0 ? ClusterTable.entry((int) (p & 0xFFFF), BASE + p * 4096) : 0;
      assertEquals(want, t.get(c), "page " + p);
      assertEquals((4999 - p) % 3 == 0, t.isTouched(p), "page " + p);
    }
  }

  /** The 7 little-endian bytes at {@code at}. */
  private static long rawEntry(FileChannel ch, long at) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    b.limit(7);
    ch.read(b, at);
    b.limit(8);
    return b.getLong(0);
  }
}
