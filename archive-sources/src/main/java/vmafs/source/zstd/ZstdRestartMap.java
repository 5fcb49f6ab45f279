package vmafs.source.zstd;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import vmafs.source.ArchiveFormat;
import vmafs.source.DecodeOptions;
import vmafs.source.RandomAccess;
import vmafs.source.SourceMap;
import vmafs.source.internal.ChunkChecksums;
import vmafs.source.internal.CompressedMap;
import vmafs.source.internal.MapCodec;
import vmafs.source.internal.SpillFile;
import vmafs.vma.io.StoredBytes;
import java.util.LinkedHashMap;
import java.util.Map;
import vmafs.cache.BlockCache;
import vmafs.vma.index.IndexSection;
import vmafs.vma.io.ArchiveSource;

/**
 * Random access into large zstd frames (vzdump's single-frame {@code .vma.zst}) through restart
 * points: block boundaries where decoding can start over with a prefix of earlier output as
 * dictionary, each verified by the decode pass over its whole span (up to the next point) against
 * the true output. A span's bytes are checked again on every read, by a CRC-32C per 64 KiB
 * recorded from the true output. Where the pass found no point for too long, the rest of the
 * stream lives in a spill file (the "tail"); then {@link #isRandomAccessible()} is false.
 *
 * <p>Saved as two index sections: this map ({@link SourceMap#SECTION}: big-endian {@code u32
 * chunkSize, u32 count}, per point {@code u64 cOff, u64 cEnd, u64 uOff, u8 windowDescriptor,
 * u32 prefixLength, u64 prefixOffset, u32 prefixStored}, {@code u32 chunkCount} and the chunk
 * CRCs, {@code u8 hasTail [spill file]}) and the compressed prefixes ({@link #PREFIX_SECTION},
 * each a zstd frame with its own checksum, checked when it is read rather than when the index is
 * loaded).
 */
public final class ZstdRestartMap extends CompressedMap {
  /** The index section holding the stored prefixes. */
  public static final String PREFIX_SECTION = "zstd-restart-prefixes";
  static final int RECORD_BYTES = 8 + 8 + 8 + 1 + 4 + 8 + 4;
  /** The largest window restart points are made for; larger frames spill (docs/design.md). */
  static final long MAX_WINDOW = 8 << 20;

  private final RestartPoints.Snapshot points;
  private final int chunkSize;
  private final ByteBuffer chunkCrcs;
  private final ChunkChecksums chunks;
  private final PrefixStore prefixes;

  ZstdRestartMap(long archiveSize, long size, RestartPoints.Snapshot points, int chunkSize,
      ByteBuffer chunkCrcs, PrefixStore prefixes, SpillFile tail) throws IOException {
    super(ArchiveFormat.ZSTD, archiveSize, size, tail);
    this.points = points;
    this.chunkSize = chunkSize;
    this.chunkCrcs = chunkCrcs;
    this.prefixes = prefixes;
    int n = points.count();
    long head = size - (tail == null ? 0 : tail.length());
    if (head != points.end() || head < 0 || (n == 0 && head != 0)) {
      throw new IOException("zstd restart map does not add up: spans end at " + points.end()
          + ", " + head + " bytes before the spill");
    }
    long[] spanLengths = new long[n];
    for (int i = 0; i < n; i++) {
      long spanEnd = i + 1 < n ? points.uOff()[i + 1] : head;
      long window = ZstdFormat.windowSize(points.windowDescriptor()[i]);
      boolean ok = (i == 0 ? points.uOff()[0] == 0 : points.uOff()[i] > points.uOff()[i - 1])
          && spanEnd > points.uOff()[i]
          && spanEnd - points.uOff()[i] <= DecodeOptions.MAX_BLOCK_ALLOCATION
          && points.cOff()[i] >= (i == 0 ? 0 : points.cEnd()[i - 1])
          && points.cOff()[i] < points.cEnd()[i] && points.cEnd()[i] <= archiveSize
          && window <= MAX_WINDOW
          && points.prefixLength()[i] >= 0 && points.prefixLength()[i] <= window
          && (points.prefixLength()[i] == 0) == (points.prefixStored()[i] == 0)
          && points.prefixStored()[i] >= 0 && points.prefixOffset()[i] >= 0
          && points.prefixOffset()[i] <= prefixes.size() - points.prefixStored()[i];
      if (!ok) {
        throw new IOException("zstd restart map: point #" + i + " is inconsistent");
      }
      spanLengths[i] = spanEnd - points.uOff()[i];
    }
    this.chunks = ChunkChecksums.of(chunkSize, chunkCrcs, spanLengths);
  }

