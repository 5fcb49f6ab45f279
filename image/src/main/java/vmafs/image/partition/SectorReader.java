package vmafs.image.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import vmafs.image.ImageContent;

/**
 * Sectors of a disk image, read only when they lie inside it, in buffers no larger than the
 * caller's cap; and the little-endian field readers every table uses.
 */
final class SectorReader {
  private final ImageContent disk;
  private final int sectorSize;
  private final long sectors;

  SectorReader(ImageContent disk, int sectorSize) {
    this.disk = disk;
    this.sectorSize = sectorSize;
    this.sectors = disk.size() / sectorSize;
  }

  int sectorSize() {
    return sectorSize;
  }

  /** Whole sectors in the image (a partial last sector does not count). */
  long sectors() {
    return sectors;
  }

  /** Byte offset of {@code lba}, for messages; only meaningful for an LBA inside the disk. */
  long offset(long lba) {
    return lba >= 0 && lba < sectors ? lba * sectorSize : disk.size();
  }

  /**
   * Reads {@code count} sectors from {@code lba}.
   *
   * @param field what the LBA came from, for the problem when it is out of the disk
   * @param fieldOffset where that field is in the disk
   * @param maxBytes the most the caller accepts to read
   */
  byte[] read(long lba, long count, String field, long fieldOffset, int maxBytes)
      throws TableException, IOException {
    if (lba < 0 || count < 1 || lba >= sectors || count > sectors - lba) {
      throw new TableException(field, fieldOffset, "sectors " + Long.toUnsignedString(lba) + "+" + count
          + " lie outside the disk (" + sectors + " sectors of " + sectorSize + " bytes)");
    }
    if (count > maxBytes / sectorSize) {
      throw new TableException(field, fieldOffset, count + " sectors are more than the " + maxBytes
          + " bytes read for it");
    }
    byte[] b = new byte[(int) count * sectorSize];
    ByteBuffer dst = ByteBuffer.wrap(b);
    long at = lba * sectorSize;
    while (dst.hasRemaining()) {
      int n = disk.read(at + dst.position(), dst);
      if (n <= 0) {
        throw new TableException(field, at + dst.position(), "the image ends inside the table");
      }
    }
    return b;
  }

  static int u8(byte[] b, int off) {
    return b[off] & 0xFF;
  }

  static long u32(byte[] b, int off) {
    return Integer.toUnsignedLong(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off));
  }

  /** A uint64 field; values of 2^63 and more come back negative and fail every range check. */
  static long u64(byte[] b, int off) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off);
  }

  /** A GUID in its registry form (the first three fields are stored little-endian), upper case. */
  static String guid(byte[] b, int off) {
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    StringBuilder sb = new StringBuilder(36);
    sb.append(String.format("%08X-%04X-%04X-", le.getInt(off), le.getShort(off + 4), le.getShort(off + 6)));
    for (int i = 8; i < 16; i++) {
      if (i == 10) {
        sb.append('-');
      }
      sb.append(String.format("%02X", b[off + i]));
    }
    return sb.toString();
  }

  static boolean allZero(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
