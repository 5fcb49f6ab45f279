package vmafs.source.internal;

import java.io.BufferedOutputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import vmafs.source.SourceMap;
import vmafs.source.gzip.GzipMap;
import vmafs.source.lzop.LzopMap;
import vmafs.source.raw.RawMap;
import vmafs.source.raw.SpillMap;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.source.zstd.ZstdRestartMap;
import vmafs.vma.index.IndexSection;

/**
 * The serialized form of a {@link SourceMap}: big-endian; {@code u32 MAGIC, u16 VERSION, u8 kind,
 * u64 archiveSize, u64 uncompressedSize}, then the kind's body. Bodies are validated as untrusted
 * input: a damaged index file must give an error, not a huge allocation or a wrong map.
 */
public final class MapCodec {
  static final int MAGIC = 0x564d5346; // "VMSF"
  /**
   * 2: gzip maps carry chunk checksums. 3: a spill is its length and chunk CRCs, no path. Other
   * versions are rebuilt (the index is stale).
   */
  static final int VERSION = 3;
  public static final int KIND_RAW = 1;
  public static final int KIND_SPILL = 2;
  public static final int KIND_LZOP = 3;
  public static final int KIND_GZIP = 4;
  public static final int KIND_ZSTD_FRAMES = 5;
  public static final int KIND_ZSTD_RESTART = 6;
  private static final int MAX_STRING = 1 << 16;

  private MapCodec() {}

  @FunctionalInterface
  public interface Body {
    void write(DataOutput out) throws IOException;
  }

  /** Streams a map into {@code os} (flushed, not closed). */
  public static void write(OutputStream os, int kind, long archiveSize, long uncompressedSize, Body body)
      throws IOException {
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16));
    out.writeInt(MAGIC);
    out.writeShort(VERSION);
    out.writeByte(kind);
    out.writeLong(archiveSize);
    out.writeLong(uncompressedSize);
    body.write(out);
    out.flush();
  }

  /**
   * @param spill where the map's spill file is, for maps that have one (the map names none)
   * @param sections the other sections saved with the map, for maps that keep payloads there
   */
  public static SourceMap read(ByteBuffer src, Path spill, Map<String, IndexSection> sections)
      throws IOException {
    ByteBuffer in = src.slice().order(ByteOrder.BIG_ENDIAN);
    try {
      if (in.getInt() != MAGIC) {
        throw new IOException("not a vmafs source map (bad magic)");
      }
      int version = in.getShort() & 0xffff;
      if (version != VERSION) {
        throw new IOException("source map version " + version + " is not supported (expected "
            + VERSION + "); rebuild the index");
      }
      int kind = in.get() & 0xff;
      long archiveSize = nonNegative(in.getLong(), "archive size");
      long size = nonNegative(in.getLong(), "uncompressed size");
      return switch (kind) {
        case KIND_RAW -> new RawMap(archiveSize);
        case KIND_SPILL -> SpillMap.readBody(in, archiveSize, size, spill);
        case KIND_LZOP -> LzopMap.readBody(in, archiveSize, size);
        case KIND_GZIP -> GzipMap.readBody(in, archiveSize, size, spill);
        case KIND_ZSTD_FRAMES -> ZstdFrameMap.readBody(in, archiveSize, size);
        case KIND_ZSTD_RESTART -> ZstdRestartMap.readBody(in, archiveSize, size, spill,
            sections);
        default -> throw new IOException("unknown source map kind " + kind);
      };
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new IOException("source map is truncated or damaged: " + e, e);
    }
  }

  public static long nonNegative(long v, String what) throws IOException {
    if (v < 0) {
      throw new IOException("source map: negative " + what + ": " + v);
    }
    return v;
  }

  /** A count of records of {@code recordBytes} each that must still fit in {@code in}. */
  public static int count(ByteBuffer in, long n, int recordBytes, String what) throws IOException {
    if (n < 0 || n > in.remaining() / Math.max(1, recordBytes)) {
      throw new IOException("source map: " + what + " count " + n + " does not fit the data");
    }
    return (int) n;
  }

  static void writeString(DataOutput out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  static String readString(ByteBuffer in) throws IOException {
    int len = in.getInt();
    if (len < 0 || len > MAX_STRING || len > in.remaining()) {
      throw new IOException("source map: bad string length " + len);
    }
    byte[] b = new byte[len];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  public static void checkArchiveSize(vmafs.vma.io.StoredBytes archive, long expected) throws IOException {
    long actual = archive.size();
    if (actual != expected) {
      throw new IOException(archive.name() + " is " + actual + " bytes but was " + expected
          + " bytes when it was indexed; the archive changed, rebuild the index");
    }
  }
}
