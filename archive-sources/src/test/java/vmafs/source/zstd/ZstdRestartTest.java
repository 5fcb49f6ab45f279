package vmafs.source.zstd;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.RandomAccess;
import vmafs.source.SourceChecks;
import vmafs.source.SourceMap;
import vmafs.source.TestArchives;
import vmafs.source.raw.SpillMap;
import vmafs.vma.index.IndexSection;
import vmafs.vma.io.ArchiveSource;

/**
 * Restart points inside the single zstd frame vzdump writes: found by trying them against the
 * pass's true output, saved with the index, read back through the pieces of their spans; every
 * way the archive, the saved prefixes or the checksums can be damaged gives an error on the reads
 * that need them, never wrong bytes.
 */
class ZstdRestartTest {
  @TempDir Path tmp;

  /** vzdump's command lines (and the one it used 2020-2023), fed from a pipe as vzdump does. */
  static Path archive(String command) throws IOException {
    return TestArchives.compressed("data." + command.replaceAll("[^a-z0-9]+", "_") + ".vma.zst",
        "zstd -q " + command);
  }

  private static ZstdRestartMap decode(Path archive, DecodeOptions o) throws IOException {
    return assertInstanceOf(ZstdRestartMap.class,
        SourceChecks.decode(archive, o, TestArchives.data()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"--threads=1", "--threads=2", "--rsyncable --threads=2"})
  void vzdumpsSingleFrameIsReadThroughVerifiedRestartPoints(String command) throws Exception {
    Path archive = archive(command);
    Path cache = tmp.resolve("cache");
    ZstdRestartMap map = assertInstanceOf(ZstdRestartMap.class,
        SourceChecks.fullCheck(archive, DecodeOptions.defaults().withSpillFile(cache.resolve("a.spill")), 400));
    assertTrue(map.isRandomAccessible());
    assertEquals(0, map.spilledBytes());
    // 24 MiB of stream: zstd's 8 MiB jobs start at 8 and 16 MiB (--rsyncable cuts some jobs
    // short, so it may have more).
    assertTrue(map.pointCount() >= 3, "points at " + java.util.Arrays.toString(map.blockBoundaries()));
    long size = Files.size(archive);
    assertTrue(map.restartBytes() <= 0.03 * size, map.restartBytes() + " bytes of restart data for a "
        + size + "-byte archive");
    assertEquals(RandomAccess.ZSTD_RESTART_POINTS, map.randomAccess().method());
    try (var files = Files.list(cache)) {
      assertEquals(List.of(), files.toList(), "no spill and no scratch file is left anywhere");
    }
  }

  /** Each span decodes from its own point alone, exactly: what random reads rely on. */
  @Test
  void everySpanDecodesFromItsPointAlone() throws Exception {
    Path archive = archive("--threads=2");
    ZstdRestartMap map = SourceChecks.roundTripSections(decode(archive, DecodeOptions.defaults()))
        instanceof ZstdRestartMap m ? m : fail();
    byte[] data = TestArchives.data();
    long[] starts = map.blockBoundaries();
    for (int i = 0; i < starts.length; i++) {
      long end = i + 1 < starts.length ? starts[i + 1] : data.length;
      // A fresh source per span: no cursor or cached piece of another span can help.
      try (ArchiveSource src = map.open(archive, new BlockCache(1 << 20))) {
        ByteBuffer last = ByteBuffer.allocate(4096);
        src.readFully(end - 4096, last);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) end - 4096, (int) end), last.array(),
            "the end of span #" + i);
      }
    }
  }

  /**
   * Reads decode a span only as far as they need, and a reader that goes on in the same span
   * continues where the last read stopped instead of starting over.
   */
  @Test
  void readsDecodeOnlyAsFarAsTheyNeedAndContinue() throws Exception {
    Path archive = archive("--threads=2");
    ZstdRestartMap map = decode(archive, DecodeOptions.defaults());
    byte[] data = TestArchives.data();
    BlockCache cache = new BlockCache(256 << 20);
    long[] starts = map.blockBoundaries();
    try (vmafs.vma.io.StoredBytes stored = vmafs.vma.io.LocalStoredBytes.open(archive);
        ZstdRestartSource src = (ZstdRestartSource) map.open(stored, cache)) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      src.readFully(starts[1] + 10_000, b);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) starts[1] + 10_000, (int) starts[1] + 14_096),
          b.array());
      assertEquals(1, src.piecesDecoded.get(), "one piece decoded");
      // Sequentially through the span: every piece decoded once (the cache holds each once).
      for (long at = starts[1]; at < starts[2]; at += 100_000) {
        ByteBuffer c = ByteBuffer.allocate((int) Math.min(100_000, starts[2] - at));
        src.readFully(at, c);
        assertEquals(-1, java.util.Arrays.mismatch(c.array(), 0, c.capacity(), data, (int) at,
            (int) at + c.capacity()), "at " + at);
      }
      long pieces = (starts[2] - starts[1] + ZstdRestartSource.PIECE - 1) / ZstdRestartSource.PIECE;
      assertEquals(pieces, src.piecesDecoded.get(), "each piece of the span decoded once");
      // A read far into another span decodes the pieces before it once, and caches them too.
      long far = starts[2] + 5 * ZstdRestartSource.PIECE + 7;
      src.readFully(far, ByteBuffer.allocate(100));
      assertEquals(pieces + 6, src.piecesDecoded.get());
      src.readFully(starts[2] + 3 * ZstdRestartSource.PIECE, ByteBuffer.allocate(100));
      assertEquals(pieces + 6, src.piecesDecoded.get(), "a piece decoded on the way is cached");
    }
  }

  /**
   * What vzdump never writes: frames with no multithreaded jobs (--single-thread) have no job
   * starts, but blocks whose first sequences use no earlier state restart with the whole window,
   * which verifies like any other point; and a window too large for restart points (--long)
   * spills.
   */
  @Test
  void singleThreadFramesAndLongWindows() throws Exception {
    byte[] data = TestArchives.data();
    Path single = archive("--single-thread");
    SourceMap s = SourceChecks.fullCheck(single, DecodeOptions.defaults().withSpillFile(tmp.resolve("a.spill")), 200);
    assertTrue(s.isRandomAccessible());
    Path cache = tmp.resolve("long");
    SourceMap l = SourceChecks.fullCheck(archive("--long=27 --threads=2"),
        DecodeOptions.defaults().withSpillFile(cache.resolve("a.spill")), 200);
    SpillMap spill = assertInstanceOf(SpillMap.class, l);
    assertEquals(data.length, Files.size(spill.spillPath()));
  }

  /**
   * The map grows while the pass runs and can be read meanwhile (what issue #12 serves reads
   * during the pass with): after part of the stream, the spans verified so far serve exactly the
   * source's bytes below {@code decodableEnd}, and the end only moves forward.
   */
  @Test
  void theSpansVerifiedSoFarCanBeReadDuringThePass() throws Exception {
    byte[] data = TestArchives.data();
    Path archive = archive("--threads=2");
    BlockCache cache = new BlockCache(64 << 20);
    try (DecodePass p = DecodePass.open(archive, DecodeOptions.defaults())) {
      ZstdDecodePass pass = (ZstdDecodePass) p;
      var in = pass.stream();
      byte[] buf = new byte[1 << 20];
      long read = 0;
      long lastEnd = 0;
      int grew = 0;
      // The finder verifies behind the pass, on its own thread: poll while reading on, and
      // once the pass pauses (the reader stops 4 MiB before the end), until it catches up.
      for (long deadline = System.nanoTime() + 60_000_000_000L;
          lastEnd < 16 << 20 && System.nanoTime() < deadline; ) {
        if (read < data.length - (4 << 20)) {
          read += in.read(buf, 0, (int) Math.min(buf.length, data.length - (4 << 20) - read));
        } else {
          Thread.sleep(20);
        }
        ZstdRestartMap soFar = pass.mapSoFar();
        if (soFar == null) {
          continue;
        }
        long end = soFar.uncompressedSize();
        assertTrue(end >= lastEnd && end <= read, end + " decodable after " + read + " read");
        if (end > lastEnd) {
          grew++;
          lastEnd = end;
          try (ArchiveSource src = soFar.open(archive, cache)) {
            SplittableRandom r = new SplittableRandom(end);
            for (int i = 0; i < 20; i++) {
              int len = 1 + r.nextInt(200_000);
              long at = r.nextLong(Math.max(1, end - len));
              ByteBuffer got = ByteBuffer.allocate((int) Math.min(len, end - at));
              src.readFully(at, got);
              assertEquals(-1, java.util.Arrays.mismatch(got.array(), 0, got.limit(), data,
                  (int) at, (int) at + got.limit()), "at " + at);
            }
          }
        }
      }
      assertTrue(grew >= 1 && lastEnd >= 16 << 20, "decodable up to " + lastEnd + " mid-pass");
      in.transferTo(java.io.OutputStream.nullOutputStream());
      assertEquals(data.length, pass.finish().uncompressedSize());
    }
  }

  /** No point verifies within the longest span allowed: the rest of the stream is spilled. */
  @Test
  void aStretchWithoutRestartPointsSpillsFromThere() throws Exception {
    Path cache = tmp.resolve("cache");
    DecodeOptions o = DecodeOptions.defaults().withSpillFile(cache.resolve("a.spill")).withZstdRestart(0, 5 << 20);
    ZstdRestartMap map = assertInstanceOf(ZstdRestartMap.class,
        SourceChecks.fullCheck(archive("--threads=2"), o, 300));
    assertFalse(map.isRandomAccessible());
    assertEquals(1, map.pointCount(), "a zero budget keeps only the frame start");
    byte[] data = TestArchives.data();
    assertTrue(map.spilledBytes() >= data.length - (5 << 20) && map.spilledBytes() < data.length,
        map.spilledBytes() + " bytes spilled");
    assertEquals(RandomAccess.ZSTD_RESTART_POINTS_AND_SPILL, map.randomAccess().method());
  }

  /** Frames too large to decode whole, one after another: a point at each frame start. */
  @Test
  void severalLargeFrames() throws Exception {
    Path archive = tmp.resolve("two.vma.zst");
    Path data = TestArchives.dir().resolve("data.bin");
    TestArchives.run("(head -c 13000000 " + data + " | zstd -q --threads=2; tail -c +13000001 " + data
        + " | zstd -q --threads=2) > " + archive);
    DecodeOptions o = DecodeOptions.defaults().withZstdMaxFrameSize(4 << 20);
    ZstdRestartMap map = assertInstanceOf(ZstdRestartMap.class, SourceChecks.fullCheck(archive, o, 300));
    assertTrue(java.util.Arrays.stream(map.blockBoundaries()).anyMatch(u -> u == 13_000_000),
        java.util.Arrays.toString(map.blockBoundaries()));
  }

  @Test
  void spillWhenAsked() throws Exception {
    SourceMap map = SourceChecks.decode(archive("--threads=2"),
        DecodeOptions.defaults().withSpillFile(tmp.resolve("a.spill")).withForceSpill(true), TestArchives.data());
    assertInstanceOf(SpillMap.class, map);
  }

  /**
   * Damage inside one span of the archive: reads there fail naming the place, reads elsewhere
   * still work, and no read ever returns wrong bytes.
   */
  @Test
  void aDamagedBlockAfterARestartPointFailsOnlyItsSpan() throws Exception {
    Path good = archive("--threads=2");
    ZstdRestartMap map = decode(good, DecodeOptions.defaults());
    RestartPoints.Snapshot p = map.points();
    Path bad = TestArchives.copy(good, tmp, "bad.vma.zst");
    long at = p.cOff()[1] + (p.cEnd()[1] - p.cOff()[1]) / 2;
    for (long k = at; k < at + 300; k += 37) {
      TestArchives.flip(bad, k, 0x21);
    }
    byte[] data = TestArchives.data();
    long[] starts = map.blockBoundaries();
    int failed = 0;
    try (ArchiveSource src = map.open(bad, new BlockCache(4 << 20))) {
      SplittableRandom r = new SplittableRandom(5);
      for (int i = 0; i < 400; i++) {
        long pos = r.nextLong(data.length - 5000);
        ByteBuffer b = ByteBuffer.allocate(5000);
        try {
          src.readFully(pos, b);
        } catch (IOException e) {
          failed++;
          assertTrue(pos + 5000 > starts[1] && pos < starts[2], "a read outside span #1 failed: " + e);
          CorruptArchiveException c = assertInstanceOf(CorruptArchiveException.class, e);
          assertTrue(c.offset() >= p.cOff()[1] && c.offset() < p.cEnd()[1],
              "names a place in span #1: " + e.getMessage());
          continue;
        }
        assertEquals(-1, java.util.Arrays.mismatch(b.array(), 0, 5000, data, (int) pos, (int) pos + 5000),
            "wrong bytes served at " + pos);
      }
    }
    assertTrue(failed > 0, "the damage went unnoticed");
  }

  /**
   * The saved prefixes are checked when they are read (not when the index is loaded): a damaged
   * one fails the reads of its span, with a message that says what to do.
   */
  @Test
  void aDamagedPrefixInTheSavedIndexFailsItsSpan() throws Exception {
    Path archive = archive("--threads=2");
    ZstdRestartMap map = decode(archive, DecodeOptions.defaults());
    Map<String, IndexSection> sections = sections(map);
    RestartPoints.Snapshot p = map.points();
    ByteBuffer prefixes = copy(sections.get(ZstdRestartMap.PREFIX_SECTION));
    int at = (int) (p.prefixOffset()[2] + p.prefixStored()[2] / 2);
    prefixes.put(at, (byte) (prefixes.get(at) ^ 0x10));
    sections.put(ZstdRestartMap.PREFIX_SECTION, IndexSection.of(prefixes, IndexSection.Check.BY_READER));
    ZstdRestartMap damaged = (ZstdRestartMap) SourceMap.fromSections(sections, null);
    byte[] data = TestArchives.data();
    try (ArchiveSource src = damaged.open(archive, new BlockCache(4 << 20))) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
          () -> src.readFully(p.uOff()[2] + 100, b));
      assertEquals(CorruptArchiveException.Part.ZSTD_RESTART_SPAN, e.where().part());
      assertEquals(2, e.where().index());
      assertEquals(p.cOff()[2], e.offset());
      assertTrue(e.problem().contains("prefix") && e.problem().contains("--reindex"), e.getMessage());
      b.clear();
      src.readFully(p.uOff()[1] + 100, b); // another span is fine
      assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) p.uOff()[1] + 100, (int) p.uOff()[1] + 4196),
          b.array());
    }
  }

  /** A damaged chunk checksum fails its piece: the bytes cannot be vouched for. */
  @Test
  void aDamagedChunkChecksumFailsItsPiece() throws Exception {
    Path archive = archive("--threads=2");
    ZstdRestartMap map = decode(archive, DecodeOptions.defaults());
    Map<String, IndexSection> sections = sections(map);
    ByteBuffer main = copy(sections.get(SourceMap.SECTION));
    // The CRCs follow the point records; damage the one of span #1's first chunk.
    int crcAt = 4 + 2 + 1 + 8 + 8 + 4 + 4 + ZstdRestartMap.RECORD_BYTES * map.pointCount() + 4;
    int firstOfSpan1 = (int) ((map.blockBoundaries()[1] + 65535) / 65536);
    main.put(crcAt + 4 * firstOfSpan1, (byte) (main.get(crcAt + 4 * firstOfSpan1) ^ 1));
    sections.put(SourceMap.SECTION, IndexSection.of(main));
    ZstdRestartMap damaged = (ZstdRestartMap) SourceMap.fromSections(sections, null);
    try (ArchiveSource src = damaged.open(archive, new BlockCache(4 << 20))) {
      CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
          () -> src.readFully(map.blockBoundaries()[1], ByteBuffer.allocate(10)));
      assertEquals(CorruptArchiveException.Part.ZSTD_RESTART_SPAN, e.where().part());
      assertEquals(1, e.where().index());
      assertTrue(e.problem().contains("CRC-32C"), e.getMessage());
      src.readFully(map.blockBoundaries()[1] + ZstdRestartSource.PIECE, ByteBuffer.allocate(10));
    }
  }

  /** A truncated archive is refused by the map, and the pass names where it ends. */
  @Test
  void aTruncatedArchiveIsAClearError() throws Exception {
    Path good = archive("--threads=2");
    ZstdRestartMap map = decode(good, DecodeOptions.defaults());
    Path cut = tmp.resolve("cut.vma.zst");
    Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(good), (int) Files.size(good) / 2));
    IOException e = assertThrows(IOException.class, () -> map.open(cut, new BlockCache(1 << 20)));
    assertTrue(e.getMessage().contains("archive changed"), e.getMessage());
    IOException t = assertThrows(IOException.class, () -> {
      try (DecodePass pass = DecodePass.open(cut, DecodeOptions.defaults())) {
        pass.stream().transferTo(java.io.OutputStream.nullOutputStream());
      }
    });
    assertTrue(t.getMessage().contains("truncated") && t.getMessage().contains("offset"), t.getMessage());
  }

  /**
   * Verification is what makes a point: with the pass's output damaged at one place (as if a
   * restart diverged there), the finder stops at the block before it, and the pass spills from
   * there instead of keeping a point whose span does not match.
   */
  @Test
  void aSpanThatStopsMatchingEndsThePoints() throws Exception {
    Path archive = archive("--threads=2");
    byte[] data = TestArchives.data();
    long damageAt = 11_000_000;
    byte[] wrong = data.clone();
    wrong[(int) damageAt] ^= 1;
    OutputRing ring = new OutputRing(ZstdRestartFinder.RING);
    RestartPoints points = new RestartPoints();
    try (vmafs.vma.io.StoredBytes ch = vmafs.vma.io.LocalStoredBytes.open(archive);
        PrefixStore prefixes = PrefixStore.inMemory()) {
      ZstdRestartFinder f = new ZstdRestartFinder(ch, "t", ch.size(), ring, points, prefixes, 0.03,
          256 << 20);
      f.start();
      for (int at = 0; at < wrong.length && f.gaveUp() == null; ) {
        ByteBuffer w = ring.writable(64 << 10, () -> f.gaveUp() != null);
        if (w == null) {
          break;
        }
        int n = Math.min(w.remaining(), wrong.length - at);
        w.put(wrong, at, n);
        ring.commit(n);
        at += n;
      }
      ring.end();
      f.await();
      ZstdRestartFinder.GiveUp g = f.gaveUp();
      assertNotNull(g, "the damage went unnoticed");
      assertTrue(g.position() <= damageAt && g.position() > damageAt - 200_000, g.toString());
      RestartPoints.Snapshot s = points.snapshot();
      assertEquals(g.position(), s.end(), "the spans end where the spill starts");
    }
  }

  @Test
  void entropyTellsRandomFromData() {
    byte[] random = new byte[512];
    new SplittableRandom(1).nextBytes(random);
    int[] counts = new int[256];
    assertTrue(ZstdRestartFinder.entropy(random, 0, 512, counts) > 7.3);
    byte[] text = "the quick brown fox jumps over the lazy dog ".repeat(12).getBytes();
    assertTrue(ZstdRestartFinder.entropy(text, 0, 512, counts) < 5);
    assertEquals(0, ZstdRestartFinder.entropy(new byte[512], 0, 512, counts), 1e-9);
  }

  private static Map<String, IndexSection> sections(SourceMap map) throws IOException {
    Map<String, IndexSection> out = new LinkedHashMap<>();
    for (var e : map.sections().entrySet()) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      e.getValue().content().writeTo(b);
      out.put(e.getKey(), IndexSection.of(ByteBuffer.wrap(b.toByteArray()), e.getValue().check()));
    }
    return out;
  }

  private static ByteBuffer copy(IndexSection s) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) s.length());
    s.read(0, b);
    return b.flip();
  }
}
