package vmafs.source.internal;

import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.LiveSource;
import vmafs.source.SourceMap;
import vmafs.vma.io.FileTrust;
import vmafs.vma.io.StoredBytes;

/**
 * The parts every decode pass shares: the compressed input, counting output, teeing it into a
 * spill file, failing for good after the first error, and draining on {@link #finish()}.
 */
public abstract class DecodePassBase implements DecodePass {
  private static final Logger log = LoggerFactory.getLogger(DecodePassBase.class);

  /** The archive as stored; positional reads (restart trials, gzip probes) go here too. */
  protected final StoredBytes archive;
  private final boolean ownsArchive;
  protected final String name;
  protected final DecodeOptions options;
  protected final CompressedInput in;
  private final InputStream stream = new PassStream();
  private final long startNanos = System.nanoTime();
  private SpillWriter spill;
  private long spillStart;
  private long expectedMax = -1;
  private long produced;
  private boolean eof;
  private IOException failure;
  private SourceMap map;
  /** Reads while the pass runs, once {@link #live} was called. */
  private LiveSource live;
  private vmafs.cache.BlockCache liveCache;
  /** Once {@link #live} was called: the last output, which the pass decodes into. */
  private RecentOutput recent;
  private long lastSnapshot;
  private long snapshotCost;

  /** @param ownsArchive whether {@link #close} closes {@code archive} */
  protected DecodePassBase(StoredBytes archive, boolean ownsArchive, DecodeOptions options)
      throws IOException {
    this.archive = archive;
    this.ownsArchive = ownsArchive;
    this.name = archive.name();
    this.options = options;
    this.in = new CompressedInput(archive, name, archive.size(), options.progress());
  }

  /** The archive's file name (the last part of its path or URL), for the commands in messages. */
  protected final String fileName() {
    return name.substring(name.lastIndexOf('/') + 1);
  }

  /**
   * Decodes up to {@code len} bytes into {@code b}; returns -1 only after the end of the archive has
   * been verified.
   */
  protected abstract int produce(byte[] b, int off, int len) throws IOException;

  /** The map, once the stream is complete; {@code spill} is non-null if a spill was written. */
  protected abstract SourceMap buildMap(long uncompressedSize, SpillFile spill, long spillStart)
      throws IOException;

  /**
   * A source over a prefix of what was produced so far, opened with {@code cache}, for reads while
   * the pass runs; null when there is none (yet). Called on the pass's thread, between reads.
   */
  protected Prefix prefix(vmafs.cache.BlockCache cache) throws IOException {
    return null;
  }

  /** A source of the stream's first {@code length} bytes. */
  public record Prefix(vmafs.vma.io.ArchiveSource source, long length) {}

  /** At least this long between two prefixes, and ten times what the last one cost to make. */
  private static final long MIN_PREFIX_GAP_NANOS = 20_000_000L;

  @Override
  public final LiveSource live(vmafs.cache.BlockCache cache, int recentBytes) throws IOException {
    live = new LiveSource(name);
    liveCache = cache;
    recent = new RecentOutput(recentBytes, produced);
    live.share(recent);
    if (spill != null && spillStart == 0 && !options.streamOnly()) {
      publishSpill();
    }
    return live;
  }

  private void publishSpill() throws IOException {
    SpillWriter w = spill;
    w.onWritten(live::signal);
    live.publish(w.partialReader(), w::onDisk);
  }

  /**
   * A spill that starts after a stretch the format maps (gzip): the map of that stretch, then the
   * spill as far as it is written.
   */
  private void publishHeadAndSpill(long from) throws IOException {
    Prefix head = prefix(liveCache);
    if (head == null || head.length() != from) {
      return; // reads wait for the end of the pass
    }
    SpillWriter w = spill;
    vmafs.vma.io.ArchiveSource tail = w.partialReader();
    vmafs.vma.io.ArchiveSource both = new ConcatSource(name, head.source(), from, tail, w::onDisk);
    w.onWritten(live::signal);
    live.publish(both, () -> from + w.onDisk());
  }

