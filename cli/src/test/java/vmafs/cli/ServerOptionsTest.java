package vmafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's heap bound (issue #11): --cache-size plus the margin plus room for the index pass.
 * The launcher script computes the same from the command line; ServerHeapBoundTest (tests module)
 * checks it with these figures.
 */
class ServerOptionsTest {
  @TempDir Path dir;

  private static ServerOptions withCache(String size) {
    ServerOptions o = new ServerOptions();
    o.cacheSize = size;
    return o;
  }

  @Test
  void theBoundIsTheCachePlusTheMargin() {
    Map<String, Long> expected = Map.of("40M", 136L, "40m", 136L, "40MiB", 136L, "40MB", 136L,
        "41943040", 136L, "1G", 1120L, "1gib", 1120L, "512k", 97L, "1T", (1L << 20) + 96,
        "256M", 352L);
    expected.forEach((size, mib) -> assertEquals(mib, withCache(size).heapBoundMib(null), size));
  }

  @Test
  void aLargeArchiveAddsRoomForItsPass() throws IOException {
    Path gz = dir.resolve("big.vma.gz");
    Path zst = dir.resolve("big.vma.zst");
    for (Path p : new Path[] {gz, zst}) {
      try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
        f.setLength(8000L << 20);
      }
    }
    assertEquals(256 + 96 + 1000 + 64, withCache("256M").heapBoundMib(gz));
    assertEquals(256 + 96 + 3 + 64, withCache("256M").heapBoundMib(zst));
    assertEquals(256 + 96, withCache("256M").heapBoundMib(dir.resolve("missing.vma")));
  }

  @Test
  void aHeapTooSmallForTheCacheShrinksTheCache() {
    long heap = ServerOptions.maxHeapBytes();
    ServerOptions fits = withCache(String.valueOf(heap - ServerOptions.HEAP_MARGIN));
    assertEquals(heap - ServerOptions.HEAP_MARGIN, fits.servingCacheBytes());
    ServerOptions tooLarge = withCache(String.valueOf(heap));
    assertEquals(heap - ServerOptions.HEAP_MARGIN, tooLarge.servingCacheBytes());
  }
}
