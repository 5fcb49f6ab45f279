package vmafs.image.partition;

import static vmafs.image.partition.PartitionFormat.LARGE_SECTOR;
import static vmafs.image.partition.PartitionFormat.SECTOR;

import java.io.IOException;
import java.util.List;
import vmafs.image.ImageContent;

/**
 * Reads the partition table of a disk image: MBR with extended/logical partitions, or GPT (512- or
 * 4096-byte sectors). The image is untrusted: whatever its bytes, the answer is a {@link
 * PartitionTable} — damaged, out-of-range or overlapping entries become problems and are left out —
 * and the reads are bounded (a few sectors, the GPT entry arrays of at most 1 MiB each, one sector
 * per EBR for at most 256 EBRs). Only an image that cannot be read throws.
 */
public final class PartitionTables {
  private PartitionTables() {}

  /** The table of a disk with none. */
  public static PartitionTable none() {
    return new PartitionTable(PartitionTable.Scheme.NONE, SECTOR, "", List.of(), List.of(), List.of(), 0);
  }

  /**
   * @throws IOException only if the image itself cannot be read
   */
  public static PartitionTable read(ImageContent image) throws IOException {
    return read(image, true);
  }

  /**
   * As {@link #read(ImageContent)}; with {@code checkBackup} false a good primary GPT is used
   * without reading the backup at the disk's end (for an image still being indexed, whose end may
   * come last: its reads wait for it). A damaged primary still falls back to the backup.
   */
  public static PartitionTable read(ImageContent image, boolean checkBackup) throws IOException {
    SectorReader disk = new SectorReader(image, SECTOR);
    if (disk.sectors() == 0) {
      return none();
    }
    byte[] sector0;
    try {
      sector0 = disk.read(0, 1, "MBR", 0, SECTOR);
    } catch (TableException e) {
      return none(); // unreachable: a disk of one sector or more has sector 0
    }
    Findings found = new Findings();
    boolean mbr = MbrReader.isMbr(sector0);
    if (mbr && MbrReader.hasProtectiveEntry(sector0)) {
      if (MbrReader.isHybrid(sector0)) {
        found.problem("MBR", PartitionFormat.MBR_TABLE, "a hybrid MBR: its entries other than the protective"
            + " one are ignored, the GPT is used");
      }
      return gpt(image, found, checkBackup);
    }
    if (mbr) {
      String id = MbrReader.read(disk, sector0, found);
      int stale = gptSector(image);
      if (stale != 0) {
        found.problem("GPT header", stale, "a GPT header is ignored: the MBR has no protective (0xEE) entry,"
            + " so the disk was repartitioned with an MBR since");
      }
      return found.finish(PartitionTable.Scheme.MBR, SECTOR, id);
    }
    if (gptSector(image) != 0) {
      found.problem("MBR", 0, "no protective MBR in sector 0; the GPT is read anyway");
      return gpt(image, found, checkBackup);
    }
    return none();
  }

  private static PartitionTable gpt(ImageContent image, Findings found, boolean checkBackup)
      throws IOException {
    int ss = gptSector(image);
    if (ss == 0) {
      ss = backupSector(image);
    }
    if (ss == 0) {
      ss = SECTOR;
    }
    String guid = GptReader.read(new SectorReader(image, ss), found, checkBackup);
    return found.finish(PartitionTable.Scheme.GPT, ss, guid);
  }

  /** The sector size whose LBA 1 holds "EFI PART", or 0. */
  private static int gptSector(ImageContent image) throws IOException {
    for (int ss : new int[] {SECTOR, LARGE_SECTOR}) {
      if (GptReader.hasSignature(new SectorReader(image, ss), 1)) {
        return ss;
      }
    }
    return 0;
  }

  /** The sector size whose last LBA holds "EFI PART", or 0. */
  private static int backupSector(ImageContent image) throws IOException {
    for (int ss : new int[] {SECTOR, LARGE_SECTOR}) {
      SectorReader d = new SectorReader(image, ss);
      if (d.sectors() > 2 && GptReader.hasSignature(d, d.sectors() - 1)) {
        return ss;
      }
    }
    return 0;
  }
}
