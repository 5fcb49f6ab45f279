package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/recipes.md's "Recover files without root": every partition of every disk is a file of the
 * mount, and the recipes read files out of them as the unprivileged user {@code nobody} (setpriv),
 * with no loop device and no kernel mount: {@code debugfs -c -R rdump} for ext4 (MBR primary),
 * {@code 7z x} for ext4 (logical), FAT (logical) and NTFS (GPT), {@code xfs_db}/{@code
 * xfs_metadump} for XFS (GPT). The disks are built here from known files; every recovered file is
 * checked by sha256, every partition file against the bytes and holes of its range of the disk.
 */
class PartitionRecoveryTest {
  static final String MBR_DISK = "disk-drive-scsi0.raw";
  static final String GPT_DISK = "disk-drive-scsi1.raw";
  /** Sectors of each partition: {first, count}. */
  static final long[] MBR_P1 = {2048, 131072};
  static final long[] MBR_P2 = {133120, 260096};
  static final long[] MBR_P5 = {135168, 98304};
  static final long[] MBR_P6 = {235520, 98304};
  static final long[] GPT_P1 = {2048, 655360};
  static final long[] GPT_P2 = {657408, 131072};

  @TempDir static Path dir;
  static Path mbr;
  static Path gpt;
  static Path archive;
  static Path mnt;
  static Mounted mount;
  /** Partition file name to the sha256sum listing of the files put into it. */
  static final Map<String, String> manifests = new LinkedHashMap<>();

  @BeforeAll
  static void build() throws IOException {
    // nobody must reach the mount point and the recipe files: the temp dir is 0700 by default.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path src = dir.resolve("src");

    // drive-scsi0: 192 MiB, MBR: ext4 primary, an extended partition with an ext4 and a FAT logical one.
    mbr = dir.resolve("mbr.raw");
    Run.cmd("truncate", "-s", "192M", mbr.toString()).ok();
    Run.sh("printf 'label: dos\\nstart=" + MBR_P1[0] + ", size=" + MBR_P1[1] + ", type=83\\n"
        + "start=" + MBR_P2[0] + ", size=" + MBR_P2[1] + ", type=5\\n"
        + "start=" + MBR_P5[0] + ", size=" + MBR_P5[1] + ", type=83\\n"
        + "start=" + MBR_P6[0] + ", size=" + MBR_P6[1] + ", type=e\\n' | sfdisk -q " + mbr).ok();
    FsImages.ext4(mbr, MBR_P1[0], MBR_P1[1], "root", FsImages.files(src.resolve("p1"), 11));
    manifests.put(MBR_DISK + ".p1", FsImages.manifest(src.resolve("p1")));
    FsImages.ext4(mbr, MBR_P5[0], MBR_P5[1], "logical", FsImages.files(src.resolve("p5"), 15));
    manifests.put(MBR_DISK + ".p5", FsImages.manifest(src.resolve("p5")));
    FsImages.fat(dir, mbr, MBR_P6[0], MBR_P6[1], FsImages.files(src.resolve("p6"), 16));
    manifests.put(MBR_DISK + ".p6", FsImages.manifest(src.resolve("p6")));

    // drive-scsi1: 400 MiB, GPT: XFS (it wants >= 300 MiB) and NTFS.
    gpt = dir.resolve("gpt.raw");
    Run.cmd("truncate", "-s", "400M", gpt.toString()).ok();
    Run.cmd("sgdisk", "-o", "-n", "1:" + GPT_P1[0] + ":+" + GPT_P1[1], "-t", "1:8300", "-c", "1:data",
        "-n", "2:" + GPT_P2[0] + ":+" + GPT_P2[1], "-t", "2:0700", "-c", "2:windows", gpt.toString()).ok();
    FsImages.xfs(dir, gpt, GPT_P1[0], GPT_P1[1], FsImages.files(src.resolve("g1"), 21));
    manifests.put(GPT_DISK + ".p1", FsImages.manifest(src.resolve("g1")));
    FsImages.ntfs(dir, gpt, GPT_P2[0], GPT_P2[1], FsImages.files(src.resolve("g2"), 22));
    manifests.put(GPT_DISK + ".p2", FsImages.manifest(src.resolve("g2")));

    Path conf = dir.resolve("qemu-server.conf");
    Files.writeString(conf, "name: partitions\n");
    archive = dir.resolve("vzdump-qemu-103-2026_11_22-12_00_00.vma");
    Run.vmafs("create", "--order", "shuffled", "-c", conf.toString(), archive.toString(),
        "drive-scsi0=" + mbr, "drive-scsi1=" + gpt).ok();
    mnt = dir.resolve("mnt");
    mount = Mounted.mount(archive, mnt, "-o", "allow_other", "--log-file", dir.resolve("mount.log").toString());
  }

