package vmafs.source;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes a {@code .vma.zst} frame by frame (zstd-jni checks each frame's content checksum) and
 * records where every frame starts and how much it decodes to.
 *
 * <p>Whether the result can be read at random is decided before the first byte is produced, from
 * the seek table or a walk over the frame headers: if some frame may decode to more than {@link
 * DecodeOptions#zstdMaxFrameSize()} (always the case for vzdump's single frame), nothing short of
 * decoding from the frame's start reaches its middle, so the pass spills the whole stream.
 */
final class ZstdDecodePass extends DecodePassBase {
  private static final Logger log = LoggerFactory.getLogger(ZstdDecodePass.class);
  /** Compressed bytes handed to zstd per call, and decoded bytes taken out per call. */
  private static final int SRC_CHUNK = 128 << 10;
  private static final int DST_CHUNK = 256 << 10;

  private final Optional<List<ZstdFormat.SeekEntry>> seekTable;
  private final boolean frameMode;
  private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();
  private final ByteBuffer src = ByteBuffer.allocateDirect(SRC_CHUNK);
  private final ByteBuffer dst = ByteBuffer.allocateDirect(DST_CHUNK);
  private final List<ZstdFrameMap.FrameInfo> frames = new ArrayList<>();
  private boolean inFrame;
  private long frameStart;
  private long frameOut;
  /** For a frame without its own checksum: the XXH64 its seek-table entry must match, else null. */
  private XxHash64 frameHash;
  private long listedChecksum;
  private boolean frameOwnChecksum;

  private ZstdDecodePass(Path archive, DecodeOptions options) throws IOException {
    super(archive, options);
    try {
      seekTable = ZstdFormat.readSeekTable(channel, name);
      long max = options.zstdMaxFrameSize();
      frameMode = seekTable.isPresent()
          ? seekTable.get().stream().allMatch(e -> e.decompressedSize() <= max)
          : ZstdFormat.allFramesAtMost(channel, name, max);
      log.debug("{}: seek table {}, {}", name, seekTable.isPresent() ? "present" : "absent",
          frameMode ? "frames small enough for random access" : "large frame(s): spilling");
      if (!frameMode) {
        startSpill(0);
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
    dst.flip(); // empty, in read mode
  }

  static ZstdDecodePass open(Path archive, DecodeOptions options) throws IOException {
    return new ZstdDecodePass(archive, options);
  }

  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.ZSTD;
  }

  @Override
  protected int produce(byte[] b, int off, int len) throws IOException {
    while (!dst.hasRemaining()) {
      if (!inFrame && !startNextDataFrame()) {
        return -1;
      }
      decodeSome();
    }
    int n = Math.min(len, dst.remaining());
    dst.get(b, off, n);
    return n;
  }

  /** Skips skippable frames; false at the end of the file. */
  private boolean startNextDataFrame() throws IOException {
    while (true) {
      if (in.atEof()) {
        return false;
      }
      long offset = in.offset();
      in.require(4);
      int magic = le32(in.buffer(), in.position());
      if (ZstdFormat.isSkippableMagic(magic)) {
        in.require(ZstdFormat.SKIPPABLE_HEADER_SIZE);
        long size = le32(in.buffer(), in.position() + 4) & 0xffffffffL;
        in.skip(ZstdFormat.SKIPPABLE_HEADER_SIZE);
        in.skipBytes(size);
        frames.add(new ZstdFrameMap.FrameInfo(ZstdFormat.SKIPPABLE_HEADER_SIZE + size,
            magic & ~ZstdFormat.SKIPPABLE_MAGIC_MASK, 0));
        continue;
      }
      if (magic != ZstdFormat.FRAME_MAGIC) {
        throw new CorruptArchiveException(name + ": trailing garbage or damage: no zstd frame at compressed offset "
            + offset + " (magic " + Integer.toHexString(magic) + ")");
      }
      in.require(5);
      frameOwnChecksum = (in.buffer()[in.position() + 4] & ZstdFormat.FHD_CONTENT_CHECKSUM) != 0;
      int index = frames.size();
      listedChecksum = seekTable.filter(t -> index < t.size()).map(t -> t.get(index).checksum())
          .orElse(-1L);
      if (!frameOwnChecksum && listedChecksum < 0) {
        throw ZstdFrameMap.unverifiable(name, index, offset);
      }
      frameHash = frameOwnChecksum ? null : new XxHash64();
      ctx.reset();
      inFrame = true;
      frameStart = offset;
      frameOut = 0;
      return true;
    }
  }

  private void decodeSome() throws IOException {
    if (!in.fill()) {
      throw new EOFException(name + ": truncated: zstd frame #" + frames.size()
          + " starting at compressed offset " + frameStart + " ends early at " + in.offset());
    }
    int n = Math.min(in.available(), SRC_CHUNK);
    src.clear();
    src.put(in.buffer(), in.position(), n).flip();
    dst.clear();
    boolean done;
    try {
      done = ctx.decompressDirectByteBufferStream(dst, src);
    } catch (ZstdException e) {
      throw new CorruptArchiveException(name + ": corrupt zstd data in frame #" + frames.size()
          + " (starts at compressed offset " + frameStart + "), within compressed bytes "
          + in.offset() + ".." + (in.offset() + n) + ": " + e.getMessage(), e);
    }
    in.skip(src.position());
    dst.flip();
    frameOut += dst.remaining();
    if (frameHash != null) {
      byte[] out = new byte[dst.remaining()];
      dst.duplicate().get(out);
      frameHash.update(out, 0, out.length);
    }
    if (frameMode && frameOut > options.zstdMaxFrameSize()) {
      throw new CorruptArchiveException(name + ": zstd frame at compressed offset " + frameStart
          + " decodes to more than its headers allow");
    }
    if (done) {
      inFrame = false;
      if (frameHash != null && (frameHash.hash() & 0xffffffffL) != listedChecksum) {
        throw new CorruptArchiveException(name + ": zstd frame #" + frames.size() + " at compressed"
            + " offset " + frameStart + " does not match the checksum its seek-table entry lists");
      }
      frames.add(new ZstdFrameMap.FrameInfo(in.offset() - frameStart, -1, frameOut,
          frameOwnChecksum, listedChecksum));
    }
  }

  @Override
  protected Prefix prefix(vmafs.cache.BlockCache cache) throws IOException {
    if (!frameMode || frames.isEmpty()) {
      return null;
    }
    long c = 0;
    long u = 0;
    for (ZstdFrameMap.FrameInfo f : frames) {
      c += f.compressedSize();
      u += f.decompressedSize();
    }
    return new Prefix(new ZstdFrameMap(c, u, frames).openUnchecked(archive, cache), u);
  }

  @Override
  protected SourceMap buildMap(long size, SpillFile spill, long spillStart) throws IOException {
    if (spill != null) {
      return new SpillMap(ArchiveFormat.ZSTD, in.fileSize(), spill);
    }
    if (seekTable.isPresent()) {
      checkAgainstSeekTable(seekTable.get());
    }
    return new ZstdFrameMap(in.fileSize(), size, frames);
  }

  private void checkAgainstSeekTable(List<ZstdFormat.SeekEntry> table) throws IOException {
    // The table's own frame is the last frame of the file and is not listed in the table.
    if (frames.size() != table.size() + 1) {
      throw new CorruptArchiveException(name + ": seek table lists " + table.size() + " frames, the file has "
          + (frames.size() - 1));
    }
    long offset = 0;
    for (int i = 0; i < table.size(); i++) {
      ZstdFrameMap.FrameInfo f = frames.get(i);
      ZstdFormat.SeekEntry e = table.get(i);
      if (f.compressedSize() != e.compressedSize() || f.decompressedSize() != e.decompressedSize()) {
        throw new CorruptArchiveException(name + ": seek table entry #" + i + " (" + e + ") disagrees with the"
            + " frame at compressed offset " + offset + " (" + f + ")");
      }
      offset += f.compressedSize();
    }
  }

  static int le32(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
  }

  @Override
  public void close() throws IOException {
    try {
      super.close();
    } finally {
      ctx.close();
    }
  }
}
