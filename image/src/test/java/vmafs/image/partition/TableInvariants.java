package vmafs.image.partition;

import java.io.IOException;
import java.util.List;
import vmafs.image.SparseImage;

/**
 * What every answer of the partition-table reader must satisfy, whatever the disk holds: the
 * rules of docs/partitions.md ("Rules for untrusted tables"). Shared by the seeded
 * {@link PartitionTablesRobustnessTest} and the coverage-guided {@link PartitionTablesFuzzTest}.
 */
final class TableInvariants {
  /** Two entry arrays of at most 1 MiB, and one sector per header and EBR. */
  static final long MAX_BYTES_READ = 2L * PartitionFormat.MAX_GPT_ENTRY_ARRAY_BYTES
      + (PartitionFormat.MAX_EBRS + 16L) * PartitionFormat.LARGE_SECTOR;

  private TableInvariants() {}

  /**
   * Reads the table of {@code img} twice and throws an {@link AssertionError} that starts with
   * {@code what} if the reader threw, read past its bounds, returned a partition outside the disk,
   * two partitions that share a number or overlap (other than a logical one inside its extended
   * container), unbounded lists, or two different answers.
   */
  static PartitionTable check(SparseImage img, String what) throws IOException {
    PartitionTable t;
    try {
      t = PartitionTables.read(img);
    } catch (RuntimeException e) {
      throw new AssertionError(what + ": " + e, e);
    }
    if (img.largestRead() > PartitionFormat.MAX_GPT_ENTRY_ARRAY_BYTES || img.bytesRead() > MAX_BYTES_READ) {
      throw new AssertionError(what + ": read " + img.bytesRead() + " bytes in all (largest read "
          + img.largestRead() + ")");
    }
    if (t.partitions().size() > PartitionFormat.MAX_PARTITIONS
        || t.rejected().size() > PartitionFormat.MAX_PARTITIONS + 4
        || t.problems().size() > PartitionFormat.MAX_PROBLEMS) {
      throw new AssertionError(what + ": unbounded lists: " + t.partitions().size() + " partitions, "
          + t.rejected().size() + " rejected, " + t.problems().size() + " problems");
    }
    List<Partition> ps = t.partitions();
    for (int i = 0; i < ps.size(); i++) {
      Partition a = ps.get(i);
      if (a.sectors() < 1 || a.start() < 0 || a.start() + a.size() > img.size()) {
        throw new AssertionError(what + ": " + a + " is not inside the disk of " + img.size() + " bytes");
      }
      for (int j = i + 1; j < ps.size(); j++) {
        Partition b = ps.get(j);
        boolean nested = a.kind() == Partition.Kind.EXTENDED && b.kind() == Partition.Kind.LOGICAL
            || b.kind() == Partition.Kind.EXTENDED && a.kind() == Partition.Kind.LOGICAL;
        boolean overlap = a.firstSector() <= b.lastSector() && b.firstSector() <= a.lastSector();
        if (a.number() == b.number() || overlap && !nested) {
          throw new AssertionError(what + ": " + a + " and " + b + " overlap or share a number");
        }
      }
    }
    if (!t.equals(PartitionTables.read(img))) {
      throw new AssertionError(what + ": the same disk read twice gives two answers");
    }
    return t;
  }
}
