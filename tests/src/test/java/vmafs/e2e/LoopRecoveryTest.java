package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 2 of the design card: recover single files from a mounted backup through read-only loop
 * devices. Two drives, built here without root: {@code drive-scsi0} with an MBR and two ext4
 * partitions, {@code drive-scsi1} with GPT, ext4 and XFS; every file's sha256 is checked on the
 * read-only mounted partitions, by hand ({@code losetup -r -P}, {@code partx -a}) and through
 * {@code vmafs mount --loop}. Every loop device, filesystem mount and vmafs mount is removed in
 * finally blocks, and checked gone.
 */
class LoopRecoveryTest {
  static final String MBR_IMAGE = "disk-drive-scsi0.raw";
  static final String GPT_IMAGE = "disk-drive-scsi1.raw";

  @TempDir static Path dir;
  static Path archive;
  /** Partition ("scsi0p1", …) to the sha256sum listing of its files. */
  static final Map<String, String> manifests = new LinkedHashMap<>();

  @BeforeAll
  static void build() throws IOException {
    // drive-scsi0: 192 MiB, MBR, two 64 MiB ext4 partitions.
    Path mbr = dir.resolve("mbr.raw");
    Run.cmd("truncate", "-s", "192M", mbr.toString()).ok();
    Run.sh("printf 'label: dos\\nstart=2048, size=131072, type=83\\nstart=133120, size=131072, type=83\\n'"
        + " | sfdisk -q " + mbr).ok();
    ext4(mbr, 2048, 131072, "mbr-root", files(dir.resolve("scsi0p1"), 1), "scsi0p1");
    ext4(mbr, 133120, 131072, "mbr-data", files(dir.resolve("scsi0p2"), 2), "scsi0p2");

    // drive-scsi1: 512 MiB, GPT, 64 MiB ext4 and the rest XFS (XFS wants >= 300 MiB).
    Path gpt = dir.resolve("gpt.raw");
    Run.cmd("truncate", "-s", "512M", gpt.toString()).ok();
    Run.cmd("sgdisk", "-o", "-n", "1:2048:+64M", "-t", "1:8300", "-c", "1:boot", "-n", "2:0:0", "-t", "2:8300",
        "-c", "2:data", gpt.toString()).ok();
    long[][] parts = partitionTable(gpt);
    ext4(gpt, parts[0][0], parts[0][1], "gpt-boot", files(dir.resolve("scsi1p1"), 3), "scsi1p1");
    xfs(gpt, parts[1][0], parts[1][1], files(dir.resolve("scsi1p2"), 4), "scsi1p2");

    Path conf = dir.resolve("qemu-server.conf");
    Files.writeString(conf, "name: recovery\nscsi0: local-lvm:vm-102-disk-0,size=192M\n"
        + "scsi1: local-lvm:vm-102-disk-1,size=512M\n");
    archive = dir.resolve("vzdump-qemu-102-2026_11_22-12_00_00.vma");
    Run.vmafs("create", "--order", "shuffled", "-c", conf.toString(), archive.toString(),
        "drive-scsi0=" + mbr, "drive-scsi1=" + gpt).ok();
    Files.delete(mbr);
    Files.delete(gpt);
  }

  @AfterAll
  static void nothingLeftBehind() {
    Loops.cleanUnder(dir);
    assertEquals(List.of(), Loops.under(dir), "loop devices left behind");
  }

  /** The recipe by hand: losetup -r -P, partx -a where the kernel found nothing, mount ro. */
  @Test
  void byHandWithLosetupAndPartx() throws IOException {
    Path mnt = dir.resolve("mnt-hand");
    try (Mounted m = Mounted.mount(archive, mnt)) {
      try {
        for (String[] d : new String[][] {{MBR_IMAGE, "scsi0"}, {GPT_IMAGE, "scsi1"}}) {
          String loop = Run.cmd("losetup", "-r", "-P", "-f", "--show", m.file(d[0]).toString()).ok().out().trim();
          if (!Files.exists(Path.of(loop + "p1"))) {
            Run.cmd("partx", "-a", loop).ok();
          }
          assertEquals("1", Run.cmd("blockdev", "--getro", loop).ok().out().trim());
          assertEquals("1", Run.cmd("blockdev", "--getro", loop + "p1").ok().out().trim());
          for (int p = 1; p <= 2; p++) {
            String part = d[1] + "p" + p;
            String opts = part.equals("scsi1p2") ? "ro,norecovery" : "ro,noload";
            checkFiles(loop + "p" + p, opts, part);
          }
          Run.cmd("partx", "-d", loop).ok();
          Run.cmd("losetup", "-d", loop).ok();
          assertFalse(Files.exists(Path.of(loop + "p1")), loop + "p1 left behind");
        }
        assertEquals(List.of(), Loops.under(mnt));

        // A loop device left attached by hand is detached by 'vmafs umount' (nothing is mounted from it).
        Run.cmd("losetup", "-r", "-f", "--show", m.file(GPT_IMAGE).toString()).ok();
        assertEquals(1, Loops.under(mnt).size());
        Run.vmafs("umount", mnt.toString()).ok();
        assertFalse(Mounted.isMounted(mnt));
        assertEquals(List.of(), Loops.under(mnt));
      } finally {
        Loops.cleanUnder(mnt);
      }
    }
  }

