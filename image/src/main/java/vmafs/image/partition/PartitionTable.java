package vmafs.image.partition;

import java.util.List;

/**
 * What the partition table of a disk image says, as far as it can be trusted: the valid
 * partitions, the entries refused, and every problem found on the way.
 *
 * @param sectorSize the sector size the table counts in (512 unless a 4Kn GPT was found)
 * @param diskId the GPT disk GUID, or the MBR disk signature as {@code 0x1234abcd}; "" for none
 * @param partitions the valid partitions in number order, extended containers included (see
 *     {@link #dataPartitions()})
 * @param problems at most a bounded number of problems; {@code problemsOmitted} more were found
 */
public record PartitionTable(Scheme scheme, int sectorSize, String diskId, List<Partition> partitions,
    List<Rejected> rejected, List<Problem> problems, int problemsOmitted) {

  /** The kind of table found. */
  public enum Scheme {
    /** No partition table: a blank disk, or a filesystem on the whole disk. */
    NONE,
    MBR,
    GPT;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public PartitionTable {
    partitions = List.copyOf(partitions);
    rejected = List.copyOf(rejected);
    problems = List.copyOf(problems);
  }

  /** The partitions that hold data: all but MBR extended containers. */
  public List<Partition> dataPartitions() {
    return partitions.stream().filter(Partition::isData).toList();
  }
}
