package vmafs.source.raw;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.source.internal.MapCodec;
import vmafs.vma.testing.Fuzzing;

/**
 * The source-map codecs of kinds RAW and SPILL ({@link MapCodec} and its {@code readBody}) on crafted maps of
 * {@code fuzz/two-devices.vma}, opened and read (see {@link DecodeFuzzing}). Seeds: {@code
 * SpillAndRawMapFuzzTestInputs/fuzz/}, the maps the decode pass makes of that archive.
 */
class SpillAndRawMapFuzzTest {
  private static final Path ARCHIVE = DecodeFuzzing.resource(Fuzzing.scratchDir("SpillAndRaw-map"), "two-devices.vma");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) {
    DecodeFuzzing.map(ARCHIVE, input, -1);
  }
}