  /** vmafs mount --loop attaches and prints; umount refuses while a partition is mounted, then detaches. */
  @Test
  void mountLoopAttachesPrintsAndUmountDetaches() throws IOException {
    Path mnt = dir.resolve("mnt-loop");
    Path fs = dir.resolve("fs-busy");
    try (Mounted m = Mounted.mount(archive, mnt, "--loop")) {
      try {
        Map<String, List<String[]>> printed = parseLoopOutput(m.output());
        assertEquals(List.of(MBR_IMAGE, GPT_IMAGE), new ArrayList<>(printed.keySet()), m.output());
        List<Loops.Loop> attached = Loops.under(mnt);
        assertEquals(2, attached.size(), m.output());
        for (Loops.Loop l : attached) {
          String image = l.backingFile().getFileName().toString();
          List<String[]> devs = printed.get(image);
          assertEquals(l.device(), devs.get(0)[0], m.output());
          assertEquals(List.of(l.name() + "p1", l.name() + "p2"), l.partitions());
          assertEquals("1", Run.cmd("blockdev", "--getro", l.device()).ok().out().trim());
          String drive = image.equals(MBR_IMAGE) ? "scsi0" : "scsi1";
          for (int p = 1; p <= 2; p++) {
            String[] part = devs.get(p);
            assertEquals(l.device() + "p" + p, part[0]);
            String expectedType = drive.equals("scsi1") && p == 2 ? "xfs" : "ext4";
            assertEquals(expectedType, part[1], m.output());
            assertEquals(expectedType.equals("xfs") ? "ro,norecovery" : "ro,noload", part[2], m.output());
            checkFiles(part[0], part[2], drive + "p" + p); // with the options it printed
          }
        }

        // A partition still mounted: umount refuses, says what is in use, and changes nothing.
        String busy = printed.get(GPT_IMAGE).get(2)[0];
        Files.createDirectories(fs);
        Run.cmd("mount", "-o", "ro,norecovery", busy, fs.toString()).ok();
        Run.Result r = Run.vmafs("umount", mnt.toString()).exit(5);
        assertTrue(r.err().contains(busy + " is mounted on " + fs.toRealPath()), r.err());
        assertTrue(r.err().contains("Nothing was detached or unmounted"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertTrue(Mounted.isMounted(mnt));
        assertEquals(2, Loops.under(mnt).size());
        assertEquals(manifests.get("scsi1p2"), manifest(fs));
        Run.cmd("umount", fs.toString()).ok();

        Run.vmafs("umount", mnt.toString()).ok();
        assertFalse(Mounted.isMounted(mnt), "FUSE mount left behind");
        assertEquals(List.of(), Loops.under(mnt), "loop devices left behind");
        for (Loops.Loop l : attached) {
          assertFalse(Files.exists(Path.of(l.device() + "p1")), l.device() + "p1 left behind");
        }
      } finally {
        if (Run.cmd("mountpoint", "-q", fs.toString()).code() == 0) {
          Run.cmd("umount", fs.toString());
        }
        Loops.cleanUnder(mnt);
      }
    }
  }

  @Test
  void loopNeedsABackgroundMount() throws IOException {
    Path mnt = dir.resolve("mnt-fg");
    Files.createDirectories(mnt);
    Run.Result r = Run.vmafs("mount", "--loop", "-f", archive.toString(), mnt.toString()).exit(2);
    assertTrue(r.err().contains("--loop"), r.err());
    assertFalse(Mounted.isMounted(mnt));
  }

  // ---- building the disks ----

  static Path files(Path root, long seed) throws IOException {
    return FsImages.files(root, seed);
  }

  static void ext4(Path disk, long start, long sectors, String label, Path root, String name) {
    FsImages.ext4(disk, start, sectors, label, root);
    manifests.put(name, manifest(root));
  }

  static void xfs(Path disk, long start, long sectors, Path root, String name) throws IOException {
    FsImages.xfs(dir, disk, start, sectors, root);
    manifests.put(name, manifest(root));
  }

  /** Start and size in sectors of each partition of an image file (partx reads image files too). */
  static long[][] partitionTable(Path disk) {
    return Run.cmd("partx", "-g", "-o", "START,SECTORS", disk.toString()).ok().out().lines()
        .map(l -> l.trim().split("\\s+")).map(f -> new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])})
        .toArray(long[][]::new);
  }

  // ---- checking ----

  static String manifest(Path root) {
    return FsImages.manifest(root);
  }

  /** Mounts {@code dev} read-only with {@code options}, compares the files, unmounts (always). */
  static void checkFiles(String dev, String options, String name) throws IOException {
    Path fs = dir.resolve("fs-" + name);
    Files.createDirectories(fs);
    Run.cmd("mount", "-o", options, dev, fs.toString()).ok();
    try {
      String got = manifest(fs);
      assertEquals(manifests.get(name), got, name + " on " + dev);
      assertTrue(got.lines().count() == 5, got);
      assertNotEquals(0, Run.cmd("touch", fs.resolve("new-file").toString()).code(), "writable: " + dev);
    } finally {
      Run.cmd("umount", fs.toString()).ok();
    }
  }

  /**
   * The loop section of {@code vmafs mount --loop}'s output: image name to its devices, first the
   * whole disk {dev}, then each partition {dev, fstype, mount options}.
   */
  static Map<String, List<String[]>> parseLoopOutput(String out) {
    Pattern disk = Pattern.compile("^\\s+(/dev/loop\\d+)\\s+(\\S+\\.raw).*$");
    Pattern part = Pattern.compile("^\\s+(/dev/loop\\d+p\\d+)\\s+(\\S+).*\\(mount -o (\\S+) .*$");
    Map<String, List<String[]>> m = new LinkedHashMap<>();
    List<String[]> current = null;
    for (String line : out.lines().toList()) {
      Matcher d = disk.matcher(line);
      Matcher p = part.matcher(line);
      if (d.matches()) {
        current = new ArrayList<>();
        current.add(new String[] {d.group(1)});
        m.put(d.group(2), current);
      } else if (p.matches() && current != null) {
        current.add(new String[] {p.group(1), p.group(2), p.group(3)});
      }
    }
    return m;
  }
}
