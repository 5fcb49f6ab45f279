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
  /** Entries per chunk: a ByteBuffer addresses at most 2 GiB, so tables are split at 2^27 entries. */
  private static final long CHUNK = 1L << 27;
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
  void mappedTableIsSevenBytesLittleEndianOnDiskAndSurvivesRemapping() throws IOException {
    Path f = dir.resolve("index");
    long position = 4096; // a table need not start at the beginning of its file
    long entries = 5000;
    long offset = BASE + 0x1234_5678L * 512;
    long e = ClusterTable.entry(0x00F0, offset);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ClusterTable t = ClusterTable.map(ch, position, entries, BASE, FileChannel.MapMode.READ_WRITE);
      t.set(4999, e);
      ClusterTable copy = ClusterTable.allocate(entries, BASE);
      t.copyTo(copy);
      assertEquals(e, copy.get(4999));
    }
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      assertEquals(position + entries * 7, ch.size());
      long stored = 1L << 55 | 0x00F0L << 39 | 0x1234_5678L;
      assertEquals(stored, rawEntry(ch, position + 4999 * 7));
      ClusterTable again = ClusterTable.map(ch, position, entries, BASE, FileChannel.MapMode.READ_ONLY);
      assertEquals(e, again.get(4999));
      assertEquals(0, again.get(4998));
    }
  }

  /** More than 2^27 entries (a 8 TiB disk) spread over two mapped chunks of a sparse file. */
  @Test
  void tableLargerThanOneChunkAddressesEveryChunk() throws IOException {
    Path f = dir.resolve("big-index");
    long entries = CHUNK + 10;
    long[] clusters = {0, CHUNK - 1, CHUNK, CHUNK + 9};
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ClusterTable t = ClusterTable.map(ch, 0, entries, BASE, FileChannel.MapMode.READ_WRITE);
      assertEquals(entries, t.length());
      for (int i = 0; i < clusters.length; i++) {
        t.set(clusters[i], ClusterTable.entry(i + 1, BASE + clusters[i] * 512));
      }
      for (int i = 0; i < clusters.length; i++) {
        assertEquals(ClusterTable.entry(i + 1, BASE + clusters[i] * 512), t.get(clusters[i]));
        // Each entry lands at cluster × 7 in the file, whichever chunk holds it.
        assertEquals(1L << 55 | (long) (i + 1) << 39 | clusters[i], rawEntry(ch, clusters[i] * 7));
      }
      assertEquals(0, t.get(CHUNK + 1));
      assertEquals(entries * 7, ch.size());
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
