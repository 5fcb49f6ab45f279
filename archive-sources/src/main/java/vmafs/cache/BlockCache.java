package vmafs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decoded blocks (lzop blocks, zstd frames, gzip checkpoint spans) shared by every compressed
 * source of a process, bounded by the total number of decoded bytes it holds.
 *
 * <p>A block is loaded at most once however many threads ask for it at the same time: FUSE issues
 * parallel reads that very often land in the same block, and decoding it twice would double the
 * cost of exactly the reads that are already slow. A loader that throws caches nothing, so a block
 * whose checksum failed is retried (and fails again) instead of being served.
 */
public final class BlockCache {
  public static final long DEFAULT_MAX_BYTES = 256L << 20;

  /** Rough per-entry bookkeeping cost so that many tiny blocks cannot exceed the bound unnoticed. */
  private static final int ENTRY_OVERHEAD = 64;

  private final Cache<Key, byte[]> cache;
  private final long maxBytes;
  private final AtomicLong nextSourceId = new AtomicLong();

  /** Identifies one block of one opened source. */
  public record Key(long sourceId, long block) {}

  /** Loads (decodes and verifies) one block; must never return unverified data. */
  @FunctionalInterface
  public interface Loader {
    byte[] load() throws IOException;
  }

  /** Counters for {@code --debug} output and benchmarks. */
  public record Stats(long hits, long misses, long evictions, long loadFailures, long bytes,
      long maxBytes) {
    @Override
    public String toString() {
      return String.format("block cache: %d hits, %d misses, %d evictions, %d failed loads, %d / %d MiB",
          hits, misses, evictions, loadFailures, bytes >> 20, maxBytes >> 20);
    }
  }

  public BlockCache(long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("block cache size must be positive: " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((Key k, byte[] v) -> v.length + ENTRY_OVERHEAD)
        .recordStats()
        // Evict on the reading thread: entries are up to a few MiB each, and letting the common
        // pool catch up later would let the heap overshoot the bound under bursts of misses.
        .executor(Runnable::run)
        .build();
  }

  public BlockCache() {
    this(DEFAULT_MAX_BYTES);
  }

  /** A fresh id for a source opened against this cache, so keys of different sources never mix. */
  public long newSourceId() {
    return nextSourceId.incrementAndGet();
  }

  /**
   * The cached block, or the result of {@code loader}, which runs once per key even under
   * concurrent calls; concurrent callers for the same key wait for it.
   */
  public byte[] get(Key key, Loader loader) throws IOException {
    try {
      return cache.get(key, k -> load(loader));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /**
   * Like {@link #get(Key, Loader)} for sources that may cache a verified prefix of a block: loads
   * with {@code loader} if absent; a cached value shorter than {@code minLength} is replaced by what
   * {@code grow} returns (e.g. the whole block: a reader that outgrew a prefix once is likely to do
   * it again). Again at most one load per key at a time.
   */
  public byte[] get(Key key, int minLength, Loader loader, Loader grow) throws IOException {
    byte[] v = get(key, loader);
    if (v.length >= minLength) {
      return v;
    }
    try {
      return cache.asMap().compute(key,
          // another reader may have grown it meanwhile
          (k, cur) -> cur != null && cur.length >= minLength ? cur : load(grow));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** The cached block, or null (counted as a hit or a miss like {@link #get(Key, Loader)}). */
  public byte[] getIfPresent(Key key) {
    return cache.getIfPresent(key);
  }

  /**
   * Caches a block its source decoded on the way to another one (a zstd restart span decodes
   * from its start up to the piece a read needs). Must never be given unverified data.
   */
  public void put(Key key, byte[] block) {
    cache.put(key, block);
  }

  /** Caffeine's loaders cannot throw checked exceptions; the callers unwrap this again. */
  private static byte[] load(Loader loader) {
    try {
      return loader.load();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Drops every block of a source, e.g. when it is closed. */
  public void invalidateSource(long sourceId) {
    cache.asMap().keySet().removeIf(k -> k.sourceId() == sourceId);
  }

  public Stats stats() {
    CacheStats s = cache.stats();
    long bytes = cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return new Stats(s.hitCount(), s.missCount(), s.evictionCount(), s.loadFailureCount(), bytes,
        maxBytes);
  }

  public long maxBytes() {
    return maxBytes;
  }
}
