package vmafs.source.zstd;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.cache.BlockCache;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.source.DecodeOptions;
import vmafs.source.RandomAccess;
import vmafs.source.internal.BlockTable;
import vmafs.source.internal.CachedBlockSource;
import vmafs.source.internal.ChunkChecksums;
import vmafs.source.internal.CompressedMap;
import vmafs.source.internal.FileReads;
import vmafs.source.internal.MapCodec;
import vmafs.source.internal.PrefixDecoder;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.Endian;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;

/**
 * The frames of a multi-frame {@code .vma.zst} (e.g. the seekable format): a read decodes only the
 * frames it touches, and never serves an unverified byte: a frame's own content checksum is
 * checked by zstd on every decode; a frame without one (third-party seekable files) is checked
 * against the XXH64 its seek-table entry lists; a data frame with neither is refused when the map
 * is made. Where both exist they must agree.
 *
 * <p>Serialized as {@code u32 count}, then per frame {@code u8 kind (0xFF data, else the
 * skippable magic's low nibble), u64 compressed size, u32 decompressed size, u8 flags (1: the
 * frame has its own checksum, 2: the seek table lists one), u32 the listed checksum}; frame
 * offsets are the running sum from 0, and the frames cover the whole file.
 */
public final class ZstdFrameMap extends CompressedMap {
  private static final Logger log = LoggerFactory.getLogger(ZstdFrameMap.class);
  private static final int RECORD_BYTES = 18;
  private static final int FLAG_OWN_CHECKSUM = 1;
  private static final int FLAG_LISTED_CHECKSUM = 2;
  private static final int KIND_DATA = 0xFF;
  private static final int POOL_SIZE = 2 * Runtime.getRuntime().availableProcessors();

  /**
   * One frame as recorded; {@code skippableNibble < 0} for data frames.
   *
   * @param ownChecksum whether the frame ends in its content checksum (zstd checks it)
   * @param listedChecksum the seek table's XXH64 (low 32 bits) of the content, or -1
   */
  record FrameInfo(long compressedSize, int skippableNibble, long decompressedSize,
      boolean ownChecksum, long listedChecksum) {
    /** A skippable frame, or a data frame with its own checksum and none listed. */
    FrameInfo(long compressedSize, int skippableNibble, long decompressedSize) {
      this(compressedSize, skippableNibble, decompressedSize, skippableNibble < 0, -1);
    }

    boolean verifiable() {
      return skippableNibble >= 0 || ownChecksum || listedChecksum >= 0;
    }
  }

  private final List<FrameInfo> frames;
  private final long[] offsets;
  /** Frame index of each block of the table (data frames that decode to at least one byte). */
  private final int[] blockFrame;
  private final long[] blockStarts;

  ZstdFrameMap(long archiveSize, long size, List<FrameInfo> frames) throws IOException {
    super(ArchiveFormat.ZSTD, archiveSize, size, null);
    this.frames = List.copyOf(frames);
    this.offsets = new long[frames.size()];
    List<Integer> dataFrames = new ArrayList<>();
    long off = 0;
    long u = 0;
    for (int i = 0; i < frames.size(); i++) {
      FrameInfo f = frames.get(i);
      if (f.compressedSize() <= 0 || f.decompressedSize() < 0
          || f.decompressedSize() > DecodeOptions.MAX_BLOCK_ALLOCATION
          || (f.skippableNibble() >= 0 && f.decompressedSize() != 0)
          // zstd never expands data by more than a few bytes per 128 KiB block.
          || (f.skippableNibble() < 0 && f.compressedSize() > 2 * f.decompressedSize() + 4096)) {
        throw new IOException("zstd frame map: bad frame #" + i + ": " + f);
      }
      if (!f.verifiable()) {
        throw unverifiable("zstd frame map", i, off);
      }
      offsets[i] = off;
      off += f.compressedSize();
      if (f.decompressedSize() > 0) {
        dataFrames.add(i);
        u += f.decompressedSize();
      }
    }
    if (off != archiveSize || u != size) {
      throw new IOException("zstd frame map does not add up: frames cover " + off + " of "
          + archiveSize + " compressed and " + u + " of " + size + " decompressed bytes");
    }
    blockFrame = dataFrames.stream().mapToInt(Integer::intValue).toArray();
    blockStarts = new long[blockFrame.length];
    long s = 0;
    for (int b = 0; b < blockFrame.length; b++) {
      blockStarts[b] = s;
      s += frames.get(blockFrame[b]).decompressedSize();
    }
  }

