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
  void aRemoteArchiveGetsRoomForThePassOfAnObjectOfUnknownSize() {
    for (String url : new String[] {"s3://dumps/pve/a.vma.gz", "https://example.org/a.vma", "http://h/x?sig=1"}) {
      assertEquals(40 + 96 + 64 + 256, withCache("40M").heapBoundMibFor(url), url);
    }
  }

  @Test
  void aRemotePassLargerThanItsRoomShrinksTheCache() {
    ServerOptions o = withCache("256M");
    long heap = (256L + 96 + 64 + 256) << 20; // a remote server's bound
    // A 1 GiB .gz: 128 MiB of windows and the pass output fit the room.
    assertEquals(256L << 20, o.servingCacheBytes(heap, ServerOptions.passRoom(1L << 30, true, true), "s3://b/k"));
    // A 2.5 GiB .gz: 320 + 64 MiB; the cache gives up what the room lacks.
    long room = ServerOptions.passRoom(5L << 29, true, true);
    assertEquals(384L << 20, room);
    assertEquals(heap - ServerOptions.HEAP_MARGIN - room, o.servingCacheBytes(heap, room, "s3://b/k.vma.gz"));
    // Beyond what the cache can give, it keeps its least.
    assertEquals(16L << 20, o.servingCacheBytes(heap, 4L << 30, "s3://b/k.vma.gz"));
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
