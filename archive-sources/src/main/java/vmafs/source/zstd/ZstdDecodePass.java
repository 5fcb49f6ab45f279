package vmafs.source.zstd;

import static vmafs.source.CorruptArchiveException.check;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceMap;
import vmafs.source.internal.DecodePassBase;
import vmafs.source.internal.SpillFile;
import vmafs.source.internal.SpillWriter;
import vmafs.source.raw.SpillMap;
import vmafs.vma.io.StoredBytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.Endian;

/**
 * Decodes a {@code .vma.zst} frame by frame (zstd-jni checks each frame's content checksum) and
 * records what random reads need.
 *
 * <p>How the result is read at random is decided before the first byte is produced, from the seek
 * table or a walk over the frame headers. If every frame is small ({@link
 * DecodeOptions#zstdMaxFrameSize()}), reads decode whole frames ({@link ZstdFrameMap}). Otherwise
 * (vzdump's single frame) the pass decodes into an {@link OutputRing} and a {@link
 * ZstdRestartFinder} on a second thread finds and verifies restart points inside the frames
 * ({@link ZstdRestartMap}); where it finds none the rest of the stream is spilled, as it is from
 * the start with {@link DecodeOptions#forceSpill()} or for a window too large for restart points.
 */
public final class ZstdDecodePass extends DecodePassBase {
  private static final Logger log = LoggerFactory.getLogger(ZstdDecodePass.class);
  /** Compressed bytes handed to zstd per call, and decoded bytes taken out per call. */
  private static final int SRC_CHUNK = 128 << 10;
  private static final int DST_CHUNK = 256 << 10;

  private final Optional<List<ZstdFormat.SeekEntry>> seekTable;
  private final boolean frameMode;
  private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();
  private final ByteBuffer src = ByteBuffer.allocateDirect(SRC_CHUNK);
  private final ByteBuffer dst;
  /** Restart mode: what the pass decodes into, the finder, and what it finds. */
  private OutputRing ring;
  private ZstdRestartFinder finder;
  private RestartPoints points;
  private PrefixStore prefixes;
  private boolean prefixesHandedOver;
  /** Restart mode: bytes of the ring handed to the reader. */
  private long readPos;
  private boolean giveUpHandled;
  private final List<ZstdFrameMap.FrameInfo> frames = new ArrayList<>();
  private boolean inFrame;
  private long frameStart;
  private long frameOut;
  /** For a frame without its own checksum: the XXH64 its seek-table entry must match, else null. */
  private XxHash64 frameHash;
  private long listedChecksum;
  private boolean frameOwnChecksum;