  /**
   * The map straight from a seekable file's seek table, without a decode pass: empty if the file
   * has no seek table or has frames larger than {@code maxFrame} (then a decode pass is needed).
   * Frame sizes are checked against the data on every read.
   */
  public static Optional<ZstdFrameMap> fromSeekTable(Path archive, int maxFrame) throws IOException {
    try (StoredBytes ch = LocalStoredBytes.open(archive)) {
      return fromSeekTable(ch, maxFrame);
    }
  }

  /** As {@link #fromSeekTable(Path, int)}, reading through {@code ch}. */
  public static Optional<ZstdFrameMap> fromSeekTable(StoredBytes ch, int maxFrame) throws IOException {
    String name = ch.name();
    {
      Optional<List<ZstdFormat.SeekEntry>> table = ZstdFormat.readSeekTable(ch, name);
      if (table.isEmpty()) {
        return Optional.empty();
      }
      List<FrameInfo> frames = new ArrayList<>();
      long off = 0;
      for (ZstdFormat.SeekEntry e : table.get()) {
        if (e.decompressedSize() > maxFrame) {
          return Optional.empty();
        }
        if (e.compressedSize() < 5) {
          throw new CorruptArchiveException(Where.of(name, Part.ZSTD_FRAME, frames.size(), off),
              "its seek-table entry's Compressed_Size " + e.compressedSize() + " is too small for a frame");
        }
        byte[] head = FileReads.read(ch, name, off, 5);
        int magic = Endian.le32(head, 0);
        int nibble = -1;
        if (ZstdFormat.isSkippableMagic(magic)) {
          nibble = magic & ~ZstdFormat.SKIPPABLE_MAGIC_MASK;
        } else if (magic != ZstdFormat.FRAME_MAGIC) {
          throw new CorruptArchiveException(Where.of(name, Part.ZSTD_FRAME, frames.size(), off),
              "the seek table puts a frame here, but its magic is 0x" + Integer.toHexString(magic));
        }
        FrameInfo f = nibble >= 0 ? new FrameInfo(e.compressedSize(), nibble, e.decompressedSize())
            : new FrameInfo(e.compressedSize(), nibble, e.decompressedSize(),
                (head[4] & ZstdFormat.FHD_CONTENT_CHECKSUM) != 0, e.checksum());
        if (!f.verifiable()) {
          throw unverifiable(name, frames.size(), off);
        }
        frames.add(f);
        off += e.compressedSize();
      }
      frames.add(new FrameInfo(ch.size() - off, ZstdFormat.SEEK_TABLE_NIBBLE, 0));
      long total = frames.stream().mapToLong(FrameInfo::decompressedSize).sum();
      return Optional.of(new ZstdFrameMap(ch.size(), total, frames));
    }
  }

  /** A data frame neither zstd nor vmafs could check: its bytes are never served. */
  static CorruptArchiveException unverifiable(String name, int frame, long offset) {
    return new CorruptArchiveException(Where.of(name, Part.ZSTD_FRAME, frame, offset),
        "no content checksum, and no seek table lists one: its data cannot be verified. Recompress it with checksums (zstd --check, as vzdump does), or, taking the"
        + " risk knowingly, decompress it yourself: zstd -dc FILE | vmafs extract - DIR");
  }

  /** Where a skippable frame's payload lies in the archive file. */
  public record Payload(long offset, long length) {}

