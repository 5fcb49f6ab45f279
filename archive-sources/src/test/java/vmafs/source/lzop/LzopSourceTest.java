package vmafs.source.lzop;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceChecks;
import vmafs.source.SourceMap;
import vmafs.source.TestArchives;

class LzopSourceTest {
  @Test
  void lzopFromStdinReadsBackAtRandom() throws Exception {
    SourceMap map = SourceChecks.fullCheck(TestArchives.lzop(), DecodeOptions.defaults(), 3000);
    LzopMap lzop = assertInstanceOf(LzopMap.class, map);
    assertTrue(map.isRandomAccessible());
    // 256 KiB blocks, as lzop writes them.
    assertTrue(lzop.blockCount() == (TestArchives.data().length + (256 << 10) - 1) / (256 << 10),
        "blocks: " + lzop.blockCount());
    assertTrue(lzop.rawStoredBlocks() > 0, "the random runs should give raw-stored blocks");
  }
}
