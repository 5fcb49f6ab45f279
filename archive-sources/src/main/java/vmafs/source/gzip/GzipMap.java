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
  private static final int RECORD_BYTES = 8 + 8 + 8 + 4 + 4 + 4;
  /** Windows are tiny and read once per cache miss; level 1 keeps the pass fast. */
  private static final int WINDOW_ZSTD_LEVEL = 1;

  private final int spacing;
  private final long[] cOff;
  private final long[] cEnd;
  private final long[] uOff;
  private final int[] crc;
  private final int[] winRaw;
  private final int[] winLen;
  private final int[] winOff;
  private final ByteBuffer windows;
  /** Big-endian u32 chunk CRCs, span after span, as serialized; {@link #chunks} reads them. */
  private final ByteBuffer chunkCrcs;
  private final ChunkChecksums chunks;

  private GzipMap(long archiveSize, long size, int spacing, long[] cOff, long[] cEnd, long[] uOff,
      int[] crc, int[] winRaw, int[] winLen, ByteBuffer windows, int chunkSize, ByteBuffer chunkCrcs,
      SpillFile tail) throws IOException {
    super(ArchiveFormat.GZIP, archiveSize, size, tail);
    int n = cOff.length;
    this.spacing = spacing;
    this.cOff = cOff;
    this.cEnd = cEnd;
    this.uOff = uOff;
    this.crc = crc;
    this.winRaw = winRaw;
    this.winLen = winLen;
    this.windows = windows;
    this.chunkCrcs = chunkCrcs;
    this.winOff = new int[n];
    long headSize = size - (tail == null ? 0 : tail.length());
    long w = 0;
    for (int i = 0; i < n; i++) {
      long spanEnd = i + 1 < n ? uOff[i + 1] : headSize;
      boolean ok = (i == 0 ? uOff[0] == 0 : uOff[i] > uOff[i - 1])
          && spanEnd - uOff[i] <= DecodeOptions.MAX_BLOCK_ALLOCATION && spanEnd > uOff[i]
          && cOff[i] >= 0 && cOff[i] < cEnd[i] && cEnd[i] <= archiveSize
          && cEnd[i] - cOff[i] <= 2L * DecodeOptions.MAX_BLOCK_ALLOCATION
          && winRaw[i] >= 0 && winRaw[i] <= GzipFormat.WINDOW_SIZE && winLen[i] >= 0
          && (winRaw[i] == 0) == (winLen[i] == 0);
      if (!ok) {
        throw new IOException("gzip map: checkpoint #" + i + " is inconsistent");
      }
      winOff[i] = (int) w;
      w += winLen[i];
    }
    if (w > windows.limit() || (n == 0 && headSize != 0) || headSize < 0) {
      throw new IOException("gzip map does not add up (" + n + " checkpoints, windows " + w + "/"
          + windows.limit() + " bytes, head " + headSize + ")");
    }
    long[] spanLengths = new long[n];
    for (int i = 0; i < n; i++) {
      spanLengths[i] = (i + 1 < n ? uOff[i + 1] : headSize) - uOff[i];
    }
    this.chunks = ChunkChecksums.of(chunkSize, chunkCrcs, spanLengths);
  }

  public int checkpointCount() {
    return cOff.length;
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
    long bytes = (long) RECORD_BYTES * cOff.length + windows.limit() + chunkCrcs.remaining();
    return new RandomAccess(tail == null ? RandomAccess.GZIP_CHECKPOINTS
        : RandomAccess.GZIP_CHECKPOINTS_AND_SPILL, cOff.length, bytes, spilledBytes());
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
        if ((int) sum.getValue() != crc[i]) {
          throw new CorruptArchiveException(Where.of(name, Part.GZIP_CHECKPOINT, i, cOff[i]),
              "the data does not match its recorded CRC-32; the archive is damaged or changed");
        }
        return span;
      }

      @Override
      protected byte[] decodeFirst(int i, int len) throws IOException {
        return GzipInflate.span(ch, name, cOff[i], cEnd[i], window(i, name), len);
      }

      @Override
      protected int length(int i) {
        return table.length(i);
      }

      @Override
      protected String where(int i) {
        return "the gzip span at compressed offset " + cOff[i];
      }
    };
    return withTail(name, new CachedBlockSource(name, table, decoder, cache, () -> {}));
  }

  private byte[] window(int i, String name) throws IOException {
    if (winRaw[i] == 0) {
      return new byte[0];
    }
    byte[] stored = new byte[winLen[i]];
    windows.get(winOff[i], stored);
    try {
      byte[] w = Zstd.decompress(stored, winRaw[i]);
      if (w.length != winRaw[i]) {
        throw new CorruptArchiveException(Where.of(name, Part.GZIP_CHECKPOINT, i, cOff[i]),
            "its saved window is damaged");
      }
      return w;
    } catch (ZstdException e) {
      throw new CorruptArchiveException(Where.of(name, Part.GZIP_CHECKPOINT, i, cOff[i]),
          "its saved window is damaged: " + e.getMessage(), e);
    }
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_GZIP, archiveSize, size, out -> {
      out.writeInt(spacing);
      out.writeInt(cOff.length);
      for (int i = 0; i < cOff.length; i++) {
        out.writeLong(cOff[i]);
        out.writeLong(cEnd[i]);
        out.writeLong(uOff[i]);
        out.writeInt(crc[i]);
        out.writeInt(winRaw[i]);
        out.writeInt(winLen[i]);
      }
      out.writeBoolean(tail != null);
      if (tail != null) {
        tail.write(out);
      }
      int blobLen = cOff.length == 0 ? 0 : winOff[cOff.length - 1] + winLen[cOff.length - 1];
      out.writeInt(blobLen);
      byte[] chunk = new byte[64 << 10];
      for (int at = 0; at < blobLen; at += chunk.length) {
        int k = Math.min(chunk.length, blobLen - at);
        windows.get(at, chunk, 0, k);
        out.write(chunk, 0, k);
      }
      out.writeInt(chunks.chunkSize());
      out.writeInt(chunkCrcs.remaining() / 4);
      for (int at = chunkCrcs.position(); at < chunkCrcs.limit(); at += 4) {
        out.writeInt(chunkCrcs.getInt(at));
      }
    });
  }

  public static GzipMap readBody(ByteBuffer in, long archiveSize, long size, Path spillPath)
      throws IOException {
    int spacing = in.getInt();
    int n = MapCodec.count(in, in.getInt(), RECORD_BYTES, "gzip checkpoint");
    long[] c = new long[n];
    long[] e = new long[n];
    long[] u = new long[n];
    int[] s = new int[n];
    int[] raw = new int[n];
    int[] len = new int[n];
    for (int i = 0; i < n; i++) {
      c[i] = in.getLong();
      e[i] = in.getLong();
      u[i] = in.getLong();
      s[i] = in.getInt();
      raw[i] = in.getInt();
      len[i] = in.getInt();
    }
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
    return new GzipMap(archiveSize, size, spacing, c, e, u, s, raw, len, blob, chunkSize, chunkCrcs,
        tail);
  }

  /** Collects checkpoints during the decode pass. */
  static final class Builder {
    /** A checkpoint with its window uncompressed, as the pass needs it to start a spill. */
    record Point(long cOff, long uOff, byte[] window) {}

    private final int spacing;
    private long[] cOff = new long[256];
    private long[] cEnd = new long[256];
    private long[] uOff = new long[256];
    private int[] crc = new int[256];
    private int[] winRaw = new int[256];
    private int[] winLen = new int[256];
    private byte[] blob = new byte[1 << 20];
    private int blobLen;
    private int count;
    private int[] chunkCrcs = new int[1024];
    private int chunkCount;

    Builder(int spacing) {
      this.spacing = spacing;
    }

    int count() {
      return count;
    }

    long lastUOff() {
      return count == 0 ? 0 : uOff[count - 1];
    }

    void add(long c, long u, byte[] window) throws IOException {
      if (count == cOff.length) {
        int m = count * 2;
        cOff = Arrays.copyOf(cOff, m);
        cEnd = Arrays.copyOf(cEnd, m);
        uOff = Arrays.copyOf(uOff, m);
        crc = Arrays.copyOf(crc, m);
        winRaw = Arrays.copyOf(winRaw, m);
        winLen = Arrays.copyOf(winLen, m);
      }
      byte[] stored = window.length == 0 ? window : Zstd.compress(window, WINDOW_ZSTD_LEVEL);
      if ((long) blobLen + stored.length > Integer.MAX_VALUE - 16) {
        throw new IOException("too many gzip checkpoints (2 GiB of windows); use a larger spacing");
      }
      if (blobLen + stored.length > blob.length) {
        blob = Arrays.copyOf(blob, (int) Math.min(Integer.MAX_VALUE - 16,
            Math.max(2L * blob.length, blobLen + stored.length)));
      }
      System.arraycopy(stored, 0, blob, blobLen, stored.length);
      blobLen += stored.length;
      cOff[count] = c;
      cEnd[count] = -1;
      uOff[count] = u;
      winRaw[count] = window.length;
      winLen[count] = stored.length;
      count++;
    }

    /** Ends the last checkpoint's span at compressed offset {@code end}. */
    void closeSpan(long end, long spanCrc, int[] spanChunks) throws IOException {
      cEnd[count - 1] = end;
      crc[count - 1] = (int) spanCrc;
      if ((long) chunkCount + spanChunks.length > Integer.MAX_VALUE / 4 - 16) {
        throw new IOException("too many gzip chunk checksums (2 GiB); the stream is too large");
      }
      if (chunkCount + spanChunks.length > chunkCrcs.length) {
        chunkCrcs = Arrays.copyOf(chunkCrcs, Math.max(2 * chunkCrcs.length, chunkCount + spanChunks.length));
      }
      System.arraycopy(spanChunks, 0, chunkCrcs, chunkCount, spanChunks.length);
      chunkCount += spanChunks.length;
    }

    Point removeLast() {
      count--;
      blobLen -= winLen[count];
      byte[] w = winRaw[count] == 0 ? new byte[0]
          : Zstd.decompress(Arrays.copyOfRange(blob, blobLen, blobLen + winLen[count]),
              winRaw[count]);
      return new Point(cOff[count], uOff[count], w);
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
      return new GzipMap(archiveSize, size, spacing, Arrays.copyOf(cOff, count),
          Arrays.copyOf(cEnd, count), Arrays.copyOf(uOff, count), Arrays.copyOf(crc, count),
          Arrays.copyOf(winRaw, count), Arrays.copyOf(winLen, count),
          ByteBuffer.wrap(Arrays.copyOf(blob, blobLen)), ChunkChecksums.DEFAULT_CHUNK,
          crcBytes(), spill);
    }

    /**
     * A map of the closed spans, for reads while the pass goes on (null while there is none).
     * Before a spill the last checkpoint is left out: its span is still open, and {@link
     * #removeLast} may take it back and reuse its window bytes. Once the pass spills from {@code
     * spillStart} every span is closed and the last one ends there. The windows are shared, not
     * copied: bytes before the last checkpoint's never change.
     *
     * @param spillStart where the spill begins, or -1 while nothing spills
     */
    GzipMap prefix(long archiveSize, long spillStart) throws IOException {
      int k = spillStart >= 0 ? count : count - 1;
      while (k > 0 && cEnd[k - 1] < 0) {
        k--;
      }
      if (k <= 0) {
        return null;
      }
      long size = k < count ? uOff[k] : spillStart;
      int chunks = 0;
      for (int i = 0; i < k; i++) {
        long end = i + 1 < k ? uOff[i + 1] : size;
        chunks += (int) ((end - uOff[i] + ChunkChecksums.DEFAULT_CHUNK - 1)
            / ChunkChecksums.DEFAULT_CHUNK);
      }
      ByteBuffer crcs = ByteBuffer.allocate(4 * chunks);
      crcs.asIntBuffer().put(chunkCrcs, 0, chunks);
      return new GzipMap(archiveSize, size, spacing, Arrays.copyOf(cOff, k),
          Arrays.copyOf(cEnd, k), Arrays.copyOf(uOff, k), Arrays.copyOf(crc, k),
          Arrays.copyOf(winRaw, k), Arrays.copyOf(winLen, k),
          ByteBuffer.wrap(blob, 0, winOffEnd(k)).slice(), ChunkChecksums.DEFAULT_CHUNK, crcs, null);
    }

    private int winOffEnd(int k) {
      int w = 0;
      for (int i = 0; i < k; i++) {
        w += winLen[i];
      }
      return w;
    }

    private ByteBuffer crcBytes() {
      ByteBuffer b = ByteBuffer.allocate(4 * chunkCount);
      b.asIntBuffer().put(chunkCrcs, 0, chunkCount);
      return b;
    }
  }
}
