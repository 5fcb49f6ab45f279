package vmafs.cli;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.IncompleteArchiveException;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.index.DeviceStats;

/**
 * The rule extract and mount share: an archive that would not restore exactly is refused, naming
 * what is wrong, unless the user asked for --partial (missing clusters then read as zeros and
 * duplicates use the last copy). Clusters past a device's end or vmstate out of order cannot be
 * served sensibly and are refused even then.
 */
final class Completeness {
  private static final Logger log = LoggerFactory.getLogger(Completeness.class);

  private Completeness() {}

  /**
   * @param refusal what is not done, e.g. "refusing to mount an incomplete archive"
   */
  static void check(List<DeviceIndex> devices, boolean partial, String refusal)
      throws IncompleteArchiveException {
    for (DeviceIndex d : devices) {
      DeviceStats s = d.stats();
      if (s.isComplete()) {
        continue;
      }
      boolean servable = s.beyondEndEntries() == 0 && s.outOfOrder() == 0;
      if (!partial || !servable) {
        throw new IncompleteArchiveException(d.info().name() + ": " + String.join("; ", s.problems())
            + "; " + refusal + (servable ? " (--partial serves missing clusters as zeros)" : ""));
      }
      StringBuilder ranges = new StringBuilder();
      List<long[]> first = d.missingRanges(11);
      for (long[] r : first.subList(0, Math.min(10, first.size()))) {
        ranges.append(ranges.length() == 0 ? "" : ", ").append(r[0]).append('-').append(r[1]);
      }
      log.warn("{}: --partial: {} missing clusters read as zeros (clusters {}{}); {} duplicate"
          + " entries use the last copy", d.info().name(), s.missingClusters(), ranges,
          first.size() > 10 ? ", …" : "", s.duplicateClusters());
    }
  }
}
