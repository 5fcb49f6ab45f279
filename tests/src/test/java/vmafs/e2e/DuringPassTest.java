package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
  /**
   * The archive is shared by the tests, and a pass that completes saves its index beside it:
   * without this, the tests after it would start from that index, with no pass to test.
   */
  static final String REINDEX = "--reindex";

  @TempDir static Path dir;
  static Path boot;
  static Path data;
  static Path archive;

  @BeforeAll
  static void build() throws IOException {
    boot = BootTest.bootDisk(dir);
    data = dir.resolve("data.raw");
    CompressedTest.semiCompressible(data, TAIL, TAIL);
    Path vma = dir.resolve("vzdump-qemu-104-2026_11_22-00_00_00.vma");
    // Sequential: drive by drive, each in disk order, as vzdump writes a VM that was idle.
    Run.vmafs("create", vma.toString(), "drive-virtio0=" + boot, "drive-scsi1=" + data).ok();
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
    try (Mounted.Cleanup c = v.mount(archive, mnt, REINDEX)) {
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

  /**
   * A partition file's {@code st_blocks} while the pass runs counts what the pass has listed of
   * it (here: all of it, since its disk comes first and was read whole), not the partition's
   * size; and SEEK_HOLE never calls any of its data a hole.
   */
  @Test
  void partitionFilesCountWhatIsKnownAndReportNoDataAsAHole(@TempDir Path tmp) throws IOException {
    long start = 2048 * 512;
    long size = BootTest.SIZE - start;
    long data = 0;
    List<long[]> ranges = new ArrayList<>();
    for (long[] r : Images.dataRanges(boot)) {
      long a = Math.max(r[0], start);
      if (r[1] > a) {
        data += r[1] - a;
        ranges.add(new long[] {a - start, r[1] - start});
      }
    }
    Isolated v = new Isolated(tmp);
    Path mnt = tmp.resolve("mnt");
    try (Mounted.Cleanup c = v.mount(archive, mnt, REINDEX)) {
      Path p1 = mnt.resolve(BOOT + ".p1");
      assertEquals(size, Files.size(p1));
      // Waits until the pass has listed the whole boot disk.
      assertEquals(Images.sha256(boot), Images.sha256(mnt.resolve(BOOT)));
      long blocks = Long.parseLong(Run.cmd("stat", "-c", "%b", p1.toString()).ok().out().trim());
      StringBuilder script = new StringBuilder("import os, sys\nf = os.open(sys.argv[1], os.O_RDONLY)\n");
      for (long[] r : ranges) {
        script.append("h = os.lseek(f, ").append(r[0]).append(", os.SEEK_HOLE)\n")
            .append("if h < ").append(r[1]).append(": print('hole at', h, 'in data up to ")
            .append(r[1]).append("')\n");
      }
      String holes = Run.cmd("python3", "-c", script.toString(), p1.toString()).ok().out();
      String s = InstantMountTest.status(v, mnt);
      assertTrue(s.contains("\"state\": \"indexing\""), notIndexing("the partition was looked at", s));
      assertEquals(data, blocks * 512, "st_blocks of the partition while indexing: its data, all listed");
      assertEquals("", holes, "data called a hole while indexing");
    }
  }

  /**
   * {@code vmafs nbd} serves while the pass runs: the first sector reads back while {@code vmafs
   * status ADDR} says indexing, block status never calls data a hole meanwhile, {@code vmafs
   * status} lists the server, and once the pass is over both exports equal their sources.
   */
  @Test
  void nbdServesWhileThePassRunsAndStatusListsTheServer(@TempDir Path tmp) throws Exception {
    Path servers = tmp.resolve("home/run/vmafs/servers");
    try (Served s = Served.start(tmp.resolve("home"), archive, REINDEX)) {
      String addr = "unix:" + s.socket();
      String bootUri = s.uri("drive-virtio0");
      Path first = tmp.resolve("first.bin");
      Run.cmd("qemu-img", "dd", "-f", "raw", "-O", "raw", "bs=512", "count=1", "if=" + bootUri,
          "of=" + first).ok();
      List<long[]> map = NbdTest.nbdinfoMap(bootUri);
      String status = Run.exec(Run.vmafsCommand("status", "--json", addr), null, s.env()).ok().out();
      assertTrue(status.contains("\"state\": \"indexing\""), notIndexing("the first sector was read", status));
      assertArrayEquals(InstantMountTest.read(boot, 0, 512), Files.readAllBytes(first), "the first sector");
      for (long[] r : Images.dataRanges(boot)) {
        assertTrue(map.stream().anyMatch(m -> m[0] <= r[0] && r[1] <= m[1]), "data at [" + r[0] + ", "
            + r[1] + ") reported as a hole while indexing: " + MountTest.render(map));
      }
      String flat = status.replaceAll("\\s+", "");
      assertTrue(flat.contains("\"listening\":[\"" + addr + "\"]"), status);
      assertTrue(flat.contains("\"exports\":[\"drive-virtio0\",\"drive-scsi1\"]"), status);
      assertTrue(status.contains("\"pid\": " + s.pid()), status);

      // Without an argument: this server among every one of this user (and the text form).
      String all = Run.exec(Run.vmafsCommand("status"), null, s.env()).ok().out();
      assertTrue(all.contains("nbd server (pid " + s.pid() + ")\n  listening " + addr + "\n"), all);
      assertTrue(all.contains("  archive  " + archive), all);

      for (int i = 0; i < 300 && status.contains("\"state\": \"indexing\""); i++) {
        Thread.sleep(1000);
        status = Run.exec(Run.vmafsCommand("status", "--json", s.socket().toString()), null, s.env()).ok().out();
      }
      assertTrue(status.contains("\"state\": \"complete\""), status);
      assertEquals("Images are identical.", Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw",
          bootUri, boot.toString()).ok().out().trim());
      assertEquals("Images are identical.", Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw",
          s.uri("drive-scsi1"), data.toString()).ok().out().trim());
      assertTrue(Files.exists(servers.resolve(s.pid() + ".sock")), "the status socket");
    }
    try (var left = Files.list(servers)) {
      assertEquals(List.of(), left.toList(), "the stopped server left its status socket behind");
    }
  }
}
