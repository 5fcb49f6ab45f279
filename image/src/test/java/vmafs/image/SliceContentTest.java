package vmafs.image;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SliceContentTest {
  /** A 1 MiB disk with data in sectors 10-19, 100 and the last one, the rest holes. */
  static SparseImage disk() {
    SparseImage d = new SparseImage(1 << 20);
    Random r = new Random(1);
    byte[] a = new byte[10 * 512];
    r.nextBytes(a);
    d.write(10 * 512, a);
    byte[] b = new byte[512];
    r.nextBytes(b);
    d.write(100 * 512, b);
    d.write((1 << 20) - 512, b);
    return d;
  }

  @Test
  void readsAreTranslatedAndClipped() throws IOException {
    SparseImage d = disk();
    SliceContent s = SliceContent.of(d, 15 * 512 + 7, 100 * 512);
    assertEquals(100 * 512, s.size());
    byte[] all = new byte[100 * 512 + 999];
    ByteBuffer dst = ByteBuffer.wrap(all, 0, all.length);
    assertEquals(100 * 512, s.read(0, dst));
    assertEquals(100 * 512, dst.position());
    assertArrayEquals(d.bytes(15 * 512 + 7, 100 * 512), java.util.Arrays.copyOf(all, 100 * 512));
    assertEquals(0, all[100 * 512], "nothing written past the slice");
    assertEquals(0, s.read(100 * 512, ByteBuffer.allocate(10)));
    ByteBuffer mid = ByteBuffer.allocate(64);
    mid.position(3);
    assertEquals(61, s.read(100 * 512 - 61, mid.slice(3, 61)));
    ByteBuffer at = ByteBuffer.allocate(20);
    at.position(5);
    assertEquals(15, s.read(500, at));
    assertEquals(20, at.position());
    assertArrayEquals(d.bytes(15 * 512 + 7 + 500, 15), java.util.Arrays.copyOfRange(at.array(), 5, 20));
  }

  @Test
  void theHoleMapIsTheDisksInsideTheSlice() throws IOException {
    SparseImage d = disk();
    long off = 15 * 512 + 7;
    SliceContent s = SliceContent.of(d, off, 200 * 512);
    List<long[]> ranges = walk(s);
    assertEquals(2, ranges.size());
    assertArrayEquals(new long[] {0, 20 * 512 - off}, ranges.get(0), "data from the slice start");
    assertArrayEquals(new long[] {100 * 512 - off, 101 * 512 - off}, ranges.get(1));
    assertEquals(-1, s.nextData(101 * 512 - off));
    assertEquals(s.size() - 1, s.nextHole(s.size() - 1), "in a hole already");
    assertEquals(s.size(), s.nextHole(s.size()));
    assertEquals(-1, s.nextData(s.size()));
    assertEquals(5 * 512 - 7 + 512, s.dataBytes(0, s.size()));
    assertEquals(4096, s.allocatedBytes(), "3065 bytes of data, rounded up to 4 KiB");
  }

  @Test
  void theLastSectorOfTheDiskIsReachable() throws IOException {
    SparseImage d = disk();
    SliceContent s = SliceContent.of(d, (1 << 20) - 4096, 4096);
    assertEquals(4096 - 512, s.nextData(0));
    assertEquals(4096, s.nextHole(4096 - 512));
    assertEquals(4096, s.allocatedBytes());
    SliceContent empty = SliceContent.of(d, 200 * 512, 512);
    assertEquals(-1, empty.nextData(0));
    assertEquals(0, empty.nextHole(0));
    assertEquals(0, empty.allocatedBytes());
  }

  /**
   * A disk still being indexed: all data to SEEK_DATA, known data growing. The slice's st_blocks
   * follows what is known on every stat, and keeps the count once the disk says it is final.
   */
  @Test
  void whileTheDisksAllocationIsNotFinalEachCountIsWhatIsKnownSoFar() throws IOException {
    SparseImage d = disk();
    long[] known = {0};
    boolean[] settled = {false};
    ImageContent indexing = new ImageContent() {
      public long size() {
        return d.size();
      }

      public long allocatedBytes() {
        return known[0];
      }

      public int read(long offset, ByteBuffer dst) throws IOException {
        return d.read(offset, dst);
      }

      public long nextData(long offset) {
        return offset < size() ? offset : -1;
      }

      public long nextHole(long offset) {
        return size();
      }

      @Override
      public long knownDataBytes(long from, long to) {
        return Math.max(0, Math.min(to, known[0]) - from);
      }

      @Override
      public boolean allocationSettled() {
        return settled[0];
      }
    };
    SliceContent s = SliceContent.of(indexing, 8192, 65536);
    assertEquals(0, s.allocatedBytes(), "nothing known yet, though all of it is data to SEEK_DATA");
    assertEquals(0, s.nextData(0));
    known[0] = 8192 + 5000;
    assertEquals(8192, s.allocatedBytes(), "5000 bytes known, in 4 KiB units");
    assertFalse(s.allocationSettled());
    known[0] = 8192 + 20000;
    settled[0] = true;
    assertEquals(20480, s.allocatedBytes());
    known[0] = 1 << 20; // a final count is not asked for again
    assertEquals(20480, s.allocatedBytes());
    assertTrue(s.allocationSettled());
  }

  @Test
  void aRangeOutsideTheDiskIsRefused() {
    SparseImage d = disk();
    assertThrows(IllegalArgumentException.class, () -> SliceContent.of(d, -1, 10));
    assertThrows(IllegalArgumentException.class, () -> SliceContent.of(d, 0, (1 << 20) + 1));
    assertThrows(IllegalArgumentException.class, () -> SliceContent.of(d, 1 << 20, 1));
    assertThrows(IllegalArgumentException.class, () -> SliceContent.of(d, 10, Long.MAX_VALUE));
  }

  @Test
  void dataBytesByDefaultWalksTheDataRuns() throws IOException {
    SparseImage d = disk();
    assertEquals(12 * 512, d.dataBytes(0, d.size()));
    assertEquals(5 * 512, d.dataBytes(15 * 512, 99 * 512));
    assertEquals(1, d.dataBytes(100 * 512 + 511, 100 * 512 + 512));
    assertEquals(0, d.dataBytes(30 * 512, 40 * 512));
    assertEquals(0, d.dataBytes(5, 5));
  }

  @Test
  void anInconsistentHoleMapIsAnErrorNotALoop() {
    ImageContent broken = new ImageContent() {
      public long size() {
        return 1000;
      }

      public long allocatedBytes() {
        return 0;
      }

      public int read(long offset, ByteBuffer dst) {
        return 0;
      }

      public long nextData(long offset) {
        return 10;
      }

      public long nextHole(long offset) {
        return 10;
      }
    };
    assertThrows(IOException.class, () -> broken.dataBytes(0, 1000));
  }

  static List<long[]> walk(ImageContent c) throws IOException {
    List<long[]> out = new ArrayList<>();
    long pos = 0;
    while (pos < c.size()) {
      long d = c.nextData(pos);
      if (d < 0) {
        break;
      }
      long h = c.nextHole(d);
      out.add(new long[] {d, h});
      pos = h;
    }
    return out;
  }
}
