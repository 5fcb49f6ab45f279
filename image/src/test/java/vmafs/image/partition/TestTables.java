package vmafs.image.partition;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;
import vmafs.image.SparseImage;

/**
 * Partition tables built in code, field by field, so that each test can break exactly one field
 * (and re-seal the CRC32s when only that field should be wrong).
 */
final class TestTables {
  private TestTables() {}

  static final String LINUX_FS = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
  static final String EFI_SYSTEM = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
  static final String MS_BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";

  /** A 16-byte MBR/EBR entry. */
  record MbrEntry(int status, int type, long first, long sectors) {}

  /** A boot sector with the signature, a disk signature, and up to four entries. */
  static byte[] mbrSector(long diskSignature, MbrEntry... entries) {
    ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(440, (int) diskSignature);
    for (int i = 0; i < entries.length; i++) {
      MbrEntry e = entries[i];
      if (e == null) {
        continue;
      }
      int at = 446 + 16 * i;
      b.put(at, (byte) e.status());
      b.put(at + 4, (byte) e.type());
      b.putInt(at + 8, (int) e.first());
      b.putInt(at + 12, (int) e.sectors());
    }
    b.put(510, (byte) 0x55).put(511, (byte) 0xAA);
    return b.array();
  }

  static MbrEntry entry(int type, long first, long sectors) {
    return new MbrEntry(0, type, first, sectors);
  }

  /**
   * An MBR disk with an extended partition at {@code extStart} of {@code extSectors} holding one
   * logical partition per {@code logicals} row {start, sectors} (absolute sectors). The first EBR
   * is the extended partition's first sector, each later one is 2048 sectors before its logical
   * partition (as fdisk lays them out).
   */
  static SparseImage mbrWithLogicals(long diskSectors, long extStart, long extSectors, long[][] logicals,
      MbrEntry... primaries) {
    SparseImage img = new SparseImage(diskSectors * 512);
    MbrEntry[] e = new MbrEntry[4];
    for (int i = 0; i < primaries.length; i++) {
      e[i] = primaries[i];
    }
    int slot = primaries.length;
    e[slot] = entry(0x05, extStart, extSectors);
    img.write(0, mbrSector(0x1234abcdL, e));
    long ebr = extStart;
    for (int i = 0; i < logicals.length; i++) {
      long start = logicals[i][0];
      MbrEntry data = entry(0x83, start - ebr, logicals[i][1]);
      MbrEntry link = null;
      if (i + 1 < logicals.length) {
        long nextEbr = logicals[i + 1][0] - 2048;
        link = entry(0x05, nextEbr - extStart, logicals[i + 1][1] + 2048);
        img.write(ebr * 512, mbrSector(0, data, link));
        ebr = nextEbr;
      } else {
        img.write(ebr * 512, mbrSector(0, data));
      }
    }
    return img;
  }

  /** A GPT entry as it will be written. */
  record GptEntry(int index, String type, String unique, long first, long last, long attributes, String name) {}

  /** A GPT, written with a protective MBR, the primary and the backup (CRCs computed). */
  static final class Gpt {
    int sectorSize = 512;
    long diskSectors;
    int entryCount = 128;
    int entrySize = 128;
    long firstUsable;
    long lastUsable;
    long alternateLba;
    String diskGuid = "40B53D65-5CD7-4DBB-B8AF-967AF71E6F32";
    final List<GptEntry> entries = new ArrayList<>();

    Gpt(long diskSectors) {
      this(diskSectors, 512);
    }

    Gpt(long diskSectors, int sectorSize) {
      this.diskSectors = diskSectors;
      this.sectorSize = sectorSize;
      long arraySectors = arraySectors();
      this.firstUsable = 2 + arraySectors;
      this.lastUsable = diskSectors - 2 - arraySectors;
      this.alternateLba = diskSectors - 1;
    }

    long arraySectors() {
      return ((long) entryCount * entrySize + sectorSize - 1) / sectorSize;
    }

    Gpt add(int index, String type, long first, long last, String name) {
      entries.add(new GptEntry(index, type, UUID.nameUUIDFromBytes(new byte[] {(byte) index}).toString()
          .toUpperCase(), first, last, 0, name));
      return this;
    }

