package vmafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BlockCacheTest {
  @Test
  void concurrentMissesLoadOnce() throws Exception {
    BlockCache cache = new BlockCache(1 << 20);
    long id = cache.newSourceId();
    AtomicInteger loads = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<byte[]>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        fs.add(pool.submit(() -> {
          start.await();
          return cache.get(new BlockCache.Key(id, 5), () -> {
            loads.incrementAndGet();
            try {
              Thread.sleep(200); // long enough for every thread to ask while loading
            } catch (InterruptedException ie) {
              throw new IOException(ie);
            }
            return new byte[] {1, 2, 3};
          });
        }));
      }
      start.countDown();
      for (Future<byte[]> f : fs) {
        assertArrayEquals(new byte[] {1, 2, 3}, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, loads.get());
    assertEquals(7, cache.stats().hits() + cache.stats().misses() - 1);
  }

  @Test
  void failedLoadIsNotCached() throws Exception {
    BlockCache cache = new BlockCache(1 << 20);
    BlockCache.Key key = new BlockCache.Key(cache.newSourceId(), 0);
    IOException e = assertThrows(IOException.class, () -> cache.get(key, () -> {
      throw new IOException("checksum mismatch at compressed offset 42");
    }));
    assertEquals("checksum mismatch at compressed offset 42", e.getMessage());
    AtomicInteger loads = new AtomicInteger();
    cache.get(key, () -> new byte[loads.incrementAndGet()]);
    assertEquals(1, loads.get(), "the second get must load again, not see a cached failure");
    assertEquals(1, cache.stats().loadFailures());
  }

  @Test
  void staysWithinItsByteBoundAndDropsClosedSources() throws Exception {
    BlockCache cache = new BlockCache(4 << 20);
    long a = cache.newSourceId();
    for (int i = 0; i < 64; i++) {
      cache.get(new BlockCache.Key(a, i), () -> new byte[256 << 10]);
    }
    BlockCache.Stats s = cache.stats();
    assertTrue(s.bytes() <= 4 << 20, s.toString());
    assertTrue(s.evictions() > 0, s.toString());
    cache.invalidateSource(a);
    assertEquals(0, cache.stats().bytes());
  }
}
