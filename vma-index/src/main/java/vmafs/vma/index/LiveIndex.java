package vmafs.vma.index;

import static vmafs.vma.VmaFormat.BLOCKS_PER_CLUSTER;
import static vmafs.vma.VmaFormat.CLUSTER_SHIFT;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.DeviceInfo;
import vmafs.vma.ExtentHeader;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;

/**
 * An index that readers use while its pass still runs. The pass thread feeds extents to an {@link
 * ExtentIndexBuilder} under a {@link StampedLock}'s write lock, one extent at a time; readers look
 * entries up with optimistic reads (a failed validation retries under the read lock), so a lookup
 * never sees an entry half-written or a page directory being grown. The rules for a read of cluster
 * {@code c} ({@link #entry}):
 *
 * <ul>
 *   <li>listed: returned at once (its data may still be on its way: the source waits for that);
 *   <li>not listed and the pass runs: the reader waits until it is listed or the pass ends;
 *   <li>the pass completed and {@code c} was never listed: a missing cluster, an error (zeros
 *       with {@code partial});
 *   <li>the pass failed and {@code c} was never listed: an error naming why the pass failed;
 *   <li>{@code c} was listed again after a reader got its first copy: that copy stays in the
 *       index (a reader never sees two contents for one offset) and later reads are errors, unless
 *       {@code partial}, which keeps serving the first copy.
 * </ul>
 *
 * Memory beyond the builder's tables: one bit per cluster served while the pass runs, in pages of
 * 256 clusters that exist only where something was read, dropped when the pass ends.
 */
public final class LiveIndex {
  private static final Logger log = LoggerFactory.getLogger(LiveIndex.class);
  /** Conflicts logged one by one before they are only counted. */
  private static final int LOGGED_CONFLICTS = 10;
  /** A waiting reader looks again at least this often, whatever it was told. */
  private static final long WAIT_MILLIS = 100;

  /** Where the pass is. */
  public enum State { INDEXING, COMPLETE, FAILED }

  private final ExtentIndexBuilder builder;
  private final boolean partial;
  private final StampedLock lock = new StampedLock();
  private final Object listed = new Object();
  private final AtomicInteger waiting = new AtomicInteger();
  private final LongAdder waits = new LongAdder();
  /** Served-while-indexing bits: key devId << 32 | page, 4 longs = 256 clusters each. */
  private final Map<Long, AtomicLongArray> served = new ConcurrentHashMap<>();
  private final Set<Long> conflicts = ConcurrentHashMap.newKeySet();
  private final AtomicLong conflictCount = new AtomicLong();
  private volatile State state = State.INDEXING;
  private volatile ExtentIndex result;
  private volatile IOException failure;

  /**
   * @param partial missing clusters read as zeros and late duplicates keep serving their first copy,
   *     instead of failing the reads
   */
  public LiveIndex(ExtentIndexBuilder builder, boolean partial) {
    this.builder = builder;
    this.partial = partial;
    builder.duplicateRule(this::keepFirst);
  }

  public State state() {
    return state;
  }

  /** Why the pass failed, or null. */
  public IOException failure() {
    return failure;
  }

  /** The finished index once {@link State#COMPLETE}, else null. */
  public ExtentIndex result() {
    return result;
  }

  /** Reads waiting for a cluster to be listed, now. */
  public int waitingReads() {
    return waiting.get();
  }

  /** Reads that had to wait for a cluster to be listed, since the start. */
  public long waits() {
    return waits.sum();
  }

  /** Clusters listed again after their first copy had been served. */
  public long lateDuplicates() {
    return conflictCount.get();
  }

  // ---- the pass's side

  /**
   * Indexes every extent of {@code reader}, publishing each to readers as it is accepted. Does not
   * end the pass: the caller still verifies the rest of the archive and then calls {@link
   * #complete} or {@link #fail}.
   */
  public ExtentIndex run(VmaStreamReader reader, Progress progress) throws IOException {
    ExtentHeader e;
    while ((e = reader.nextExtent()) != null) {
      long stamp = lock.writeLock();
      try {
        builder.accept(e);
      } finally {
        lock.unlockWrite(stamp);
      }
      progress.update(reader.position());
      if (waiting.get() > 0) {
        wakeReaders();
      }
    }
    long stamp = lock.writeLock();
    try {
      return builder.finish(reader.position(), null);
    } finally {
      lock.unlockWrite(stamp);
    }
  }

