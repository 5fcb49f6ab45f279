package vmafs.source.zstd;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import vmafs.source.DecodeFuzzing;
import vmafs.source.internal.MapCodec;
import vmafs.vma.testing.Fuzzing;

/**
 * The source-map codec of kind ZSTD_FRAMES ({@link MapCodec} and its {@code readBody}) on crafted maps of
 * {@code fuzz/seekable.vma.zst}, opened and read (see {@link DecodeFuzzing}). Seeds: {@code
 * ZstdFrameMapFuzzTestInputs/fuzz/}, the maps the decode pass makes of that archive.
 */
class ZstdFrameMapFuzzTest {
  private static final Path ARCHIVE = DecodeFuzzing.resource(Fuzzing.scratchDir("ZstdFrame-map"), "seekable.vma.zst");

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) {
    DecodeFuzzing.map(ARCHIVE, input, MapCodec.KIND_ZSTD_FRAMES);
  }
}
