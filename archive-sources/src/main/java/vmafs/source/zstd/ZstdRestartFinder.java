package vmafs.source.zstd;

import com.github.luben.zstd.ZstdCompressCtx;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import vmafs.source.internal.ChunkChecksums;
import vmafs.source.internal.FileReads;
import vmafs.vma.io.StoredBytes;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the restart points of a {@code .vma.zst} while its decode pass runs, on a thread of its
 * own (the pass decodes on one core; this uses the other), by <em>trying</em> them: at a candidate
 * block it starts a second libzstd decoder with a prefix of the true output as dictionary and
 * keeps the point only if that decoder reproduces the true output (which the pass decodes into an
 * {@link OutputRing}) over the point's whole span, up to the next accepted point. Nothing about
 * zstd's multithreaded jobs is assumed: job size, overlap and where jobs start are learned from
 * what verifies (docs/design.md, "Restart points").
 *
 * <p>The span of the current point is always being verified by its own decoder ("D"). At a
 * candidate, D pauses and a trial decoder ("T") runs from there; if T matches for {@link
 * #acceptDistance} (past which its prefix can no longer be referenced) the candidate becomes the
 * next point and T takes over as D, else T is dropped and D resumes. The CRC-32C per 64 KiB of
 * each span is computed here from the verified output.
 *
 * <p>Which blocks are tried, cheapest first: the block one learned span length after the last
 * point (zstd's jobs are of one size, except under {@code --rsyncable}), a block after one whose
 * output size breaks the pattern (a job's last block is usually short), blocks at whole MiB from
 * the frame start (job starts, while no span length is known), and, once a span grows long, one
 * block in every {@link #DESPERATE_STEP}. Prefixes are tried from short to long until one works
 * (zstd fails with an error on an offset beyond a too-short prefix), first with the
 * incompressible-looking 4 KiB regions zeroed (they are rarely referenced and are most of a
 * compressed prefix), then whole. A point is only kept while the stored restart data stays
 * within the budget (by default 3 % of the compressed bytes so far).
 *
 * <p>If the current span cannot go on (it stops matching, it would exceed the maximum span, or a
 * frame's window is too large for the ring), the finder <em>gives up</em> at the last verified
 * block boundary and the pass spills the rest of the stream from there.
 */
final class ZstdRestartFinder implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ZstdRestartFinder.class);
  /** The ring the pass decodes into: holds a window-sized prefix plus one trial's distance. */
  static final int RING = 32 << 20;
  private static final int MIN_SPACING = 1 << 20;
  private static final int ALIGN = 1 << 20;
  private static final int LADDER_START = 16 << 10;
  private static final int DESPERATE_AFTER = 32 << 20;
  private static final int DESPERATE_STEP = 512 << 10;
  /** Blocks of one size in a row before a shorter one counts as the end of a job. */
  private static final int SIGNAL_RUN = 4;
  /**
   * Failed trials may decode at most this fraction of the stream (plus {@link #WASTE_FLOOR}):
   * whatever the archive, looking for restart points never makes the pass much slower.
   */
  private static final double WASTE_FRACTION = 0.1;
  private static final long WASTE_FLOOR = 32 << 20;
  /** How far into a frame restarts are tried for what they teach, whatever the budget. */
  private static final long LEARN_WITHIN = 64 << 20;
  /**
   * Trials go ahead while the estimated stored prefix is up to this much over the allowance
   * (the estimate is the last measured ratio; what decides is the real one).
   */
  private static final double BUDGET_SLACK = 1.25;
  private static final int INPUT_BUFFER = 1 << 20;
  /** VMA data sits at 512-byte steps of the stream, so regions of this size fall inside blocks. */
  private static final int SPARSE_REGION = 512;
  /**
   * Bits per byte above which a 512-byte region is taken for incompressible: random data
   * measures 7.6 at this size, text 4-5, machine code 5-6.5.
   */
  private static final double SPARSE_ENTROPY = 7.3;
  private static final int PREFIX_LEVEL = 3;
  /** Restart data besides the prefixes: a point's record and 4 bytes per 64 KiB chunk. */
  private static final int CHUNK_CRC_BYTES = 4;

  /** Where and why the finder stopped: the pass spills from {@code position} on. */
  record GiveUp(long position, String reason) {}

  /**
   * What the finder did, for the log and benchmarks: trials, the bytes failed trials decoded (the
   * work restart points cost beyond verifying each span once), prefix bytes before and after
   * compression, and the finder thread's CPU time.
   */
  record Stats(int points, int trials, long prefixRaw, long prefixStored, long wastedBytes,
      long cpuNanos) {}

  private final StoredBytes ch;
  private final String name;
  private final long fileSize;
  private final OutputRing ring;
  private final RestartPoints points;
  private final PrefixStore prefixes;
  private final double budget;
  private final long maxSpan;
  private final ZstdContextPool contexts = new ZstdContextPool(3);
  private final ByteBuffer[] in = {ByteBuffer.allocateDirect(INPUT_BUFFER),
      ByteBuffer.allocateDirect(INPUT_BUFFER)};
  private final ByteBuffer[] out = {ByteBuffer.allocateDirect(ZstdBlockDecoder.BLOCK_ROOM),
      ByteBuffer.allocateDirect(ZstdBlockDecoder.BLOCK_ROOM)};
  private final Thread thread;
  private volatile GiveUp gaveUp;
  private volatile boolean stopped;
  /** Compresses accepted prefixes; made and closed on the finder's thread. */
  private ZstdCompressCtx compressor;
  private long used;
  private int trials;
  private long wastedBytes;
  private long prefixRaw;
  private volatile long cpuNanos;

  ZstdRestartFinder(StoredBytes ch, String name, long fileSize, OutputRing ring,
      RestartPoints points, PrefixStore prefixes, double budget, long maxSpan) {
    this.ch = ch;
    this.name = name;
    this.fileSize = fileSize;
    this.ring = ring;
    this.points = points;
    this.prefixes = prefixes;
    this.budget = budget;
    this.maxSpan = maxSpan;
    this.thread = new Thread(this, "vmafs-zstd-restart");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Set once the finder stopped early; the pass must spill from its position on. */
  GiveUp gaveUp() {
    return gaveUp;
  }

  /** Waits until the finder has verified everything the pass decoded, or gave up. */
  void await() throws InterruptedIOException {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the restart point finder");
    }
  }

  /** Stops the finder (the pass was abandoned) and waits for it. */
  void stop() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  Stats stats() {
    return new Stats(points.count(), trials, prefixRaw, prefixes.size(), wastedBytes, cpuNanos);
  }

  @Override
  public void run() {
    try (ZstdCompressCtx compressor = new ZstdCompressCtx()) {
      compressor.setLevel(PREFIX_LEVEL);
      compressor.setChecksum(true);
      compressor.setContentSize(true);
      this.compressor = compressor;
      frames();
    } catch (GiveUpException g) {
      gaveUp = g.giveUp;
    } catch (Throwable t) {
      if (!stopped) {
        log.debug("{}: restart point finder failed", name, t);
        gaveUp = new GiveUp(points.end(), "the restart point finder failed: " + t);
      }
    } finally {
      contexts.close();
      cpuNanos = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
      if (gaveUp == null) {
        ring.detach();
      }
    }
  }

  private static final class GiveUpException extends Exception {
    final GiveUp giveUp;

    GiveUpException(GiveUp giveUp) {
      super(giveUp.reason(), null, false, false);
      this.giveUp = giveUp;
    }
  }

  /** Walks the file's frames; skippable frames are skipped. */
  private void frames() throws IOException, GiveUpException {
    long off = 0;
    ByteBuffer h = ByteBuffer.allocate(ZstdFormat.FRAME_HEADER_MAX).order(ByteOrder.LITTLE_ENDIAN);
    while (off < fileSize && !stopped) {
      h.clear().limit((int) Math.min(h.capacity(), fileSize - off));
      FileReads.readFully(ch, name, off, h);
      h.flip();
      if (h.remaining() < 4) {
        return; // the pass reports the garbage
      }
      int magic = h.getInt(0);
      if (ZstdFormat.isSkippableMagic(magic)) {
        off += ZstdFormat.SKIPPABLE_HEADER_SIZE + (h.getInt(4) & 0xffffffffL);
        continue;
      }
      ZstdFormat.FrameHeader fh = ZstdFormat.frameHeader(h, name, off);
      long u = points.end();
      if (fh.windowSize() > ZstdRestartMap.MAX_WINDOW) {
        throw giveUp(u, "the zstd frame at compressed offset " + off + " uses a "
            + (fh.windowSize() >> 20) + " MiB window (zstd --long or --ultra), more than restart"
            + " points are made for (" + (ZstdRestartMap.MAX_WINDOW >> 20) + " MiB)");
      }
      if (fh.dictionaryId() != 0) {
        return; // the pass fails on it
      }
      off = new Frame(off, fh).run();
    }
  }

  private GiveUpException giveUp(long position, String reason) {
    return new GiveUpException(new GiveUp(position, reason));
  }

  /** One data frame: its points and their verification. */
  private final class Frame {
    private final long offset;
    private final ZstdFormat.FrameHeader header;
    private final long startU;
    private final long window;
    private final long minSpacing;
    /** Current span: its point's output offset, decoder, and chunk checksums so far. */
    private Span cur;
    private boolean pointAdded;
    /** Output size of the last block D decoded, of the one before, and how many in a row had it. */
    private int last1 = -1;
    private int runSize = -1;
    private int run;
    /** The span length restarts verified at (zstd's job size), or -1 until one is known. */
    private long period = -1;
    /** Whether the last two spans had that length (a fixed job size, not --rsyncable). */
    private boolean periodConfirmed;
    /** Where the last verified restart was, accepted or not (the frame start at first). */
    private long lastRestartU;
    private long lastDesperate;
    /** The longest prefix a point of this frame needed. */
    private int learnedPrefix;
    /** Stored (compressed) bytes per prefix byte, as last measured; -1 until then. */
    private double storedPerRaw = -1;

    Frame(long offset, ZstdFormat.FrameHeader header) {
      this.offset = offset;
      this.header = header;
      this.startU = points.end();
      this.window = header.windowSize();
      this.minSpacing = Math.max(MIN_SPACING, window);
      this.lastRestartU = startU;
    }

    /** Verifies the frame to its end; returns the compressed offset after it. */
    long run() throws IOException, GiveUpException {
      long first = offset + header.headerSize();
      cur = new Span(first, startU, new ZstdBlockDecoder(ch, name, contexts, first, -1,
          header.windowDescriptor(), null, in[0]), 0, 0);
      try {
        while (!stopped) {
          if (cur.decoder.finished()) {
            break;
          }
          if (tryHere()) {
            continue;
          }
          step();
        }
        if (stopped) {
          return fileSize;
        }
        long end = cur.decoder.position();
        closeSpan(end);
        return end + (header.checksum() ? ZstdFormat.CHECKSUM_SIZE : 0);
      } finally {
        cur.decoder.close();
      }
    }

    /** D decodes and verifies one block. */
    private void step() throws IOException, GiveUpException {
      long blockAt = cur.decoder.position();
      if (cur.u - cur.startU + ZstdFormat.BLOCK_MAX_DECOMPRESSED > maxSpan) {
        closeSpan(blockAt);
        throw giveUp(cur.u, "no restart point verified within " + (maxSpan >> 20) + " MiB after"
            + " uncompressed offset " + cur.startU + " (a zstd frame not compressed in parallel"
            + " jobs, e.g. by zstd --single-thread or another compressor)");
      }
      ByteBuffer o = out[cur.slot].clear();
      int n;
      try {
        n = cur.decoder.nextBlock(o);
      } catch (IOException e) {
        closeSpan(blockAt);
        throw giveUp(cur.u, "decoding from the restart point at uncompressed offset " + cur.startU
            + " failed at compressed offset " + blockAt + ": " + e.getMessage());
      }
      if (n < 0) {
        return;
      }
      o.flip();
      if (!matches(cur.u, o)) {
        closeSpan(blockAt);
        throw giveUp(cur.u, "decoding from the restart point at uncompressed offset " + cur.startU
            + " stopped matching the archive at uncompressed offset " + cur.u);
      }
      ring.checksum(cur.u, n, cur.chunks);
      cur.u += n;
      if (n > 0 && !pointAdded) {
        points.add(new RestartPoints.Point(cur.cOff, cur.startU, header.windowDescriptor(), 0, 0, 0));
        used += ZstdRestartMap.RECORD_BYTES;
        pointAdded = true;
      }
      if (last1 == runSize) {
        run++;
      } else {
        runSize = last1;
        run = 1;
      }
      last1 = n;
      ring.release(cur.u - window);
    }

    /** Whether the output at {@code u} equals {@code data}; waits for the pass to produce it. */
    private boolean matches(long u, ByteBuffer data) throws IOException {
      if (!ring.awaitWritten(u + data.remaining(), () -> stopped)) {
        return false; // the stream ended first: the pass reports that
      }
      return ring.mismatch(u, data) < 0;
    }

    private void closeSpan(long compressedEnd) {
      if (!pointAdded) {
        points.dropOpen();
        return;
      }
      if (cur.u > cur.startU && points.closedCount() < points.count()) {
        points.close(compressedEnd, cur.u, cur.chunks.finish());
        used += (long) CHUNK_CRC_BYTES * ((cur.u - cur.startU + ChunkChecksums.DEFAULT_CHUNK - 1)
            / ChunkChecksums.DEFAULT_CHUNK);
      }
    }

    /**
     * At D's block boundary: if it is a candidate, tries it with the prefixes the budget allows;
     * true if a new point was accepted (T took over as D).
     */
    private boolean tryHere() throws IOException {
      long b = cur.decoder.position();
      long u = cur.u;
      long d = u - cur.startU;
      if (d < minSpacing || !pointAdded) {
        return false;
      }
      long sinceRestart = u - lastRestartU;
      boolean predicted = period > 0 && sinceRestart % period == 0;
      // A job's blocks have one size (the block size, or a fixed split of it) except its last:
      // a shorter block after a run of equal ones probably ended a job. Levels that split
      // blocks by content have no runs, and no such signal.
      boolean shortBlock = run >= SIGNAL_RUN && last1 < runSize;
      // Until the job size is known, job starts are looked for at whole MiB that are powers of
      // two from the last verified restart (zstd's job sizes are; under --rsyncable a job that
      // found no sync point is that long); once it is, at every MiB, but only after the
      // predicted places have failed twice over.
      long fromStart = u - startU;
      boolean aligned = sinceRestart % ALIGN == 0 && (!periodConfirmed
          ? Long.bitCount(sinceRestart / ALIGN) == 1 : sinceRestart > 2 * period);
      boolean desperate = d >= DESPERATE_AFTER && u - lastDesperate >= DESPERATE_STEP;
      if (!(predicted || shortBlock || aligned || desperate)
          || wastedBytes > WASTE_FRACTION * u + WASTE_FLOOR) {
        return false;
      }
      if (desperate) {
        lastDesperate = u;
      }
      // Prefixes, short to long: a job start needs the compressor's overlap, and a shorter one
      // fails at once with an offset out of range. Until a point is found, ordinary candidates
      // try up to half the window: many blocks inside a job restart with the whole window (by
      // luck, their first sequences use no earlier state), and a first point found that way
      // would make every later trial use the whole window. Then strong candidates go from the
      // longest prefix that worked up to the window, weak ones try only that one, and a long
      // span tries the whole window.
      long first;
      long top;
      if (desperate) {
        first = learnedPrefix > 0 ? learnedPrefix : window;
        top = window;
      } else if (learnedPrefix == 0) {
        first = LADDER_START;
        top = Math.max(LADDER_START, window / 2);
      } else {
        first = learnedPrefix;
        top = predicted && periodConfirmed ? window : learnedPrefix;
      }
      // Until the span length is known (in the frame's first MiB), a restart that verifies is
      // worth learning from even when the budget cannot keep it: it tells where the next are.
      boolean learning = period < 0 && fromStart <= LEARN_WITHIN;
      double allowance = budget * b - used
          - CHUNK_CRC_BYTES * (double) (cur.u - cur.startU) / ChunkChecksums.DEFAULT_CHUNK;
      double perRaw = storedPerRaw > 0 ? storedPerRaw : (double) b / Math.max(1, u);
      for (long p = first; ; p = Math.min(2 * p, top)) {
        if (p > fromStart) {
          return false;
        }
        if (!learning && p * perRaw + ZstdRestartMap.RECORD_BYTES > allowance * BUDGET_SLACK) {
          return false; // longer prefixes cost more still
        }
        Outcome o = trial(b, u, (int) p, allowance);
        if (log.isTraceEnabled()) {
          log.trace("{}: trial at uncompressed {} ({}{}{}{}), prefix {}: {}", name, u,
              predicted ? "predicted " : "", shortBlock ? "short-block " : "",
              aligned ? "aligned " : "", desperate ? "long-span" : "", p, o);
        }
        switch (o) {
          case ACCEPTED:
            return true;
          case TOO_EXPENSIVE:
            return false;
          case FAILED:
            break;
        }
        if (p >= top) {
          return false;
        }
      }
    }

    /** What a trial came to. */
    private enum Outcome { ACCEPTED, FAILED, TOO_EXPENSIVE }

    /**
     * Tries a restart at block {@code b} (output offset {@code u}) with a {@code p}-byte prefix:
     * first with its incompressible-looking regions zeroed, then whole. A restart that verifies
     * but whose prefix does not fit the budget once compressed is learned from (its span length
     * and prefix) and dropped.
     */
    private Outcome trial(long b, long u, int p, double allowance) throws IOException {
      byte[] whole = new byte[p];
      ring.copy(u - p, whole, 0, p);
      byte[] sparse = sparse(whole, u - p);
      for (byte[] prefix : sparse == null ? List.of(whole) : List.of(sparse, whole)) {
        trials++;
        int slot = 1 - cur.slot;
        Span t = verifyTrial(new Span(b, u, new ZstdBlockDecoder(ch, name, contexts, b, -1,
            header.windowDescriptor(), prefix, in[slot]), slot, prefix.length));
        if (t == null) {
          continue;
        }
        byte[] stored = compressor.compress(prefix);
        storedPerRaw = (double) stored.length / prefix.length;
        if (stored.length + ZstdRestartMap.RECORD_BYTES > allowance) {
          t.decoder.close();
          wastedBytes += t.u - t.startU;
          learn(u, p);
          return Outcome.TOO_EXPENSIVE;
        }
        accept(t, prefix.length, stored);
        return Outcome.ACCEPTED;
      }
      return Outcome.FAILED;
    }

    /**
     * A restart verified at {@code u} with a {@code p}-byte prefix. The span length is the last
     * gap until two gaps in a row agree; then it is zstd's job size and stays (under --rsyncable
     * jobs also end early, at content-defined points, which the short-block signal finds).
     */
    private void learn(long u, int p) {
      long gap = u - lastRestartU;
      if (!periodConfirmed) {
        periodConfirmed = gap == period;
        period = gap;
      }
      lastRestartU = u;
      learnedPrefix = Math.max(learnedPrefix, p);
    }

    /**
     * Runs trial decoder {@code t} for the acceptance distance (or to the frame's end); the
     * trial's span if all of it matched, else null (its decoder closed).
     */
    private Span verifyTrial(Span t) throws IOException {
      try {
        while (t.u - t.startU < minSpacing && !stopped) {
          ByteBuffer o = out[t.slot].clear();
          int n = t.decoder.nextBlock(o);
          if (n < 0) {
            break;
          }
          o.flip();
          if (!matches(t.u, o)) {
            wastedBytes += t.u - t.startU + n + t.prefixLength;
            t.decoder.close();
            return null;
          }
          ring.checksum(t.u, n, t.chunks);
          t.u += n;
        }
        if (stopped) {
          t.decoder.close();
          return null;
        }
        return t;
      } catch (InterruptedIOException e) {
        t.decoder.close();
        throw e;
      } catch (IOException | RuntimeException e) {
        // libzstd rejects most failed restarts outright: an offset beyond the prefix, a table
        // that does not exist yet. That is an answer, not an error.
        wastedBytes += t.u - t.startU + ZstdFormat.BLOCK_MAX_DECOMPRESSED + t.prefixLength;
        t.decoder.close();
        return null;
      }
    }

    private void accept(Span t, int prefixLength, byte[] stored) throws IOException {
      closeSpan(t.cOff);
      cur.decoder.close();
      long at = prefixes.append(stored);
      points.add(new RestartPoints.Point(t.cOff, t.startU, header.windowDescriptor(), prefixLength,
          at, stored.length));
      used += stored.length + ZstdRestartMap.RECORD_BYTES;
      prefixRaw += prefixLength;
      log.debug("{}: restart point #{} at compressed offset {}, uncompressed {} (+{}), prefix {} ->"
          + " {} bytes", name, points.count() - 1, t.cOff, t.startU, t.startU - lastRestartU,
          prefixLength, stored.length);
      learn(t.startU, prefixLength);
      cur = t;
      // The trial's blocks were not watched for the short-block signal: start it afresh.
      last1 = -1;
      run = 0;
      ring.release(cur.u - window);
    }

    /**
     * The prefix (which starts at uncompressed offset {@code startU}) with its
     * incompressible-looking regions zeroed, or null if it has none. Such regions are rarely
     * referenced by later data and make up most of a compressed prefix; the trial decides
     * whether leaving them out is right. Regions lie on the stream's 512-byte grid, where a VMA
     * stream's data blocks start, so that a region never mixes a random block with its neighbour.
     */
    private byte[] sparse(byte[] prefix, long startU) {
      byte[] s = null;
      int[] counts = new int[256];
      int from = 0;
      int to = (int) Math.min(prefix.length, SPARSE_REGION - Math.floorMod(startU, SPARSE_REGION));
      while (from < prefix.length) {
        if (to - from == SPARSE_REGION && entropy(prefix, from, to, counts) > SPARSE_ENTROPY) {
          if (s == null) {
            s = prefix.clone();
          }
          java.util.Arrays.fill(s, from, to, (byte) 0);
        }
        from = to;
        to = Math.min(prefix.length, to + SPARSE_REGION);
      }
      return s;
    }
  }

  /** {@code c * log2(c)} for the byte counts of one region. */
  private static final double[] C_LOG_C = new double[SPARSE_REGION + 1];

  static {
    for (int c = 1; c <= SPARSE_REGION; c++) {
      C_LOG_C[c] = c * (Math.log(c) / Math.log(2));
    }
  }

  /** Shannon entropy of {@code b[from, to)} ({@code to - from <= 4096}) in bits per byte. */
  static double entropy(byte[] b, int from, int to, int[] counts) {
    java.util.Arrays.fill(counts, 0);
    for (int i = from; i < to; i++) {
      counts[b[i] & 0xff]++;
    }
    int n = to - from;
    double sum = 0;
    for (int c : counts) {
      sum += C_LOG_C[c];
    }
    return n == 0 ? 0 : (C_LOG_C[n] - sum) / n;
  }

  /** A point's span being verified by its decoder. */
  private static final class Span {
    final long cOff;
    final long startU;
    final ZstdBlockDecoder decoder;
    final int slot;
    final int prefixLength;
    final ChunkChecksums.Recorder chunks = new ChunkChecksums.Recorder(ChunkChecksums.DEFAULT_CHUNK);
    long u;

    Span(long cOff, long startU, ZstdBlockDecoder decoder, int slot, int prefixLength) {
      this.cOff = cOff;
      this.startU = startU;
      this.decoder = decoder;
      this.slot = slot;
      this.prefixLength = prefixLength;
      this.u = startU;
    }
  }
}
