package vmafs.source.lzop;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.vma.testing.Fuzzing;

/**
 * The lzop decode pass and its random-access reader on crafted files (see {@link DecodeFuzzing}).
 * Seeds: {@code LzopPassFuzzTestInputs/fuzz/}, small VMA archives compressed by the real tools.
 */
class LzopPassFuzzTest {
  private static final Path DIR = Fuzzing.scratchDir("lzop-pass");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) throws Exception {
    DecodeFuzzing.pass(DIR, input, LzopFormat.MAGIC);
  }
}
