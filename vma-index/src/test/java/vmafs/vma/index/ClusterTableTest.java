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
  void allocatedTableStartsEmptyAndKeepsEntries() {
    ClusterTable t = ClusterTable.allocate(1000);
    assertEquals(1000, t.length());
    for (long c = 0; c < 1000; c++) {
      assertEquals(0, t.get(c));
    }
    t.set(0, ClusterTable.entry(1, 2));
    t.set(999, ClusterTable.entry(0xFFFF, 3));
    assertEquals(ClusterTable.entry(1, 2), t.get(0));
    assertEquals(ClusterTable.entry(0xFFFF, 3), t.get(999));
  }

  @Test
  void mappedTableIsLittleEndianOnDiskAndSurvivesRemapping() throws IOException {
    Path f = dir.resolve("index");
    long position = 4096; // a table need not start at the beginning of its file
    long entries = 5000;
    long e = ClusterTable.entry(0x00F0, 0x1234_5678_9AL);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ClusterTable t = ClusterTable.map(ch, position, entries, FileChannel.MapMode.READ_WRITE);
      t.set(4999, e);
      ClusterTable copy = ClusterTable.allocate(entries);
      t.copyTo(copy);
      assertEquals(e, copy.get(4999));
    }
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      assertEquals(e, rawEntry(ch, position + 4999 * 8));
      ClusterTable again = ClusterTable.map(ch, position, entries, FileChannel.MapMode.READ_ONLY);
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
      ClusterTable t = ClusterTable.map(ch, 0, entries, FileChannel.MapMode.READ_WRITE);
      assertEquals(entries, t.length());
      for (int i = 0; i < clusters.length; i++) {
        t.set(clusters[i], ClusterTable.entry(i + 1, clusters[i]));
      }
      for (int i = 0; i < clusters.length; i++) {
        assertEquals(ClusterTable.entry(i + 1, clusters[i]), t.get(clusters[i]));
        // Each entry lands at cluster × 8 in the file, whichever chunk holds it.
        assertEquals(ClusterTable.entry(i + 1, clusters[i]), rawEntry(ch, clusters[i] * 8));
      }
      assertEquals(0, t.get(CHUNK + 1));
      assertEquals(entries * 8, ch.size());
    }
  }

  private static long rawEntry(FileChannel ch, long at) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    ch.read(b, at);
    return b.getLong(0);
  }
}