  /** The pass ended cleanly with {@code index} (built by {@link #run}). */
  public void complete(ExtentIndex index) {
    result = index;
    state = State.COMPLETE;
    served.clear(); // nothing can be listed again now
    wakeReaders();
    for (DeviceIndex d : index.devices()) {
      DeviceStats s = d.stats();
      if (s.missingClusters() > 0) {
        StringBuilder ranges = new StringBuilder();
        for (long[] r : d.missingRanges(10)) {
          ranges.append(ranges.length() == 0 ? "" : ", ").append(r[0]).append('-').append(r[1]);
        }
        log.warn("{}: {} missing clusters (clusters {}): reads of them {}", d.info().name(),
            s.missingClusters(), ranges, partial ? "return zeros (--partial)" : "fail with EIO");
      }
    }
  }

  /** The pass failed: readers waiting for clusters not yet listed get {@code why}. */
  public void fail(IOException why) {
    failure = why;
    state = State.FAILED;
    wakeReaders();
  }

  private void wakeReaders() {
    synchronized (listed) {
      listed.notifyAll();
    }
  }

  /** Called by the builder, under the write lock, when a cluster is listed again. */
  private boolean keepFirst(int devId, long cluster) {
    if (!isServed(devId, cluster)) {
      return false; // nobody saw the first copy: the last one wins, as in a restore
    }
    conflicts.add(key(devId, cluster));
    long n = conflictCount.incrementAndGet();
    if (n <= LOGGED_CONFLICTS) {
      log.warn("drive {}: cluster {} (byte offset {}) is listed again after its first copy was read;"
          + " {}", name(devId), cluster, cluster << CLUSTER_SHIFT,
          partial ? "the first copy stays (--partial)" : "reads of it now fail with EIO");
    } else if (n == LOGGED_CONFLICTS + 1) {
      log.warn("more clusters listed again after they were read; only counting them now");
    }
    return true;
  }

  // ---- the readers' side

  /**
   * The entry of {@code cluster} of device {@code devId} ({@link ClusterTable} encoding), waiting
   * while it is not listed and the pass runs.
   *
   * @throws IOException when the cluster may not be served (see the class comment)
   */
  public long entry(int devId, long cluster) throws IOException {
    boolean counted = false;
    try {
      while (true) {
        State s = state;
        if (s == State.COMPLETE) {
          return finalEntry(devId, cluster);
        }
        long e = read(devId, cluster);
        if (ClusterTable.isPresent(e)) {
          if (s == State.INDEXING) {
            // Marked before the entry is read again: a duplicate accepted from now on sees the mark
            // and keeps this copy; one accepted before is what the second read returns.
            markServed(devId, cluster);
            e = read(devId, cluster);
          }
          checkConflict(devId, cluster);
          return e;
        }
        if (s == State.FAILED) {
          throw new IOException("drive " + name(devId) + ": cluster " + cluster
              + " was not reached before the index pass failed: " + failure.getMessage(), failure);
        }
        if (!counted) {
          counted = true;
          waits.increment();
          waiting.incrementAndGet();
        }
        synchronized (listed) {
          if (state == State.INDEXING && !ClusterTable.isPresent(read(devId, cluster))) {
            try {
              listed.wait(WAIT_MILLIS);
            } catch (InterruptedException ie) {
              Thread.currentThread().interrupt();
              throw new java.io.InterruptedIOException("interrupted waiting for the index pass");
            }
          }
        }
      }
    } finally {
      if (counted) {
        waiting.decrementAndGet();
      }
    }
  }

  private long finalEntry(int devId, long cluster) throws IOException {
    long e = result.devices().get(deviceIndex(devId)).entry(cluster);
    if (!ClusterTable.isPresent(e)) {
      if (partial) {
        return 0;
      }
      throw new IOException("drive " + name(devId) + ": cluster " + cluster + " (byte offset "
          + (cluster << CLUSTER_SHIFT) + ") is missing from the archive (--partial reads it as"
          + " zeros)");
    }
    checkConflict(devId, cluster);
    return e;
  }

