package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import vmafs.cache.BlockCache;
import vmafs.source.gzip.GzipMap;
import vmafs.source.lzop.LzopMap;
import vmafs.source.raw.SpillMap;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.source.zstd.ZstdRestartMap;
import vmafs.vma.io.ArchiveSource;

/** The checks every archive format must pass; compares against the original bytes. */
public final class SourceChecks {
  private SourceChecks() {}

  /** Runs a decode pass, reading the stream in odd chunk sizes, and checks output and progress. */
  public static SourceMap decode(Path archive, DecodeOptions options, byte[] expected) throws IOException {
    AtomicLong last = new AtomicLong(-1);
    AtomicLong total = new AtomicLong();
    DecodeOptions o = options.withProgress((done, all) -> {
      assertTrue(done >= last.get() && done <= all, "progress " + done + "/" + all);
      last.set(done);
      total.set(all);
    });
    SourceMap map;
    ByteArrayOutputStream got = new ByteArrayOutputStream(expected.length);
    try (DecodePass pass = DecodePass.open(archive, o)) {
      InputStream in = pass.stream();
      SplittableRandom r = new SplittableRandom(7);
      byte[] buf = new byte[300_000];
      // Read half, then let finish() drain the rest: the caller may stop reading early.
      while (got.size() < expected.length / 2) {
        int n = in.read(buf, 0, 1 + r.nextInt(buf.length));
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
      }
      int b = in.read();
      assertEquals(expected[got.size()] & 0xff, b);
      got.write(b);
      byte[] rest = in.readAllBytes();
      got.write(rest, 0, rest.length);
      assertEquals(-1, in.read());
      map = pass.finish();
    }
    assertEquals(TestArchives.sha256(expected), TestArchives.sha256(got.toByteArray()));
    assertEquals(expected.length, map.uncompressedSize());
    assertEquals(java.nio.file.Files.size(archive), map.archiveSize());
    assertEquals(total.get(), last.get(), "progress must end at 100 %");
    return map;
  }

