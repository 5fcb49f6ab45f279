package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cache.BlockCache;
import vmafs.vma.io.ArchiveSource;

class ZstdSourceTest {
  @TempDir Path tmp;

  /** What vzdump writes: one frame, no content size. It can only be spilled. */
  @Test
  void singleFrameSpills() throws Exception {
    Path cache = tmp.resolve("cache");
    SourceMap map = SourceChecks.fullCheck(TestArchives.zstd(),
        DecodeOptions.defaults().withSpillDir(cache), 1000);
    SpillMap spill = assertInstanceOf(SpillMap.class, map);
    assertFalse(map.isRandomAccessible());
    assertEquals(TestArchives.data().length, Files.size(spill.spillPath()));
    try (var files = Files.list(cache)) {
      assertEquals(1, files.count(), "no .partial left behind");
    }
  }

  @Test
  void singleFrameWithoutCacheDirIsAClearError() throws Exception {
    IOException e = assertThrows(IOException.class,
        () -> DecodePass.open(TestArchives.zstd(), DecodeOptions.defaults()));
    assertTrue(e.getMessage().contains("no cache directory"), e.getMessage());
  }

  @Test
  void spillLimitStopsThePass() throws Exception {
    DecodeOptions o = DecodeOptions.defaults().withSpillDir(tmp).withSpillMax(10 << 20);
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
    assertArrayEquals(index, fromTable.skippablePayload(archive, 0).orElseThrow());
    assertEquals(Optional.empty(), fromTable.skippablePayload(archive, 3));
    try (ArchiveSource src = SourceChecks.roundTrip(fromTable).open(archive, new BlockCache(8 << 20))) {
      SourceChecks.randomReads(src, data, fromTable.blockBoundaries(), 1500);
      SourceChecks.concurrentReads(src, data, 150);
    }
    // And the decode pass agrees with the seek table.
    SourceMap viaPass = SourceChecks.fullCheck(archive, DecodeOptions.defaults(), 300);
    assertArrayEquals(fromTable.toBytes(), viaPass.toBytes());
  }

  @Test
  void singleFrameFileHasNoSeekTable() throws Exception {
    assertEquals(Optional.empty(), ZstdFrameMap.fromSeekTable(TestArchives.zstd(), 64 << 20));
  }
}