    Gpt add(GptEntry e) {
      entries.add(e);
      return this;
    }

    byte[] entryArray() {
      ByteBuffer a = ByteBuffer.allocate((int) (arraySectors() * sectorSize)).order(ByteOrder.LITTLE_ENDIAN);
      for (GptEntry e : entries) {
        int off = e.index() * entrySize;
        putGuid(a, off, e.type());
        putGuid(a, off + 16, e.unique());
        a.putLong(off + 32, e.first());
        a.putLong(off + 40, e.last());
        a.putLong(off + 48, e.attributes());
        byte[] n = e.name().getBytes(StandardCharsets.UTF_16LE);
        a.put(off + 56, n, 0, Math.min(n.length, 72));
      }
      return a.array();
    }

    byte[] header(long myLba, long alternate, long entriesLba, long entriesCrc) {
      ByteBuffer h = ByteBuffer.allocate(sectorSize).order(ByteOrder.LITTLE_ENDIAN);
      h.put(0, "EFI PART".getBytes(StandardCharsets.US_ASCII));
      h.putInt(8, 0x00010000);
      h.putInt(12, 92);
      h.putLong(24, myLba);
      h.putLong(32, alternate);
      h.putLong(40, firstUsable);
      h.putLong(48, lastUsable);
      putGuid(h, 56, diskGuid);
      h.putLong(72, entriesLba);
      h.putInt(80, entryCount);
      h.putInt(84, entrySize);
      h.putInt(88, (int) entriesCrc);
      h.putInt(16, (int) crc(h.array(), 0, 92));
      return h.array();
    }

    SparseImage write() {
      SparseImage img = new SparseImage(diskSectors * sectorSize);
      img.write(0, mbrSector(0, entry(0xEE, 1, Math.min(diskSectors - 1, 0xFFFFFFFFL))));
      writeTo(img);
      return img;
    }

    void writeTo(SparseImage img) {
      byte[] array = entryArray();
      long crc = crc(array, 0, entryCount * entrySize);
      img.write(sectorSize, header(1, alternateLba, 2, crc));
      img.write(2L * sectorSize, array);
      long backupEntries = alternateLba - arraySectors();
      img.write(backupEntries * sectorSize, array);
      img.write(alternateLba * sectorSize, header(alternateLba, 1, backupEntries, crc));
    }
  }

  static void putGuid(ByteBuffer b, int off, String guid) {
    UUID u = UUID.fromString(guid);
    long hi = u.getMostSignificantBits();
    long lo = u.getLeastSignificantBits();
    b.putInt(off, (int) (hi >>> 32));
    b.putShort(off + 4, (short) (hi >>> 16));
    b.putShort(off + 6, (short) hi);
    for (int i = 0; i < 8; i++) {
      b.put(off + 8 + i, (byte) (lo >>> (56 - 8 * i)));
    }
  }

  static long crc(byte[] b, int off, int len) {
    CRC32 c = new CRC32();
    c.update(b, off, len);
    return c.getValue();
  }

  static void putU32(SparseImage img, long offset, long value) {
    img.write(offset, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) value).array());
  }

  static void putU64(SparseImage img, long offset, long value) {
    img.write(offset, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
  }

  /** Recomputes the header CRC32 of the GPT header at {@code lba} (after a field was changed on purpose). */
  static void resealHeader(SparseImage img, long lba, int sectorSize) {
    long base = lba * sectorSize;
    byte[] h = img.bytes(base, 92);
    java.util.Arrays.fill(h, 16, 20, (byte) 0);
    putU32(img, base + 16, crc(h, 0, 92));
  }

  /** Recomputes the entries CRC32 of the header at {@code lba}, then its own CRC32. */
  static void resealEntries(SparseImage img, long lba, int sectorSize) {
    long base = lba * sectorSize;
    ByteBuffer h = ByteBuffer.wrap(img.bytes(base, 92)).order(ByteOrder.LITTLE_ENDIAN);
    long entriesLba = h.getLong(72);
    int bytes = h.getInt(80) * h.getInt(84);
    putU32(img, base + 88, crc(img.bytes(entriesLba * sectorSize, bytes), 0, bytes));
    resealHeader(img, lba, sectorSize);
  }
}