  /** Serializes the map and reads it back from a heap and from a direct buffer. */
  public static SourceMap roundTrip(SourceMap map) throws IOException {
    if (map.sections().size() > 1) {
      return roundTripSections(map);
    }
    byte[] bytes = map.toBytes();
    java.nio.file.Path spill = spillOf(map);
    SourceMap heap = SourceMap.fromBytes(ByteBuffer.wrap(bytes), spill);
    assertArrayEquals(bytes, heap.toBytes());
    // Preceded by junk, as a section inside a larger (mapped) index file would be.
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 100);
    direct.position(100);
    direct.put(bytes).position(100);
    SourceMap fromDirect = SourceMap.fromBytes(direct, spill);
    assertArrayEquals(bytes, fromDirect.toBytes());
    assertEquals(map.getClass(), fromDirect.getClass());
    return fromDirect;
  }

  /** Where a map's spill is (the map itself names none), or null. */
  static java.nio.file.Path spillOf(SourceMap map) {
    return map instanceof SpillMap s ? s.spillPath() : map instanceof GzipMap g ? g.spillPath()
        : map instanceof ZstdRestartMap z ? z.spillPath() : null;
  }

  /**
   * A map saved as several index sections (restart prefixes beside the map): each section is
   * streamed out, read back from a direct buffer, and the map parsed from them must write the
   * same bytes again.
   */
  public static SourceMap roundTripSections(SourceMap map) throws IOException {
    java.util.Map<String, vmafs.vma.index.IndexSection> loaded = new java.util.LinkedHashMap<>();
    java.util.Map<String, byte[]> written = new java.util.LinkedHashMap<>();
    for (var e : map.sections().entrySet()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      e.getValue().content().writeTo(out);
      byte[] b = out.toByteArray();
      written.put(e.getKey(), b);
      ByteBuffer direct = ByteBuffer.allocateDirect(b.length + 100);
      direct.position(100);
      direct.put(b).position(100);
      loaded.put(e.getKey(), vmafs.vma.index.IndexSection.of(direct, e.getValue().check()));
    }
    SourceMap back = SourceMap.fromSections(loaded, spillOf(map));
    assertEquals(map.getClass(), back.getClass());
    for (var e : back.sections().entrySet()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      e.getValue().content().writeTo(out);
      assertArrayEquals(written.get(e.getKey()), out.toByteArray(), e.getKey());
    }
    return back;
  }

  /**
   * Random reads: uniform positions and lengths, reads straddling every block boundary, reads
   * at the very end, and out-of-range reads that must fail.
   */
  public static void randomReads(ArchiveSource src, byte[] expected, long[] boundaries, int count)
      throws IOException {
    assertEquals(expected.length, src.size());
    SplittableRandom r = new SplittableRandom(count);
    for (long b : boundaries) {
      if (b > 0) {
        check(src, expected, b - 1 - r.nextInt((int) Math.min(b, 5000)), 1 + r.nextInt(10_000));
      }
    }
    for (int i = 0; i < count; i++) {
      int len = r.nextInt(4) == 0 ? 1 + r.nextInt(256 << 10) : 1 + r.nextInt(8192);
      check(src, expected, r.nextLong(expected.length), len);
    }
    check(src, expected, expected.length - 1, 1);
    check(src, expected, expected.length - 4097, 4097);
    check(src, expected, 0, 4096);
    ByteBuffer empty = ByteBuffer.allocate(0);
    src.readFully(expected.length, empty); // zero bytes at the end: fine
    assertThrows(EOFException.class, () -> src.readFully(expected.length - 10, ByteBuffer.allocate(11)));
    assertThrows(EOFException.class, () -> src.readFully(-1, ByteBuffer.allocate(1)));
  }

  private static void check(ArchiveSource src, byte[] expected, long pos, int len) throws IOException {
    len = (int) Math.min(len, expected.length - pos);
    // Alternate heap and direct buffers: FUSE hands us direct ones.
    ByteBuffer dst = (pos & 1) == 0 ? ByteBuffer.allocate(len + 3) : ByteBuffer.allocateDirect(len + 3);
    dst.position(3);
    src.readFully(pos, dst);
    assertEquals(len + 3, dst.position());
    dst.position(3);
    for (int i = 0; i < len; i++) {
      if (dst.get() != expected[(int) pos + i]) {
        throw new AssertionError(src.name() + ": wrong byte at " + (pos + i) + " (read " + len
            + " at " + pos + ")");
      }
    }
  }

  /** Eight threads reading at random at once. */
  public static void concurrentReads(ArchiveSource src, byte[] expected, int perThread) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        long seed = t;
        fs.add(pool.submit(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          for (int i = 0; i < perThread; i++) {
            // Positions drawn from a small region first so threads collide on the same blocks.
            long pos = i < perThread / 2 ? r.nextLong(Math.min(expected.length, 4 << 20))
                : r.nextLong(expected.length);
            check(src, expected, pos, 1 + r.nextInt(64 << 10));
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Decode, round-trip, random and concurrent reads: the whole contract for one archive. */
  public static SourceMap fullCheck(Path archive, DecodeOptions options, int reads) throws Exception {
    byte[] data = TestArchives.data();
    SourceMap map = roundTrip(decode(archive, options, data));
    BlockCache cache = new BlockCache(8 << 20);
    try (ArchiveSource src = map.open(archive, cache)) {
      long[] bounds = boundaries(map);
      randomReads(src, data, bounds, reads);
      concurrentReads(src, data, reads / 8);
    }
    return map;
  }

  static long[] boundaries(SourceMap map) {
    if (map instanceof LzopMap m) {
      return m.blockBoundaries();
    }
    if (map instanceof GzipMap m) {
      return m.blockBoundaries();
    }
    if (map instanceof ZstdFrameMap m) {
      return m.blockBoundaries();
    }
    if (map instanceof ZstdRestartMap m) {
      return m.blockBoundaries();
    }
    return new long[0];
  }
}