  private ZstdDecodePass(StoredBytes archive, boolean owns, DecodeOptions options)
      throws IOException {
    super(archive, owns, options);
    try {
      seekTable = ZstdFormat.readSeekTable(archive, name);
      long max = options.zstdMaxFrameSize();
      frameMode = seekTable.isPresent()
          ? seekTable.get().stream().allMatch(e -> e.decompressedSize() <= max)
          : ZstdFormat.allFramesAtMost(archive, name, max);
      String why = frameMode ? null : spillReason();
      log.debug("{}: seek table {}, {}", name, seekTable.isPresent() ? "present" : "absent",
          frameMode ? "frames small enough for random access"
              : why == null ? "large frame(s): restart points" : "spilling: " + why);
      if (!frameMode && why != null) {
        if (!options.streamOnly() && !options.forceSpill()) {
          log.warn("{}: {}; decoding it into a spill file instead. 'vmafs convert {} --seekable"
              + " OUT.vma.zst' makes a copy that needs none", name, why, fileName());
        }
        startSpill(0);
      } else if (!frameMode) {
        startRestartMode();
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
    dst = ring == null ? ByteBuffer.allocateDirect(DST_CHUNK) : null;
    if (dst != null) {
      dst.flip(); // empty, in read mode
    }
  }

  /** Why a pass over large frames spills from the start, or null if it looks for restart points. */
  private String spillReason() throws IOException {
    if (options.streamOnly()) {
      return "stream only";
    }
    if (options.forceSpill()) {
      return "--spill";
    }
    long window = ZstdFormat.firstWindow(archive, name);
    if (window > ZstdRestartMap.MAX_WINDOW) {
      return "its zstd frame uses a " + (window >> 20) + " MiB window (zstd --long or --ultra),"
          + " more than restart points are made for (" + (ZstdRestartMap.MAX_WINDOW >> 20) + " MiB)";
    }
    return null;
  }

  private void startRestartMode() throws IOException {
    ring = new OutputRing(ZstdRestartFinder.RING);
    points = new RestartPoints();
    prefixes = options.spillFile() == null ? PrefixStore.inMemory()
        : PrefixStore.scratch(options.spillFile().getParent(), name);
    finder = new ZstdRestartFinder(archive, name, in.fileSize(), ring, points, prefixes,
        options.zstdRestartBudget(), options.zstdMaxSpan());
    finder.start();
  }

  public static ZstdDecodePass open(StoredBytes archive, boolean owns, DecodeOptions options)
      throws IOException {
    return new ZstdDecodePass(archive, owns, options);
  }

  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.ZSTD;
  }

  @Override
  protected int produce(byte[] b, int off, int len) throws IOException {
    if (ring != null) {
      return produceThroughRing(b, off, len);
    }
    while (!dst.hasRemaining()) {
      if (!inFrame && !startNextDataFrame()) {
        return -1;
      }
      dst.clear();
      decodeSome(dst);
      dst.flip();
    }
    int n = Math.min(len, dst.remaining());
    dst.get(b, off, n);
    return n;
  }

  /** Restart mode: decodes into the ring, which the finder compares its decodes with. */
  private int produceThroughRing(byte[] b, int off, int len) throws IOException {
    while (readPos == ring.written()) {
      handleGiveUp();
      if (!inFrame && !startNextDataFrame()) {
        ring.end();
        finder.await();
        handleGiveUp();
        return -1;
      }
      ByteBuffer target = ring.writable(DST_CHUNK, () -> finder.gaveUp() != null);
      if (target == null) {
        continue; // the finder gave up while we waited for room: spill first
      }
      ring.commit(decodeSome(target));
    }
    int n = (int) Math.min(len, ring.written() - readPos);
    ring.copy(readPos, b, off, n);
    readPos += n;
    return n;
  }

  /**
   * Once the finder has stopped early, the stream from its last verified point on goes to a spill
   * file: what the reader already has is copied from the ring (which kept it for the finder), the
   * rest is teed as it is produced.
   */
  private void handleGiveUp() throws IOException {
    ZstdRestartFinder.GiveUp g = finder.gaveUp();
    if (g == null || giveUpHandled) {
      return;
    }
    giveUpHandled = true;
    log.warn("{}: {}; the stream from uncompressed offset {} on is decoded into a spill file. 'vmafs"
        + " convert {} --seekable OUT.vma.zst' makes a copy that needs none", name, g.reason(),
        g.position(), fileName());
    SpillWriter spill = startSpill(g.position());
    byte[] buf = new byte[1 << 20];
    for (long at = g.position(); at < readPos; ) {
      int k = (int) Math.min(buf.length, readPos - at);
      ring.copy(at, buf, 0, k);
      spill.write(buf, 0, k);
      at += k;
    }
    ring.detach();
  }

  /** Skips skippable frames; false at the end of the file. */
  private boolean startNextDataFrame() throws IOException {
    while (true) {
      if (in.atEof()) {
        return false;
      }
      long offset = in.offset();
      in.require(4);
      int magic = Endian.le32(in.buffer(), in.position());
      if (ZstdFormat.isSkippableMagic(magic)) {
        in.require(ZstdFormat.SKIPPABLE_HEADER_SIZE);
        long size = Endian.le32Unsigned(in.buffer(), in.position() + 4);
        in.skip(ZstdFormat.SKIPPABLE_HEADER_SIZE);
        in.skipBytes(size);
        frames.add(new ZstdFrameMap.FrameInfo(ZstdFormat.SKIPPABLE_HEADER_SIZE + size,
            magic & ~ZstdFormat.SKIPPABLE_MAGIC_MASK, 0));
        continue;
      }
      check(magic == ZstdFormat.FRAME_MAGIC, Where.at(name, offset),
          "trailing garbage or damage: no zstd frame (magic " + Integer.toHexString(magic) + ")");
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

  /** The frame being decoded. */
  private Where frame() {
    return Where.of(name, Part.ZSTD_FRAME, frames.size(), frameStart);
  }

  /** Feeds the next input to zstd; returns how many bytes it wrote into {@code out}. */
  private int decodeSome(ByteBuffer out) throws IOException {
    if (!in.fill()) {
      throw new EOFException(name + ": truncated: zstd frame #" + frames.size()
          + " starting at compressed offset " + frameStart + " ends early at " + in.offset());
    }
    int n = Math.min(in.available(), SRC_CHUNK);
    src.clear();
    src.put(in.buffer(), in.position(), n).flip();
    int start = out.position();
    boolean done;
    try {
      done = ctx.decompressDirectByteBufferStream(out, src);
    } catch (ZstdException e) {
      throw new CorruptArchiveException(frame(), "corrupt zstd data within compressed bytes "
          + in.offset() + ".." + (in.offset() + n) + ": " + e.getMessage(), e);
    }
    in.skip(src.position());
    int produced = out.position() - start;
    frameOut += produced;
    if (frameHash != null) {
      byte[] copy = new byte[produced];
      out.duplicate().position(start).get(copy);
      frameHash.update(copy, 0, produced);
    }
    if (frameMode && frameOut > options.zstdMaxFrameSize()) {
      throw new CorruptArchiveException(frame(), "decodes to more than its headers allow");
    }
    if (done) {
      inFrame = false;
      if (frameHash != null && (frameHash.hash() & 0xffffffffL) != listedChecksum) {
        throw new CorruptArchiveException(frame(),
            "the data does not match the checksum its seek-table entry lists");
      }
      frames.add(new ZstdFrameMap.FrameInfo(in.offset() - frameStart, -1, frameOut,
          frameOwnChecksum, listedChecksum));
    }
    return produced;
  }

  @Override
  protected Prefix prefix(vmafs.cache.BlockCache cache) throws IOException {
    if (ring != null) {
      // A single frame read through restart points: the spans the finder has verified so far.
      ZstdRestartMap m = mapSoFar();
      return m == null ? null : new Prefix(m.open(archive, cache), m.uncompressedSize());
    }
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
    if (ring != null) {
      return restartMap(size, spill, spillStart);
    }
    if (spill != null) {
      return new SpillMap(ArchiveFormat.ZSTD, in.fileSize(), spill);
    }
    if (seekTable.isPresent()) {
      checkAgainstSeekTable(seekTable.get());
    }
    return new ZstdFrameMap(in.fileSize(), size, frames);
  }

  private SourceMap restartMap(long size, SpillFile spill, long spillStart) throws IOException {
    RestartPoints.Snapshot s = points.snapshot();
    ZstdRestartFinder.Stats st = finder.stats();
    if (s.count() == 0) {
      if (spill == null) {
        throw new CorruptArchiveException(Where.archive(name), "the zstd stream holds no data");
      }
      return new SpillMap(ArchiveFormat.ZSTD, in.fileSize(), spill);
    }
    if (spill != null ? spillStart != s.end() : s.end() != size) {
      throw new IOException(name + ": restart points cover " + s.end() + " of " + size
          + " bytes" + (spill == null ? "" : ", the spill starts at " + spillStart));
    }
    ZstdRestartMap map = ZstdRestartMap.fromPass(in.fileSize(), size, s, prefixes, spill);
    prefixesHandedOver = true;
    log.info("{}: {} zstd restart points, restart data {} bytes ({} % of the archive){}", name,
        s.count(), map.restartBytes(),
        String.format("%.2f", 100.0 * map.restartBytes() / Math.max(1, in.fileSize())),
        spill == null ? "" : ", " + spill.length() + " bytes spilled");
    log.debug("{}: {} trials, {} MiB decoded by failed ones; prefixes {} -> {} bytes; CPU: pass"
        + " thread {} s, finder {} s", name, st.trials(), st.wastedBytes() >> 20, st.prefixRaw(),
        st.prefixStored(), String.format("%.2f", java.lang.management.ManagementFactory
            .getThreadMXBean().getCurrentThreadCpuTime() / 1e9),
        String.format("%.2f", st.cpuNanos() / 1e9));
    return map;
  }

  /**
   * Restart mode, while the pass runs: a map over the spans verified so far (the stream up to
   * {@link RestartPoints#decodableEnd()}), or null if none is closed yet. What serving reads
   * during the pass (issue #12) builds on; the prefixes stay in the pass's store, which may be
   * read while it grows, so the map is valid until the pass is closed.
   */
  ZstdRestartMap mapSoFar() throws IOException {
    if (points == null) {
      return null;
    }
    RestartPoints.Snapshot s = points.snapshot();
    if (s.count() == 0) {
      return null;
    }
    return ZstdRestartMap.fromPass(in.fileSize(), s.end(), s, prefixes, null);
  }

  private void checkAgainstSeekTable(List<ZstdFormat.SeekEntry> table) throws IOException {
    // The table's own frame is the last frame of the file and is not listed in the table.
    if (frames.size() != table.size() + 1) {
      throw new CorruptArchiveException(Where.archive(name), "the seek table lists " + table.size()
          + " frames, the file has " + (frames.size() - 1));
    }
    long offset = 0;
    for (int i = 0; i < table.size(); i++) {
      ZstdFrameMap.FrameInfo f = frames.get(i);
      ZstdFormat.SeekEntry e = table.get(i);
      if (f.compressedSize() != e.compressedSize() || f.decompressedSize() != e.decompressedSize()) {
        throw new CorruptArchiveException(Where.of(name, Part.ZSTD_FRAME, i, offset),
            "its seek table entry (" + e + ") disagrees with the frame (" + f + ")");
      }
      offset += f.compressedSize();
    }
  }

  @Override
  public void close() throws IOException {
    try {
      if (finder != null) {
        finder.stop();
        ring.detach();
      }
      super.close();
    } finally {
      ctx.close();
      if (prefixes != null && !prefixesHandedOver) {
        prefixes.close();
      }
    }
  }
}
