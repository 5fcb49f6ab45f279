package vmafs.vma.image;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.vma.testing.OpenArchive;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;
import vmafs.vma.testing.VmaArchiveBuilder.Order;

/** SEEK_DATA / SEEK_HOLE ({@code nextData} / {@code nextHole}) against the source's 4 KiB blocks. */
class HoleMapTest {
  @TempDir Path dir;

  /** The data ranges found by walking nextData/nextHole from 0. */
  private static List<long[]> walk(DeviceImage img) {
    List<long[]> out = new ArrayList<>();
    long pos = img.nextData(0);
    while (pos >= 0) {
      long hole = img.nextHole(pos);
      assertTrue(hole > pos, "nextHole(" + pos + ") = " + hole + " must be past a data offset");
      out.add(new long[] {pos, hole});
      pos = img.nextData(hole);
      assertTrue(pos < 0 || pos > hole, "nextData must move forward");
    }
    return out;
  }

  private static String str(List<long[]> ranges) {
    return ranges.stream().map(Arrays::toString).toList().toString();
  }

  @ParameterizedTest(name = "size {0}")
  @ValueSource(ints = {4097, 65_537, 1_000_003, 3_000_000, 67_108_864 + 12_345})
  void walkEqualsTheDataRangesOfTheSource(int size) throws IOException {
    byte[] src = Sources.mixed(size, size);
    try (OpenArchive a = OpenArchive.open(VmaArchiveBuilder.archive().order(Order.SHUFFLED)
        .device("drive-scsi0", src).build().writeTo(dir.resolve("a.vma")))) {
      DeviceImage img = a.image("drive-scsi0");
      assertEquals(str(Sources.dataRanges(src)), str(walk(img)));
    }
  }

  /** Over whole summary groups, their edges and arbitrary unaligned ranges, as the walk adds it up. */
  @Test
  void storedBytesOfARangeIsWhatTheDataRangesHold() throws IOException {
    int size = 3 * 67_108_864 + 12_345;
    byte[] src = Sources.mixed(size, 21);
    java.util.Arrays.fill(src, 67_108_864, 2 * 67_108_864, (byte) 7); // one full group
    List<long[]> ranges = Sources.dataRanges(src);
    try (OpenArchive a = OpenArchive.open(VmaArchiveBuilder.archive().order(Order.SHUFFLED)
        .device("drive-scsi0", src).build().writeTo(dir.resolve("a.vma")))) {
      DeviceImage img = a.image("drive-scsi0");
      assertEquals(img.index().storedBytes(), img.storedBytes(0, size));
      assertEquals(img.index().storedBytes(), img.storedBytes(-5, Long.MAX_VALUE));
      Random r = new Random(9);
      long[][] cases = {{0, 67_108_864}, {67_108_864, 2 * 67_108_864}, {67_108_864 - 1, 2 * 67_108_864 + 1},
          {size - 1, size}, {size, size + 10}, {5, 5}, {1000, 999}};
      for (long[] c : cases) {
        assertEquals(expectedData(ranges, c[0], c[1]), img.storedBytes(c[0], c[1]), c[0] + ".." + c[1]);
      }
      for (int i = 0; i < 300; i++) {
        long from = (long) (r.nextDouble() * size);
        long to = from + (long) (r.nextDouble() * (size - from + 10_000));
        assertEquals(expectedData(ranges, from, to), img.storedBytes(from, to), from + ".." + to);
      }
    }
  }

  private static long expectedData(List<long[]> ranges, long from, long to) {
    long sum = 0;
    for (long[] r : ranges) {
      sum += Math.max(0, Math.min(r[1], to) - Math.max(r[0], from));
    }
    return sum;
  }

  @Test
  void nextDataAndNextHoleAtEveryBlockOffset() throws IOException {
    byte[] src = Sources.mixed(2_000_001, 8);
    List<long[]> ranges = Sources.dataRanges(src);
    try (OpenArchive a = OpenArchive.open(VmaArchiveBuilder.archive().device("drive-scsi0", src).build()
        .writeTo(dir.resolve("a.vma")))) {
      DeviceImage img = a.image("drive-scsi0");
      Random r = new Random(4);
      for (long block = 0; block << BLOCK_SHIFT < src.length; block++) {
        long off = (block << BLOCK_SHIFT) + r.nextInt(BLOCK_SIZE);
        if (off >= src.length) {
          off = src.length - 1;
        }
        assertEquals(expectedNextData(ranges, off), img.nextData(off), "nextData(" + off + ")");
        assertEquals(expectedNextHole(ranges, off, src.length), img.nextHole(off), "nextHole(" + off + ")");
      }
    }
  }

  private static long expectedNextData(List<long[]> ranges, long off) {
    for (long[] r : ranges) {
      if (off < r[1]) {
        return Math.max(off, r[0]);
      }
    }
    return -1; // ENXIO
  }

  private static long expectedNextHole(List<long[]> ranges, long off, long size) {
    for (long[] r : ranges) {
      if (off >= r[0] && off < r[1]) {
        return r[1];
      }
    }
    return off;
  }

