package vmafs.vma.index;

/**
 * What one pass over the archive saw of one device. Cluster numbers are -1 where there is none.
 *
 * @param presentClusters clusters that appeared at least once
 * @param missingClusters clusters that never appeared (vmstate: not counted, it has no fixed length)
 * @param firstMissing the lowest missing cluster
 * @param duplicateClusters entries for a cluster that had already appeared (the last copy is kept)
 * @param firstDuplicate the first cluster seen twice
 * @param beyondEndEntries entries whose cluster number lies past the device end (ignored)
 * @param firstBeyondEnd the first such cluster number
 * @param tailBitsPastEnd entries with mask bits for blocks past the device end (pre-2020 writers;
 *     their data is skipped)
 * @param storedBlocks stored 4 KiB blocks inside the device
 * @param outOfOrder vmstate only: entries that broke the required 0, 1, 2, … order
 */
public record DeviceStats(
    long presentClusters,
    long missingClusters,
    long firstMissing,
    long duplicateClusters,
    long firstDuplicate,
    long beyondEndEntries,
    long firstBeyondEnd,
    long tailBitsPastEnd,
    long storedBlocks,
    long outOfOrder) {

  /**
   * What keeps the device from restoring exactly, one item per kind of problem, e.g.
   * {@code "12 missing clusters, the first is cluster 40 (byte offset 2621440)"}; empty if none.
   */
  public java.util.List<String> problems() {
    java.util.List<String> out = new java.util.ArrayList<>();
    if (missingClusters > 0) {
      out.add(missingClusters + " missing clusters, the first is cluster " + firstMissing
          + " (byte offset " + (firstMissing << 16) + ")");
    }
    if (duplicateClusters > 0) {
      out.add(duplicateClusters + " duplicate cluster entries, the first for cluster " + firstDuplicate);
    }
    if (beyondEndEntries > 0) {
      out.add(beyondEndEntries + " entries past the device end, the first for cluster " + firstBeyondEnd);
    }
    if (outOfOrder > 0) {
      out.add(outOfOrder + " vmstate entries out of order");
    }
    return out;
  }

  /** Whether the device would restore completely and exactly. */
  public boolean isComplete() {
    return missingClusters == 0 && duplicateClusters == 0 && beyondEndEntries == 0 && outOfOrder == 0;
  }
}
