package vmafs.vma.fuzz;

import static vmafs.vma.VmaFormat.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import vmafs.vma.DeviceInfo;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.testing.FuzzInputs;
import vmafs.vma.testing.Fuzzing;

/**
 * The stream reader and the index builder on crafted archives: {@link VmaStreamReader} over a
 * stream that gives short reads and skips, {@link ExtentIndexBuilder#build}, then every device
 * image read back through {@link DeviceImage} and compared with a reference: the archive replayed
 * extent by extent, here, with the rules of docs/vma-format.md (the last copy of a cluster wins,
 * clear mask bits are zeros, clusters past the end are ignored). Wrong bytes are a finding.
 */
class VmaStreamFuzzTest {

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) throws Exception {
    byte[] data = FuzzInputs.repairVma(input);
    ExtentIndex[] built = new ExtentIndex[1];
    Fuzzing.check(data.length, Fuzzing.Budget.PARSER, () -> {
      VmaStreamReader r = VmaStreamReader.open(FuzzInputs.choppy(data));
      built[0] = ExtentIndexBuilder.build(r, Progress.NONE);
    });
    if (built[0] == null) {
      return; // rejected with a documented error
    }
    try (ExtentIndex index = built[0]) {
      compareWithReplay(index, data);
    }
  }

  /** Reads every cluster the archive lists, and one unaligned window per device. */
  private static void compareWithReplay(ExtentIndex index, byte[] data) throws Exception {
    if (index.streamLength() != data.length) {
      throw new AssertionError("indexed " + index.streamLength() + " of " + data.length + " bytes");
    }
    Map<Integer, Map<Long, byte[]>> replay = replay(index, data);
    for (DeviceIndex d : index.devices()) {
      DeviceImage img = new DeviceImage(d, FuzzInputs.source(data));
      Map<Long, byte[]> clusters = replay.get(d.info().id());
      for (long c : clusters.keySet()) {
        compare(img, clusters, c << CLUSTER_SHIFT, CLUSTER_SIZE);
      }
      long size = img.size();
      long at = size <= 1 ? 0 : Math.floorMod(Arrays.hashCode(data), size);
      compare(img, clusters, at, (int) Math.min(2 * CLUSTER_SIZE + 4093, size - at));
      long first = img.nextData(0);
      if (first >= 0 && first < size && !clusters.containsKey(first >>> CLUSTER_SHIFT)) {
        throw new AssertionError(d.info().name() + ": SEEK_DATA found data at " + first
            + " in a cluster the archive never lists");
      }
    }
  }

  private static void compare(DeviceImage img, Map<Long, byte[]> clusters, long at, int len)
      throws Exception {
    long size = img.size();
    int n = (int) Math.max(0, Math.min(len, size - at));
    ByteBuffer got = ByteBuffer.allocate(n);
    int read = img.read(at, got);
    byte[] expected = new byte[n];
    for (int i = 0; i < n; ) {
      long pos = at + i;
      long c = pos >>> CLUSTER_SHIFT;
      int from = (int) (pos & (CLUSTER_SIZE - 1));
      int k = Math.min(n - i, CLUSTER_SIZE - from);
      byte[] cl = clusters.get(c);
      if (cl != null) {
        System.arraycopy(cl, from, expected, i, k);
      }
      i += k;
    }
    if (read != n || !Arrays.equals(got.array(), expected)) {
      throw new AssertionError(img.info().name() + ": " + n + " bytes at " + at
          + " differ from the replayed archive (read " + read + ")");
    }
  }

  /** Cluster contents per device, last copy winning, from the raw bytes. */
  private static Map<Integer, Map<Long, byte[]>> replay(ExtentIndex index, byte[] data) {
    Map<Integer, Map<Long, byte[]>> out = new HashMap<>();
    Map<Integer, DeviceInfo> devices = new HashMap<>();
    for (DeviceIndex d : index.devices()) {
      out.put(d.info().id(), new HashMap<>());
      devices.put(d.info().id(), d.info());
    }
    ByteBuffer b = ByteBuffer.wrap(data);
    long pos = index.header().headerSize();
    while (pos < data.length) {
      int p = (int) pos;
      long at = pos + EXTENT_HEADER_SIZE;
      for (int slot = 0; slot < SLOTS_PER_EXTENT; slot++) {
        long bi = b.getLong(p + EXT_OFF_BLOCKINFO + slot * BLOCKINFO_SIZE);
        int dev = blockDevId(bi);
        if (dev == 0) {
          continue;
        }
        int mask = blockMask(bi);
        DeviceInfo d = devices.get(dev);
        long cluster = blockCluster(bi);
        if (cluster < d.clusterCount()) {
          byte[] cl = new byte[CLUSTER_SIZE];
          long src = at;
          int valid = validMask(d.size(), cluster);
          for (int j = 0; j < BLOCKS_PER_CLUSTER; j++) {
            if ((mask >>> j & 1) != 0) {
              if ((valid >>> j & 1) != 0) {
                System.arraycopy(data, (int) src, cl, j * BLOCK_SIZE, BLOCK_SIZE);
              }
              src += BLOCK_SIZE;
            }
          }
          out.get(dev).put(cluster, cl);
        }
        at += (long) Integer.bitCount(mask) * BLOCK_SIZE;
      }
      pos += EXTENT_HEADER_SIZE + (long) (b.getShort(p + EXT_OFF_BLOCK_COUNT) & 0xFFFF) * BLOCK_SIZE;
    }
    return out;
  }
}
