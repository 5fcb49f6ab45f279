package vmafs.image.partition;

import static vmafs.image.partition.PartitionFormat.*;
import static vmafs.image.partition.SectorReader.guid;
import static vmafs.image.partition.SectorReader.u32;
import static vmafs.image.partition.SectorReader.u64;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The GPT: the primary header at LBA 1 with its entry array, both checked by their CRC32s and every
 * LBA checked against the disk; the backup header (at the primary's alternate LBA, else the last
 * LBA) when the primary is unusable. Entries must lie in the header's usable LBAs.
 */
final class GptReader {
  private GptReader() {}

  /** A header that passed every check; {@code offset} is its byte offset in the disk. */
  private record Header(long lba, long alternateLba, long firstUsable, long lastUsable, String diskGuid,
      long entriesLba, int entryCount, int entrySize, long entriesCrc, long offset) {
    int arrayBytes() {
      return entryCount * entrySize;
    }
  }

  /** Whether {@code lba} of a disk read with {@code sectorSize} starts with "EFI PART". */
  static boolean hasSignature(SectorReader disk, long lba) throws IOException {
    try {
      return u64(disk.read(lba, 1, "GPT header", 0, disk.sectorSize()), GPT_SIGNATURE_OFFSET) == GPT_SIGNATURE;
    } catch (TableException e) {
      return false; // the disk is too small for that sector
    }
  }

  /**
   * Reads the table into {@code found}.
   *
   * @return the disk GUID, or "" when no header was usable (no partitions then)
   */
  static String read(SectorReader disk, Findings found, boolean checkBackup) throws IOException {
    long last = disk.sectors() - 1;
    Header primary = null;
    Header used = null;
    byte[] entries = null;
    try {
      primary = header(disk, 1, "primary GPT header", disk.offset(1));
      entries = entries(disk, primary, "primary GPT");
      used = primary;
    } catch (TableException e) {
      found.problem(e.problem());
    }
    if (used != null) {
      if (checkBackup) {
        checkBackup(disk, primary, found);
      }
    } else {
      // The primary's alternate LBA only when its header passed its CRC: else nothing in it is trusted.
      Set<Long> candidates = new LinkedHashSet<>();
      if (primary != null && primary.alternateLba() != 1) {
        candidates.add(primary.alternateLba());
      }
      if (last > 1) {
        candidates.add(last);
      }
      for (long lba : candidates) {
        try {
          Header backup = header(disk, lba, "backup GPT header",
              primary != null && lba == primary.alternateLba() ? primary.offset() + GPT_ALTERNATE_LBA : disk.offset(lba));
          entries = entries(disk, backup, "backup GPT");
          used = backup;
          found.problem("backup GPT header", backup.offset(), "the primary GPT is not usable; the backup at LBA "
              + lba + " is used");
          break;
        } catch (TableException e) {
          found.problem(e.problem());
        }
      }
    }
    if (used == null) {
      found.problem("GPT", disk.offset(1), "neither the primary nor the backup GPT is usable; no partitions are exposed");
      return "";
    }
    partitions(disk, used, entries, found);
    return used.diskGuid();
  }

