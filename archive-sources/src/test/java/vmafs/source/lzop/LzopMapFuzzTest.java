package vmafs.source.lzop;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.source.internal.MapCodec;
import vmafs.vma.testing.Fuzzing;

/**
 * The source-map codec of kind LZOP ({@link MapCodec} and its {@code readBody}) on crafted maps of
 * {@code fuzz/text.vma.lzo}, opened and read (see {@link DecodeFuzzing}). Seeds: {@code
 * LzopMapFuzzTestInputs/fuzz/}, the maps the decode pass makes of that archive.
 */
class LzopMapFuzzTest {
  private static final Path ARCHIVE = DecodeFuzzing.resource(Fuzzing.scratchDir("Lzop-map"), "text.vma.lzo");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) {
    DecodeFuzzing.map(ARCHIVE, input, MapCodec.KIND_LZOP);
  }
}
