package vmafs.source.gzip;

import static vmafs.source.CorruptArchiveException.NONE;
import static vmafs.source.CorruptArchiveException.check;

import java.io.IOException;
import java.util.zip.CRC32;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.source.internal.CompressedInput;

/** gzip member layout (RFC 1952) and the deflate facts random access relies on (RFC 1951). */
public final class GzipFormat {
  public static final int ID1 = 0x1f;
  public static final int ID2 = 0x8b;
  static final int CM_DEFLATE = 8;
  static final int FHCRC = 0x02;
  static final int FEXTRA = 0x04;
  static final int FNAME = 0x08;
  static final int FCOMMENT = 0x10;
  static final int FLG_RESERVED = 0xE0;
  /** ID1 ID2 CM FLG MTIME(4) XFL OS. */
  static final int FIXED_HEADER_SIZE = 10;
  /** CRC32 and ISIZE, little-endian. */
  static final int TRAILER_SIZE = 8;
  /** LEN/NLEN of an empty stored block: what {@code --rsyncable} and full flushes emit. After it
   *  the next deflate block starts on a byte boundary, the only place {@code java.util.zip} can
   *  resume (it has no {@code inflatePrime}). */
  static final byte[] RESTART_MARKER = {0, 0, (byte) 0xff, (byte) 0xff};
  /** Deflate's maximum back-reference distance: the dictionary a restart needs. */
  static final int WINDOW_SIZE = 32 << 10;

  private GzipFormat() {}

  /** Reads a member header at the current position; returns nothing, leaves {@code in} at the deflate data. */
  static void readHeader(CompressedInput in) throws IOException {
    long start = in.offset();
    CRC32 crc = new CRC32();
    int id1 = u8(in, crc);
    int id2 = u8(in, crc);
    int cm = u8(in, crc);
    int flg = u8(in, crc);
    Where member = Where.of(in.name(), Part.GZIP_MEMBER, NONE, start);
    check(id1 == ID1 && id2 == ID2, member, "no gzip magic");
    check(cm == CM_DEFLATE && (flg & FLG_RESERVED) == 0, member,
        "unsupported (method " + cm + ", flags 0x" + Integer.toHexString(flg) + ")");
    for (int i = 4; i < FIXED_HEADER_SIZE; i++) {
      u8(in, crc);
    }
    if ((flg & FEXTRA) != 0) {
      int xlen = u8(in, crc) | u8(in, crc) << 8;
      for (int i = 0; i < xlen; i++) {
        u8(in, crc);
      }
    }
    if ((flg & FNAME) != 0) {
      while (u8(in, crc) != 0) {}
    }
    if ((flg & FCOMMENT) != 0) {
      while (u8(in, crc) != 0) {}
    }
    if ((flg & FHCRC) != 0) {
      int expected = (int) (crc.getValue() & 0xffff);
      int stored = in.readU8() | in.readU8() << 8;
      check(stored == expected, member, "header CRC mismatch");
    }
  }

  private static int u8(CompressedInput in, CRC32 crc) throws IOException {
    int b = in.readU8();
    crc.update(b);
    return b;
  }
}
