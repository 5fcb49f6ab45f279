package vmafs.source.gzip;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.RandomAccess;
import vmafs.source.SourceMap;
import vmafs.source.internal.BlockDecoder;
import vmafs.source.internal.BlockTable;
import vmafs.source.internal.CachedBlockSource;
import vmafs.source.internal.ChunkChecksums;
import vmafs.source.internal.CompressedMap;
import vmafs.source.internal.MapCodec;
import vmafs.source.internal.PrefixDecoder;
import vmafs.source.internal.SpillFile;
import vmafs.source.raw.SpillMap;
import vmafs.vma.io.StoredBytes;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.ArchiveSource;

/**
 * zran-style checkpoints into a {@code .vma.gz}: at each, the compressed offset of a byte-aligned
 * deflate block start, its uncompressed offset and the 32 KiB window before it. A read inflates
 * the span from the nearest checkpoint at or before it and checks the span's CRC-32 (recorded by
 * the pass; gzip's own CRC covers the whole member, which a random read never sees).
 *
 * <p>If the pass found no restart point for a long stretch, the stream from the last checkpoint on
 * lives in a spill file (the "tail"); then {@link #isRandomAccessible()} is false.
 *
 * <p>A cold read inflates only as far as it needs: the pass also records a CRC-32C per 64 KiB of
 * each span ({@link ChunkChecksums}), so a read stops at the end of its chunk instead of the span.
 *
 * <p>Serialized as {@code u32 spacing, u32 count}, per checkpoint {@code u64 cOff, u64 cEnd,
 * u64 uOff, u32 spanCrc, u32 windowLength, u32 storedWindowLength}, {@code u8 hasTail [spill file]},
 * then {@code u32 blobLength} and the windows, each zstd-compressed (they shrink 2–4×), then
 * {@code u32 chunkSize, u32 chunkCount} and the chunk CRCs. When read back with {@link
 * SourceMap#fromBytes}, the windows and chunk CRCs stay in the given buffer (e.g. a mapping of
 * the index file) and are read from there on a miss.
 */
public final class GzipMap extends CompressedMap {
  /** Windows are tiny and read once per cache miss; level 1 keeps the pass fast. */
  private static final int WINDOW_ZSTD_LEVEL = 1;

  /**
   * One checkpoint as it is kept and serialized (big-endian, {@link #BYTES} bytes): where its
   * deflate span starts and ends in the archive, where it starts in the stream, the span's CRC-32,
   * and its window's length raw and as stored (zstd). The pass and a loaded map hold checkpoints
   * as one buffer of these records; this is the only code that lays them out.
   */
  record Checkpoint(long cOff, long cEnd, long uOff, int spanCrc, int windowLength,
      int storedWindowLength) {
    static final int BYTES = 8 + 8 + 8 + 4 + 4 + 4;
    private static final int C_END = 8;
    private static final int SPAN_CRC = 24;

    static Checkpoint read(ByteBuffer records, int i) {
      int at = i * BYTES;
      return new Checkpoint(records.getLong(at), records.getLong(at + C_END),
          records.getLong(at + 16), records.getInt(at + SPAN_CRC), records.getInt(at + 28),
          records.getInt(at + 32));
    }

    void write(ByteBuffer records, int i) {
      records.putLong(i * BYTES, cOff).putLong(i * BYTES + C_END, cEnd)
          .putLong(i * BYTES + 16, uOff).putInt(i * BYTES + SPAN_CRC, spanCrc)
          .putInt(i * BYTES + 28, windowLength).putInt(i * BYTES + 32, storedWindowLength);
    }

    /** Closes the span at compressed offset {@code end}, with its CRC-32. */
    static void close(ByteBuffer records, int i, long end, int crc) {
      records.putLong(i * BYTES + C_END, end).putInt(i * BYTES + SPAN_CRC, crc);
    }
  }

  private final int spacing;
  /** {@link Checkpoint} records, one after the other. */
  private final ByteBuffer records;
  private final int count;
  /** Where each checkpoint's span starts in the stream, for {@link BlockTable}. */
  private final long[] uOff;
  /** Where each checkpoint's stored window starts in {@link #windows}. */
  private final int[] winOff;
  private final ByteBuffer windows;
  /** Big-endian u32 chunk CRCs, span after span, as serialized; {@link #chunks} reads them. */
  private final ByteBuffer chunkCrcs;
  private final ChunkChecksums chunks;

