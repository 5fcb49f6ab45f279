package vmafs.source;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import vmafs.source.internal.RecentOutput;
import vmafs.vma.io.ArchiveSource;

/**
 * The decompressed stream while its decode pass still runs: a read is served once the pass can
 * decode everything it covers ("decodable up to"), else it waits for that, or for the end of the
 * pass. What serves it while the pass runs is a <em>prefix</em> the pass publishes: the spill file
 * as far as it is written, or a map of the lzop blocks / gzip spans / zstd frames decoded so far
 * (replaced by a longer one when readers need more, at most as often as keeps its cost small). At
 * the end the pass hands over the finished source ({@link #finish}), or its failure ({@link #fail}):
 * reads inside the last prefix still work, reads beyond it fail.
 *
 * <p>A prefix that is replaced is closed once the reads using it are done (reference counted).
 */
public final class LiveSource implements ArchiveSource {
  /**
   * Heap a live source keeps while the pass runs: the pass's last output ({@link RecentOutput});
   * the servers' heap bound counts it (cli ServerOptions.PASS_OUTPUT). A reader that starts when
   * the mount returns is already 0.1–0.2 s behind the pass, 30–60 MB of a zstd pass's output; with
   * 16 MiB a `dd` of a disk's first 512 MiB found none of its bytes here and decoded all of them
   * again, with 64 MiB it copied all of them (docs/benchmarks.md, issue 12). Dropped when the pass
   * ends.
   */
  public static final int RECENT_OUTPUT_BYTES = 64 << 20;

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LiveSource.class);
  /** A waiting read looks again this often whatever it was told (the spill writer does not tell). */
  private static final long POLL_MILLIS = 5;

  private final String name;
  private final Object changed = new Object();
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicLong wanted = new AtomicLong();
  private final AtomicLong wantedFrom = new AtomicLong(Long.MAX_VALUE);
  private volatile Prefix prefix;
  /** What the pass decoded last; reads it holds are copied from it, not decoded again. */
  private volatile RecentOutput recent;
  private final java.util.concurrent.atomic.LongAdder fromRecent = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder fromPrefix = new java.util.concurrent.atomic.LongAdder();
  private volatile ArchiveSource finished;
  private volatile IOException failure;
  private volatile boolean closed;

  /** A source over the stream's first {@code limit} bytes, {@code limit} growing or fixed. */
  private static final class Prefix {
    final ArchiveSource source;
    final LongSupplier limit;
    final AtomicInteger users = new AtomicInteger(1); // 1: published
    Prefix(ArchiveSource source, LongSupplier limit) {
      this.source = source;
      this.limit = limit;
    }

    boolean acquire() {
      int n;
      do {
        n = users.get();
        if (n == 0) {
          return false;
        }
      } while (!users.compareAndSet(n, n + 1));
      return true;
    }

    void release() throws IOException {
      if (users.decrementAndGet() == 0) {
        source.close();
      }
    }
  }

  public LiveSource(String name) {
    this.name = name;
  }

  /** Makes {@code source} serve the stream's first {@code limit} bytes; the old prefix retires. */
  public void publish(ArchiveSource source, LongSupplier limit) throws IOException {
    Prefix old = prefix;
    prefix = new Prefix(source, limit);
    if (old != null) {
      old.release();
    }
    signal();
  }

  /** Makes reads that {@code r} holds copy from it (until the pass ends cleanly). */
  public void share(RecentOutput r) {
    recent = r;
  }

  /** Where the published prefix ends now (0 without one). */
  public long limit() {
    Prefix p = prefix;
    return p == null ? 0 : p.limit.getAsLong();
  }

  /** The largest stream offset a waiting read needs beyond the prefix, or 0. */
  public long wanted() {
    return waiting.get() == 0 ? 0 : wanted.get();
  }

  /**
   * Whether the pass's recent output holds everything waiting reads need: they will copy it once
   * they wake, so a prefix would be built for nothing.
   */
  public boolean recentHoldsWanted() {
    RecentOutput r = recent;
    long from = wantedFrom.get();
    long to = wanted.get();
    return r != null && from <= to && r.holds(from, to);
  }

  /** Wakes waiting reads: the prefix grew. */
  public void signal() {
    if (waiting.get() > 0) {
      synchronized (changed) {
        changed.notifyAll();
      }
    }
  }

  /**
   * The pass ended cleanly: {@code source} serves everything from now on. It stays its owner's to
   * close (the opened archive's).
   */
  public void finish(ArchiveSource source) throws IOException {
    finished = source;
    recent = null;
    Served s = served();
    if (s.fromRecent() + s.fromPrefix() > 0) {
      log.info("{}: reads during the pass: {} MiB copied from what the pass had just decoded, {} MiB"
          + " read through the part decodable then", name, s.fromRecent() >> 20, s.fromPrefix() >> 20);
    }
    Prefix old = prefix;
    prefix = null;
    synchronized (changed) {
      changed.notifyAll();
    }
    if (old != null) {
      old.release();
    }
  }

  /** The pass failed: reads the last prefix cannot serve fail with {@code why}. */
  public void fail(IOException why) {
    failure = why;
    synchronized (changed) {
      changed.notifyAll();
    }
  }

  /**
   * How the reads during the pass were served: bytes copied from the pass's recent output, bytes
   * read through a published prefix (which decodes them again where the format is compressed).
   */
  public record Served(long fromRecent, long fromPrefix) {}

  public Served served() {
    return new Served(fromRecent.sum(), fromPrefix.sum());
  }

  /** Reads waiting for the pass to decode what they need, now. */
  public int waitingReads() {
    return waiting.get();
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    long end = position + dst.remaining();
    boolean counted = false;
    try {
      while (true) {
        ArchiveSource f = finished;
        if (f != null) {
          f.readFully(position, dst);
          return;
        }
        if (closed) {
          throw new IOException(name + " is closed");
        }
        RecentOutput r = recent;
        if (r != null && r.read(position, dst)) {
          fromRecent.add(end - position);
          return;
        }
        Prefix p = prefix;
        if (p != null && end <= p.limit.getAsLong() && p.acquire()) {
          try {
            fromPrefix.add(end - position);
            p.source.readFully(position, dst);
            return;
          } finally {
            p.release();
          }
        }
        IOException why = failure;
        if (why != null && finished == null) {
          throw new IOException(name + ": uncompressed bytes " + position + ".." + end
              + " were not decoded before the index pass failed: " + why.getMessage(), why);
        }
        if (!counted) {
          counted = true;
          waiting.incrementAndGet();
        }
        wanted.accumulateAndGet(end, Math::max);
        wantedFrom.accumulateAndGet(position, Math::min);
        synchronized (changed) {
          Prefix q = prefix;
          RecentOutput rq = recent;
          if (finished == null && failure == null && !closed
              && (q == null || end > q.limit.getAsLong())
              && (rq == null || !rq.holds(position, end))) {
            try {
              changed.wait(POLL_MILLIS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new InterruptedIOException("interrupted waiting for the decode pass");
            }
          }
        }
      }
    } finally {
      if (counted && waiting.decrementAndGet() == 0) {
        wanted.set(0);
        wantedFrom.set(Long.MAX_VALUE);
      }
    }
  }

  @Override
  public long size() throws IOException {
    ArchiveSource f = finished;
    return f != null ? f.size() : -1;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    synchronized (changed) {
      changed.notifyAll();
    }
    recent = null;
    Prefix p = prefix;
    prefix = null;
    if (p != null) {
      p.release();
    }
  }
}