  /**
   * The payload of the first skippable frame whose magic ends in {@code nibble} (0–15, 0xE being
   * the seek table), e.g. a VMA index embedded by {@link SeekableZstdWriter}: where it is, for the
   * caller to stream (it may be large).
   */
  public Optional<Payload> skippablePayload(StoredBytes archive, int nibble) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    for (int i = 0; i < frames.size(); i++) {
      FrameInfo f = frames.get(i);
      if (f.skippableNibble() == nibble) {
        long len = f.compressedSize() - ZstdFormat.SKIPPABLE_HEADER_SIZE;
        {
          byte[] head = FileReads.read(archive, archive.name(), offsets[i], 8);
          if (Endian.le32(head, 0) != (ZstdFormat.SKIPPABLE_MAGIC_BASE | nibble)
              || Endian.le32Unsigned(head, 4) != len) {
            throw new IOException(archive.name() + ": no skippable frame at compressed offset "
                + offsets[i] + " any more; the archive changed");
          }
          return Optional.of(new Payload(offsets[i] + ZstdFormat.SKIPPABLE_HEADER_SIZE, len));
        }
      }
    }
    return Optional.empty();
  }

  public int frameCount() {
    return frames.size();
  }

  /** Uncompressed offsets where independently decoded blocks start (for tests and stats). */
  public long[] blockBoundaries() {
    return blockStarts.clone();
  }

  @Override
  public RandomAccess randomAccess() {
    return new RandomAccess(RandomAccess.ZSTD_FRAMES, blockFrame.length, 0, 0);
  }

  @Override
  public ArchiveSource open(StoredBytes archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    return openUnchecked(archive, cache);
  }

  /** {@link #open} without the archive size check: for a map of a prefix (a pass still running). */
  ArchiveSource openUnchecked(StoredBytes archive, BlockCache cache) throws IOException {
    String name = archive.name();
    FrameDecoder decoder = new FrameDecoder(name, archive, loadChunkChecksums(archive));
    return new CachedBlockSource(name, new BlockTable(blockStarts, size), decoder, cache,
        decoder.pool::close);
  }

  /** The chunk checksums written by {@code vmafs convert}, or null (then whole frames only). */
  private ChunkChecksums loadChunkChecksums(StoredBytes archive) throws IOException {
    for (int i = 0; i < frames.size(); i++) {
      FrameInfo f = frames.get(i);
      if (f.skippableNibble() != ChunkChecksums.NIBBLE) {
        continue;
      }
      long len = f.compressedSize() - ZstdFormat.SKIPPABLE_HEADER_SIZE;
      try {
        if (len < 0 || len > DecodeOptions.MAX_BLOCK_ALLOCATION) {
          throw new IOException("its frame is " + f.compressedSize() + " bytes");
        }
        // Mapped where it can be, not read: 4 bytes per 64 KiB of stream is 64 MiB for a TiB of data.
        ByteBuffer payload = archive instanceof LocalStoredBytes local
            ? local.channel().map(FileChannel.MapMode.READ_ONLY,
                offsets[i] + ZstdFormat.SKIPPABLE_HEADER_SIZE, len)
            : readPayload(archive, offsets[i] + ZstdFormat.SKIPPABLE_HEADER_SIZE, (int) len);
        long[] lengths = new long[blockFrame.length];
        for (int b = 0; b < lengths.length; b++) {
          lengths[b] = frames.get(blockFrame[b]).decompressedSize();
        }
        return ChunkChecksums.parse(payload, lengths);
      } catch (IOException e) {
        log.warn("{}: ignoring the chunk checksums at compressed offset {} ({}); random reads will"
            + " decode whole frames", archive.name(), offsets[i], e.getMessage());
        return null;
      }
    }
    return null;
  }

  /**
   * Decodes frames, or with chunk checksums only as much of a frame as a read needs. Thread-safe:
   * contexts and buffers come from pools, because FUSE calls in on several threads.
   */
  /** A remote archive's chunk checksums, read once (bounded by {@link DecodeOptions#MAX_BLOCK_ALLOCATION}). */
  private static ByteBuffer readPayload(StoredBytes archive, long at, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    FileReads.readFully(archive, archive.name(), at, b);
    return b.flip();
  }

  private final class FrameDecoder extends PrefixDecoder {
    private final StoredBytes ch;
    private final ZstdContextPool pool = new ZstdContextPool(POOL_SIZE);
    /** Direct buffers for streaming decodes (zstd-jni streams only between direct buffers). */
    private final ConcurrentLinkedDeque<ByteBuffer[]> scratch = new ConcurrentLinkedDeque<>();

    FrameDecoder(String name, StoredBytes ch, ChunkChecksums chunks) {
      super(name, chunks);
      this.ch = ch;
    }

    @Override
    public byte[] decode(int b) throws IOException {
      int i = blockFrame[b];
      FrameInfo f = frames.get(i);
      byte[] src = FileReads.read(ch, name, offsets[i], (int) f.compressedSize());
      byte[] out = new byte[(int) f.decompressedSize()];
      ZstdDecompressCtx ctx = pool.borrow();
      int n;
      try {
        n = ctx.decompressByteArray(out, 0, out.length, src, 0, src.length);
      } catch (ZstdException e) {
        throw corrupt(i, "corrupt or not " + out.length + " bytes long: " + e.getMessage(), e);
      } finally {
        pool.release(ctx);
      }
      if (n != out.length) {
        throw corrupt(i, "decoded to " + n + " bytes, expected " + out.length, null);
      }
      long listed = f.listedChecksum();
      if (listed >= 0) {
        long actual = f.ownChecksum()
            ? Endian.le32Unsigned(src, src.length - ZstdFormat.CHECKSUM_SIZE)
            : XxHash64.of(out, 0, out.length) & 0xffffffffL; // zstd had nothing to check
        if (actual != listed) {
          throw corrupt(i, "the data does not match the checksum its seek-table entry lists ("
              + Long.toHexString(actual) + " vs " + Long.toHexString(listed) + ")", null);
        }
      }
      return out;
    }

    @Override
    protected int length(int b) {
      return (int) frames.get(blockFrame[b]).decompressedSize();
    }

    @Override
    protected String where(int b) {
      return frameAt(blockFrame[b]).position();
    }

    @Override
    protected byte[] decodeFirst(int b, int want) throws IOException {
      int i = blockFrame[b];
      int compressed = (int) frames.get(i).compressedSize();
      ByteBuffer[] bufs = scratch.pollFirst();
      if (bufs == null || bufs[0].capacity() < compressed || bufs[1].capacity() < want) {
        bufs = new ByteBuffer[] {ByteBuffer.allocateDirect(Math.max(compressed, 1 << 20)),
            ByteBuffer.allocateDirect(Math.max(want, 1 << 20))};
      }
      ZstdDecompressCtx ctx = pool.borrow();
      try {
        ByteBuffer src = bufs[0].clear().limit(compressed);
        FileReads.readFully(ch, name, offsets[i], src);
        src.flip();
        ByteBuffer dst = bufs[1].clear().limit(want);
        while (dst.hasRemaining()) {
          int before = src.remaining() + dst.remaining();
          boolean done = ctx.decompressDirectByteBufferStream(dst, src);
          if (dst.hasRemaining() && (done || src.remaining() + dst.remaining() == before)) {
            throw corrupt(i, "ends after " + dst.position() + " bytes, before its declared "
                + frames.get(i).decompressedSize(), null);
          }
        }
        byte[] out = new byte[want];
        dst.flip().get(out);
        return out;
      } catch (ZstdException e) {
        throw corrupt(i, "corrupt: " + e.getMessage(), e);
      } finally {
        pool.release(ctx);
        if (scratch.size() < POOL_SIZE) {
          scratch.offerFirst(bufs);
        }
      }
    }

    private IOException corrupt(int i, String what, Exception cause) {
      return new CorruptArchiveException(frameAt(i), what, cause);
    }

    private Where frameAt(int i) {
      return Where.of(name, Part.ZSTD_FRAME, i, offsets[i]);
    }
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_ZSTD_FRAMES, archiveSize, size, out -> {
      out.writeInt(frames.size());
      for (FrameInfo f : frames) {
        out.writeByte(f.skippableNibble() < 0 ? KIND_DATA : f.skippableNibble());
        out.writeLong(f.compressedSize());
        out.writeInt((int) f.decompressedSize());
        out.writeByte((f.ownChecksum() ? FLAG_OWN_CHECKSUM : 0)
            | (f.listedChecksum() >= 0 ? FLAG_LISTED_CHECKSUM : 0));
        out.writeInt((int) f.listedChecksum());
      }
    });
  }

  public static ZstdFrameMap readBody(ByteBuffer in, long archiveSize, long size) throws IOException {
    int n = MapCodec.count(in, in.getInt(), RECORD_BYTES, "zstd frame");
    List<FrameInfo> frames = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int kind = in.get() & 0xff;
      if (kind != KIND_DATA && kind > 0xF) {
        throw new IOException("zstd frame map: bad frame kind " + kind);
      }
      long c = in.getLong();
      long d = in.getInt() & 0xffffffffL;
      int flags = in.get() & 0xff;
      long listed = in.getInt() & 0xffffffffL;
      frames.add(new FrameInfo(c, kind == KIND_DATA ? -1 : kind, d,
          (flags & FLAG_OWN_CHECKSUM) != 0, (flags & FLAG_LISTED_CHECKSUM) != 0 ? listed : -1));
    }
    return new ZstdFrameMap(archiveSize, size, frames);
  }
}
