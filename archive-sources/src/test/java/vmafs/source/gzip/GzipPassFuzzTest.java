package vmafs.source.gzip;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.vma.testing.Fuzzing;

/**
 * The gzip decode pass and its random-access reader on crafted files (see {@link DecodeFuzzing}).
 * Seeds: {@code GzipPassFuzzTestInputs/fuzz/}, small VMA archives compressed by the real tools.
 */
class GzipPassFuzzTest {
  private static final Path DIR = Fuzzing.scratchDir("gzip-pass");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) throws Exception {
    DecodeFuzzing.pass(DIR, input, new byte[] {(byte) GzipFormat.ID1, (byte) GzipFormat.ID2});
  }
}