  /** Publishes a longer prefix when a waiting read needs it and the last one is old enough. */
  private void maybePublishPrefix() throws IOException {
    long want = live.wanted();
    // Past what the pass produced, a prefix cannot help: the read gets its bytes from the recent
    // output once the pass is there.
    if (want == 0 || want <= live.limit() || want > produced || live.recentHoldsWanted()) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastSnapshot < Math.max(MIN_PREFIX_GAP_NANOS, 10 * snapshotCost)) {
      return;
    }
    Prefix p = prefix(liveCache);
    if (p != null) {
      long len = p.length();
      live.publish(p.source(), () -> len);
    }
    lastSnapshot = System.nanoTime();
    snapshotCost = lastSnapshot - now;
  }

  /** Where the spill begins in the stream (meaningful once {@link #isSpilling()}). */
  protected final long spillStart() {
    return spillStart;
  }

  /** Uncompressed bytes produced so far. */
  protected final long produced() {
    return produced;
  }

  /**
   * Starts teeing output into a spill file that will hold the stream from uncompressed offset
   * {@code from} on. When {@code from < produced()} the caller must write that prefix to the
   * returned writer before producing more.
   */
  protected final SpillWriter startSpill(long from) throws IOException {
    if (options.streamOnly()) {
      spill = SpillWriter.discarding();
      return spill;
    }
    if (options.spillFile() == null) {
      throw new IOException(name + " cannot be read at random (" + format()
          + ") and needs a spill file, but no cache directory was given");
    }
    spill = SpillWriter.create(options.spillFile(), options.spillMax(), name,
        FileTrust.derivedPermissions(archive));
    spillStart = from;
    if (expectedMax >= 0) {
      spill.checkRoom(expectedMax - from);
    }
    if (live != null) {
      if (from == 0) {
        publishSpill();
      } else {
        publishHeadAndSpill(from);
      }
    }
    return spill;
  }

  @Override
  public final boolean isSpilling() {
    return spill != null;
  }

  @Override
  public final void expectUncompressedAtMost(long bytes) throws IOException {
    expectedMax = bytes;
    if (spill != null) {
      spill.checkRoom(bytes - spillStart);
    }
  }

  @Override
  public final InputStream stream() {
    return stream;
  }

  /**
   * Decodes up to {@code len} more bytes into {@code b}, or, with {@code b} null, only into the
   * recent output (which must exist).
   */
  private int read(byte[] b, int off, int len) throws IOException {
    if (failure != null) {
      throw new IOException(name + ": the decode pass already failed", failure);
    }
    if (eof) {
      return -1;
    }
    if (len == 0) {
      return 0;
    }
    try {
      int n;
      RecentOutput r = recent;
      int at = r == null ? off : r.writeOffset();
      do {
        n = r == null ? produce(b, off, len) : produce(r.array(), at, r.reserve(len));
      } while (n == 0);
      if (n < 0) {
        eof = true;
        in.finishProgress();
        return -1;
      }
      byte[] out = r == null ? b : r.array();
      if (spill != null) {
        spill.write(out, at, n);
      }
      produced += n;
      if (r != null) {
        r.commit(n);
        if (b != null) {
          System.arraycopy(out, at, b, off, n);
        }
        live.signal();
      }
      if (live != null && spill == null) {
        maybePublishPrefix();
      }
      return n;
    } catch (IOException | RuntimeException e) {
      failure = e instanceof IOException io ? io : new IOException(name + ": " + e, e);
      throw failure;
    }
  }

  @Override
  public final SourceMap finish() throws IOException {
    if (map != null) {
      return map;
    }
    if (options.streamOnly()) {
      throw new IllegalStateException("a stream-only pass builds no map");
    }
    stream.transferTo(java.io.OutputStream.nullOutputStream());
    SpillFile spilled = spill == null ? null : spill.commit();
    map = buildMap(produced, spilled, spillStart);
    double secs = (System.nanoTime() - startNanos) / 1e9;
    log.info("{}: decode pass done: {} -> {} bytes in {} s ({} MiB/s out){}", name,
        in.fileSize(), produced, String.format("%.2f", secs),
        String.format("%.0f", produced / 1048576.0 / Math.max(secs, 1e-9)),
        map.isRandomAccessible() ? "" : ", spilled");
    return map;
  }

  @Override
  public void close() throws IOException {
    try {
      if (spill != null) {
        spill.close();
      }
    } finally {
      try {
        in.close();
      } finally {
        if (ownsArchive) {
          archive.close();
        }
      }
    }
  }

  private final class PassStream extends InputStream {
    /**
     * The index pass skips every cluster's data. InputStream's own skip reads 2 KiB at a time,
     * which costs a decode call and a spill hand-over per 2 KiB (measured: ~0.5 s per GiB of
     * zstd stream); skipping through a larger buffer makes it one per 256 KiB.
     */
    private byte[] skipBuffer;
    private static final int SKIP_STEP = 256 << 10;

    @Override
    public long skip(long n) throws IOException {
      if (n <= 0) {
        return 0;
      }
      int step = (int) Math.min(n, SKIP_STEP);
      if (recent != null) {
        return Math.max(DecodePassBase.this.read(null, 0, step), 0); // decoded into the ring
      }
      if (skipBuffer == null) {
        skipBuffer = new byte[SKIP_STEP];
      }
      int got = DecodePassBase.this.read(skipBuffer, 0, step);
      return Math.max(got, 0);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = DecodePassBase.this.read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      return DecodePassBase.this.read(b, off, len);
    }
  }
}
