package vmafs.vma.index;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;
import static vmafs.vma.testing.ArchiveBytes.blockInfoAt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.OpenArchive;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/** What the index records about archives that would not restore exactly, and what reads give. */
class IndexStatsTest {
  @TempDir Path dir;

  private OpenArchive open(ArchiveBytes a) throws IOException {
    return OpenArchive.open(a.writeTo(dir.resolve("a.vma")));
  }

  @Test
  void completeArchiveHasCleanStats() throws IOException {
    byte[] src = Sources.mixed(1_000_001, 1);
    try (OpenArchive a = open(VmaArchiveBuilder.archive().device("drive-scsi0", src).build())) {
      DeviceStats s = a.index().device("drive-scsi0").orElseThrow().stats();
      assertEquals(new DeviceStats(clusterCount(src.length), 0, -1, 0, -1, 0, -1, 0, Sources.dataBlocks(src), 0), s);
      assertTrue(s.isComplete());
    }
  }

  @Test
  void omittedClustersAreCountedAsMissingAndReadAsZeros() throws IOException {
    byte[] src = Sources.random(10 * CLUSTER_SIZE, 2);
    long[] omitted = {3, 7, 8};
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device("drive-scsi0", src).build(w -> {
      for (long c = 0; c < 10; c++) {
        if (Arrays.binarySearch(omitted, c) < 0) {
          w.writeCluster(1, c, VmaArchiveBuilder.cluster(src, c));
        }
      }
    });
    byte[] expected = src.clone();
    for (long c : omitted) {
      Arrays.fill(expected, (int) (c << CLUSTER_SHIFT), (int) ((c + 1) << CLUSTER_SHIFT), (byte) 0);
    }
    try (OpenArchive a = open(bytes)) {
      DeviceIndex d = a.index().device("drive-scsi0").orElseThrow();
      assertEquals(3, d.stats().missingClusters());
      assertEquals(3, d.stats().firstMissing());
      assertEquals(7, d.stats().presentClusters());
      assertFalse(d.stats().isComplete());
      assertFalse(a.index().isComplete());
      assertEquals("[[3, 3], [7, 8]]", d.missingRanges(10).stream().map(Arrays::toString).toList().toString());
      assertArrayEquals(expected, a.readAll("drive-scsi0"));
    }
  }

  /**
   * A cluster written twice: the last copy wins, including its zero blocks (a block the first copy
   * stored must read as zeros when the second copy says it is zero).
   */
  @Test
  void duplicateClusterIsCountedAndTheLastCopyWins() throws IOException {
    byte[] src = Sources.random(4 * CLUSTER_SIZE, 3);
    byte[] second = Sources.withDataBlocks(CLUSTER_SIZE, 4, 0, 5, 15);
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device("drive-scsi0", src).build(w -> {
      for (long c = 0; c < 4; c++) {
        w.writeCluster(1, c, VmaArchiveBuilder.cluster(src, c));
      }
      w.writeCluster(1, 2, second);
    });
    byte[] expected = VmaArchiveBuilder.withCluster(src, 2, second);
    try (OpenArchive a = open(bytes)) {
      DeviceStats s = a.index().device("drive-scsi0").orElseThrow().stats();
      assertEquals(1, s.duplicateClusters());
      assertEquals(2, s.firstDuplicate());
      assertEquals(0, s.missingClusters());
      assertFalse(s.isComplete());
      assertEquals(Sources.dataBlocks(expected), s.storedBlocks(), "blocks of the replaced copy are not counted");
      assertArrayEquals(expected, a.readAll("drive-scsi0"));
    }
  }

  /** A cluster number past the device end (crafted: the writer refuses it) is counted and ignored. */
  @Test
  void entryPastTheDeviceEndIsCountedAndIgnored() throws IOException {
    byte[] src = Sources.random(3 * CLUSTER_SIZE, 5);
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device("drive-scsi0", src).device("drive-scsi1", src).build();
    long e = bytes.extentAt(0);
    // Slot 2 holds cluster 2 of drive-scsi0; make it cluster 7 of a 3-cluster device.
    long slot2 = blockInfoAt(e, 2);
    assertEquals(2, blockCluster(bytes.u64(slot2)));
    bytes.putU64(slot2, blockInfo(0xFFFF, 1, 7)).rehashExtent(e);
    byte[] expected = src.clone();
    Arrays.fill(expected, 2 * CLUSTER_SIZE, 3 * CLUSTER_SIZE, (byte) 0);
    try (OpenArchive a = open(bytes)) {
      DeviceStats s = a.index().device("drive-scsi0").orElseThrow().stats();
      assertEquals(1, s.beyondEndEntries());
      assertEquals(7, s.firstBeyondEnd());
      assertEquals(1, s.missingClusters());
      assertEquals(2, s.firstMissing());
      assertFalse(s.isComplete());
      assertArrayEquals(expected, a.readAll("drive-scsi0"));
      // The skipped entry's 16 blocks are still consumed: the next device's data is where it was.
      assertArrayEquals(src, a.readAll("drive-scsi1"));
      assertTrue(a.index().device("drive-scsi1").orElseThrow().stats().isComplete());
    }
  }