  /** Builds the map of a finished pass; the chunk CRCs are the ints the pass recorded. */
  static ZstdRestartMap fromPass(long archiveSize, long size, RestartPoints.Snapshot points,
      PrefixStore prefixes, SpillFile tail) throws IOException {
    ByteBuffer crcs = ByteBuffer.allocate(4 * points.chunkCrcs().length).order(ByteOrder.BIG_ENDIAN);
    crcs.asIntBuffer().put(points.chunkCrcs());
    return new ZstdRestartMap(archiveSize, size, points, ChunkChecksums.DEFAULT_CHUNK, crcs,
        prefixes, tail);
  }

  public int pointCount() {
    return points.count();
  }

  /** Bytes stored for random access: prefixes, point records and chunk checksums. */
  public long restartBytes() {
    return prefixes.size() + (long) RECORD_BYTES * points.count() + chunkCrcs.remaining();
  }

  /** Uncompressed offsets where the spans start (for tests and stats). */
  public long[] blockBoundaries() {
    return points.uOff().clone();
  }

  RestartPoints.Snapshot points() {
    return points;
  }

  PrefixStore prefixes() {
    return prefixes;
  }

  ChunkChecksums chunkChecksums() {
    return chunks;
  }

  @Override
  public RandomAccess randomAccess() {
    return new RandomAccess(tail == null ? RandomAccess.ZSTD_RESTART_POINTS
        : RandomAccess.ZSTD_RESTART_POINTS_AND_SPILL, points.count(), restartBytes(), spilledBytes());
  }

  @Override
  public ArchiveSource open(StoredBytes archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    String name = archive.name();
    return withTail(name, new ZstdRestartSource(name, archive, this, prefixes, chunks, cache));
  }

  @Override
  public void writeTo(OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_ZSTD_RESTART, archiveSize, size, out -> {
      int n = points.count();
      out.writeInt(chunkSize);
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.writeLong(points.cOff()[i]);
        out.writeLong(points.cEnd()[i]);
        out.writeLong(points.uOff()[i]);
        out.writeByte(points.windowDescriptor()[i]);
        out.writeInt(points.prefixLength()[i]);
        out.writeLong(points.prefixOffset()[i]);
        out.writeInt(points.prefixStored()[i]);
      }
      out.writeInt(chunkCrcs.remaining() / 4);
      for (int at = chunkCrcs.position(); at < chunkCrcs.limit(); at += 4) {
        out.writeInt(chunkCrcs.getInt(at));
      }
      out.writeBoolean(tail != null);
      if (tail != null) {
        tail.write(out);
      }
    });
  }

  @Override
  public Map<String, IndexSection.ToSave> sections() {
    Map<String, IndexSection.ToSave> s = new LinkedHashMap<>();
    s.put(SECTION, IndexSection.ToSave.checkedOnLoad(this::writeTo));
    s.put(PREFIX_SECTION, IndexSection.ToSave.checkedByReader(prefixes::writeTo));
    return s;
  }

  @Override
  public void releaseScratch() throws IOException {
    prefixes.close();
  }

  public static ZstdRestartMap readBody(ByteBuffer in, long archiveSize, long size, Path spillPath,
      Map<String, IndexSection> sections) throws IOException {
    IndexSection stored = sections.get(PREFIX_SECTION);
    if (stored == null) {
      throw new IOException("zstd restart map: the index has no " + PREFIX_SECTION + " section");
    }
    int chunkSize = in.getInt();
    int n = MapCodec.count(in, in.getInt(), RECORD_BYTES, "zstd restart point");
    long[] cOff = new long[n];
    long[] cEnd = new long[n];
    long[] uOff = new long[n];
    int[] wd = new int[n];
    int[] plen = new int[n];
    long[] poff = new long[n];
    int[] pstored = new int[n];
    for (int i = 0; i < n; i++) {
      cOff[i] = in.getLong();
      cEnd[i] = in.getLong();
      uOff[i] = in.getLong();
      wd[i] = in.get() & 0xff;
      plen[i] = in.getInt();
      poff[i] = in.getLong();
      pstored[i] = in.getInt();
    }
    int chunkCount = in.getInt();
    if (chunkCount < 0 || 4L * chunkCount > in.remaining()) {
      throw new IOException("zstd restart map: chunk checksums are truncated");
    }
    ByteBuffer crcs = in.slice(in.position(), 4 * chunkCount);
    in.position(in.position() + 4 * chunkCount);
    SpillFile tail = in.get() != 0 ? SpillFile.read(in, spillPath) : null;
    long head = size - (tail == null ? 0 : tail.length());
    RestartPoints.Snapshot points = new RestartPoints.Snapshot(cOff, cEnd, uOff, wd, plen, poff,
        pstored, head, null);
    return new ZstdRestartMap(archiveSize, size, points, chunkSize, crcs, PrefixStore.of(stored),
        tail);
  }
}
