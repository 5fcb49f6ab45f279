package vmafs.source.gzip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceChecks;
import vmafs.source.SourceMap;
import vmafs.source.TestArchives;
import vmafs.source.raw.SpillMap;

class GzipSourceTest {
  @TempDir Path tmp;

  @Test
  void gzipRsyncableHasCheckpointsEveryMegabyte() throws Exception {
    SourceMap map = SourceChecks.fullCheck(TestArchives.gzip(), DecodeOptions.defaults(), 1200);
    GzipMap gz = assertInstanceOf(GzipMap.class, map);
    assertTrue(map.isRandomAccessible());
    int expected = TestArchives.data().length / DecodeOptions.DEFAULT_GZIP_SPACING;
    assertTrue(gz.checkpointCount() >= expected - 2 && gz.checkpointCount() <= expected + 1,
        "checkpoints: " + gz.checkpointCount());
  }

  /**
   * Reproduction: {@code cat x.gz empty.gz} (a member with no data after the last) was refused as
   * "checkpoint #1 is inconsistent"; an empty member adds nothing and is no checkpoint.
   */
  @Test
  void emptyMembersAreNoCheckpoints() throws Exception {
    Path trailing = TestArchives.compressed("data.emptytail.vma.gz",
        "(gzip --rsyncable; gzip -c </dev/null)");
    SourceMap map = SourceChecks.fullCheck(trailing, DecodeOptions.defaults(), 300);
    assertTrue(map.isRandomAccessible());
    Path leading = TestArchives.compressed("data.emptyhead.vma.gz",
        "(gzip -c </dev/null; gzip --rsyncable; gzip -c </dev/null; gzip -c </dev/null)");
    SourceMap m = SourceChecks.roundTrip(SourceChecks.decode(leading, DecodeOptions.defaults(),
        TestArchives.data()));
    try (var src = m.open(leading, new vmafs.cache.BlockCache(16 << 20))) {
      SourceChecks.randomReads(src, TestArchives.data(), new long[0], 50);
    }
  }

  @Test
  void pigzRsyncableHasCheckpoints() throws Exception {
    SourceMap map = SourceChecks.fullCheck(TestArchives.pigz(), DecodeOptions.defaults(), 1200);
    assertTrue(map.isRandomAccessible());
    assertTrue(((GzipMap) map).checkpointCount() > 15);
  }