  private static Header header(SectorReader disk, long lba, String what, long fieldOffset)
      throws TableException, IOException {
    int ss = disk.sectorSize();
    byte[] h = disk.read(lba, 1, what + " LBA", fieldOffset, ss);
    long base = lba * ss;
    verify(u64(h, GPT_SIGNATURE_OFFSET) == GPT_SIGNATURE, what + " signature", base, "no 'EFI PART' signature");
    long size = u32(h, GPT_HEADER_SIZE);
    verify(size >= GPT_MIN_HEADER_SIZE && size <= ss, what + " size", base + GPT_HEADER_SIZE,
        "header size " + size + " is not between " + GPT_MIN_HEADER_SIZE + " and " + ss);
    long stored = u32(h, GPT_HEADER_CRC);
    byte[] copy = java.util.Arrays.copyOf(h, (int) size);
    java.util.Arrays.fill(copy, GPT_HEADER_CRC, GPT_HEADER_CRC + 4, (byte) 0);
    long crc = crc32(copy, copy.length);
    verify(crc == stored, what + " CRC32", base + GPT_HEADER_CRC,
        String.format("CRC32 0x%08x does not match the header's bytes (0x%08x)", stored, crc));
    long myLba = u64(h, GPT_MY_LBA);
    verify(myLba == lba, what + " my LBA", base + GPT_MY_LBA,
        "says it is at LBA " + Long.toUnsignedString(myLba) + ", but was read from LBA " + lba);
    long first = u64(h, GPT_FIRST_USABLE_LBA);
    long lastUsable = u64(h, GPT_LAST_USABLE_LBA);
    verify(first >= 0 && lastUsable >= 0 && first <= lastUsable, what + " first usable LBA", base + GPT_FIRST_USABLE_LBA,
        "the usable LBAs " + Long.toUnsignedString(first) + ".." + Long.toUnsignedString(lastUsable) + " are empty");
    verify(lastUsable < disk.sectors(), what + " last usable LBA", base + GPT_LAST_USABLE_LBA,
        "last usable LBA " + lastUsable + " is past the disk's last LBA " + (disk.sectors() - 1) + " (a truncated image?)");
    verify(lba < first || lba > lastUsable, what + " first usable LBA", base + GPT_FIRST_USABLE_LBA,
        "the usable LBAs " + first + ".." + lastUsable + " include the header itself");
    long entrySize = u32(h, GPT_ENTRY_SIZE);
    verify(entrySize >= MIN_GPT_ENTRY_SIZE && entrySize <= MAX_GPT_ENTRY_SIZE && Long.bitCount(entrySize) == 1,
        what + " entry size", base + GPT_ENTRY_SIZE, "entry size " + entrySize + " is not 128 × 2^n up to "
            + MAX_GPT_ENTRY_SIZE);
    long count = u32(h, GPT_ENTRY_COUNT);
    verify(count * entrySize <= MAX_GPT_ENTRY_ARRAY_BYTES, what + " entry count", base + GPT_ENTRY_COUNT,
        count + " entries of " + entrySize + " bytes are more than the " + MAX_GPT_ENTRY_ARRAY_BYTES
            + " bytes this reader accepts");
    long entriesLba = u64(h, GPT_ENTRIES_LBA);
    long arraySectors = (count * entrySize + ss - 1) / ss;
    if (count > 0) {
      verify(entriesLba >= 0 && entriesLba < disk.sectors() && arraySectors <= disk.sectors() - entriesLba,
          what + " entries LBA", base + GPT_ENTRIES_LBA, "the entries at LBA " + Long.toUnsignedString(entriesLba)
              + " (" + arraySectors + " sectors) lie outside the disk (" + disk.sectors() + " sectors)");
      long arrayLast = entriesLba + arraySectors - 1;
      verify(arrayLast < first || entriesLba > lastUsable, what + " entries LBA", base + GPT_ENTRIES_LBA,
          "the entries at LBAs " + entriesLba + ".." + arrayLast + " overlap the usable LBAs " + first + ".." + lastUsable);
      verify(lba < entriesLba || lba > arrayLast, what + " entries LBA", base + GPT_ENTRIES_LBA,
          "the entries at LBAs " + entriesLba + ".." + arrayLast + " include the header itself");
    }
    return new Header(lba, u64(h, GPT_ALTERNATE_LBA), first, lastUsable, guid(h, GPT_DISK_GUID), entriesLba,
        (int) count, (int) entrySize, u32(h, GPT_ENTRIES_CRC), base);
  }

  private static byte[] entries(SectorReader disk, Header h, String what) throws TableException, IOException {
    if (h.entryCount() == 0) {
      return new byte[0];
    }
    int ss = disk.sectorSize();
    long sectors = (h.arrayBytes() + ss - 1L) / ss;
    byte[] a = disk.read(h.entriesLba(), sectors, what + " entries LBA", h.offset() + GPT_ENTRIES_LBA,
        MAX_GPT_ENTRY_ARRAY_BYTES);
    long crc = crc32(a, h.arrayBytes());
    verify(crc == h.entriesCrc(), what + " entries CRC32", h.offset() + GPT_ENTRIES_CRC,
        String.format("CRC32 0x%08x does not match the %d entries' bytes at LBA %d (0x%08x)", h.entriesCrc(),
            h.entryCount(), h.entriesLba(), crc));
    return a;
  }

