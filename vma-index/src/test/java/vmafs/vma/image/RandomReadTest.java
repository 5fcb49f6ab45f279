package vmafs.vma.image;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.vma.testing.OpenArchive;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;
import vmafs.vma.testing.VmaArchiveBuilder.Order;

/**
 * Reads at arbitrary offsets and lengths equal the source, including reads that cross block,
 * cluster and extent boundaries and reads of the partial last cluster, into heap and direct
 * buffers whose position is not 0.
 */
class RandomReadTest {
  /** 58 clusters per extent and one extra block past a multiple of 4 KiB: every boundary kind. */
  private static final int SIZE = 58 * CLUSTER_SIZE * 3 + 5 * BLOCK_SIZE + 123;

  private static final int GUARD = 7;
  private static final byte SENTINEL = 0x5A;

  @TempDir static Path dir;
  static byte[] source;
  static OpenArchive archive;

  @BeforeAll
  static void writeArchive() throws IOException {
    source = Sources.mixed(SIZE, 77);
    // Shuffled and interleaved with a second device, so that neighbouring clusters of the image
    // are far apart in the archive and reads must stitch pieces from several extents.
    archive = OpenArchive.open(VmaArchiveBuilder.archive().order(Order.SHUFFLED).seed(3)
        .device("drive-scsi0", source).device("drive-scsi1", Sources.random(SIZE / 3, 1)).build()
        .writeTo(dir.resolve("random.vma")));
  }

  @AfterAll
  static void close() throws IOException {
    archive.close();
  }

  @ParameterizedTest(name = "direct={0}")
  @ValueSource(booleans = {false, true})
  void thousandsOfRandomReadsEqualTheSource(boolean direct) throws IOException {
    DeviceImage img = archive.image("drive-scsi0");
    Random r = new Random(direct ? 1 : 2);
    for (int i = 0; i < 2000; i++) {
      long offset;
      int length;
      switch (i % 4) {
        // Around a cluster boundary.
        case 0 -> offset = Math.max(0, ((long) r.nextInt(SIZE >> CLUSTER_SHIFT) << CLUSTER_SHIFT) - r.nextInt(9000));
        // Around the end of the device, the partial last cluster and block.
        case 1 -> offset = Math.max(0, SIZE - r.nextInt(3 * CLUSTER_SIZE));
        default -> offset = r.nextInt(SIZE);
      }
      // Now and then a read spanning more than one whole extent.
      length = i % 100 == 0 ? r.nextInt(2 * 58 * CLUSTER_SIZE) : r.nextInt(3 * CLUSTER_SIZE);
      assertReadMatches(img, offset, length, direct, 1 + r.nextInt(100));
    }
  }

  private static void assertReadMatches(DeviceImage img, long offset, int length, boolean direct,
      int position) throws IOException {
    ByteBuffer buf = direct ? ByteBuffer.allocateDirect(position + length + GUARD)
        : ByteBuffer.allocate(position + length + GUARD);
    // Sentinels around the window: a read must not write outside [position, position + n).
    for (int i = 0; i < position; i++) {
      buf.put(i, SENTINEL);
    }
    for (int i = position + length; i < buf.capacity(); i++) {
      buf.put(i, SENTINEL);
    }
    buf.position(position).limit(position + length);
    int n = img.read(offset, buf);
    int expected = (int) Math.max(0, Math.min(length, SIZE - offset));
    String where = "read(" + offset + ", " + length + ")";
    assertEquals(expected, n, where);
    assertEquals(position + n, buf.position(), where + " position");
    byte[] got = new byte[n];
    buf.get(position, got);
    assertArrayEquals(Arrays.copyOfRange(source, (int) offset, (int) offset + n), got, where);
    buf.limit(buf.capacity());
    for (int i = 0; i < position; i++) {
      assertEquals(SENTINEL, buf.get(i), where + " wrote before the position");
    }
    for (int i = position + length; i < buf.capacity(); i++) {
      assertEquals(SENTINEL, buf.get(i), where + " wrote past the limit");
    }
  }

  @Test
  void readsAtAndPastTheEndReturnNothing() throws IOException {
    DeviceImage img = archive.image("drive-scsi0");
    assertEquals(0, img.read(SIZE, ByteBuffer.allocate(10)));
    assertEquals(0, img.read(SIZE + 100_000L, ByteBuffer.allocate(10)));
    assertEquals(1, img.read(SIZE - 1, ByteBuffer.allocate(10)));
  }

  @Test
  void negativeOffsetIsRejected() {
    DeviceImage img = archive.image("drive-scsi0");
    assertThrows(IllegalArgumentException.class, () -> img.read(-1, ByteBuffer.allocate(1)));
  }

  @Test
  void everySingleBlockReadsBackWithOneByteReads() throws IOException {
    // One byte at the start, middle and end of every 4 KiB block: pins the per-block offset maths.
    DeviceImage img = archive.image("drive-scsi0");
    ByteBuffer one = ByteBuffer.allocate(1);
    for (long block = 0; block << BLOCK_SHIFT < SIZE; block++) {
      for (long at : new long[] {block << BLOCK_SHIFT, (block << BLOCK_SHIFT) + 2047, (block << BLOCK_SHIFT) + 4095}) {
        if (at >= SIZE) {
          continue;
        }
        one.clear();
        assertEquals(1, img.read(at, one));
        assertEquals(source[(int) at], one.get(0), "byte " + at);
      }
    }
  }
}
