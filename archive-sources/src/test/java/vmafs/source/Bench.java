package vmafs.source;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import vmafs.cache.BlockCache;
import vmafs.vma.io.ArchiveSource;

/**
 * Throw-away benchmark, not a test: decode-pass speed per format and random 4 KiB reads with a
 * small cache (mostly misses). Run after {@code mvn test} has built target/test-archives:
 * {@code java -cp target/classes:target/test-classes:<deps> vmafs.source.Bench}.
 */
public final class Bench {
  public static void main(String[] args) throws Exception {
    Path dir = TestArchives.dir();
    Path seekable = dir.resolve("data.seekable.zst");
    String[] names = {"data.vma.zst", "data.vma.lzo", "data.vma.gz", "data.pigz.vma.gz", "data.seekable.zst"};
    for (String n : names) {
      Path a = dir.resolve(n);
      if (!Files.exists(a)) {
        System.out.println(n + ": missing (run mvn test first)");
        continue;
      }
      DecodeOptions o = DecodeOptions.defaults().withSpillFile(Files.createTempDirectory("bench").resolve("bench.spill"));
      SourceMap map = null;
      long best = Long.MAX_VALUE;
      for (int run = 0; run < 4; run++) {
        long t0 = System.nanoTime();
        try (DecodePass p = DecodePass.open(a, o)) {
          p.stream().transferTo(OutputStream.nullOutputStream());
          map = p.finish();
        }
        best = Math.min(best, System.nanoTime() - t0);
      }
      double mib = map.uncompressedSize() / 1048576.0;
      System.out.printf("%-20s pass %6.1f ms  %6.0f MiB/s out  (%s)%n", n, best / 1e6,
          mib / (best / 1e9), map.getClass().getSimpleName());
      for (long cacheBytes : new long[] {2 << 20, 64 << 20}) {
        BlockCache cache = new BlockCache(cacheBytes);
        try (ArchiveSource src = map.open(a, cache)) {
          SplittableRandom r = new SplittableRandom(1);
          ByteBuffer b = ByteBuffer.allocateDirect(4096);
          int reads = 3000;
          long t0 = System.nanoTime();
          for (int i = 0; i < reads; i++) {
            b.clear();
            src.readFully(r.nextLong(map.uncompressedSize() / 4096) * 4096, b);
          }
          double s = (System.nanoTime() - t0) / 1e9;
          System.out.printf("    random 4 KiB, cache %3d MiB: %7.0f reads/s  mean %.3f ms  %s%n",
              cacheBytes >> 20, reads / s, s * 1000 / reads, cache.stats());
        }
      }
    }
  }
}