  /** The backup is not needed when the primary is good; what is wrong with it is still worth a line. */
  private static void checkBackup(SectorReader disk, Header primary, Findings found) throws IOException {
    long last = disk.sectors() - 1;
    long alt = primary.alternateLba();
    if (alt != last) {
      found.problem("primary GPT header alternate LBA", primary.offset() + GPT_ALTERNATE_LBA,
          "the backup header is at LBA " + Long.toUnsignedString(alt) + ", not at the disk's last LBA " + last
              + " (the disk was resized after it was partitioned?); the primary is used");
    }
    try {
      Header backup = header(disk, alt, "backup GPT header", primary.offset() + GPT_ALTERNATE_LBA);
      if (backup.entriesCrc() != primary.entriesCrc() || backup.entryCount() != primary.entryCount()
          || backup.entrySize() != primary.entrySize()) {
        found.problem("backup GPT header entries CRC32", backup.offset() + GPT_ENTRIES_CRC,
            "the backup's entries differ from the primary's; the primary is used");
      }
    } catch (TableException e) {
      Problem p = e.problem();
      found.problem(p.field(), p.offset(), p.message() + "; the primary is used");
    }
  }

  private static void partitions(SectorReader disk, Header h, byte[] entries, Findings found) {
    int ss = disk.sectorSize();
    for (int i = 0; i < h.entryCount(); i++) {
      int off = i * h.entrySize();
      if (SectorReader.allZero(entries, off + ENTRY_TYPE_GUID, 16)) {
        continue; // unused entry
      }
      int number = i + 1;
      String field = "GPT entry " + number;
      long at = h.entriesLba() * ss + off;
      if (!found.hasRoom()) {
        found.problem(field, at, "more than " + MAX_PARTITIONS + " partitions; this and later entries are not read");
        return;
      }
      String type = guid(entries, off + ENTRY_TYPE_GUID);
      long first = u64(entries, off + ENTRY_GPT_FIRST_LBA);
      long lastLba = u64(entries, off + ENTRY_GPT_LAST_LBA);
      if (first < 0 || lastLba < 0 || first > lastLba) {
        found.reject(number, Partition.Kind.GPT, type, first, lastLba, field + " first LBA", at + ENTRY_GPT_FIRST_LBA,
            "first LBA " + Long.toUnsignedString(first) + " is after the last LBA " + Long.toUnsignedString(lastLba));
      } else if (first < h.firstUsable() || lastLba > h.lastUsable()) {
        found.reject(number, Partition.Kind.GPT, type, first, lastLba, field + " first LBA", at + ENTRY_GPT_FIRST_LBA,
            "sectors " + first + ".." + lastLba + " are not inside the usable LBAs " + h.firstUsable() + ".."
                + h.lastUsable());
      } else {
        boolean bootable = (u64(entries, off + ENTRY_ATTRIBUTES) & ATTRIBUTE_LEGACY_BIOS_BOOTABLE) != 0;
        found.add(new Partition(number, Partition.Kind.GPT, first, lastLba - first + 1, ss, type,
            PartitionTypes.gptName(type), name(entries, off + ENTRY_NAME), guid(entries, off + ENTRY_UNIQUE_GUID),
            bootable), field, at);
      }
    }
  }

  /** The UTF-16LE name up to its first NUL; control characters (a forged line break) become '?'. */
  private static String name(byte[] b, int off) {
    int units = 0;
    while (units < ENTRY_NAME_BYTES / 2 && (b[off + 2 * units] != 0 || b[off + 2 * units + 1] != 0)) {
      units++;
    }
    String s = new String(b, off, 2 * units, StandardCharsets.UTF_16LE);
    StringBuilder sb = new StringBuilder(s.length());
    s.codePoints().forEach(c -> sb.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return sb.toString();
  }

  private static long crc32(byte[] b, int length) {
    CRC32 crc = new CRC32();
    crc.update(b, 0, length);
    return crc.getValue();
  }

  private static void verify(boolean ok, String field, long offset, String message) throws TableException {
    if (!ok) {
      throw new TableException(field, offset, message);
    }
  }
}
