package vmafs.source.zstd;

import com.github.luben.zstd.Zstd;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import vmafs.cache.BlockCache;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.LocalStoredBytes;

/**
 * The ceiling of cold random reads through zstd restart points, without FUSE (bench/restart.sh):
 * {@code java -cp archive-sources/target/test-classes:cli/target/vmafs.jar vmafs.source.zstd.RestartReadCeiling
 * ARCHIVE.vma.zst SECONDS ROUNDS}. Runs the decode pass once, then alternates, for 1 and 2 threads:
 * <ul>
 *   <li>{@code libzstd}: the least work a cold 4 KiB read needs: the point's prefix decompressed and
 *       loaded as a dictionary, then plain libzstd from the point up to the end of the 4 KiB, into
 *       one reused buffer (no checks, no cache);
 *   <li>{@code source}: {@link ZstdRestartSource#readFully} on a fresh source and cache, as the
 *       mount reads (pieces, CRCs, cache, cursors).
 * </ul>
 * Same seeded offsets for both (a new seed per round); prints reads/s and the split of libzstd's
 * time between prefix+dictionary and decoding.
 */
public final class RestartReadCeiling {
  private RestartReadCeiling() {}

  public static void main(String[] args) throws Exception {
    Path archive = Path.of(args[0]);
    double seconds = Double.parseDouble(args[1]);
    int rounds = Integer.parseInt(args[2]);
    ZstdRestartMap map;
    try (DecodePass pass = DecodePass.open(archive, DecodeOptions.defaults())) {
      InputStream in = pass.stream();
      in.transferTo(java.io.OutputStream.nullOutputStream());
      map = (ZstdRestartMap) pass.finish();
    }
    RestartPoints.Snapshot p = map.points();
    long size = map.uncompressedSize();
    System.err.printf(Locale.ROOT, "%d points, %d bytes%n", p.count(), size);
    for (int round = 0; round < rounds; round++) {
      for (int threads : new int[] {1, 2}) {
        long seed = 1000L * round + threads;
        System.out.printf(Locale.ROOT, "round %d, %d thread(s): libzstd %.0f reads/s, source %.0f reads/s%n",
            round, threads, libzstd(archive, map, size, seed, seconds, threads),
            source(archive, map, size, seed, seconds, threads));
      }
    }
  }

  private interface Reader {
    void read(long offset) throws Exception;
  }

  private static double run(long size, long seed, double seconds, int threads,
      java.util.function.Supplier<Reader> readers) throws Exception {
    AtomicLong reads = new AtomicLong();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    Thread[] t = new Thread[threads];
    Exception[] failed = new Exception[1];
    for (int i = 0; i < threads; i++) {
      SplittableRandom r = new SplittableRandom(seed * 31 + i);
      Reader reader = readers.get();
      t[i] = new Thread(() -> {
        try {
          while (System.nanoTime() < end) {
            reader.read(r.nextLong(size / 4096) * 4096);
            reads.incrementAndGet();
          }
        } catch (Exception e) {
          failed[0] = e;
        }
      });
      t[i].start();
    }
    for (Thread x : t) {
      x.join();
    }
    if (failed[0] != null) {
      throw failed[0];
    }
    return reads.get() / seconds;
  }

  private static double source(Path archive, ZstdRestartMap map, long size, long seed,
      double seconds, int threads) throws Exception {
    try (ArchiveSource src = map.open(archive, new BlockCache())) {
      return run(size, seed, seconds, threads, () -> {
        ByteBuffer b = ByteBuffer.allocate(4096);
        return at -> src.readFully(at, b.clear());
      });
    }
  }

  private static double libzstd(Path archive, ZstdRestartMap map, long size, long seed,
      double seconds, int threads) throws Exception {
    RestartPoints.Snapshot p = map.points();
    AtomicLong prefixNanos = new AtomicLong();
    AtomicLong decodeNanos = new AtomicLong();
    AtomicLong decoded = new AtomicLong();
    try (LocalStoredBytes ch = LocalStoredBytes.open(archive);
        ZstdContextPool pool = new ZstdContextPool(threads)) {
      double rate = run(size, seed, seconds, threads, () -> {
        ByteBuffer in = ByteBuffer.allocateDirect(ZstdBlockDecoder.MIN_INPUT_BUFFER);
        ByteBuffer out = ByteBuffer.allocateDirect(1 << 20);
        return at -> {
          long t0 = System.nanoTime();
          int span = Arrays.binarySearch(p.uOff(), at);
          span = span >= 0 ? span : -span - 2;
          byte[] prefix = null;
          if (p.prefixLength()[span] > 0) {
            prefix = Zstd.decompress(map.prefixes().read(p.prefixOffset()[span], p.prefixStored()[span]),
                p.prefixLength()[span]);
          }
          try (ZstdBlockDecoder d = new ZstdBlockDecoder(ch, archive.toString(), pool, p.cOff()[span],
              p.cEnd()[span], p.windowDescriptor()[span], prefix, in)) {
            long t1 = System.nanoTime();
            long need = at + 4096 - p.uOff()[span];
            long got = 0;
            while (got < need) {
              int n = d.fill(out.clear().limit((int) Math.min(out.capacity(), need - got)));
              if (n <= 0) {
                throw new IllegalStateException("span ended early");
              }
              got += n;
            }
            decoded.addAndGet(got);
            prefixNanos.addAndGet(t1 - t0);
            decodeNanos.addAndGet(System.nanoTime() - t1);
          }
        };
      });
      System.err.printf(Locale.ROOT, "  libzstd, %d thread(s): prefix + dictionary %.2f ms, decode %.2f ms"
          + " per read, %.0f MB/s per thread while decoding%n", threads,
          prefixNanos.get() / 1e6 / (rate * seconds), decodeNanos.get() / 1e6 / (rate * seconds),
          decoded.get() / (decodeNanos.get() / 1e9) / 1e6);
      return rate;
    }
  }
}
