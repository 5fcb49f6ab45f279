package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.source.raw.RawMap;

class ArchiveFormatTest {
  @TempDir Path tmp;

  @Test
  void detectsRealArchivesByContentNotName() throws Exception {
    // Renamed to a neutral name so only the magic bytes can decide.
    assertEquals(ArchiveFormat.ZSTD, ArchiveFormat.detect(TestArchives.copy(TestArchives.zstd(), tmp, "a.dat")));
    assertEquals(ArchiveFormat.LZOP, ArchiveFormat.detect(TestArchives.copy(TestArchives.lzop(), tmp, "b.dat")));
    assertEquals(ArchiveFormat.GZIP, ArchiveFormat.detect(TestArchives.copy(TestArchives.pigz(), tmp, "c.dat")));
    Path vma = tmp.resolve("d.dat");
    Files.write(vma, new byte[] {'V', 'M', 'A', 0, 0, 0, 0, 1, 9});
    assertEquals(ArchiveFormat.RAW_VMA, ArchiveFormat.detect(vma));
  }

  @Test
  void skippableFrameFirstIsZstd() {
    byte[] head = {0x53, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1};
    assertEquals(ArchiveFormat.ZSTD, ArchiveFormat.detect(head));
  }

  @Test
  void junkIsAClearError() throws Exception {
    Path junk = tmp.resolve("junk.vma.zst");
    Files.writeString(junk, "hello world");
    IOException e = assertThrows(IOException.class, () -> ArchiveFormat.detect(junk));
    assertTrue(e.getMessage().contains("is not a VMA archive") && e.getMessage().contains("magic at offset 0")
        && e.getMessage().contains("68 65 6c 6c"), e.getMessage());
    Path empty = Files.createFile(tmp.resolve("empty.vma"));
    assertTrue(assertThrows(IOException.class, () -> ArchiveFormat.detect(empty)).getMessage()
        .contains("empty"));
  }

  @Test
  void rawVmaPassIsACopy() throws Exception {
    Path vma = tmp.resolve("x.vma");
    byte[] data = TestArchives.data();
    byte[] withMagic = data.clone();
    withMagic[0] = 'V';
    withMagic[1] = 'M';
    withMagic[2] = 'A';
    withMagic[3] = 0;
    Files.write(vma, withMagic);
    SourceMap map = SourceChecks.roundTrip(SourceChecks.decode(vma, DecodeOptions.defaults(), withMagic));
    assertTrue(map instanceof RawMap && map.isRandomAccessible());
    try (var src = map.open(vma, new vmafs.cache.BlockCache())) {
      SourceChecks.randomReads(src, withMagic, new long[0], 200);
    }
  }
}
