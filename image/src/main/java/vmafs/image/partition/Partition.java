package vmafs.image.partition;

/**
 * One valid entry of a partition table: inside the disk, overlapping nothing it must not.
 *
 * @param number the number Linux gives it ({@code sda<number>}): the MBR slot 1-4, 5 onwards for
 *     logical partitions in chain order, the GPT entry's index + 1
 * @param firstSector the first sector, from the start of the disk
 * @param sectors the length in sectors, at least 1
 * @param sectorSize the sector size the table counts in (512, or 4096 for a 4Kn GPT)
 * @param type the MBR type byte as {@code 0x83}, or the GPT type GUID (upper case)
 * @param typeName what the type means ("Linux filesystem"), or "unknown"
 * @param name the GPT partition name ("" for MBR, or when none is set)
 * @param uuid the PARTUUID: the GPT unique GUID, or {@code <disk signature>-<nn>} for MBR
 * @param bootable the MBR boot flag, or the GPT "legacy BIOS bootable" attribute
 */
public record Partition(int number, Kind kind, long firstSector, long sectors, int sectorSize,
    String type, String typeName, String name, String uuid, boolean bootable) {

  /** Where the entry came from. Only {@link #EXTENDED} is no data partition (it holds the EBRs). */
  public enum Kind {
    PRIMARY, EXTENDED, LOGICAL, GPT;

    /** The word {@code info} prints and {@code --json} carries. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public Partition {
    if (number < 1 || firstSector < 0 || sectors < 1 || sectorSize < 1
        || firstSector > Long.MAX_VALUE / sectorSize - sectors) {
      throw new IllegalArgumentException("partition " + number + ": sectors " + firstSector + "+" + sectors);
    }
  }

  /** Byte offset in the disk. */
  public long start() {
    return firstSector * sectorSize;
  }

  /** Length in bytes. */
  public long size() {
    return sectors * sectorSize;
  }

  public long lastSector() {
    return firstSector + sectors - 1;
  }

  /** Whether it holds a filesystem (or anything else) worth a file of its own. */
  public boolean isData() {
    return kind != Kind.EXTENDED;
  }
}
