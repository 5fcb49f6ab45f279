package vmafs.vma.index;

import static vmafs.vma.VmaFormat.*;

import java.util.ArrayList;
import java.util.List;
import vmafs.vma.DeviceInfo;

/**
 * Where every cluster of one device lives in the archive stream, plus a coarse summary that lets
 * hole searches skip empty stretches of a huge sparse disk without touching their entries.
 */
public final class DeviceIndex {
  /**
   * Clusters per summary group: a page of the table, 256 × 64 KiB = 16 MiB of disk per counter.
   */
  public static final int GROUP_SHIFT = ClusterTable.PAGE_SHIFT;
  public static final int GROUP_CLUSTERS = 1 << GROUP_SHIFT;
  static final int FULL_GROUP_BLOCKS = ClusterTable.FULL_PAGE_BLOCKS;

  private final DeviceInfo info;
  private final ClusterTable table;
  private final DeviceStats stats;

  DeviceIndex(DeviceInfo info, ClusterTable table, DeviceStats stats) {
    if (table.length() != info.clusterCount()) {
      throw new IllegalArgumentException("table length " + table.length() + " != cluster count "
          + info.clusterCount() + " of " + info.name());
    }
    this.info = info;
    this.table = table;
    this.stats = stats;
  }

  public DeviceInfo info() {
    return info;
  }

  public DeviceStats stats() {
    return stats;
  }

  public long clusterCount() {
    return table.length();
  }

  /** The raw table entry; decode with {@link ClusterTable#isPresent}, {@code mask}, {@code offset}. */
  public long entry(long cluster) {
    return table.get(cluster);
  }

  ClusterTable table() {
    return table;
  }

  /** Stored 4 KiB blocks in the clusters of summary group {@code g}. */
  public int groupStoredBlocks(long g) {
    return table.storedBlocks(g);
  }

  public long groupCount() {
    return table.pageCount();
  }

  /**
   * The first group at or after {@code g} with a listed cluster, or {@link #groupCount()}: a hole
   * search crosses a crafted 256 TiB device that lists nothing in one step, not 16 M.
   */
  public long nextListedGroup(long g) {
    return table.nextTouchedPage(g);
  }

  /**
   * The size the device's image has: the header's size, except for the legacy vmstate stream,
   * whose registered size is the guest RAM and whose real length is what was written.
   */
  public long imageSize() {
    if (info.isVmstate()) {
      return Math.min(info.size(), stats.presentClusters() << CLUSTER_SHIFT);
    }
    return info.size();
  }

  /** Bytes held by stored blocks, the last block clipped to the device end. */
  public long storedBytes() {
    long bytes = stats.storedBlocks() * BLOCK_SIZE;
    long last = (imageSize() - 1) >>> BLOCK_SHIFT; // index of the last (maybe partial) block
    if (imageSize() % BLOCK_SIZE != 0 && isStoredBlock(last)) {
      bytes -= BLOCK_SIZE - imageSize() % BLOCK_SIZE;
    }
    return bytes;
  }

  /** Bytes of present clusters that are all-zero blocks (not stored), clipped to the device end. */
  public long zeroBytes() {
    long present = stats.presentClusters() << CLUSTER_SHIFT;
    long lastCluster = clusterCount() - 1;
    if (lastCluster >= 0 && ClusterTable.isPresent(entry(lastCluster))) {
      present -= ((lastCluster + 1) << CLUSTER_SHIFT) - info.size();
    }
    return Math.max(0, present - storedBytes());
  }

  private boolean isStoredBlock(long block) {
    long e = entry(block >>> 4);
    return ClusterTable.isPresent(e) && (ClusterTable.mask(e) >>> (block & 15) & 1) != 0;
  }

  /** Up to {@code limit} missing cluster ranges as [first, last] pairs, for messages. */
  public List<long[]> missingRanges(int limit) {
    List<long[]> out = new ArrayList<>();
    long c = 0;
    long n = clusterCount();
    while (c < n && out.size() < limit) {
      if (ClusterTable.isPresent(entry(c))) {
        c++;
        continue;
      }
      long start = c;
      while (c < n && !ClusterTable.isPresent(entry(c))) {
        long page = c >>> GROUP_SHIFT;
        if ((c & (GROUP_CLUSTERS - 1)) == 0 && !table.isTouched(page)) {
          c = Math.min(n, table.nextTouchedPage(page) << GROUP_SHIFT); // pages never listed
        } else {
          c++;
        }
      }
      out.add(new long[] {start, c - 1});
    }
    return out;
  }
}
