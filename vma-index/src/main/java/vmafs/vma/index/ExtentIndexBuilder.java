package vmafs.vma.index;

import static vmafs.vma.VmaFormat.*;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import vmafs.vma.DeviceInfo;
import vmafs.vma.ExtentHeader;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.Progress;
import vmafs.vma.VmaHeader;
import vmafs.vma.VmaStreamReader;

/**
 * Builds an {@link ExtentIndex} from extent headers, in one sequential pass. Records, per device,
 * the location and mask of every cluster and every anomaly: missing clusters, duplicates (the
 * last copy wins), cluster numbers past the device end, mask bits past the device end, vmstate
 * order. Unknown dev_ids are malformed archives and fail at once.
 *
 * <p>Used directly by streaming consumers (extract from stdin feeds it the same headers it
 * writes data for), or through {@link #build}.
 */
public final class ExtentIndexBuilder {

  /** Where tables live: direct memory by default, a mapped index file when persisting. */
  @FunctionalInterface
  public interface TableFactory {
    ClusterTable create(DeviceInfo device) throws IOException;
  }

  private final VmaHeader header;
  private final Device[] byId = new Device[MAX_DEVICES];
  private final List<Device> devices = new ArrayList<>();
  private long extents;

  private static final class Device {
    final DeviceInfo info;
    final ClusterTable table;
    final long clusters;
    final boolean vmstate;
    long duplicates;
    long firstDuplicate = -1;
    long beyondEnd;
    long firstBeyondEnd = -1;
    long tailBits;
    long storedBlocks;
    long present;
    long nextVmstateCluster;
    long outOfOrder;

    Device(DeviceInfo info, ClusterTable table) {
      this.info = info;
      this.table = table;
      this.clusters = info.clusterCount();
      this.vmstate = info.isVmstate();
    }
  }

  public ExtentIndexBuilder(VmaHeader header, TableFactory tables) throws IOException {
    this.header = header;
    for (DeviceInfo d : header.devices()) {
      Device dev = new Device(d, tables.create(d));
      byId[d.id()] = dev;
      devices.add(dev);
    }
  }

  public ExtentIndexBuilder(VmaHeader header) throws IOException {
    this(header, d -> ClusterTable.allocate(d.clusterCount(), header.headerSize()));
  }

  /** Indexes every extent of {@code reader} (skipping data) and returns the index. */
  public static ExtentIndex build(VmaStreamReader reader, Progress progress) throws IOException {
    return build(reader, d -> ClusterTable.allocate(d.clusterCount(), reader.header().headerSize()), progress);
  }

  /** As {@link #build(VmaStreamReader, Progress)}, into tables from {@code tables} (an index file's). */
  public static ExtentIndex build(VmaStreamReader reader, TableFactory tables, Progress progress)
      throws IOException {
    ExtentIndexBuilder b = new ExtentIndexBuilder(reader.header(), tables);
    ExtentHeader e;
    while ((e = reader.nextExtent()) != null) {
      b.accept(e);
      progress.update(reader.position());
    }
    return b.finish(reader.position(), null);
  }

  /** Whether a cluster of a device has been recorded already (for streaming consumers). */
  public boolean seen(int devId, long cluster) {
    Device d = devId > 0 && devId < MAX_DEVICES ? byId[devId] : null;
    return d != null && cluster < d.clusters && d.table.isSeen(cluster);
  }

  /**
   * Records the entries of one extent.
   *
   * @throws IOException also when the tables cannot get memory for the clusters listed (an
   *     archive that lists clusters very sparsely over huge devices)
   */
  public void accept(ExtentHeader extent) throws IOException {
    try {
      record(extent);
    } catch (ClusterTable.TableMemoryException e) {
      throw new IOException("not enough memory for the index: " + e.getMessage() + " at extent "
          + extents + " (archive offset " + extent.offset() + ")", e);
    }
  }

  private void record(ExtentHeader extent) throws MalformedArchiveException {
    extents++;
    long offset = extent.dataOffset();
    for (int slot = 0; slot < SLOTS_PER_EXTENT; slot++) {
      long bi = extent.blockInfo(slot);
      int devId = blockDevId(bi);
      if (devId == 0) {
        continue; // unused slot: contributes nothing even with a non-zero mask
      }
      int mask = blockMask(bi);
      Device d = byId[devId];
      if (d == null) {
        throw new MalformedArchiveException("blockinfo dev_id",
            extent.offset() + EXT_OFF_BLOCKINFO + (long) slot * BLOCKINFO_SIZE,
            "dev_id " + devId + " (slot " + slot + ") is not a device of this archive");
      }
      record(d, blockCluster(bi), mask, offset);
      offset += (long) Integer.bitCount(mask) * BLOCK_SIZE;
    }
  }

  private void record(Device d, long cluster, int mask, long offset)
      throws MalformedArchiveException {
    if (d.vmstate) {
      if (cluster != d.nextVmstateCluster) {
        d.outOfOrder++;
      }
      d.nextVmstateCluster = cluster + 1;
    }
    if (cluster >= d.clusters) {
      if (d.beyondEnd++ == 0) {
        d.firstBeyondEnd = cluster;
      }
      return;
    }
    int kept = mask;
    if (mask != 0 && cluster == d.clusters - 1) {
      int valid = validMask(d.info.size(), cluster);
      if ((mask & ~valid) != 0) {
        d.tailBits++; // data for blocks past the end: consumed, never served
      }
      kept = mask & valid;
    }
    if (offset > ClusterTable.MAX_OFFSET) {
      throw new MalformedArchiveException("extent data", offset,
          "archive stream larger than " + ClusterTable.MAX_OFFSET + " bytes is not supported");
    }
    if (d.table.isSeen(cluster)) {
      long old = d.table.get(cluster);
      if (d.duplicates++ == 0) {
        d.firstDuplicate = cluster;
      }
      d.storedBlocks -= Integer.bitCount(ClusterTable.mask(old));
    } else {
      d.present++;
    }
    d.table.set(cluster, ClusterTable.entry(kept, offset)); // keeps the page's block count
    d.storedBlocks += Integer.bitCount(kept);
  }

  /** The first cluster never listed (a page never listed answers at its first cluster). */
  private static long firstUnseen(Device d) {
    for (long c = 0; c < d.clusters; c++) {
      if (!d.table.isSeen(c)) {
        return c;
      }
    }
    return -1;
  }

  /**
   * Completes the pass: counts missing clusters.
   *
   * @param streamLength where the archive stream ended
   * @param resources closed with the index (a mapped file), or null
   */
  public ExtentIndex finish(long streamLength, Closeable resources) {
    List<DeviceIndex> out = new ArrayList<>();
    for (Device d : devices) {
      long present = d.present;
      long firstMissing = -1;
      // Only an incomplete device is scanned for its first gap (a complete 1 TiB one is 16 M entries).
      if (present < d.clusters) {
        firstMissing = firstUnseen(d);
      }
      long missing = d.vmstate ? 0 : d.clusters - present;
      DeviceStats stats = new DeviceStats(present, missing, missing == 0 ? -1 : firstMissing,
          d.duplicates, d.firstDuplicate, d.beyondEnd, d.firstBeyondEnd, d.tailBits,
          d.storedBlocks, d.outOfOrder);
      d.table.sealed(); // the page list hole searches use, now that nothing changes
      out.add(new DeviceIndex(d.info, d.table, stats));
    }
    return new ExtentIndex(header, out, extents, streamLength, resources);
  }
}
