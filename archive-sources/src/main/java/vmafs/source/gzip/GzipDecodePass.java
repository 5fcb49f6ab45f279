package vmafs.source.gzip;

import java.io.IOException;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceMap;
import vmafs.source.internal.ChunkChecksums;
import vmafs.source.internal.DecodePassBase;
import vmafs.source.internal.SpillFile;
import vmafs.source.internal.SpillWriter;
import vmafs.vma.io.StoredBytes;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.Endian;

/**
 * Inflates a {@code .vma.gz} (one or more members), verifying each member's CRC-32 and ISIZE, and
 * collects zran-style checkpoints for {@link GzipMap}.
 *
 * <p>Checkpoints can only sit where a deflate block starts on a byte boundary, which in practice
 * means right after the {@code 00 00 FF FF} of an empty stored block ({@code --rsyncable} emits
 * one every few KiB). The input is cut exactly there so the output count at that moment is the
 * uncompressed offset. A candidate is accepted only after a probe — a fresh inflater started there
 * with the last 32 KiB as dictionary — produced the same first {@link #PROBE_BYTES} as the main
 * stream: the four bytes can also occur inside compressed data.
 *
 * <p>If no checkpoint can be found for {@link DecodeOptions#gzipMaxGap()} bytes (plain gzip
 * without {@code --rsyncable}), the rest of the stream is spilled, starting at the last
 * checkpoint, whose span is re-inflated into the spill first.
 */
public final class GzipDecodePass extends DecodePassBase {
  private static final Logger log = LoggerFactory.getLogger(GzipDecodePass.class);
  static final int PROBE_BYTES = 16 << 10;
  private static final int FEED_CHUNK = 64 << 10;
  /**
   * Compressed bytes buffered ahead for a probe: more than {@link #PROBE_BYTES} of output needs
   * except in a pathological stream (then the probe reads the rest positionally).
   */
  private static final int PROBE_INPUT = 64 << 10;

  private final GzipMap.Builder checkpoints;
  private final byte[] feed = new byte[FEED_CHUNK];
  private int fed;
  /** Compressed offset just after the fed input; a candidate if {@link #cutAtMarker}. */
  private long feedEnd;
  private boolean cutAtMarker;
  private final byte[] ring = new byte[GzipFormat.WINDOW_SIZE];
  private Inflater inflater;
  private final CRC32 memberCrc = new CRC32();
  private long memberOut;
  private int members;
  /** Compressed offset of the current member's header. */
  private long memberStart;
  private long uPos;
  private boolean ended;

  /** Candidate being verified against the main stream, or null. */
  private Candidate pending;
  /** CRC-32 of the current span so far; checked on every random read of it. */
  private CRC32 spanCrc = new CRC32();
  /** CRC-32 from the pending candidate on: becomes {@link #spanCrc} if the candidate is accepted. */
  private CRC32 pendingSpanCrc = new CRC32();
  /** Chunk checksums of the current span, and from the pending candidate on (like the CRCs). */
  private ChunkChecksums.Recorder spanChunks = new ChunkChecksums.Recorder(ChunkChecksums.DEFAULT_CHUNK);
  private ChunkChecksums.Recorder pendingChunks = new ChunkChecksums.Recorder(ChunkChecksums.DEFAULT_CHUNK);
  /** Where the current span would end if the pending candidate is accepted. */
  private ChunkChecksums.Recorder.Mark pendingMark;

  private record Candidate(long cOff, long uOff, byte[] window, byte[] expected, long spanCrc,
      int[] matched) {}

