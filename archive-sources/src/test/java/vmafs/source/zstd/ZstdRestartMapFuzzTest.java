package vmafs.source.zstd;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.source.internal.MapCodec;
import vmafs.vma.testing.Fuzzing;

/**
 * The source-map codec of kind ZSTD_RESTART ({@link MapCodec}, {@link ZstdRestartMap#readBody}
 * and the map's consistency checks) on crafted maps and prefix sections of {@code
 * fuzz/restart.vma.zst}, opened and read (see {@link DecodeFuzzing#restartMap}): a crafted restart
 * map must give a clear error or a source whose reads give documented errors, never an
 * allocation the input does not pay for or a hang. Seeds: {@code
 * ZstdRestartMapFuzzTestInputs/fuzz/}, the map and prefixes the decode pass makes of that archive.
 */
class ZstdRestartMapFuzzTest {
  private static final Path ARCHIVE =
      DecodeFuzzing.resource(Fuzzing.scratchDir("ZstdRestart-map"), "restart.vma.zst");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) {
    DecodeFuzzing.restartMap(ARCHIVE, input);
  }
}