  /** Checks every checkpoint against its neighbours and the archive before the map is used. */
  private GzipMap(long archiveSize, long size, int spacing, ByteBuffer records, ByteBuffer windows,
      int chunkSize, ByteBuffer chunkCrcs, SpillFile tail) throws IOException {
    super(ArchiveFormat.GZIP, archiveSize, size, tail);
    int n = records.remaining() / Checkpoint.BYTES;
    this.spacing = spacing;
    this.records = records;
    this.count = n;
    this.windows = windows;
    this.chunkCrcs = chunkCrcs;
    this.uOff = new long[n];
    this.winOff = new int[n];
    long headSize = size - (tail == null ? 0 : tail.length());
    for (int i = 0; i < n; i++) {
      uOff[i] = records.getLong(i * Checkpoint.BYTES + 16);
    }
    long w = 0;
    long[] spanLengths = new long[n];
    for (int i = 0; i < n; i++) {
      Checkpoint c = Checkpoint.read(records, i);
      long spanEnd = i + 1 < n ? uOff[i + 1] : headSize;
      boolean ok = (i == 0 ? c.uOff() == 0 : c.uOff() > uOff[i - 1])
          && spanEnd - c.uOff() <= DecodeOptions.MAX_BLOCK_ALLOCATION && spanEnd > c.uOff()
          && c.cOff() >= 0 && c.cOff() < c.cEnd() && c.cEnd() <= archiveSize
          && c.cEnd() - c.cOff() <= 2L * DecodeOptions.MAX_BLOCK_ALLOCATION
          && c.windowLength() >= 0 && c.windowLength() <= GzipFormat.WINDOW_SIZE
          && c.storedWindowLength() >= 0
          && (c.windowLength() == 0) == (c.storedWindowLength() == 0);
      if (!ok) {
        throw new IOException("gzip map: checkpoint #" + i + " is inconsistent");
      }
      winOff[i] = (int) w;
      w += c.storedWindowLength();
      spanLengths[i] = spanEnd - c.uOff();
    }
    if (w > windows.limit() || (n == 0 && headSize != 0) || headSize < 0) {
      throw new IOException("gzip map does not add up (" + n + " checkpoints, windows " + w + "/"
          + windows.limit() + " bytes, head " + headSize + ")");
    }
    this.chunks = ChunkChecksums.of(chunkSize, chunkCrcs, spanLengths);
  }

  public int checkpointCount() {
    return count;
  }

  /** The chunk checksums of the spans (for tests). */
  ChunkChecksums chunkChecksums() {
    return chunks;
  }

  /** Uncompressed offsets where independently decoded blocks start (for tests and stats). */
  public long[] blockBoundaries() {
    return uOff.clone();
  }

  @Override
  public RandomAccess randomAccess() {
    long bytes = (long) Checkpoint.BYTES * count + windows.limit() + chunkCrcs.remaining();
    return new RandomAccess(tail == null ? RandomAccess.GZIP_CHECKPOINTS
        : RandomAccess.GZIP_CHECKPOINTS_AND_SPILL, count, bytes, spilledBytes());
  }

  @Override
  public ArchiveSource open(StoredBytes archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    return openUnchecked(archive, cache);
  }

  /** {@link #open} without the archive size check: for a map of a prefix (a pass still running). */
  ArchiveSource openUnchecked(StoredBytes archive, BlockCache cache) throws IOException {
    String name = archive.name();
    long headSize = size - spilledBytes();
    StoredBytes ch = archive;
    BlockTable table = new BlockTable(uOff, headSize);
    BlockDecoder decoder = new PrefixDecoder(name, chunks) {
      @Override
      public byte[] decode(int i) throws IOException {
        byte[] span = decodeFirst(i, table.length(i));
        CRC32 sum = new CRC32();
        sum.update(span);
        Checkpoint c = Checkpoint.read(records, i);
        if ((int) sum.getValue() != c.spanCrc()) {
          throw new CorruptArchiveException(Where.of(name, Part.GZIP_CHECKPOINT, i, c.cOff()),
              "the data does not match its recorded CRC-32; the archive is damaged or changed");
        }
        return span;
      }

      @Override
      protected byte[] decodeFirst(int i, int len) throws IOException {
        Checkpoint c = Checkpoint.read(records, i);
        return GzipInflate.span(ch, name, c.cOff(), c.cEnd(), window(c, i, name), len);
      }

      @Override
      protected int length(int i) {
        return table.length(i);
      }

      @Override
      protected String where(int i) {
        return "the gzip span at compressed offset " + Checkpoint.read(records, i).cOff();
      }
    };
    return withTail(name, new CachedBlockSource(name, table, decoder, cache, () -> {}));
  }