  @Test
  void pastTheLastDataThereIsNoDataAndTheEndIsAHole() throws IOException {
    // Data only in block 1 of a 10-block device whose last block is partial.
    int size = 9 * BLOCK_SIZE + 100;
    byte[] src = Sources.withDataBlocks(size, 1, 1);
    try (OpenArchive a = OpenArchive.open(VmaArchiveBuilder.archive().device("drive-scsi0", src).build()
        .writeTo(dir.resolve("a.vma")))) {
      DeviceImage img = a.image("drive-scsi0");
      assertEquals(BLOCK_SIZE, img.nextData(0));
      assertEquals(2 * BLOCK_SIZE, img.nextHole(BLOCK_SIZE));
      assertEquals(-1, img.nextData(2 * BLOCK_SIZE));
      assertEquals(-1, img.nextData(size - 1));
      assertEquals(-1, img.nextData(size), "at EOF");
      assertEquals(size, img.nextHole(size), "EOF counts as a hole");
      assertEquals(size, img.nextHole(size + 5000L));
      assertEquals(size - 1, img.nextHole(size - 1));
    }
  }

  @Test
  void partialLastBlockWithDataEndsAtTheDeviceSize() throws IOException {
    int size = 3 * BLOCK_SIZE + 10;
    byte[] src = Sources.withDataBlocks(size, 1, 3);
    try (OpenArchive a = OpenArchive.open(VmaArchiveBuilder.archive().device("drive-scsi0", src).build()
        .writeTo(dir.resolve("a.vma")))) {
      DeviceImage img = a.image("drive-scsi0");
      assertEquals(3 * BLOCK_SIZE, img.nextData(0));
      assertEquals(size, img.nextHole(3 * BLOCK_SIZE + 1));
    }
  }

  /**
   * A 64 GiB device with data in a handful of clusters and mask-0 entries everywhere else, as
   * Proxmox writes a mostly empty disk: the walk finds exactly those clusters, quickly.
   */
  @Test
  void hugeSparseDeviceHasOnlyItsFewDataRanges() throws IOException {
    long size = 64L << 30;
    long clusters = clusterCount(size);
    long[] dataClusters = {0, 1, 1023, 1024, 500_000, clusters - 1};
    byte[] zero = new byte[CLUSTER_SIZE];
    byte[] full = Sources.random(CLUSTER_SIZE, 1);
    byte[] halves = Sources.withDataBlocks(CLUSTER_SIZE, 2, 3, 4, 15); // blocks 3-4 and 15
    Path p = VmaArchiveBuilder.archive().device("drive-scsi0", size).build(w -> {
      int next = 0;
      for (long c = 0; c < clusters; c++) {
        if (next < dataClusters.length && dataClusters[next] == c) {
          w.writeCluster(1, c, next % 2 == 0 ? full : halves);
          next++;
        } else {
          w.writeClusterWithMask(1, c, 0, zero);
        }
      }
    }).writeTo(dir.resolve("huge.vma"));
    try (OpenArchive a = OpenArchive.open(p)) {
      assertTrue(a.index().isComplete());
      DeviceImage img = a.image("drive-scsi0");
      assertEquals(size, img.size());
      List<long[]> expected = new ArrayList<>();
      for (int i = 0; i < dataClusters.length; i++) {
        long base = dataClusters[i] << CLUSTER_SHIFT;
        if (i % 2 == 0) {
          expected.add(new long[] {base, base + CLUSTER_SIZE});
        } else {
          expected.add(new long[] {base + 3 * BLOCK_SIZE, base + 5 * BLOCK_SIZE});
          expected.add(new long[] {base + 15 * BLOCK_SIZE, base + CLUSTER_SIZE});
        }
      }
      assertEquals(str(expected), str(walk(img)));
      ByteBuffer buf = ByteBuffer.allocate(CLUSTER_SIZE);
      img.read(500_000L << CLUSTER_SHIFT, buf);
      assertArrayEquals(full, buf.array());
      buf.clear();
      img.read(123_456L << CLUSTER_SHIFT, buf);
      assertArrayEquals(zero, buf.array());
    }
  }

  @Test
  void missingClustersAreHoles() throws IOException {
    byte[] src = Sources.random(5 * CLUSTER_SIZE, 3);
    // Clusters 1 and 2 never appear in the archive.
    Path p = VmaArchiveBuilder.archive().device("drive-scsi0", src).build(w -> {
      for (long c : new long[] {0, 3, 4}) {
        w.writeCluster(1, c, VmaArchiveBuilder.cluster(src, c));
      }
    }).writeTo(dir.resolve("a.vma"));
    try (OpenArchive a = OpenArchive.open(p)) {
      DeviceImage img = a.image("drive-scsi0");
      List<long[]> expected = List.of(new long[] {0, CLUSTER_SIZE}, new long[] {3 * CLUSTER_SIZE, src.length});
      assertEquals(str(expected), str(walk(img)));
    }
  }
}
