package vmafs.vma.fuzz;

import static vmafs.vma.VmaFormat.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaHeader;
import vmafs.vma.testing.FuzzInputs;
import vmafs.vma.testing.Fuzzing;

/**
 * The VMA header and extent parser on crafted bytes: {@link VmaHeader#headerSize}, {@link
 * VmaHeader#parse} and {@link ExtentHeader#parse} on each 512 bytes after the header. Besides the
 * {@link Fuzzing} rules, what the parsers return must be what the bytes say: a header parsed twice
 * is the same, its devices have the ids and sizes of their dev_info slots, and an extent's
 * blockinfos are its raw slots. Seeds: {@code VmaHeaderFuzzTestInputs/fuzz/} (docs/fuzzing.md).
 */
class VmaHeaderFuzzTest {

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) {
    byte[] data = FuzzInputs.repairVma(input);
    Fuzzing.check(data.length, Fuzzing.Budget.PARSER, () -> parse(data));
  }

  private static void parse(byte[] data) throws Exception {
    int size = VmaHeader.headerSize(Arrays.copyOf(data, Math.max(data.length, FIXED_HEADER_SIZE)));
    if (size > data.length) {
      return;
    }
    byte[] bytes = Arrays.copyOf(data, size);
    VmaHeader h = VmaHeader.parse(bytes);
    VmaHeader again = VmaHeader.parse(bytes);
    ByteBuffer bb = ByteBuffer.wrap(bytes);
    for (var d : h.devices()) {
      long raw = bb.getLong(OFF_DEV_INFO + d.id() * DEV_INFO_SIZE + DEV_OFF_SIZE);
      if (raw != d.size() || d.size() <= 0 || !again.device(d.id()).equals(java.util.Optional.of(d))) {
        throw new AssertionError("device " + d + " does not match dev_info[" + d.id() + "] (" + raw + ")");
      }
    }
    if (h.configs().size() != again.configs().size() || h.headerSize() != size) {
      throw new AssertionError("a header parsed twice differs");
    }
    for (int pos = size; pos + EXTENT_HEADER_SIZE <= data.length; pos += EXTENT_HEADER_SIZE) {
      ExtentHeader e;
      try {
        e = ExtentHeader.parse(data, pos, pos, h);
      } catch (vmafs.vma.MalformedArchiveException bad) {
        continue; // most 512-byte windows are not extent headers; the next may be
      }
      ByteBuffer eb = ByteBuffer.wrap(data, pos, EXTENT_HEADER_SIZE).slice();
      for (int i = 0; i < SLOTS_PER_EXTENT; i++) {
        if (e.blockInfo(i) != eb.getLong(EXT_OFF_BLOCKINFO + i * BLOCKINFO_SIZE)) {
          throw new AssertionError("extent at " + pos + ": slot " + i + " is not its raw blockinfo");
        }
      }
      if (e.blockCount() != (eb.getShort(EXT_OFF_BLOCK_COUNT) & 0xFFFF) || e.offset() != pos) {
        throw new AssertionError("extent at " + pos + ": block count or offset differ from the bytes");
      }
    }
  }
}
