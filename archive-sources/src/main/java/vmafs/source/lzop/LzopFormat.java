package vmafs.source.lzop;

import static vmafs.source.CorruptArchiveException.NONE;
import static vmafs.source.CorruptArchiveException.check;

import java.io.IOException;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Checksum;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.source.internal.CompressedInput;

/**
 * The lzop container (lzop 1.04 {@code lzop.c}/{@code p_lzo.c}): every field offset, flag and limit
 * in one place. All integers are big-endian.
 */
public final class LzopFormat {
  public static final byte[] MAGIC = {(byte) 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a};

  /** Header layout changed (level, version_needed, mtime_high added) at this version. */
  static final int VERSION_WITH_LEVEL = 0x0940;

  static final int F_ADLER32_D = 0x0000_0001;
  static final int F_ADLER32_C = 0x0000_0002;
  static final int F_H_EXTRA_FIELD = 0x0000_0040;
  static final int F_CRC32_D = 0x0000_0100;
  static final int F_CRC32_C = 0x0000_0200;
  static final int F_MULTIPART = 0x0000_0400;
  static final int F_H_FILTER = 0x0000_0800;
  static final int F_H_CRC32 = 0x0000_1000;
  /** Flags this reader understands; lzop itself rejects the others (F_RESERVED). */
  static final int F_MASK = 0x0000_3FFF;

  static final int M_LZO1X_1 = 1;
  static final int M_LZO1X_1_15 = 2;
  static final int M_LZO1X_999 = 3;

  /** lzop's own decompression limit (MAX_BLOCK_SIZE); anything larger is damage. */
  static final int MAX_BLOCK_SIZE = 64 << 20;
  /** Two u32 sizes; checksums follow. */
  static final int BLOCK_SIZES_LEN = 8;

  private LzopFormat() {}

  /** Parsed file header; {@code firstBlockOffset} is where the first block header starts. */
  record Header(int version, int method, int flags, long firstBlockOffset) {
    /** Bytes of checksums after the sizes of a block with these sizes. */
    int checksumBytes(long csize, long usize) {
      int n = 0;
      if ((flags & F_ADLER32_D) != 0) n += 4;
      if ((flags & F_CRC32_D) != 0) n += 4;
      if (csize < usize) {
        if ((flags & F_ADLER32_C) != 0) n += 4;
        if ((flags & F_CRC32_C) != 0) n += 4;
      }
      return n;
    }

    /** The checksum kept in the map for random reads: CRC-32 when present, else Adler-32. */
    Checksum newDataChecksum() {
      if ((flags & F_CRC32_D) != 0) return new CRC32();
      if ((flags & F_ADLER32_D) != 0) return new Adler32();
      return null;
    }
  }

  /** Reads and verifies the header at the start of {@code in}. */
  static Header readHeader(CompressedInput in) throws IOException {
    byte[] magic = new byte[MAGIC.length];
    in.readFully(magic, 0, magic.length);
    Where header = Where.of(in.name(), Part.LZOP_HEADER, NONE, 0);
    check(java.util.Arrays.equals(magic, MAGIC), header, "not an lzop file (bad magic)");
    // The header checksum covers everything from the version field through the name.
    HeaderBytes h = new HeaderBytes(in);
    int version = h.u16();
    h.u16(); // lib_version
    if (version >= VERSION_WITH_LEVEL) {
      int needed = h.u16();
      check(needed <= 0x1040, header, "the file needs lzop version " + Integer.toHexString(needed));
    }
    int method = h.u8();
    if (version >= VERSION_WITH_LEVEL) {
      h.u8(); // level
    }
    int flags = (int) h.u32();
    check((flags & ~F_MASK & 0x000F_FFFF) == 0 && (flags & F_MULTIPART) == 0, header,
        "unsupported flags 0x" + Integer.toHexString(flags));
    check(method == M_LZO1X_1 || method == M_LZO1X_1_15 || method == M_LZO1X_999, header,
        "unsupported method " + method + " (only LZO1X)");
    check((flags & F_H_FILTER) == 0, header, "lzop filters are not supported");
    h.u32(); // mode
    h.u32(); // mtime_low
    if (version >= VERSION_WITH_LEVEL) {
      h.u32(); // mtime_high
    }
    int nameLen = h.u8();
    for (int i = 0; i < nameLen; i++) {
      h.u8();
    }
    long expected = in.readU32BE();
    long actual = h.sum((flags & F_H_CRC32) != 0 ? new CRC32() : new Adler32());
    check(expected == actual, Where.of(in.name(), Part.LZOP_HEADER, NONE, in.offset() - 4),
        "header checksum mismatch");
    if ((flags & F_H_EXTRA_FIELD) != 0) {
      long len = in.readU32BE();
      check(len <= (1 << 20), Where.of(in.name(), Part.LZOP_HEADER, NONE, in.offset() - 4),
          "implausible extra field of " + len + " bytes");
      byte[] extra = new byte[(int) len];
      in.readFully(extra, 0, extra.length);
      in.readU32BE(); // its checksum; the field itself is ignored
    }
    return new Header(version, method, flags, in.offset());
  }

  /** Collects header bytes as they are read so their checksum can be computed. */
  private static final class HeaderBytes {
    private final CompressedInput in;
    private final java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();

    HeaderBytes(CompressedInput in) {
      this.in = in;
    }

    int u8() throws IOException {
      int v = in.readU8();
      seen.write(v);
      return v;
    }

    int u16() throws IOException {
      return u8() << 8 | u8();
    }

    long u32() throws IOException {
      return (long) u16() << 16 | u16();
    }

    long sum(Checksum c) {
      byte[] b = seen.toByteArray();
      c.update(b, 0, b.length);
      return c.getValue();
    }
  }
}
