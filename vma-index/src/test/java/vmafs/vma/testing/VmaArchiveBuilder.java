package vmafs.vma.testing;

import static vmafs.vma.VmaFormat.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import vmafs.vma.ConfigBlob;
import vmafs.vma.write.VmaWriter;
import vmafs.vma.write.VmaWriter.DeviceSpec;

/**
 * Builds valid archives through the real {@link VmaWriter}: configs, devices with known contents,
 * a cluster order and an extent size. Tests that need unusual entries (duplicates, omissions,
 * explicit masks) pass a {@link Body} and drive the writer themselves.
 */
public final class VmaArchiveBuilder {
  /** Fixed so that tests can recognise it in extents and in output. */
  public static final byte[] UUID = {
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, (byte) 0x88,
      (byte) 0x99, (byte) 0xaa, (byte) 0xbb, (byte) 0xcc, (byte) 0xdd, (byte) 0xee, (byte) 0xff, 0x01};
  /** 2023-11-14 22:13:20 UTC. */
  public static final long CTIME = 1_700_000_000L;

  /** The cluster order of {@link #build()}. */
  public enum Order {
    /** Device after device, clusters ascending. */
    SEQUENTIAL,
    /** Cluster 0 of every device, then cluster 1, … (like {@code vma create}). */
    INTERLEAVED,
    /** Every (device, cluster) pair in a seeded random order. */
    SHUFFLED
  }

  /** Writes the clusters itself; the builder has registered the devices and closes the writer. */
  @FunctionalInterface
  public interface Body {
    void write(VmaWriter w) throws IOException;
  }

  private record Device(String name, long size, byte[] content) {}

  private final List<ConfigBlob> configs = new ArrayList<>();
  private final List<Device> devices = new ArrayList<>();
  private int slots = WRITER_SLOTS_PER_EXTENT;
  private Order order = Order.SEQUENTIAL;
  private long seed = 1;
  private long ctime = CTIME;

  private VmaArchiveBuilder() {}

  public static VmaArchiveBuilder archive() {
    return new VmaArchiveBuilder();
  }

  public VmaArchiveBuilder config(String name, byte[] data) {
    configs.add(new ConfigBlob(name, data));
    return this;
  }

  public VmaArchiveBuilder config(String name, String data) {
    return config(name, data.getBytes(StandardCharsets.UTF_8));
  }

  /** A device whose clusters {@link #build()} writes from {@code content}. */
  public VmaArchiveBuilder device(String name, byte[] content) {
    devices.add(new Device(name, content.length, content));
    return this;
  }

  /** A device whose clusters only a {@link Body} writes (e.g. a huge sparse one). */
  public VmaArchiveBuilder device(String name, long size) {
    devices.add(new Device(name, size, null));
    return this;
  }

  public VmaArchiveBuilder slots(int slotsPerExtent) {
    this.slots = slotsPerExtent;
    return this;
  }

  public VmaArchiveBuilder order(Order order) {
    this.order = order;
    return this;
  }

  public VmaArchiveBuilder seed(long seed) {
    this.seed = seed;
    return this;
  }

  public VmaArchiveBuilder ctime(long ctime) {
    this.ctime = ctime;
    return this;
  }

  /** Every cluster of every device exactly once, in the chosen order. */
  public ArchiveBytes build() throws IOException {
    return build(w -> {
      for (long[] dc : clusterOrder()) {
        Device d = devices.get((int) dc[0]);
        w.writeCluster((int) dc[0] + 1, dc[1], cluster(d.content(), dc[1]));
      }
    });
  }

  public ArchiveBytes build(Body body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<DeviceSpec> specs = devices.stream().map(d -> new DeviceSpec(d.name(), d.size())).toList();
    try (VmaWriter w = VmaWriter.create(out, UUID, ctime, configs, specs, slots)) {
      body.write(w);
    }
    return new ArchiveBytes(out.toByteArray());
  }

  /** (device index, cluster) pairs covering every cluster once. */
  private List<long[]> clusterOrder() {
    List<long[]> pairs = new ArrayList<>();
    for (int i = 0; i < devices.size(); i++) {
      for (long c = 0; c < clusterCount(devices.get(i).size()); c++) {
        pairs.add(new long[] {i, c});
      }
    }
    switch (order) {
      case SEQUENTIAL -> { }
      case INTERLEAVED -> pairs.sort((a, b) -> a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[0], b[0]));
      case SHUFFLED -> Collections.shuffle(pairs, new Random(seed));
    }
    return pairs;
  }

  /** Cluster {@code c} of {@code content}: 64 KiB, zero-padded past the end. */
  public static byte[] cluster(byte[] content, long c) {
    int from = (int) (c << CLUSTER_SHIFT);
    byte[] out = new byte[CLUSTER_SIZE];
    System.arraycopy(content, from, out, 0, Math.min(CLUSTER_SIZE, content.length - from));
    return out;
  }

  /** A copy of {@code content} with cluster {@code c} replaced, for duplicate tests. */
  public static byte[] withCluster(byte[] content, long c, byte[] cluster64k) {
    byte[] out = content.clone();
    int from = (int) (c << CLUSTER_SHIFT);
    System.arraycopy(cluster64k, 0, out, from, Math.min(CLUSTER_SIZE, content.length - from));
    return out;
  }

  static byte[] zeros(int n) {
    return new byte[n];
  }

  static boolean isZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "archive " + configs.size() + " configs, devices " + Arrays.toString(devices.stream().map(Device::name).toArray());
  }
}