  /**
   * Pre-2020 archives set mask bits (with garbage data) for blocks past the device end. The data
   * is consumed and never served; the device itself reads exactly; it is still complete.
   */
  @ParameterizedTest(name = "size {0}")
  @ValueSource(ints = {5000, 3 * BLOCK_SIZE, CLUSTER_SIZE + 1})
  void maskBitsPastTheDeviceEndAreConsumedAndIgnored(int size) throws IOException {
    byte[] garbage = Sources.random(CLUSTER_SIZE, 6); // every block non-zero
    byte[] other = Sources.mixed(200_000, 7);
    long last = clusterCount(size) - 1;
    byte[] src = Sources.random(size, 8);
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device("drive-efidisk0", size).device("drive-scsi0", other)
        .build(w -> {
          for (long c = 0; c < last; c++) {
            w.writeCluster(1, c, VmaArchiveBuilder.cluster(src, c));
          }
          // The last cluster: all 16 bits, as an old writer did.
          w.writeClusterWithMask(1, last, 0xFFFF, garbage);
          for (long c = 0; c < clusterCount(other.length); c++) {
            w.writeCluster(2, c, VmaArchiveBuilder.cluster(other, c));
          }
        });
    byte[] expected = src.clone();
    int lastBase = (int) (last << CLUSTER_SHIFT);
    System.arraycopy(garbage, 0, expected, lastBase, size - lastBase);
    long blocksInside = (size - lastBase + BLOCK_SIZE - 1) / BLOCK_SIZE;
    try (OpenArchive a = open(bytes)) {
      DeviceStats s = a.index().device("drive-efidisk0").orElseThrow().stats();
      assertEquals(1, s.tailBitsPastEnd());
      assertTrue(s.isComplete(), "tail bits do not make an archive incomplete");
      assertEquals(last * BLOCKS_PER_CLUSTER + blocksInside, s.storedBlocks());
      assertArrayEquals(expected, a.readAll("drive-efidisk0"));
      assertArrayEquals(other, a.readAll("drive-scsi0"));
    }
  }

  @Test
  void vmstateOutOfOrderIsCounted() throws IOException {
    byte[] ram = Sources.random(3 * CLUSTER_SIZE, 9);
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device(VMSTATE_DEVICE, ram).build(w -> {
      for (long c : new long[] {0, 2, 1}) {
        w.writeCluster(1, c, VmaArchiveBuilder.cluster(ram, c));
      }
    });
    try (OpenArchive a = open(bytes)) {
      DeviceStats s = a.index().device(VMSTATE_DEVICE).orElseThrow().stats();
      assertTrue(s.outOfOrder() > 0);
      assertFalse(s.isComplete());
      assertEquals(0, s.missingClusters(), "vmstate has no fixed length: nothing counts as missing");
    }
  }

  /** stored + zero bytes cover exactly the device, the partial last block counted to the end. */
  @ParameterizedTest(name = "size {0}")
  @ValueSource(ints = {1, 4097, 65_537, 1_000_003})
  void storedAndZeroBytesAddUpToTheDeviceSize(int size) throws IOException {
    byte[] src = Sources.mixed(size, size);
    src[size - 1] = 1; // the partial last block is data, so clipping matters
    long stored = 0;
    for (long[] r : Sources.dataRanges(src)) {
      stored += r[1] - r[0];
    }
    try (OpenArchive a = open(VmaArchiveBuilder.archive().device("drive-scsi0", src).build())) {
      DeviceIndex d = a.index().device("drive-scsi0").orElseThrow();
      assertEquals(stored, d.storedBytes());
      assertEquals(size - stored, d.zeroBytes());
    }
  }
}
