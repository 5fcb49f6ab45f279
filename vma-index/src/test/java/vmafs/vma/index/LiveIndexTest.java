package vmafs.vma.index;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * The wait and end-of-pass rules of an index read while it is built: the stream is fed to the pass
 * through a gate the test opens extent by extent, so "before" and "after" are exact.
 */
class LiveIndexTest {
  private static final int CLUSTER = 1 << 16;

  /** An input stream that lets {@code allowed} bytes through, then blocks until more are allowed. */
  static final class Gate extends InputStream {
    private final byte[] data;
    private final Semaphore permits = new Semaphore(0);
    private int pos;
    private volatile boolean failAtGate;

    Gate(byte[] data) {
      this.data = data;
    }

    void allow(int bytes) {
      permits.release(bytes);
    }

    void allowAll() {
      permits.release(Integer.MAX_VALUE / 2);
    }

    void fail() {
      failAtGate = true;
      permits.release(1);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (pos >= data.length) {
        return -1;
      }
      if (len == 0) {
        return 0;
      }
      try {
        permits.acquire();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      if (failAtGate) {
        throw new IOException("truncated here (test)");
      }
      int extra = Math.max(0, Math.min(Math.min(len, data.length - pos) - 1, permits.availablePermits()));
      if (!permits.tryAcquire(extra)) {
        extra = 0;
      }
      int n = 1 + extra;
      System.arraycopy(data, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  record Pass(LiveIndex index, Gate gate, Future<?> run) {}

  static Pass start(byte[] archive, boolean partial, ExecutorService pool) throws Exception {
    Gate gate = new Gate(archive);
    CountDownLatch header = new CountDownLatch(1);
    LiveIndex[] out = new LiveIndex[1];
    Future<?> run = pool.submit(() -> {
      VmaStreamReader r = VmaStreamReader.open(gate);
      LiveIndex li = new LiveIndex(new ExtentIndexBuilder(r.header()), partial);
      out[0] = li;
      header.countDown();
      try {
        li.complete(li.run(r, Progress.NONE));
      } catch (IOException e) {
        li.fail(e);
      }
      return null;
    });
    // The header, a little at a time: the pass is then at most an extent past it.
    for (int i = 0; i < 1000 && header.getCount() > 0; i++) {
      gate.allow(4096);
      header.await(10, TimeUnit.MILLISECONDS);
    }
    if (!header.await(10, TimeUnit.SECONDS)) {
      if (run.isDone()) {
        run.get(); // reports what went wrong
      }
      run.cancel(true);
      fail("the header was not read");
    }
    if (run.isDone()) {
      run.get(); // reports what went wrong
    }
    return new Pass(out[0], gate, run);
  }

  /** clusters 0..n-1 of drive 1 in order, one per extent, then {@code tail} as more clusters. */
  static byte[] archive(int n, long... tail) throws IOException {
    byte[] content = new byte[n * CLUSTER];
    for (int c = 0; c < n; c++) {
      content[c * CLUSTER] = (byte) (c % 255 + 1); // never 0: every cluster stores block 0
    }
    return VmaArchiveBuilder.archive().device("drive-scsi0", content).slots(1).build(w -> {
      for (int c = 0; c < n; c++) {
        if (c != 5) { // cluster 5 is missing
          w.writeCluster(1, c, VmaArchiveBuilder.cluster(content, c));
        }
      }
      byte[] other = new byte[CLUSTER];
      other[0] = 99;
      for (long c : tail) {
        w.writeCluster(1, c, other);
      }
    }).bytes();
  }

  @Test
  void readsWaitForTheirClusterAndMissingOnesFailAtTheEnd() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      Pass p = start(archive(64), false, pool);
      Future<Long> late = pool.submit(() -> p.index().entry(1, 60));
      Thread.sleep(200);
      assertFalse(late.isDone(), "cluster 60 is not listed yet");
      assertEquals(1, p.index().waitingReads());
      p.gate().allowAll();
      assertTrue(ClusterTable.isPresent(late.get(10, TimeUnit.SECONDS)));
      p.run().get(10, TimeUnit.SECONDS);
      assertEquals(LiveIndex.State.COMPLETE, p.index().state());
      IOException e = assertThrows(IOException.class, () -> p.index().entry(1, 5));
      assertTrue(e.getMessage().contains("missing"), e.getMessage());
      assertTrue(p.index().waits() >= 1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void missingReadsAsZerosWithPartial() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      Pass p = start(archive(16), true, pool);
      Future<Long> missing = pool.submit(() -> p.index().entry(1, 5));
      p.gate().allowAll();
      assertEquals(0, missing.get(10, TimeUnit.SECONDS), "waited to the end, then zeros");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aFailedPassFailsTheWaitingReadsAndKeepsWhatWasListed() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      byte[] a = archive(64);
      Pass p = start(a, false, pool);
      p.gate().allow(a.length / 2);
      long first = waitListed(p.index(), 0);
      Future<Long> late = pool.submit(() -> p.index().entry(1, 63));
      Thread.sleep(100);
      p.gate().fail();
      IOException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> late.get(10, TimeUnit.SECONDS)).getCause() instanceof IOException io ? io : null;
      assertNotNull(e);
      assertTrue(e.getMessage().contains("truncated here"), e.getMessage());
      assertEquals(LiveIndex.State.FAILED, p.index().state());
      assertEquals(first, p.index().entry(1, 0), "what was listed stays");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aLateDuplicateOfAServedClusterKeepsTheFirstCopyAndFails() throws Exception {
    for (boolean partial : new boolean[] {false, true}) {
      ExecutorService pool = Executors.newCachedThreadPool();
      try {
        Pass p = start(archive(64, 2, 3), partial, pool);
        p.gate().allow(10 * (512 + 4096)); // about ten one-block extents, not the duplicates at the end
        long served = waitListed(p.index(), 2); // read: its first copy is served
        p.gate().allowAll();
        p.run().get(10, TimeUnit.SECONDS);
        assertEquals(1, p.index().lateDuplicates(), "cluster 2 was read, cluster 3 was not");
        if (partial) {
          assertEquals(served, p.index().entry(1, 2), "one offset, one content");
        } else {
          assertThrows(IOException.class, () -> p.index().entry(1, 2));
        }
        long three = p.index().entry(1, 3);
        assertNotEquals(0, three);
        assertEquals(2, p.index().result().devices().get(0).stats().duplicateClusters());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** st_blocks of part of a disk while indexing: the blocks listed so far in that range, no more. */
  @Test
  void storedBlocksOfARangeCountOnlyWhatIsListed() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      int n = 800; // three pages of 256 clusters: whole pages are counted from their sums
      Pass p = start(archive(n), false, pool);
      p.gate().allow(400 * (512 + 4096)); // about 400 one-block extents
      waitListed(p.index(), 300);
      long t = p.index().storedBlocks(1);
      for (int i = 0; i < 50; i++) { // until the pass stands at the gate
        Thread.sleep(20);
        long now = p.index().storedBlocks(1);
        if (now == t && i > 5) {
          break;
        }
        t = now;
      }
      assertTrue(t >= 300 && t < n - 1, "listed " + t);
      // Listed in order, one stored block each: clusters 0..t but 5.
      assertEquals(t, p.index().storedBlocks(1, 0, n * 16L));
      assertEquals(t, p.index().storedBlocks(1, 0, (t + 1) * 16));
      assertEquals(0, p.index().storedBlocks(1, (t + 1) * 16, n * 16L), "not listed yet");
      assertEquals(255, p.index().storedBlocks(1, 0, 256 * 16), "the first page, without cluster 5");
      assertEquals(0, p.index().storedBlocks(1, 5 * 16, 6 * 16), "cluster 5 is not listed");
      assertEquals(1, p.index().storedBlocks(1, 4 * 16, 4 * 16 + 1), "block 0 of cluster 4");
      assertEquals(0, p.index().storedBlocks(1, 4 * 16 + 1, 5 * 16), "its other blocks are zero");
      assertEquals(t - 256, p.index().storedBlocks(1, 256 * 16 + 1, n * 16L),
          "from inside the second page's first cluster: its block 0 is not counted");
      p.gate().allowAll();
      p.run().get(10, TimeUnit.SECONDS);
      assertEquals(n - 1, p.index().storedBlocks(1, 0, n * 16L));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentReadersNeverSeeTornEntries() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      int n = 4096;
      Pass p = start(archive(n), true, pool);
      List<Future<Integer>> readers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        readers.add(pool.submit(() -> {
          int checked = 0;
          java.util.Random r = new java.util.Random(seed);
          for (int i = 0; i < 2000; i++) {
            long c = r.nextInt(n);
            long e = p.index().entry(1, c);
            if (c != 5) {
              assertTrue(ClusterTable.isPresent(e), "cluster " + c);
              assertEquals(1, ClusterTable.mask(e), "cluster " + c); // only block 0 is not zero
              checked++;
            }
          }
          return checked;
        }));
      }
      p.gate().allowAll();
      for (Future<Integer> f : readers) {
        assertTrue(f.get(60, TimeUnit.SECONDS) > 0);
      }
      // Every entry a reader got equals the final one (offsets are unique and ascending).
      ExtentIndex done = p.index().result();
      long prev = -1;
      for (int c = 0; c < n; c++) {
        long e = done.devices().get(0).entry(c);
        if (c != 5) {
          assertTrue(ClusterTable.offset(e) > prev);
          prev = ClusterTable.offset(e);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static long waitListed(LiveIndex index, long cluster) throws IOException {
    return index.entry(1, cluster);
  }
}