  /**
   * The pass records the right chunk checksums for every span, however the candidate restart
   * points came and went (a wrong table would only cost speed, so this must be checked directly),
   * including the two-member stream whose second member spills. And a cold small read decodes its
   * span only up to the chunk it needs.
   */
  @Test
  void chunkChecksumsMatchEverySpanAndRandomReadsDecodeOnlyAPrefix() throws Exception {
    for (Path archive : new Path[] {TestArchives.gzip(), TestArchives.pigz()}) {
      byte[] data = TestArchives.data();
      GzipMap gz = assertInstanceOf(GzipMap.class,
          SourceChecks.roundTrip(SourceChecks.decode(archive, DecodeOptions.defaults(), data)));
      assertChunksMatch(gz, data, data.length);
      long[] starts = gz.blockBoundaries();
      vmafs.cache.BlockCache cache = new vmafs.cache.BlockCache(64 << 20);
      try (var src = gz.open(archive, cache)) {
        long at = starts[starts.length / 2] + 5000;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096);
        src.readFully(at, b);
        assertTrue(java.util.Arrays.equals(b.array(), 0, 4096, data, (int) at, (int) at + 4096));
        long cached = cache.stats().bytes();
        assertTrue(cached > 0 && cached < 100_000, archive + ": one chunk decoded, cached " + cached);
      }
    }
  }

  private static void assertChunksMatch(GzipMap gz, byte[] data, long headSize) {
    long[] starts = gz.blockBoundaries();
    for (int i = 0; i < starts.length; i++) {
      int end = (int) (i + 1 < starts.length ? starts[i + 1] : headSize);
      byte[] span = java.util.Arrays.copyOfRange(data, (int) starts[i], end);
      assertTrue(gz.chunkChecksums().matches(i, span, span.length), "span #" + i);
    }
  }

  /** Compressible text through plain gzip: no restart points at all, so everything spills. */
  @Test
  void plainGzipWithoutRestartPointsSpillsEverything() throws Exception {
    Path archive = textOnlyPlainGzip();
    byte[] text = Files.readAllBytes(tmp.resolve("text.bin"));
    DecodeOptions o = DecodeOptions.defaults().withSpillFile(tmp.resolve("cache").resolve("a.spill"))
        .withGzip(256 << 10, 1 << 20);
    SourceMap map = SourceChecks.roundTrip(SourceChecks.decode(archive, o, text));
    SpillMap spill = assertInstanceOf(SpillMap.class, map);
    assertFalse(map.isRandomAccessible());
    assertEquals(text.length, Files.size(spill.spillPath()));
    try (var src = map.open(archive, new vmafs.cache.BlockCache(1 << 20))) {
      SourceChecks.randomReads(src, text, new long[0], 300);
    }
  }

  /**
   * Two members: the rsyncable data, then plain-gzipped text. The first keeps its checkpoints;
   * the second has no restart points, so the stream spills from the last checkpoint on.
   */
  @Test
  void multiMemberWithPlainTailSpillsOnlyTheTail() throws Exception {
    Path text = textOnlyPlainGzip();
    Path archive = tmp.resolve("two.vma.gz");
    TestArchives.run("cat " + TestArchives.gzip() + " " + text + " > " + archive);
    byte[] data = TestArchives.data();
    byte[] t = Files.readAllBytes(tmp.resolve("text.bin"));
    byte[] both = new byte[data.length + t.length];
    System.arraycopy(data, 0, both, 0, data.length);
    System.arraycopy(t, 0, both, data.length, t.length);
    DecodeOptions o = DecodeOptions.defaults().withSpillFile(tmp.resolve("cache").resolve("a.spill"))
        .withGzip(1 << 20, 2 << 20);
    SourceMap map = SourceChecks.roundTrip(SourceChecks.decode(archive, o, both));
    GzipMap gz = assertInstanceOf(GzipMap.class, map);
    assertFalse(gz.isRandomAccessible());
    assertTrue(gz.spilledBytes() >= t.length && gz.spilledBytes() < t.length + (3 << 20),
        "spilled " + gz.spilledBytes());
    assertChunksMatch(gz, both, both.length - gz.spilledBytes());
    try (var src = map.open(archive, new vmafs.cache.BlockCache(4 << 20))) {
      SourceChecks.randomReads(src, both, new long[] {both.length - gz.spilledBytes(), data.length}, 800);
    }
  }

  @Test
  void twoRsyncableMembersStayRandomAccessible() throws Exception {
    Path archive = tmp.resolve("twice.vma.gz");
    TestArchives.run("head -c 5000000 " + TestArchives.dir().resolve("data.bin")
        + " | gzip --rsyncable > " + archive + " && tail -c +5000001 "
        + TestArchives.dir().resolve("data.bin") + " | gzip --rsyncable >> " + archive);
    SourceMap map = SourceChecks.fullCheck(archive, DecodeOptions.defaults(), 600);
    assertTrue(map.isRandomAccessible());
    assertChunksMatch((GzipMap) map, TestArchives.data(), TestArchives.data().length);
  }

  private Path textOnlyPlainGzip() throws Exception {
    Path text = tmp.resolve("text.bin");
    if (!Files.exists(text)) {
      StringBuilder sb = new StringBuilder();
      java.util.SplittableRandom r = new java.util.SplittableRandom(3);
      while (sb.length() < (6 << 20) + 77) {
        sb.append("word").append(r.nextInt(3000)).append(r.nextInt(9) == 0 ? "\n" : " ");
      }
      Files.writeString(text, sb);
    }
    Path gz = tmp.resolve("text.gz");
    if (!Files.exists(gz)) {
      TestArchives.run("cat " + text + " | gzip > " + gz);
    }
    return gz;
  }
}
