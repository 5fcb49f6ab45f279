package vmafs.source.zstd;

import static vmafs.source.CorruptArchiveException.NONE;
import static vmafs.source.CorruptArchiveException.check;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import vmafs.source.CorruptArchiveException;
import vmafs.vma.io.StoredBytes;
import java.util.List;
import java.util.Optional;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.Endian;

/**
 * zstd frame layout (RFC 8878) and the seekable format's seek table
 * ({@code contrib/seekable_format/zstd_seekable_compression_format.md}): constants, a frame-header
 * walker and the seek-table parser. All integers are little-endian.
 */
public final class ZstdFormat {
  public static final int FRAME_MAGIC = 0xFD2FB528;
  static final int SKIPPABLE_MAGIC_BASE = 0x184D2A50;
  static final int SKIPPABLE_MAGIC_MASK = 0xFFFFFFF0;
  /** Skippable-frame nibble the seekable format reserves for its seek table. */
  static final int SEEK_TABLE_NIBBLE = 0xE;
  static final int SEEK_TABLE_MAGIC = SKIPPABLE_MAGIC_BASE | SEEK_TABLE_NIBBLE;
  static final int SEEKABLE_MAGIC = 0x8F92EAB1;
  /** u32 number of frames, u8 descriptor, u32 seekable magic. */
  static final int SEEK_FOOTER_SIZE = 9;
  /** Offsets in the footer: u32 Number_Of_Frames, u8 Seek_Table_Descriptor, u32 Seekable_Magic_Number. */
  static final int SEEK_FOOTER_FRAMES = 0;
  static final int SEEK_FOOTER_DESCRIPTOR = 4;
  static final int SEEK_FOOTER_MAGIC = 5;
  static final int SEEK_DESCRIPTOR_CHECKSUM = 0x80;
  static final int SEEK_DESCRIPTOR_RESERVED = 0x7C;
  static final int SEEK_ENTRY_SIZE = 8;
  static final int SEEK_ENTRY_SIZE_WITH_CHECKSUM = 12;
  /** {@code ZSTD_SEEKABLE_MAXFRAMES} and {@code ZSTD_SEEKABLE_MAX_FRAME_DECOMPRESSED_SIZE}. */
  static final int SEEK_MAX_FRAMES = 0x8000000;
  static final long SEEK_MAX_FRAME_SIZE = 0x40000000L;

  /** Magic (4) + Frame_Size (4) of a skippable frame. */
  static final int SKIPPABLE_HEADER_SIZE = 8;
  static final int BLOCK_HEADER_SIZE = 3;
  static final int CHECKSUM_SIZE = 4;
  /** Frame_Header_Descriptor bit: the frame ends in the low 32 bits of its content's XXH64. */
  static final int FHD_CONTENT_CHECKSUM = 0x04;
  /** No block decompresses to more than this (Block_Maximum_Size is at most 128 KiB). */
  static final int BLOCK_MAX_DECOMPRESSED = 128 << 10;
  static final int BLOCK_TYPE_RAW = 0;
  static final int BLOCK_TYPE_RLE = 1;
  static final int BLOCK_TYPE_RESERVED = 3;
  static final int BLOCK_TYPE_COMPRESSED = 2;
  /** Magic + Frame_Header_Descriptor + Window_Descriptor + Dictionary_ID(4) + FCS(8). */
  static final int FRAME_HEADER_MAX = 4 + 1 + 1 + 4 + 8;
  /** Frame_Header_Descriptor bits (RFC 8878 3.1.1.1.1). */
  static final int FHD_SINGLE_SEGMENT = 0x20;
  static final int FHD_CHECKSUM = 0x04;
  /** Window_Descriptor: exponent in bits 7-3 (window = 2^(10 + exponent)), mantissa in 2-0. */
  static final int WINDOW_LOG_MIN = 10;
  /**
   * A frame header with no content size, no checksum, no dictionary and a window descriptor
   * (magic, descriptor 0x00, then the window byte): what a restart at a block inside a frame is
   * fed first, so that libzstd decodes the original blocks from there on.
   */
  static final int RESTART_HEADER_SIZE = 6;

