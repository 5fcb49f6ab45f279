package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12: the front ends serve a compressed archive while its index pass runs. The archive is a
 * backup as vzdump makes one of a VM with a boot disk and a large data disk: the boot disk ({@link
 * BootTest}'s, its clusters in disk order) first, then {@link #TAIL} of data on the second drive,
 * so that the pass is still decoding the data disk long after everything the guest needs has
 * been listed. Each test checks that the pass was still running when what it claims happened,
 * and fails saying so (rather than passing without having tested anything) if the pass won.
 */
class DuringPassTest {
  /** Data on the second drive: what keeps the pass busy while the boot disk is used. */
  static final long TAIL = 2L << 30;
  static final String BOOT = BootTest.IMAGE;

  @TempDir static Path dir;
  static Path boot;
  static Path archive;

  @BeforeAll
  static void build() throws IOException {
    boot = BootTest.bootDisk(dir);
    Path data = dir.resolve("data.raw");
    CompressedTest.semiCompressible(data, TAIL, TAIL);
    Path vma = dir.resolve("vzdump-qemu-104-2026_11_22-00_00_00.vma");
    // Sequential: drive by drive, each in disk order, as vzdump writes a VM that was idle.
    Run.vmafs("create", vma.toString(), "drive-virtio0=" + boot, "drive-scsi1=" + data).ok();
    Files.delete(data);
    archive = dir.resolve(vma.getFileName() + ".zst");
    Run.sh(CompressedTest.compressor("zst") + " -q --rm '" + vma + "' -o '" + archive + "'").ok();
  }

  static String notIndexing(String what, String status) {
    return "the index pass was over before " + what + " (make DuringPassTest.TAIL bigger): " + status;
  }

  @Test
  void qemuBootsFromTheMountWhileThePassRuns(@TempDir Path tmp) throws IOException {
    Isolated v = new Isolated(tmp);
    Path mnt = tmp.resolve("mnt");
    try (Mounted.Cleanup c = v.mount(archive, mnt)) {
      assertTrue(InstantMountTest.indexing(v, mnt), notIndexing("the mount returned",
          InstantMountTest.status(v, mnt)));
      long t0 = System.nanoTime();
      Run.Result r = Qemu.boot("file=" + mnt.resolve(BOOT) + ",format=raw,if=virtio", "-snapshot");
      double booted = (System.nanoTime() - t0) / 1e9;
      // Still indexing after the guest exited, so it was when the guest printed its marker.
      String s = InstantMountTest.status(v, mnt);
      assertTrue(s.contains("\"state\": \"indexing\""), notIndexing("the guest booted (in "
          + String.format("%.1f", booted) + " s)", s));
      BootTest.assertBooted(r, true);
    }
  }
}