  private byte[] window(Checkpoint c, int i, String name) throws IOException {
    if (c.windowLength() == 0) {
      return new byte[0];
    }
    byte[] stored = new byte[c.storedWindowLength()];
    windows.get(winOff[i], stored);
    try {
      byte[] w = Zstd.decompress(stored, c.windowLength());
      if (w.length != c.windowLength()) {
        throw new CorruptArchiveException(Where.of(name, Part.GZIP_CHECKPOINT, i, c.cOff()),
            "its saved window is damaged");
      }
      return w;
    } catch (ZstdException e) {
      throw new CorruptArchiveException(Where.of(name, Part.GZIP_CHECKPOINT, i, c.cOff()),
          "its saved window is damaged: " + e.getMessage(), e);
    }
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_GZIP, archiveSize, size, out -> {
      out.writeInt(spacing);
      out.writeInt(count);
      copy(records, 0, count * Checkpoint.BYTES, out);
      out.writeBoolean(tail != null);
      if (tail != null) {
        tail.write(out);
      }
      int blobLen = count == 0 ? 0
          : winOff[count - 1] + Checkpoint.read(records, count - 1).storedWindowLength();
      out.writeInt(blobLen);
      copy(windows, 0, blobLen, out);
      out.writeInt(chunks.chunkSize());
      out.writeInt(chunkCrcs.remaining() / 4);
      for (int at = chunkCrcs.position(); at < chunkCrcs.limit(); at += 4) {
        out.writeInt(chunkCrcs.getInt(at));
      }
    });
  }

  private static void copy(ByteBuffer from, int at, int length, java.io.DataOutput out)
      throws IOException {
    byte[] chunk = new byte[64 << 10];
    for (int done = 0; done < length; done += chunk.length) {
      int k = Math.min(chunk.length, length - done);
      from.get(at + done, chunk, 0, k);
      out.write(chunk, 0, k);
    }
  }

  public static GzipMap readBody(ByteBuffer in, long archiveSize, long size, Path spillPath)
      throws IOException {
    int spacing = in.getInt();
    int n = MapCodec.count(in, in.getInt(), Checkpoint.BYTES, "gzip checkpoint");
    ByteBuffer records = in.slice(in.position(), n * Checkpoint.BYTES);
    in.position(in.position() + n * Checkpoint.BYTES);
    SpillFile tail = in.get() != 0 ? SpillFile.read(in, spillPath) : null;
    int blobLen = in.getInt();
    if (blobLen < 0 || blobLen > in.remaining()) {
      throw new IOException("gzip map: window data is truncated");
    }
    ByteBuffer blob = in.slice(in.position(), blobLen);
    in.position(in.position() + blobLen);
    int chunkSize = in.getInt();
    int chunkCount = in.getInt();
    if (chunkCount < 0 || 4L * chunkCount > in.remaining()) {
      throw new IOException("gzip map: chunk checksums are truncated");
    }
    ByteBuffer chunkCrcs = in.slice(in.position(), 4 * chunkCount);
    in.position(in.position() + 4 * chunkCount);
    return new GzipMap(archiveSize, size, spacing, records, blob, chunkSize, chunkCrcs, tail);
  }

  /**
   * Collects checkpoints during the decode pass. While the pass runs, the last checkpoint's span
   * is open (every closed span is followed by a new checkpoint): its window stays raw, for the
   * pass to start a spill from it ({@link #removeLast}), and is compressed into the windows when
   * its span closes. So the windows hold exactly the closed checkpoints' and never change below
   * what a {@link #prefix} shares.
   */
  static final class Builder {
    /** A checkpoint with its window uncompressed, as the pass needs it to start a spill. */
    record Point(long cOff, long uOff, byte[] window) {}

    private final int spacing;
    private ByteBuffer records = ByteBuffer.allocate(256 * Checkpoint.BYTES);
    private int count;
    /** The open checkpoint's window, or null when every span is closed. */
    private byte[] openWindow;
    private byte[] blob = new byte[1 << 20];
    private int blobLen;
    private int[] chunkCrcs = new int[1024];
    private int chunkCount;

    Builder(int spacing) {
      this.spacing = spacing;
    }

    int count() {
      return count;
    }

    long lastUOff() {
      return count == 0 ? 0 : Checkpoint.read(records, count - 1).uOff();
    }

    void add(long c, long u, byte[] window) throws IOException {
      if (openWindow != null) {
        throw new IllegalStateException("gzip checkpoint #" + (count - 1) + "'s span is still open");
      }
      if ((count + 1L) * Checkpoint.BYTES > records.capacity()) {
        if (2L * records.capacity() > Integer.MAX_VALUE - 16) {
          throw new IOException("too many gzip checkpoints; use a larger spacing");
        }
        records = ByteBuffer.allocate(2 * records.capacity()).put(records.array(), 0, count * Checkpoint.BYTES);
      }
      new Checkpoint(c, -1, u, 0, window.length, 0).write(records, count);
      openWindow = window;
      count++;
    }

    /** Ends the last checkpoint's span at compressed offset {@code end}. */
    void closeSpan(long end, long spanCrc, int[] spanChunks) throws IOException {
      byte[] stored = openWindow.length == 0 ? openWindow : Zstd.compress(openWindow, WINDOW_ZSTD_LEVEL);
      if ((long) blobLen + stored.length > Integer.MAX_VALUE - 16) {
        throw new IOException("too many gzip checkpoints (2 GiB of windows); use a larger spacing");
      }
      if ((long) chunkCount + spanChunks.length > Integer.MAX_VALUE / 4 - 16) {
        throw new IOException("too many gzip chunk checksums (2 GiB); the stream is too large");
      }
      if (blobLen + stored.length > blob.length) {
        blob = Arrays.copyOf(blob, (int) Math.min(Integer.MAX_VALUE - 16,
            Math.max(2L * blob.length, blobLen + stored.length)));
      }
      System.arraycopy(stored, 0, blob, blobLen, stored.length);
      blobLen += stored.length;
      Checkpoint open = Checkpoint.read(records, count - 1);
      new Checkpoint(open.cOff(), end, open.uOff(), (int) spanCrc, open.windowLength(), stored.length)
          .write(records, count - 1);
      openWindow = null;
      if (chunkCount + spanChunks.length > chunkCrcs.length) {
        chunkCrcs = Arrays.copyOf(chunkCrcs, Math.max(2 * chunkCrcs.length, chunkCount + spanChunks.length));
      }
      System.arraycopy(spanChunks, 0, chunkCrcs, chunkCount, spanChunks.length);
      chunkCount += spanChunks.length;
    }

    /** Takes back the open checkpoint (an empty member's, or where a spill starts). */
    Point removeLast() {
      if (openWindow == null) {
        throw new IllegalStateException("no open gzip checkpoint to take back");
      }
      count--;
      Checkpoint c = Checkpoint.read(records, count);
      Point p = new Point(c.cOff(), c.uOff(), openWindow);
      openWindow = null;
      return p;
    }

    SourceMap build(long archiveSize, long size, SpillFile spill, long spillStart, String name)
        throws IOException {
      if (spill != null && count == 0) {
        return new SpillMap(ArchiveFormat.GZIP, archiveSize, spill);
      }
      if (spill != null && spillStart != size - spill.length()) {
        throw new IOException(name + ": spill covers " + spill.length() + " bytes from "
            + spillStart + " but the stream is " + size + " bytes");
      }
      return new GzipMap(archiveSize, size, spacing, recordsOf(count),
          ByteBuffer.wrap(Arrays.copyOf(blob, blobLen)), ChunkChecksums.DEFAULT_CHUNK,
          crcBytes(), spill);
    }

    /**
     * A map of the closed spans, for reads while the pass goes on (null while there is none).
     * Before a spill the last checkpoint is left out: its span is open, and {@link #removeLast}
     * may take it back. Once the pass spills from {@code spillStart} every span is closed and the
     * last one ends there. The windows are shared, not copied: the closed checkpoints' never
     * change.
     *
     * @param spillStart where the spill begins, or -1 while nothing spills
     */
    GzipMap prefix(long archiveSize, long spillStart) throws IOException {
      // Without a spill the last span's end is not known yet (it is open, or the pass is at the end).
      int k = spillStart >= 0 ? count : count - 1;
      if (k <= 0) {
        return null;
      }
      long size = k < count ? Checkpoint.read(records, k).uOff() : spillStart;
      int chunks = 0;
      int windowBytes = 0;
      for (int i = 0; i < k; i++) {
        Checkpoint c = Checkpoint.read(records, i);
        long end = i + 1 < k ? Checkpoint.read(records, i + 1).uOff() : size;
        chunks += (int) ((end - c.uOff() + ChunkChecksums.DEFAULT_CHUNK - 1)
            / ChunkChecksums.DEFAULT_CHUNK);
        windowBytes += c.storedWindowLength();
      }
      ByteBuffer crcs = ByteBuffer.allocate(4 * chunks);
      crcs.asIntBuffer().put(chunkCrcs, 0, chunks);
      return new GzipMap(archiveSize, size, spacing, recordsOf(k),
          ByteBuffer.wrap(blob, 0, windowBytes).slice(), ChunkChecksums.DEFAULT_CHUNK, crcs, null);
    }

    private ByteBuffer recordsOf(int k) {
      return ByteBuffer.wrap(Arrays.copyOf(records.array(), k * Checkpoint.BYTES));
    }

    private ByteBuffer crcBytes() {
      ByteBuffer b = ByteBuffer.allocate(4 * chunkCount);
      b.asIntBuffer().put(chunkCrcs, 0, chunkCount);
      return b;
    }
  }
}