  /**
   * What a data frame's header says: its size, the window the decoder needs, and the Window
   * Descriptor byte that names it (for single-segment frames, which have none, the smallest one
   * whose window covers the content).
   */
  record FrameHeader(int headerSize, long windowSize, int windowDescriptor, boolean checksum,
      long dictionaryId, long contentSize) {}

  /**
   * Parses the data frame header at the start of {@code b} (little-endian, at least {@link
   * #FRAME_HEADER_MAX} bytes or up to the end of the file).
   */
  static FrameHeader frameHeader(ByteBuffer b, String name, long offset) throws IOException {
    Where where = Where.of(name, Part.ZSTD_FRAME, NONE, offset);
    check(b.remaining() >= 5 && b.getInt(b.position()) == FRAME_MAGIC, where, "no frame header");
    int at = b.position();
    int fhd = b.get(at + 4) & 0xff;
    boolean singleSegment = (fhd & FHD_SINGLE_SEGMENT) != 0;
    int didSize = new int[] {0, 1, 2, 4}[fhd & 3];
    int fcsSize = new int[] {singleSegment ? 1 : 0, 2, 4, 8}[fhd >>> 6];
    int size = 5 + (singleSegment ? 0 : 1) + didSize + fcsSize;
    check((fhd & 0x08) == 0 && b.remaining() >= size, where, "bad frame header");
    long dictId = 0;
    for (int i = 0; i < didSize; i++) {
      dictId |= (b.get(at + 5 + (singleSegment ? 0 : 1) + i) & 0xffL) << (8 * i);
    }
    long contentSize = -1;
    int fcsAt = at + size - fcsSize;
    switch (fcsSize) {
      case 1 -> contentSize = b.get(fcsAt) & 0xffL;
      case 2 -> contentSize = (b.getShort(fcsAt) & 0xffffL) + 256;
      case 4 -> contentSize = b.getInt(fcsAt) & 0xffffffffL;
      case 8 -> contentSize = b.getLong(fcsAt);
      default -> { }
    }
    int descriptor;
    long window;
    if (singleSegment) {
      long needed = Math.max(contentSize, 1L << WINDOW_LOG_MIN);
      int log = 64 - Long.numberOfLeadingZeros(needed - 1);
      descriptor = (log - WINDOW_LOG_MIN) << 3;
      window = 1L << log;
    } else {
      descriptor = b.get(at + 5) & 0xff;
      window = windowSize(descriptor);
    }
    return new FrameHeader(size, window, descriptor, (fhd & FHD_CHECKSUM) != 0, dictId, contentSize);
  }

  /**
   * The window of the first data frame (after any skippable frames), or 0 if the file has none;
   * what decides whether restart points can be made for it.
   */
  static long firstWindow(StoredBytes ch, String name) throws IOException {
    long size = ch.size();
    long pos = 0;
    ByteBuffer b = ByteBuffer.allocate(FRAME_HEADER_MAX).order(ByteOrder.LITTLE_ENDIAN);
    while (pos + 8 <= size) {
      read(ch, name, pos, b, Math.min(FRAME_HEADER_MAX, size - pos), 8);
      int magic = b.getInt(0);
      if (!isSkippableMagic(magic)) {
        b.limit((int) Math.min(FRAME_HEADER_MAX, size - pos));
        return frameHeader(b, name, pos).windowSize();
      }
      pos += SKIPPABLE_HEADER_SIZE + (b.getInt(4) & 0xffffffffL);
    }
    return 0;
  }

  /** The window a Window_Descriptor byte names (RFC 8878 3.1.1.1.2). */
  static long windowSize(int descriptor) {
    long base = 1L << (WINDOW_LOG_MIN + (descriptor >>> 3));
    return base + base / 8 * (descriptor & 7);
  }

