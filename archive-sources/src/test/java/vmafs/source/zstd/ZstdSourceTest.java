package vmafs.source.zstd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.SourceChecks;
import vmafs.source.SourceMap;
import vmafs.source.TestArchives;
import vmafs.source.internal.FileReads;
import vmafs.source.raw.SpillMap;
import vmafs.vma.io.ArchiveSource;

class ZstdSourceTest {
  @TempDir Path tmp;

  /**
   * What vzdump writes: one frame, no content size. It is read through restart points (see
   * ZstdRestartTest) unless a spill is asked for ({@code --spill}), which is what these spill
   * tests use.
   */
  private static DecodeOptions spilling(Path spill) {
    return DecodeOptions.defaults().withSpillFile(spill).withForceSpill(true);
  }

  @Test
  void singleFrameSpillsWhenAsked() throws Exception {
    Path cache = tmp.resolve("cache");
    SourceMap map =
        SourceChecks.fullCheck(TestArchives.zstd(), spilling(cache.resolve("a.spill")), 1000);
    SpillMap spill = assertInstanceOf(SpillMap.class, map);
    assertFalse(map.isRandomAccessible());
    assertEquals(TestArchives.data().length, Files.size(spill.spillPath()));
    try (var files = Files.list(cache)) {
      assertEquals(1, files.count(), "no .partial left behind");
    }
  }

  /**
   * A second pass over the same archive (re-indexing) replaces the old spill, which is removed on a
   * background thread while the new one is written: the result must be the new spill, whole.
   */
  @Test
  void aSecondPassReplacesAStaleSpill() throws Exception {
    Path cache = tmp.resolve("cache");
    Files.createDirectories(cache);
    Path stale = cache.resolve("a.spill");
    Files.write(stale, new byte[123_457]);
    SpillMap spill = assertInstanceOf(SpillMap.class, SourceChecks.fullCheck(TestArchives.zstd(),
        spilling(stale), 500));
    assertEquals(stale, spill.spillPath());
    assertEquals(TestArchives.data().length, Files.size(stale));
    try (var files = Files.list(cache)) {
      assertEquals(1, files.count(), "only the new spill is left");
    }
  }

