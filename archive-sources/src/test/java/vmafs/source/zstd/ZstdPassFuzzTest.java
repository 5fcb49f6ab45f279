package vmafs.source.zstd;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.vma.testing.Fuzzing;

/**
 * The zstd decode pass and its random-access reader on crafted files (see {@link DecodeFuzzing}).
 * Seeds: {@code ZstdPassFuzzTestInputs/fuzz/}, small VMA archives compressed by the real tools.
 */
class ZstdPassFuzzTest {
  private static final Path DIR = Fuzzing.scratchDir("zstd-pass");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) throws Exception {
    DecodeFuzzing.pass(DIR, input, null);
  }
}