  /** The header a restart is fed first (see {@link #RESTART_HEADER_SIZE}). */
  static byte[] restartHeader(int windowDescriptor) {
    return new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD, 0, (byte) windowDescriptor};
  }

  private ZstdFormat() {}

  public static boolean isSkippableMagic(int magic) {
    return (magic & SKIPPABLE_MAGIC_MASK) == SKIPPABLE_MAGIC_BASE;
  }

  /** One frame of the file; {@code skippableNibble < 0} for a zstd data frame. */
  record Frame(long offset, long compressedSize, int skippableNibble, long decompressedBound) {
    boolean skippable() {
      return skippableNibble >= 0;
    }
  }

  /**
   * One entry of a seek table.
   *
   * @param checksum the low 32 bits of the frame content's XXH64 (unsigned), or -1 if the table has
   *     none
   */
  record SeekEntry(long compressedSize, long decompressedSize, long checksum) {}

  /**
   * Walks frame and block headers from offset 0 without decompressing, stopping (and returning
   * false) as soon as a data frame may decompress to more than {@code maxFrame} bytes. Damage that
   * the headers reveal (garbage, truncation) is an error naming the offset.
   */
  static boolean allFramesAtMost(StoredBytes ch, String name, long maxFrame) throws IOException {
    long size = ch.size();
    long pos = 0;
    long frameStart = 0;
    ByteBuffer b = ByteBuffer.allocate(FRAME_HEADER_MAX).order(ByteOrder.LITTLE_ENDIAN);
    while (pos < size) {
      frameStart = pos;
      read(ch, name, pos, b, Math.min(FRAME_HEADER_MAX, size - pos), 8);
      int magic = b.getInt(0);
      if (isSkippableMagic(magic)) {
        pos += SKIPPABLE_HEADER_SIZE + (b.getInt(4) & 0xffffffffL);
        continue;
      }
      check(magic == FRAME_MAGIC, Where.at(name, pos),
          "not a zstd frame (magic " + Integer.toHexString(magic) + "): trailing garbage or damage");
      int fhd = b.get(4) & 0xff;
      int fcsFlag = fhd >>> 6;
      boolean singleSegment = (fhd & 0x20) != 0;
      boolean checksum = (fhd & 0x04) != 0;
      int didSize = new int[] {0, 1, 2, 4}[fhd & 3];
      int fcsSize = new int[] {singleSegment ? 1 : 0, 2, 4, 8}[fcsFlag];
      int headerSize = 5 + (singleSegment ? 0 : 1) + didSize + fcsSize;
      long contentSize = -1;
      if (fcsSize > 0) {
        int at = headerSize - fcsSize;
        contentSize = switch (fcsSize) {
          case 1 -> b.get(at) & 0xffL;
          case 2 -> (b.getShort(at) & 0xffffL) + 256;
          case 4 -> b.getInt(at) & 0xffffffffL;
          default -> b.getLong(at);
        };
      }
      if (contentSize > maxFrame || contentSize < -1) {
        return false;
      }
      pos += headerSize;
      long bound = 0;
      while (true) {
        read(ch, name, pos, b, BLOCK_HEADER_SIZE, BLOCK_HEADER_SIZE);
        int bh = Endian.le24(b, 0);
        boolean last = (bh & 1) != 0;
        int type = (bh >>> 1) & 3;
        int blockSize = bh >>> 3;
        if (type == BLOCK_TYPE_RESERVED) {
          throw new CorruptArchiveException(Where.of(name, Part.ZSTD_BLOCK, NONE, pos),
              "corrupt block header (in the frame at compressed offset " + frameStart + ")");
        }
        pos += BLOCK_HEADER_SIZE + (type == BLOCK_TYPE_RLE ? 1 : blockSize);
        bound += BLOCK_MAX_DECOMPRESSED;
        if (contentSize < 0 && bound > maxFrame) {
          return false;
        }
        if (last) {
          break;
        }
      }
      pos += checksum ? CHECKSUM_SIZE : 0;
    }
    if (pos != size) {
      throw new EOFException(name + ": truncated: the frame at compressed offset " + frameStart
          + " needs bytes up to offset " + pos + " but the file ends at " + size);
    }
    return true;
  }

  private static void read(StoredBytes ch, String name, long pos, ByteBuffer b, long len, int min)
      throws IOException {
    b.clear().limit((int) Math.max(0, len));
    while (b.hasRemaining()) {
      int n = ch.read(pos + b.position(), b);
      if (n < 0) {
        break;
      }
    }
    if (b.position() < min) {
      throw new EOFException(name + ": truncated: zstd header at compressed offset " + pos
          + " runs past the end of the file");
    }
    b.clear();
  }

  /**
   * The seek table at the end of the file, if the file ends with the seekable footer. A footer
   * followed by an invalid table is an error rather than "no table": the file claims to be
   * seekable and is damaged.
   */
  static Optional<List<SeekEntry>> readSeekTable(StoredBytes ch, String name) throws IOException {
    long size = ch.size();
    if (size < SEEK_FOOTER_SIZE + SKIPPABLE_HEADER_SIZE) {
      return Optional.empty();
    }
    long footerAt = size - SEEK_FOOTER_SIZE;
    ByteBuffer footer = ByteBuffer.allocate(SEEK_FOOTER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    read(ch, name, footerAt, footer, SEEK_FOOTER_SIZE, SEEK_FOOTER_SIZE);
    if (footer.getInt(SEEK_FOOTER_MAGIC) != SEEKABLE_MAGIC) {
      return Optional.empty();
    }
    long n = footer.getInt(SEEK_FOOTER_FRAMES) & 0xffffffffL;
    int descriptor = footer.get(SEEK_FOOTER_DESCRIPTOR) & 0xff;
    check((descriptor & SEEK_DESCRIPTOR_RESERVED) == 0,
        seekTable(name, footerAt + SEEK_FOOTER_DESCRIPTOR), "Seek_Table_Descriptor 0x"
            + Integer.toHexString(descriptor) + " has reserved bits set");
    check(n <= SEEK_MAX_FRAMES, seekTable(name, footerAt + SEEK_FOOTER_FRAMES),
        "Number_Of_Frames " + n + " is more than the format allows (" + SEEK_MAX_FRAMES + ")");
    int entrySize = (descriptor & SEEK_DESCRIPTOR_CHECKSUM) != 0
        ? SEEK_ENTRY_SIZE_WITH_CHECKSUM : SEEK_ENTRY_SIZE;
    long tableFrameSize = SKIPPABLE_HEADER_SIZE + n * entrySize + SEEK_FOOTER_SIZE;
    check(tableFrameSize <= size, seekTable(name, footerAt + SEEK_FOOTER_FRAMES),
        "Number_Of_Frames " + n + ": a table of " + tableFrameSize + " bytes does not fit in the "
            + size + "-byte file");
    long tableStart = size - tableFrameSize;
    ByteBuffer table = ByteBuffer.allocate((int) tableFrameSize).order(ByteOrder.LITTLE_ENDIAN);
    read(ch, name, tableStart, table, tableFrameSize, (int) tableFrameSize);
    check(table.getInt(0) == SEEK_TABLE_MAGIC, seekTable(name, tableStart),
        "Magic_Number 0x" + Integer.toHexString(table.getInt(0)) + " is not the seek table's (0x"
            + Integer.toHexString(SEEK_TABLE_MAGIC) + ") where Number_Of_Frames " + n + " puts it");
    long frameSize = table.getInt(4) & 0xffffffffL;
    check(frameSize == tableFrameSize - SKIPPABLE_HEADER_SIZE,
        seekTable(name, tableStart + 4), "Frame_Size " + frameSize + " disagrees with "
            + n + " entries (" + (tableFrameSize - SKIPPABLE_HEADER_SIZE) + " bytes)");
    List<SeekEntry> entries = new ArrayList<>((int) n);
    long sum = 0;
    for (int i = 0; i < n; i++) {
      int at = SKIPPABLE_HEADER_SIZE + i * entrySize;
      long c = table.getInt(at) & 0xffffffffL;
      long d = table.getInt(at + 4) & 0xffffffffL;
      check(d <= SEEK_MAX_FRAME_SIZE,
          Where.of(name, Part.ZSTD_SEEK_ENTRY, i, tableStart + at + 4),
          "Decompressed_Size " + d + " is more than the format allows (" + SEEK_MAX_FRAME_SIZE + ")");
      long checksum = entrySize == SEEK_ENTRY_SIZE_WITH_CHECKSUM ? table.getInt(at + 8) & 0xffffffffL : -1;
      entries.add(new SeekEntry(c, d, checksum));
      sum += c;
    }
    check(sum == tableStart, seekTable(name, tableStart),
        "the entries' Compressed_Size add up to " + sum + " bytes but the table starts at "
            + tableStart);
    return Optional.of(entries);
  }

  private static Where seekTable(String name, long offset) {
    return Where.of(name, Part.ZSTD_SEEK_TABLE, NONE, offset);
  }
}