  @AfterAll
  static void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  void theMountHasAFilePerPartition() throws IOException {
    List<String> names = new ArrayList<>();
    try (var s = Files.list(mnt)) {
      s.map(p -> p.getFileName().toString()).sorted().forEach(names::add);
    }
    assertEquals(List.of(MBR_DISK, MBR_DISK + ".p1", MBR_DISK + ".p5", MBR_DISK + ".p6", GPT_DISK,
        GPT_DISK + ".p1", GPT_DISK + ".p2", "qemu-server.conf"), names);
    assertTrue(mount.output().contains(mnt.toAbsolutePath().resolve(MBR_DISK + ".p5").toString()), mount.output());
    assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(mnt.resolve(MBR_DISK + ".p1"))));
    assertNotEquals(0, Run.cmd("touch", mnt.resolve(MBR_DISK + ".p1").toString()).code(), "writable");
  }

  /** Each partition file is its range of the disk, byte for byte, with the disk's holes in that range. */
  @Test
  void partitionFilesAreTheirRangeOfTheDiskWithItsHoles() throws IOException {
    Object[][] cases = {{mbr, MBR_DISK, MBR_P1, "p1"}, {mbr, MBR_DISK, MBR_P5, "p5"}, {mbr, MBR_DISK, MBR_P6, "p6"},
        {gpt, GPT_DISK, GPT_P1, "p1"}, {gpt, GPT_DISK, GPT_P2, "p2"}};
    for (Object[] c : cases) {
      long[] sectors = (long[]) c[2];
      long start = sectors[0] * 512;
      long size = sectors[1] * 512;
      Path part = mnt.resolve(c[1] + "." + c[3]);
      assertEquals(size, Files.size(part), part.toString());
      assertEquals(rangeSha256((Path) c[0], start, size), Images.sha256(part), part.toString());
      List<long[]> expected = new ArrayList<>();
      for (long[] r : MountTest.seekWalk(mnt.resolve((String) c[1]))) {
        long a = Math.max(r[0], start);
        long b = Math.min(r[1], start + size);
        if (a < b) {
          expected.add(new long[] {a - start, b - start});
        }
      }
      List<long[]> actual = MountTest.seekWalk(part);
      assertEquals(str(expected), str(actual), part.toString());
      assertTrue(actual.size() > 1, "the filesystem leaves holes: " + part);
      long data = actual.stream().mapToLong(r -> r[1] - r[0]).sum();
      long du = Long.parseLong(Run.cmd("stat", "-c", "%b", part.toString()).ok().out().trim()) * 512;
      assertTrue(du >= data && du < data + 4096, part + ": st_blocks " + du + " for " + data + " bytes of data");
    }
  }

  @Test
  void infoJsonListsThePartitionsWithTheirFiles() {
    String json = Run.vmafs("info", "--json", archive.toString()).ok().out();
    String script = "import json,sys\n"
        + "for d in json.load(sys.stdin)['devices']:\n"
        + "  t = d['partition_table']\n"
        + "  print(d['name'], t['scheme'], t['sector_size'], len(t['problems']))\n"
        + "  for p in t['partitions']:\n"
        + "    print(' ', p['number'], p['kind'], p['type'], p['type_name'], repr(p['name']), p['file'],"
        + " p['start'], p['size'])\n";
    Path in = dir.resolve("info.json");
    write(in, json);
    String out = Run.exec(List.of("/usr/bin/python3", "-c", script), in, Map.of()).ok().out();
    assertEquals("drive-scsi0 mbr 512 0\n"
        + "  1 primary 0x83 Linux '' " + MBR_DISK + ".p1 " + MBR_P1[0] * 512 + " " + MBR_P1[1] * 512 + "\n"
        + "  2 extended 0x05 Extended '' None " + MBR_P2[0] * 512 + " " + MBR_P2[1] * 512 + "\n"
        + "  5 logical 0x83 Linux '' " + MBR_DISK + ".p5 " + MBR_P5[0] * 512 + " " + MBR_P5[1] * 512 + "\n"
        + "  6 logical 0x0e W95 FAT16 (LBA) '' " + MBR_DISK + ".p6 " + MBR_P6[0] * 512 + " " + MBR_P6[1] * 512 + "\n"
        + "drive-scsi1 gpt 512 0\n"
        + "  1 gpt 0FC63DAF-8483-4772-8E79-3D69D8477DE4 Linux filesystem 'data' " + GPT_DISK + ".p1 "
        + GPT_P1[0] * 512 + " " + GPT_P1[1] * 512 + "\n"
        + "  2 gpt EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 Microsoft basic data 'windows' " + GPT_DISK + ".p2 "
        + GPT_P2[0] * 512 + " " + GPT_P2[1] * 512 + "\n", out);
  }

  // ---- the recipes, as nobody

  @Test
  void debugfsRdumpsAnExt4PartitionWithoutRoot() throws IOException {
    Path out = outDir("debugfs");
    String part = mnt.resolve(MBR_DISK + ".p1").toString();
    Run.Result ls = asNobody("debugfs", "-c", "-R", "ls -l /home/admin", part).ok();
    assertTrue(ls.out().contains("notes.txt"), ls.out());
    Run.Result r = asNobody("debugfs", "-c", "-R", "rdump /etc /home /empty " + out, part).ok();
    // As an ordinary user rdump cannot give the files root's owner; it says so and goes on.
    assertTrue(r.err().contains("Operation not permitted while changing ownership"), r.err());
    assertEquals(manifests.get(MBR_DISK + ".p1"), FsImages.manifest(out));
    assertEquals("nobody", Run.cmd("stat", "-c", "%U", out.resolve("etc/hostname").toString()).ok().out().trim());
    Path one = outDir("debugfs-one");
    asNobody("debugfs", "-c", "-R", "dump /home/admin/projects/data.bin " + one.resolve("data.bin"), part).ok();
    assertEquals(Images.sha256(dir.resolve("src/p1/home/admin/projects/data.bin")), Images.sha256(one.resolve("data.bin")));
  }

  @Test
  void sevenZipExtractsExt4FatAndNtfsWithoutRoot() throws IOException {
    for (String p : List.of(MBR_DISK + ".p5", MBR_DISK + ".p6", GPT_DISK + ".p2")) {
      Path out = outDir("7z-" + p);
      asNobody("7z", "x", "-o" + out, mnt.resolve(p).toString()).ok();
      assertEquals(manifests.get(p), FsImages.manifest(out), p);
    }
    // One file out of a partition, by its path.
    Path one = outDir("7z-one");
    asNobody("7z", "x", "-o" + one, mnt.resolve(GPT_DISK + ".p2").toString(), "home/admin/notes.txt").ok();
    assertEquals(List.of("home/admin/notes.txt"), relativeFiles(one));
    String listing = asNobody("7z", "l", mnt.resolve(MBR_DISK + ".p6").toString()).ok().out();
    assertTrue(listing.contains("Type = FAT"), listing);
  }

  @Test
  void xfsDbListsAndTheRecipeCopiesFilesWithoutRoot() throws IOException {
    String part = mnt.resolve(GPT_DISK + ".p1").toString();
    String ls = asNobody("xfs_db", "-r", "-c", "ls /home/admin/projects", part).ok().out();
    assertTrue(ls.contains("data.bin") && ls.contains("small.bin"), ls);
    Path out = outDir("xfs");
    String fn = recipe("xfs_get() {");
    StringBuilder script = new StringBuilder(fn).append('\n');
    for (String f : List.of("etc/hostname", "home/admin/notes.txt", "home/admin/projects/data.bin",
        "home/admin/projects/small.bin", "empty")) {
      Files.createDirectories(out.resolve(f).getParent());
      script.append("xfs_get '").append(part).append("' /").append(f).append(" '").append(out.resolve(f)).append("'\n");
    }
    Run.sh("chown -R nobody:nogroup '" + out + "'").ok();
    asNobody("bash", "-e", "-c", script.toString()).ok();
    assertEquals(manifests.get(GPT_DISK + ".p1"), FsImages.manifest(out));
    Run.Result missing = asNobody("bash", "-c", fn + "\nxfs_get '" + part + "' /no/such " + out.resolve("x"));
    assertEquals(1, missing.code(), missing.err());
    assertTrue(missing.err().contains("xfs_get: /no/such: not found"), missing.err());
  }

  @Test
  void xfsMetadumpMakesAMetadataImageWithoutRoot() throws IOException {
    String part = mnt.resolve(GPT_DISK + ".p1").toString();
    Path out = outDir("metadump");
    asNobody("xfs_metadump", "-o", part, out.resolve("p1.metadump").toString()).ok();
    asNobody("xfs_mdrestore", out.resolve("p1.metadump").toString(), out.resolve("p1.img").toString()).ok();
    asNobody("xfs_repair", "-n", "-f", out.resolve("p1.img").toString()).ok();
    String ls = asNobody("xfs_db", "-r", "-c", "ls /etc", out.resolve("p1.img").toString()).ok().out();
    assertTrue(ls.contains("hostname"), ls);
  }

  /** The recipes run as another user indeed: without allow_other that user could not read the mount. */
  @Test
  void theRecipesReallyRunAsAnotherUser() throws IOException {
    assertEquals("65534", asNobody("id", "-u").ok().out().trim());
    Path own = dir.resolve("mnt-own");
    try (Mounted m = Mounted.mount(archive, own, "--log-file", dir.resolve("mount-own.log").toString())) {
      Run.Result r = asNobody("head", "-c", "1", m.file(MBR_DISK + ".p1").toString());
      assertNotEquals(0, r.code());
      assertTrue(r.err().contains("Permission denied"), r.err());
    }
    assertEquals(0, asNobody("head", "-c", "1", mnt.resolve(MBR_DISK + ".p1").toString()).code());
  }

  // ---- helpers

  /** Runs {@code cmd} as nobody:nogroup with no supplementary groups (no capabilities are kept). */
  static Run.Result asNobody(String... cmd) {
    List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"));
    c.addAll(List.of(cmd));
    return Run.exec(c, null, Map.of("HOME", "/tmp"));
  }

  /** A fresh directory that nobody owns. */
  static Path outDir(String name) throws IOException {
    Path d = Files.createDirectories(dir.resolve("out").resolve(name));
    Run.cmd("chown", "nobody:nogroup", dir.resolve("out").toString(), d.toString()).ok();
    return d;
  }

  /** The shell function of docs/recipes.md that starts with {@code head}, up to its closing brace. */
  static String recipe(String head) throws IOException {
    String doc = Files.readString(Run.ROOT.resolve("docs/recipes.md"));
    int a = doc.indexOf("\n" + head);
    assertTrue(a >= 0, head + " in docs/recipes.md");
    int b = doc.indexOf("\n}\n", a);
    return doc.substring(a + 1, b + 2);
  }

  static List<String> relativeFiles(Path root) {
    return Run.sh("cd '" + root + "' && find . -type f | sed 's|^\\./||' | sort").ok().out().lines().toList();
  }

  static String rangeSha256(Path file, long start, long size) {
    return Run.sh("dd if='" + file + "' bs=1M iflag=skip_bytes,count_bytes skip=" + start + " count=" + size
        + " status=none | sha256sum").ok().out().split(" ")[0];
  }

  static String str(List<long[]> ranges) {
    return ranges.stream().map(java.util.Arrays::toString).toList().toString();
  }

  static void write(Path p, String s) {
    try {
      Files.writeString(p, s);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
