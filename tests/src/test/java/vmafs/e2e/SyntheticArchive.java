package vmafs.e2e;

import static vmafs.vma.VmaFormat.*;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import vmafs.vma.ConfigBlob;
import vmafs.vma.write.VmaWriter;

/**
 * Streams a huge sparse VMA quickly: a disk of any virtual size with data clusters scattered over
 * it, every other cluster a mask-0 entry, and stretches written out of order. Cluster contents
 * are a function of (seed, cluster), so a test can check any byte without keeping the image.
 *
 * <p>Run as a program for benchmarks:
 * {@code java -cp … vmafs.e2e.SyntheticArchive OUT.vma VIRTUAL_BYTES DATA_BYTES [SEED]}
 */
public final class SyntheticArchive {
  private final long size;
  private final long dataClusters;
  private final long seed;

  public SyntheticArchive(long size, long dataBytes, long seed) {
    this.size = size;
    this.dataClusters = Math.min(clusterCount(size), dataBytes / CLUSTER_SIZE);
    this.seed = seed;
  }

  public long size() {
    return size;
  }

  /** Whether {@code cluster} holds data: every k-th cluster, k chosen to spread the data evenly. */
  public boolean isData(long cluster) {
    long stride = Math.max(1, clusterCount(size) / Math.max(1, dataClusters));
    return dataClusters > 0 && cluster % stride == stride / 2 && cluster / stride < dataClusters;
  }

  /**
   * The content of a data cluster: pseudo-random, with its last 4 KiB block left zero so that
   * partial masks and holes inside clusters are exercised too.
   */
  public void fill(long cluster, byte[] buf) {
    Random r = new Random(seed * 0x9E3779B97F4A7C15L + cluster);
    r.nextBytes(buf);
    java.util.Arrays.fill(buf, CLUSTER_SIZE - BLOCK_SIZE, CLUSTER_SIZE, (byte) 0);
    ByteBuffer.wrap(buf).putLong(0, cluster); // never an all-zero first block
  }

  /** Writes the archive: one device, drive-scsi0. Stretches of 4096 clusters go in reverse order. */
  public void write(OutputStream out) throws IOException {
    VmaWriter w = VmaWriter.create(out, new byte[16], 1_700_000_000L,
        List.of(new ConfigBlob("qemu-server.conf", "name: synthetic\n".getBytes())),
        List.of(new VmaWriter.DeviceSpec("drive-scsi0", size)), WRITER_SLOTS_PER_EXTENT);
    byte[] buf = new byte[CLUSTER_SIZE];
    long clusters = clusterCount(size);
    long stretch = 4096;
    for (long base = 0; base < clusters; base += stretch) {
      long end = Math.min(clusters, base + stretch);
      boolean reverse = (base / stretch) % 3 == 1; // out-of-order parts, as live backups have
      for (long i = 0; i < end - base; i++) {
        long c = reverse ? end - 1 - i : base + i;
        if (isData(c)) {
          fill(c, buf);
          w.writeCluster(1, c, buf);
        } else {
          w.writeZeroCluster(1, c);
        }
      }
    }
    w.close();
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 3) {
      System.err.println("usage: SyntheticArchive OUT.vma VIRTUAL_BYTES DATA_BYTES [SEED]");
      System.exit(2);
    }
    SyntheticArchive a = new SyntheticArchive(Long.parseLong(args[1]), Long.parseLong(args[2]),
        args.length > 3 ? Long.parseLong(args[3]) : 1);
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(Path.of(args[0])), 1 << 20)) {
      a.write(out);
    }
  }
}
