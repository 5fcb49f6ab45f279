package vmafs.source.gzip;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.source.internal.MapCodec;
import vmafs.vma.testing.Fuzzing;

/**
 * The source-map codec of kind GZIP ({@link MapCodec} and its {@code readBody}) on crafted maps of
 * {@code fuzz/words.vma.gz}, opened and read (see {@link DecodeFuzzing}). Seeds: {@code
 * GzipMapFuzzTestInputs/fuzz/}, the maps the decode pass makes of that archive.
 */
class GzipMapFuzzTest {
  private static final Path ARCHIVE = DecodeFuzzing.resource(Fuzzing.scratchDir("Gzip-map"), "words.vma.gz");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) {
    DecodeFuzzing.map(ARCHIVE, input, MapCodec.KIND_GZIP);
  }
}
