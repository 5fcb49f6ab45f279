package vmafs.image.partition;

import static vmafs.image.partition.PartitionFormat.*;
import static vmafs.image.partition.SectorReader.u32;
import static vmafs.image.partition.SectorReader.u8;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * The MBR's four primary entries and, for the first extended partition, its chain of EBRs (each
 * EBR holds one logical partition, relative to the EBR, and a link to the next EBR, relative to
 * the extended partition). Every LBA is checked against the disk before it is read; the chain is
 * followed at most {@link PartitionFormat#MAX_EBRS} steps and never twice through one sector.
 */
final class MbrReader {
  private final SectorReader disk;
  private final Findings found;
  private final String diskSignature;

  private MbrReader(SectorReader disk, Findings found, String diskSignature) {
    this.disk = disk;
    this.found = found;
    this.diskSignature = diskSignature;
  }

  /** Whether sector 0 is an MBR: the boot signature, and boot flags that are 0x00 or 0x80. */
  static boolean isMbr(byte[] sector0) {
    if (!hasBootSignature(sector0)) {
      return false;
    }
    for (int i = 0; i < MBR_ENTRIES; i++) {
      int status = Entry.of(sector0, i).status();
      if (status != 0 && status != STATUS_BOOTABLE) {
        return false; // boot code of a filesystem on the whole disk (FAT, NTFS), not a table
      }
    }
    return true;
  }

  static boolean hasBootSignature(byte[] sector) {
    return u8(sector, MBR_BOOT_SIGNATURE) == BOOT_SIGNATURE_0 && u8(sector, MBR_BOOT_SIGNATURE + 1) == BOOT_SIGNATURE_1;
  }

  /** Whether one of the primary entries is the GPT's protective entry (0xEE). */
  static boolean hasProtectiveEntry(byte[] sector0) {
    return types(sector0).anyMatch(t -> t == TYPE_GPT_PROTECTIVE);
  }

  /** A protective MBR with more entries than the protective one: a hybrid MBR. */
  static boolean isHybrid(byte[] sector0) {
    return types(sector0).filter(t -> t != TYPE_EMPTY).count() > 1;
  }

  private static java.util.stream.IntStream types(byte[] sector0) {
    return java.util.stream.IntStream.range(0, MBR_ENTRIES).map(i -> Entry.of(sector0, i).type());
  }

  /**
   * Reads the primary and logical partitions into {@code found}.
   *
   * @return the disk signature, as {@code 0x1234abcd}
   */
  static String read(SectorReader disk, byte[] sector0, Findings found) throws IOException {
    String signature = String.format("%08x", u32(sector0, MBR_DISK_SIGNATURE));
    new MbrReader(disk, found, signature).primaries(sector0);
    return "0x" + signature;
  }

  /** One 16-byte entry of an MBR or EBR; {@code at} is its offset in the sector. */
  private record Entry(int at, int status, int type, long first, long count) {
    static Entry of(byte[] sector, int slot) {
      int at = MBR_TABLE + slot * MBR_ENTRY_SIZE;
      return new Entry(at, u8(sector, at + ENTRY_STATUS), u8(sector, at + ENTRY_TYPE),
          u32(sector, at + ENTRY_FIRST_LBA), u32(sector, at + ENTRY_SECTORS));
    }

    /** An unused slot (Linux also skips a slot of zero sectors). */
    boolean unused() {
      return type == TYPE_EMPTY || count == 0;
    }
  }

  private void primaries(byte[] sector0) throws IOException {
    found.reserve(0, "the MBR", false);
    Partition extended = null;
    for (int slot = 0; slot < MBR_ENTRIES; slot++) {
      Entry e = Entry.of(sector0, slot);
      if (e.unused()) {
        continue;
      }
      int at = e.at();
      int type = e.type();
      long first = e.first();
      long count = e.count();
      int number = slot + 1;
      String field = "MBR entry " + number;
      boolean isExtended = PartitionTypes.isExtended(type);
      if (isExtended && extended != null) {
        found.reject(number, Partition.Kind.EXTENDED, hex(type), first, first + count - 1, field, at,
            "a second extended partition (only the first one's logical partitions are read)");
        continue;
      }
      Partition p = checked(number, isExtended ? Partition.Kind.EXTENDED : Partition.Kind.PRIMARY, type,
          first, count, 0, disk.sectors() - 1, "the disk", field, at, e.status());
      if (p != null) {
        found.add(p, field, at);
        if (isExtended) {
          extended = p;
        }
      }
    }
    if (extended != null) {
      logicals(extended);
    }
  }

  /**
   * An entry as a partition if it lies within {@code [low, high]}, else refused.
   *
   * @return null when refused
   */
  private Partition checked(int number, Partition.Kind kind, int type, long first, long count, long low,
      long high, String within, String field, long at, int status) {
    long last = first + count - 1;
    if (first < low || last > high) {
      found.reject(number, kind, hex(type), first, last, field, at, "sectors " + first + ".." + last
          + " are not inside " + within + " (sectors " + low + ".." + high + ")");
      return null;
    }
    return new Partition(number, kind, first, count, SECTOR, hex(type), PartitionTypes.mbrName(type), "",
        diskSignature + "-" + String.format("%02x", number), status == STATUS_BOOTABLE);
  }

  /** Follows the EBR chain of {@code extended}; the logical partitions are numbered from 5 in chain order. */
  private void logicals(Partition extended) throws IOException {
    Set<Long> seen = new HashSet<>();
    int number = FIRST_LOGICAL_NUMBER;
    long ebr = extended.firstSector();
    String linkField = "MBR entry " + extended.number() + " first LBA";
    long linkOffset = MBR_TABLE + (extended.number() - 1) * MBR_ENTRY_SIZE + ENTRY_FIRST_LBA;
    while (true) {
      if (!seen.add(ebr)) {
        found.problem(linkField, linkOffset, "the chain of EBRs loops back to sector " + ebr
            + "; no more logical partitions are read");
        return;
      }
      if (seen.size() > MAX_EBRS) {
        found.problem(linkField, linkOffset, "the chain has more than " + MAX_EBRS
            + " EBRs; no more logical partitions are read");
        return;
      }
      byte[] s;
      try {
        s = disk.read(ebr, 1, linkField, linkOffset, SECTOR);
      } catch (TableException e) {
        found.problem(e.problem());
        return;
      }
      long base = ebr * SECTOR;
      if (!hasBootSignature(s)) {
        if (ebr != extended.firstSector() || !SectorReader.allZero(s, 0, SECTOR)) {
          found.problem("EBR at sector " + ebr, base + MBR_BOOT_SIGNATURE,
              "no 55AA boot signature: not an EBR; no more logical partitions are read");
        }
        return; // an all-zero first EBR: an extended partition with no logical ones
      }
      found.reserve(ebr, "the EBR", true);
      long next = -1;
      for (int i = 0; i < MBR_ENTRIES; i++) {
        Entry e = Entry.of(s, i);
        if (e.unused()) {
          continue;
        }
        int at = e.at();
        if (PartitionTypes.isExtended(e.type())) {
          if (next < 0) {
            next = extended.firstSector() + e.first();
            linkField = "EBR at sector " + ebr + " entry " + (i + 1) + " first LBA";
            linkOffset = base + at + ENTRY_FIRST_LBA;
          } else {
            found.problem("EBR at sector " + ebr + " entry " + (i + 1), base + at,
                "a second link to a next EBR; ignored");
          }
          continue;
        }
        String field = "EBR at sector " + ebr + " entry " + (i + 1);
        if (!found.hasRoom()) {
          found.problem(field, base + at, "more than " + MAX_PARTITIONS + " partitions; no more are read");
          return;
        }
        Partition p = checked(number++, Partition.Kind.LOGICAL, e.type(), ebr + e.first(), e.count(),
            extended.firstSector(), extended.lastSector(), "the extended partition " + extended.number(),
            field, base + at, e.status());
        if (p != null) {
          found.add(p, field, base + at);
        }
      }
      if (next < 0) {
        return;
      }
      if (next > extended.lastSector()) { // below it is impossible: the link is relative to its start
        found.problem(linkField, linkOffset, "the next EBR's sector " + next
            + " is not inside the extended partition (sectors " + Findings.range(extended)
            + "); no more logical partitions are read");
        return;
      }
      ebr = next;
    }
  }

  private static String hex(int type) {
    return String.format("0x%02x", type);
  }
}