  private void checkConflict(int devId, long cluster) throws IOException {
    if (!partial && !conflicts.isEmpty() && conflicts.contains(key(devId, cluster))) {
      throw new IOException("drive " + name(devId) + ": cluster " + cluster + " (byte offset "
          + (cluster << CLUSTER_SHIFT) + ") was listed again after it had been read; it has two"
          + " contents (--partial keeps serving the first)");
    }
  }

  /** Stored blocks of a device known so far (all of them once complete). */
  public long storedBlocks(int devId) {
    ExtentIndex r = result;
    if (r != null) {
      return r.devices().get(deviceIndex(devId)).stats().storedBlocks();
    }
    long stamp = lock.tryOptimisticRead();
    long n = builder.storedBlocks(devId);
    if (lock.validate(stamp)) {
      return n;
    }
    stamp = lock.readLock();
    try {
      return builder.storedBlocks(devId);
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /**
   * Stored 4 KiB blocks among blocks {@code [firstBlock, endBlock)} of a device listed so far,
   * for the {@code st_blocks} of part of an image (a partition) while the pass runs. Under the
   * read lock: the walk reads many pages, and pages appear as the pass lists clusters.
   */
  public long storedBlocks(int devId, long firstBlock, long endBlock) {
    long stamp = lock.readLock();
    try {
      ClusterTable t = builder.table(devId);
      long n = 0;
      long b = Math.max(0, firstBlock);
      while (b < endBlock) {
        long cluster = b / BLOCKS_PER_CLUSTER;
        if (b % ClusterTable.FULL_PAGE_BLOCKS == 0 && b + ClusterTable.FULL_PAGE_BLOCKS <= endBlock) {
          n += t.storedBlocks(cluster >>> ClusterTable.PAGE_SHIFT);
          b += ClusterTable.FULL_PAGE_BLOCKS;
          continue;
        }
        int j = (int) (b % BLOCKS_PER_CLUSTER);
        int k = (int) Math.min(BLOCKS_PER_CLUSTER, endBlock - cluster * BLOCKS_PER_CLUSTER);
        n += Integer.bitCount(ClusterTable.mask(t.get(cluster)) & ((1 << k) - 1) & -(1 << j));
        b = (cluster + 1) * BLOCKS_PER_CLUSTER;
      }
      return n;
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /** The entry as the table holds it now. */
  private long read(int devId, long cluster) {
    ClusterTable t = builder.table(devId);
    long stamp = lock.tryOptimisticRead();
    if (stamp != 0) {
      try {
        long e = t.get(cluster);
        if (lock.validate(stamp)) {
          return e;
        }
      } catch (RuntimeException raced) {
        // the writer changed the directory under the read: read again under the lock
      }
    }
    stamp = lock.readLock();
    try {
      return t.get(cluster);
    } finally {
      lock.unlockRead(stamp);
    }
  }

  private void markServed(int devId, long cluster) {
    long page = cluster >>> ClusterTable.PAGE_SHIFT;
    AtomicLongArray bits = served.computeIfAbsent((long) devId << 32 | page,
        k -> new AtomicLongArray(ClusterTable.PAGE_CLUSTERS / 64));
    int i = (int) (cluster & (ClusterTable.PAGE_CLUSTERS - 1));
    long bit = 1L << (i & 63);
    if ((bits.get(i >>> 6) & bit) == 0) {
      bits.getAndUpdate(i >>> 6, v -> v | bit);
    }
  }

  private boolean isServed(int devId, long cluster) {
    AtomicLongArray bits = served.get((long) devId << 32 | cluster >>> ClusterTable.PAGE_SHIFT);
    int i = (int) (cluster & (ClusterTable.PAGE_CLUSTERS - 1));
    return bits != null && (bits.get(i >>> 6) & 1L << (i & 63)) != 0;
  }

  private static long key(int devId, long cluster) {
    return (long) devId << 40 | cluster;
  }

  private int deviceIndex(int devId) {
    var devices = builder.header().devices();
    for (int i = 0; i < devices.size(); i++) {
      if (devices.get(i).id() == devId) {
        return i;
      }
    }
    throw new IllegalArgumentException("no device " + devId);
  }

  private String name(int devId) {
    return builder.header().devices().stream().filter(d -> d.id() == devId)
        .map(DeviceInfo::name).findFirst().orElse("#" + devId);
  }
}