  /** skip() (how the index pass passes over cluster data) still spills what it skips, in order. */
  @Test
  void skippedBytesAreSpilledAndTheStreamStaysInStep() throws Exception {
    byte[] data = TestArchives.data();
    Path cache = tmp.resolve("cache");
    try (DecodePass pass = DecodePass.open(TestArchives.zstd(), spilling(cache.resolve("a.spill")))) {
      var in = pass.stream();
      long at = 0;
      java.util.SplittableRandom r = new java.util.SplittableRandom(3);
      while (at < data.length - 70_000) {
        long want = 1 + r.nextInt(600_000);
        long skipped = in.skip(Math.min(want, data.length - 70_000 - at));
        assertTrue(skipped > 0 && skipped <= want, "skip returned " + skipped);
        at += skipped;
        byte[] b = in.readNBytes(1 + r.nextInt(65_536));
        assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) at, (int) at + b.length), b,
            "bytes after skipping to " + at);
        at += b.length;
      }
      SpillMap map = assertInstanceOf(SpillMap.class, pass.finish());
      assertArrayEquals(data, Files.readAllBytes(map.spillPath()));
    }
  }

  @Test
  void aSpillWithoutCacheDirIsAClearError() throws Exception {
    IOException e = assertThrows(IOException.class,
        () -> DecodePass.open(TestArchives.zstd(), DecodeOptions.defaults().withForceSpill(true)));
    assertTrue(e.getMessage().contains("no cache directory"), e.getMessage());
  }

  @Test
  void spillLimitStopsThePass() throws Exception {
    DecodeOptions o = spilling(tmp.resolve("a.spill")).withSpillMax(10 << 20);
    try (DecodePass pass = DecodePass.open(TestArchives.zstd(), o)) {
      assertTrue(pass.isSpilling());
      IOException early = assertThrows(IOException.class, () -> pass.expectUncompressedAtMost(20 << 20));
      assertTrue(early.getMessage().contains("spill limit"), early.getMessage());
      IOException e = assertThrows(IOException.class, () -> pass.stream().transferTo(OutputStream.nullOutputStream()));
      assertTrue(e.getMessage().contains("spill limit") && e.getMessage().contains("offset"), e.getMessage());
    }
    try (var files = Files.list(tmp)) {
      assertEquals(0, files.count(), "the partial spill is removed");
    }
  }

  /** Independently compressed pieces, concatenated: frames are walked, no spill needed. */
  @Test
  void concatenatedFramesWithoutSeekTableAreRandomAccessible() throws Exception {
    Path archive = tmp.resolve("multi.vma.zst");
    TestArchives.run("cd " + tmp + " && split -b 3000000 " + TestArchives.dir().resolve("data.bin")
        + " part. && for p in part.*; do zstd -q -c < $p; done > " + archive + " && rm part.*");
    SourceMap map = SourceChecks.fullCheck(archive, DecodeOptions.defaults(), 1500);
    ZstdFrameMap frames = assertInstanceOf(ZstdFrameMap.class, map);
    assertEquals((TestArchives.data().length + 2_999_999) / 3_000_000, frames.frameCount());
  }

  @Test
  void seekableWriterOutputDecompressesWithTheCliAndMounts() throws Exception {
    byte[] data = TestArchives.data();
    Path archive = tmp.resolve("seekable.vma.zst");
    byte[] index = "embedded VMA index".getBytes(StandardCharsets.UTF_8);
    try (SeekableZstdWriter w = new SeekableZstdWriter(Files.newOutputStream(archive), 3, 2,
        SeekableZstdWriter.DEFAULT_MAX_FRAME)) {
      // Irregular cuts, like VMA extent boundaries, written in odd pieces.
      int pos = 0;
      int k = 0;
      while (pos < data.length) {
        int frame = Math.min(data.length - pos, 700_000 + (k++ % 5) * 131_072 + 512);
        for (int off = 0; off < frame; ) {
          int piece = Math.min(frame - off, 65_000);
          w.write(data, pos + off, piece);
          off += piece;
        }
        pos += frame;
        w.endFrame();
      }
      w.writeSkippableFrame(0, index);
    }
    Path cliOut = tmp.resolve("cli.out");
    TestArchives.run("zstd -q -d -c " + archive + " > " + cliOut + " && zstd -q -t " + archive);
    assertEquals(TestArchives.sha256(data), TestArchives.sha256(Files.readAllBytes(cliOut)));

    // Without a decode pass, straight from the seek table, including the embedded index.
    ZstdFrameMap fromTable = ZstdFrameMap.fromSeekTable(archive, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME).orElseThrow();
    try (var ch = vmafs.vma.io.LocalStoredBytes.open(archive)) {
      ZstdFrameMap.Payload at = fromTable.skippablePayload(ch, 0).orElseThrow();
      assertEquals(index.length, at.length());
      assertArrayEquals(index, FileReads.read(ch, "a", at.offset(), index.length));
      assertEquals(Optional.empty(), fromTable.skippablePayload(ch, 3));
    }
    try (ArchiveSource src = SourceChecks.roundTrip(fromTable).open(archive, new BlockCache(8 << 20))) {
      SourceChecks.randomReads(src, data, fromTable.blockBoundaries(), 1500);
      SourceChecks.concurrentReads(src, data, 150);
    }
    // And the decode pass agrees with the seek table.
    SourceMap viaPass = SourceChecks.fullCheck(archive, DecodeOptions.defaults(), 300);
    assertArrayEquals(fromTable.toBytes(), viaPass.toBytes());
  }

  /** A seekable archive in 1 MiB frames, as {@code vmafs convert} writes it by default. */
  private Path seekable1M(String name) throws IOException {
    byte[] data = TestArchives.data();
    Path archive = tmp.resolve(name);
    try (SeekableZstdWriter w = new SeekableZstdWriter(Files.newOutputStream(archive), 3, 2,
        1 << 20)) {
      w.write(data);
    }
    return archive;
  }

  private static long find(Path file, byte[] what) throws IOException {
    byte[] all = Files.readAllBytes(file);
    outer:
    for (int i = 0; i + what.length <= all.length; i++) {
      for (int k = 0; k < what.length; k++) {
        if (all[i + k] != what[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * The writer adds CRC-32C per 64 KiB of every frame, so a cold small read decodes its frame only
   * up to the chunk it needs (the cache then holds that prefix, not the frame), and every read is
   * still exact.
   */
  @Test
  void chunkChecksumsLetRandomReadsDecodeOnlyAPrefix() throws Exception {
    Path archive = seekable1M("chunks.vma.zst");
    assertTrue(find(archive, "VMAFSCRC".getBytes(StandardCharsets.US_ASCII)) > 0);
    ZstdFrameMap map = ZstdFrameMap.fromSeekTable(archive, 1 << 20).orElseThrow();
    byte[] data = TestArchives.data();
    BlockCache cache = new BlockCache(64 << 20);
    try (ArchiveSource src = map.open(archive, cache)) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      src.readFully((3L << 20) + 10_000, b);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, (3 << 20) + 10_000, (3 << 20) + 14_096), b.array());
      long cached = cache.stats().bytes();
      assertTrue(cached > 0 && cached < 100_000, "one 64 KiB chunk decoded, cached " + cached);
      SourceChecks.randomReads(src, data, map.blockBoundaries(), 1000);
      SourceChecks.concurrentReads(src, data, 100);
    }
  }

  /** A damaged checksum table costs speed, never a good read: the whole frame's checksum decides. */
  @Test
  void aDamagedChunkTableIsOverruledByTheFrameChecksum() throws Exception {
    Path archive = seekable1M("badtable.vma.zst");
    long table = find(archive, "VMAFSCRC".getBytes(StandardCharsets.US_ASCII));
    for (long at = table + 16; at < table + 16 + 4 * 200; at += 4) { // the first 200 CRCs
      TestArchives.flip(archive, at, 0x5a);
    }
    ZstdFrameMap map = ZstdFrameMap.fromSeekTable(archive, 1 << 20).orElseThrow();
    byte[] data = TestArchives.data();
    try (ArchiveSource src = map.open(archive, new BlockCache(4 << 20))) {
      SourceChecks.randomReads(src, data, map.blockBoundaries(), 500);
    }
  }

  /** A checksum frame that does not parse is ignored: whole frames are decoded, as before. */
  @Test
  void anUnreadableChunkTableMeansWholeFrames() throws Exception {
    Path archive = seekable1M("nomagic.vma.zst");
    long table = find(archive, "VMAFSCRC".getBytes(StandardCharsets.US_ASCII));
    TestArchives.flip(archive, table, 'V' ^ 'X'); // "VMAFSCRC" -> "XMAFSCRC"
    ZstdFrameMap map = ZstdFrameMap.fromSeekTable(archive, 1 << 20).orElseThrow();
    byte[] data = TestArchives.data();
    BlockCache cache = new BlockCache(64 << 20);
    try (ArchiveSource src = map.open(archive, cache)) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      src.readFully(3L << 20, b);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 3 << 20, (3 << 20) + 4096), b.array());
      assertTrue(cache.stats().bytes() >= 1 << 20, "a whole frame: " + cache.stats().bytes());
      SourceChecks.randomReads(src, data, map.blockBoundaries(), 300);
    }
  }

  /**
   * Damaged frame data read at random: every read is exact or fails naming the frame; a verified
   * prefix of a damaged frame may be served (its chunks match), a damaged chunk never is.
   */
  @Test
  void damagedFramesReadAtRandomNeverServeWrongBytes() throws Exception {
    Path archive = seekable1M("damaged.vma.zst");
    ZstdFrameMap map = ZstdFrameMap.fromSeekTable(archive, 1 << 20).orElseThrow();
    long size = Files.size(archive);
    for (int k = 1; k <= 6; k++) {
      TestArchives.flip(archive, size * k / 8, 0x01);
    }
    byte[] data = TestArchives.data();
    int failures = 0;
    java.util.SplittableRandom r = new java.util.SplittableRandom(11);
    try (ArchiveSource src = map.open(archive, new BlockCache(2 << 20))) {
      for (int i = 0; i < 3000; i++) {
        long pos = r.nextLong(data.length - 4096);
        ByteBuffer b = ByteBuffer.allocate(4096);
        try {
          src.readFully(pos, b);
        } catch (IOException e) {
          failures++;
          CorruptArchiveException c = assertInstanceOf(CorruptArchiveException.class, e);
          assertEquals(CorruptArchiveException.Part.ZSTD_FRAME, c.where().part(), e.getMessage());
          // The frame named holds one of the damaged bytes (frames hold 1 MiB of random data).
          assertTrue(java.util.stream.LongStream.rangeClosed(1, 6).map(k -> size * k / 8)
              .anyMatch(at -> at >= c.offset() && at < c.offset() + (1 << 20) + 1024), e.getMessage());
          continue;
        }
        assertTrue(java.util.Arrays.equals(b.array(), 0, 4096, data, (int) pos, (int) pos + 4096),
            "wrong data served at " + pos);
      }
    }
    assertTrue(failures > 0, "damage went unnoticed");
  }

  @Test
  void singleFrameFileHasNoSeekTable() throws Exception {
    assertEquals(Optional.empty(), ZstdFrameMap.fromSeekTable(TestArchives.zstd(), 64 << 20));
  }
}