  public GzipDecodePass(StoredBytes archive, boolean owns, DecodeOptions options) throws IOException {
    super(archive, owns, options);
    checkpoints = new GzipMap.Builder(options.gzipCheckpointSpacing());
    try {
      if (options.forceSpill()) {
        startSpill(0);
      }
      startMember();
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.GZIP;
  }

  private void startMember() throws IOException {
    memberStart = in.offset();
    GzipFormat.readHeader(in);
    inflater = new Inflater(true);
    memberCrc.reset();
    memberOut = 0;
    members++;
    fed = 0;
    if (!isSpilling()) {
      // A member starts with an empty window: an exact checkpoint, no probe needed.
      spanCrc.reset();
      spanChunks.reset();
      checkpoints.add(in.offset(), uPos, new byte[0]);
    }
  }

  @Override
  protected int produce(byte[] b, int off, int len) throws IOException {
    if (ended) {
      return -1;
    }
    if (!isSpilling() && uPos - checkpoints.lastUOff() > options.gzipMaxGap()) {
      beginSpill();
    }
    if (inflater.finished()) {
      endMember();
      return ended ? -1 : 0;
    }
    if (inflater.needsInput()) {
      if (cutAtMarker && fed > 0) {
        cutAtMarker = false;
        candidateAt(feedEnd);
      }
      feedMore();
    }
    int n;
    try {
      n = inflater.inflate(b, off, len);
    } catch (DataFormatException e) {
      throw new CorruptArchiveException(member(), "corrupt deflate data between compressed offsets "
          + (feedEnd - fed) + " and " + feedEnd + ": " + e.getMessage(), e);
    }
    if (n == 0 && inflater.needsDictionary()) {
      throw new CorruptArchiveException(member(), "asks for a preset dictionary");
    }
    consumed();
    if (n > 0) {
      output(b, off, n);
    }
    return n;
  }

  /** Advances {@link #in} past what the inflater used, so its offset is exact. */
  private void consumed() {
    int used = fed - inflater.getRemaining();
    in.skip(used - (int) (in.offset() - (feedEnd - fed)));
  }

  private void feedMore() throws IOException {
    if (!in.fill()) {
      throw new java.io.EOFException(name + ": truncated: gzip member #" + members
          + " ends at compressed offset " + in.offset() + " before its deflate data is complete");
    }
    in.ensure(GzipFormat.RESTART_MARKER.length);
    int n = Math.min(in.available(), FEED_CHUNK);
    cutAtMarker = false;
    if (wantCandidate()) {
      int at = indexOfMarker(in.buffer(), in.position(), in.position() + n);
      if (at >= 0) {
        n = at + GzipFormat.RESTART_MARKER.length - in.position();
        cutAtMarker = true;
      } else if (n > GzipFormat.RESTART_MARKER.length) {
        // Keep the last bytes unfed: a marker may straddle this chunk and the next.
        n -= GzipFormat.RESTART_MARKER.length - 1;
      }
    }
    System.arraycopy(in.buffer(), in.position(), feed, 0, n);
    fed = n;
    feedEnd = in.offset() + n;
    inflater.setInput(feed, 0, n);
  }

  private boolean wantCandidate() {
    return !isSpilling() && pending == null
        && uPos - checkpoints.lastUOff() >= options.gzipCheckpointSpacing();
  }

  static int indexOfMarker(byte[] b, int from, int to) {
    byte[] m = GzipFormat.RESTART_MARKER;
    for (int i = from; i + m.length <= to; i++) {
      if (b[i] == 0 && b[i + 1] == 0 && b[i + 2] == m[2] && b[i + 3] == m[3]) {
        return i;
      }
    }
    return -1;
  }

  /** The input was cut right after a marker and fully consumed: uPos is where a restart would land. */
  private void candidateAt(long cOff) throws IOException {
    if (uPos == checkpoints.lastUOff()) {
      return;
    }
    byte[] window = window();
    byte[] expected = new byte[PROBE_BYTES];
    int[] got = {0};
    // From the input the pass has buffered, read on ahead on its own stream: no positional read
    // (for a remote archive, a range request per candidate) unless the probe needs more.
    in.ensure(PROBE_INPUT);
    boolean buffered = in.offset() == cOff;
    try {
      GzipInflate.inflate(archive, name, cOff, in.fileSize(), in.buffer(), in.position(),
          buffered ? in.position() + in.available() : in.position(), window, PROBE_BYTES, (b, o, k) -> {
        System.arraycopy(b, o, expected, got[0], k);
        got[0] += k;
        return true;
      });
    } catch (IOException e) {
      log.trace("{}: restart probe at compressed offset {} failed: {}", name, cOff, e.getMessage());
      return; // not a real block boundary
    }
    if (got[0] < PROBE_BYTES) {
      return; // too close to the end of the member to verify; not worth a checkpoint
    }
    pending = new Candidate(cOff, uPos, window, expected, spanCrc.getValue(), new int[] {0});
    pendingSpanCrc.reset();
    pendingMark = spanChunks.mark();
    pendingChunks.reset();
  }

  /** The last 32 KiB of this member's output, oldest first. */
  private byte[] window() {
    int len = (int) Math.min(GzipFormat.WINDOW_SIZE, memberOut);
    byte[] w = new byte[len];
    int end = (int) (uPos % GzipFormat.WINDOW_SIZE);
    for (int i = 0; i < len; i++) {
      w[i] = ring[Math.floorMod(end - len + i, GzipFormat.WINDOW_SIZE)];
    }
    return w;
  }

  private void output(byte[] b, int off, int n) throws IOException {
    memberCrc.update(b, off, n);
    spanCrc.update(b, off, n);
    spanChunks.update(b, off, n);
    if (pending != null) {
      pendingSpanCrc.update(b, off, n);
      pendingChunks.update(b, off, n);
      verifyPending(b, off, n);
    }
    int r = (int) (uPos % GzipFormat.WINDOW_SIZE);
    for (int i = 0; i < n; ) {
      int k = Math.min(n - i, GzipFormat.WINDOW_SIZE - r);
      if (n - i > GzipFormat.WINDOW_SIZE) {
        // Only the last 32 KiB matter; skip ahead.
        int skip = n - i - GzipFormat.WINDOW_SIZE;
        i += skip;
        r = (r + skip) % GzipFormat.WINDOW_SIZE;
        continue;
      }
      System.arraycopy(b, off + i, ring, r, k);
      i += k;
      r = (r + k) % GzipFormat.WINDOW_SIZE;
    }
    uPos += n;
    memberOut += n;
  }

  private void verifyPending(byte[] b, int off, int n) throws IOException {
    Candidate c = pending;
    int done = c.matched()[0];
    int k = Math.min(n, c.expected().length - done);
    if (!java.util.Arrays.equals(b, off, off + k, c.expected(), done, done + k)) {
      log.trace("{}: false restart marker at compressed offset {}", name, c.cOff());
      pending = null;
      return;
    }
    c.matched()[0] = done + k;
    if (done + k == c.expected().length) {
      // Accepted: the previous span ends at the candidate, and pendingSpanCrc has seen exactly
      // the new span's bytes so far.
      checkpoints.closeSpan(c.cOff(), c.spanCrc(), spanChunks.finishAt(pendingMark));
      checkpoints.add(c.cOff(), c.uOff(), c.window());
      CRC32 t = spanCrc;
      spanCrc = pendingSpanCrc;
      pendingSpanCrc = t;
      ChunkChecksums.Recorder r = spanChunks;
      spanChunks = pendingChunks;
      pendingChunks = r;
      pending = null;
    }
  }

  private Where member() {
    return Where.of(name, Part.GZIP_MEMBER, members, memberStart);
  }

  private void endMember() throws IOException {
    consumed();
    long deflateEnd = in.offset();
    in.require(GzipFormat.TRAILER_SIZE);
    int crc = Endian.le32(in.buffer(), in.position());
    int isize = Endian.le32(in.buffer(), in.position() + 4);
    if (crc != (int) memberCrc.getValue() || isize != (int) memberOut) {
      throw new CorruptArchiveException(member(), "the trailer at compressed offset " + deflateEnd
          + " does not match the data (CRC-32 " + Integer.toHexString(crc) + " vs "
          + Long.toHexString(memberCrc.getValue()) + ", ISIZE " + Integer.toUnsignedString(isize)
          + " vs " + memberOut + "); the archive is damaged");
    }
    in.skip(GzipFormat.TRAILER_SIZE);
    inflater.end();
    pending = null;
    if (!isSpilling() && memberOut == 0) {
      // An empty member (cat x.gz empty.gz) adds no bytes: its checkpoint would start a span of
      // nothing at the offset where the next one starts too.
      checkpoints.removeLast();
    } else if (!isSpilling()) {
      checkpoints.closeSpan(deflateEnd, spanCrc.getValue(), spanChunks.finish());
    }
    if (in.atEof()) {
      ended = true;
      return;
    }
    in.ensure(2);
    if (in.available() < 2 || (in.buffer()[in.position()] & 0xff) != GzipFormat.ID1
        || (in.buffer()[in.position() + 1] & 0xff) != GzipFormat.ID2) {
      throw new CorruptArchiveException(Where.at(name, in.offset()),
          "trailing garbage after gzip member #" + members);
    }
    startMember();
  }

  private void beginSpill() throws IOException {
    GzipMap.Builder.Point last = checkpoints.removeLast();
    log.info("{}: no gzip restart point for {} MiB after uncompressed offset {}; spilling from there",
        name, (uPos - last.uOff()) >> 20, last.uOff());
    pending = null;
    SpillWriter spill = startSpill(last.uOff());
    long need = uPos - last.uOff();
    long n = GzipInflate.inflate(archive, name, last.cOff(), in.fileSize(), last.window(), need,
        (b, o, k) -> {
          spill.write(b, o, k);
          return true;
        });
    if (n != need) {
      throw new IOException(name + ": re-inflating from compressed offset " + last.cOff()
          + " gave " + n + " bytes instead of " + need);
    }
  }

  @Override
  protected Prefix prefix(vmafs.cache.BlockCache cache) throws IOException {
    GzipMap m = checkpoints.prefix(in.fileSize(), isSpilling() ? spillStart() : -1);
    return m == null ? null : new Prefix(m.openUnchecked(archive, cache), m.uncompressedSize());
  }

  @Override
  protected SourceMap buildMap(long size, SpillFile spill, long spillStart) throws IOException {
    return checkpoints.build(in.fileSize(), size, spill, spillStart, name);
  }

  @Override
  public void close() throws IOException {
    try {
      super.close();
    } finally {
      if (inflater != null) {
        inflater.end();
      }
    }
  }
}
