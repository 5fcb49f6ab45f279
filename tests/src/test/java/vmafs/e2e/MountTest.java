package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code vmafs mount} as a user runs it: real FUSE, real tools, real signals. */
class MountTest {
  @TempDir static Path dir;
  static Path disk0;
  static Path disk1;
  static Path conf;
  static Path archive;

  @BeforeAll
  static void archive() throws IOException {
    disk0 = Images.sparse(dir.resolve("disk0.raw"), 300L * 1024 * 1024 + 12345, 40, 1);
    disk1 = Images.sparse(dir.resolve("disk1.raw"), 5_000_123, 5, 2);
    conf = dir.resolve("qemu-server.conf");
    Files.writeString(conf, "name: mounted\n#qmdump#map:scsi0:drive-scsi0:local:raw:\n");
    archive = dir.resolve("vzdump-qemu-100-2026_11_22-00_00_00.vma");
    // Shuffled: clusters out of order and interleaved across drives, like a live backup.
    Run.vmafs("create", "--order", "shuffled", "-c", conf.toString(), archive.toString(),
        "drive-scsi0=" + disk0, "drive-virtio1=" + disk1).ok();
  }

  @ParameterizedTest(name = "libfuse{0}")
  @ValueSource(strings = {"3", "2"})
  void mountedFilesEqualTheSources(String fuse) throws IOException {
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-" + fuse), "--fuse=" + fuse)) {
      assertEquals(Images.sha256(disk0), Images.sha256(m.file("disk-drive-scsi0.raw")));
      assertEquals(Images.sha256(disk1), Images.sha256(m.file("disk-drive-virtio1.raw")));
      assertArrayEquals(Files.readAllBytes(conf), Files.readAllBytes(m.file("qemu-server.conf")));
      assertEquals(List.of("disk-drive-scsi0.raw", "disk-drive-virtio1.raw", "qemu-server.conf"),
          Run.cmd("ls", m.path().toString()).ok().out().lines().toList());
      assertEquals(Files.size(disk0), Files.size(m.file("disk-drive-scsi0.raw")));
      randomReadsMatch(m.file("disk-drive-scsi0.raw"), disk0, 8, 300);
    }
  }

  /**
   * Direct I/O by default (nothing of the image lands in the page cache), the page cache with
   * {@code --page-cache}; the bytes are the source's either way, on both FUSE backends.
   */
  @ParameterizedTest(name = "libfuse{0}")
  @ValueSource(strings = {"3", "2"})
  void directIoByDefaultAndThePageCacheOnRequest(String fuse) throws IOException {
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-direct-" + fuse), "--fuse=" + fuse)) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(disk0), Images.sha256(img));
      assertEquals(0, residentBytes(img), "default mount: direct I/O, nothing cached");
    }
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-cached-" + fuse), "--fuse=" + fuse, "--page-cache")) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(disk0), Images.sha256(img));
      assertTrue(residentBytes(img) >= Images.dataRanges(disk0).get(0)[1] - Images.dataRanges(disk0).get(0)[0],
          "--page-cache: what was read stays cached");
      randomReadsMatch(img, disk0, 4, 100);
    }
    Run.Result r = Run.vmafs("mount", "--page-cache", "-o", "direct_io", archive.toString(),
        Files.createDirectories(dir.resolve("mnt-contradiction")).toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--page-cache and -o direct_io contradict each other"), r.err());
    assertFalse(Mounted.isMounted(dir.resolve("mnt-contradiction")));
  }

  /** Page-cache bytes of {@code file}, from util-linux {@code fincore}. */
  static long residentBytes(Path file) {
    return Long.parseLong(Run.cmd("fincore", "--bytes", "--noheadings", "--output", "RES", file.toString())
        .ok().out().trim());
  }

  @Test
  void seekDataAndSeekHoleWalkTheDataRanges() throws IOException {
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-seek"))) {
      for (String[] f : new String[][] {{"disk-drive-scsi0.raw", disk0.toString()},
          {"disk-drive-virtio1.raw", disk1.toString()}}) {
        List<long[]> expected = Images.dataRanges(Path.of(f[1]));
        List<long[]> actual = seekWalk(m.file(f[0]));
        assertEquals(render(expected), render(actual), f[0]);
      }
    }
  }

  @Test
  void duShowsTheDataAndCpSparseMakesAnIdenticalSparseCopy() throws IOException {
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-cp"))) {
      Path img = m.file("disk-drive-scsi0.raw");
      long data = Images.dataRanges(disk0).stream().mapToLong(r -> r[1] - r[0]).sum();
      long du = Long.parseLong(Run.cmd("du", "-B1", img.toString()).ok().out().split("\\s")[0]);
      assertTrue(du >= data && du <= data + 64 * 4096, "du " + du + " vs data " + data);

      Path copy = dir.resolve("copy.raw");
      Run.cmd("cp", "--sparse=auto", img.toString(), copy.toString()).ok();
      Run.cmd("cmp", copy.toString(), disk0.toString()).ok();
      long copyDu = Long.parseLong(Run.cmd("du", "-B1", copy.toString()).ok().out().split("\\s")[0]);
      assertTrue(copyDu <= data + 64 * 4096, "copy is not sparse: du " + copyDu + " vs data " + data);
      Files.delete(copy);
    }
  }

  @Test
  void isReadOnly() throws IOException {
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-ro"))) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals("444", Run.cmd("stat", "-c", "%a", img.toString()).ok().out().trim());
      assertEquals("555", Run.cmd("stat", "-c", "%a", m.path().toString()).ok().out().trim());
      Run.Result w = Run.sh("echo x >> '" + img + "'");
      assertNotEquals(0, w.code());
      assertTrue(w.err().contains("Read-only file system") || w.err().contains("Permission denied"), w.err());
      assertNotEquals(0, Run.cmd("touch", m.file("new-file").toString()).code());
      assertNotEquals(0, Run.cmd("rm", "-f", img.toString()).code());
      assertEquals(Images.sha256(disk1), Images.sha256(m.file("disk-drive-virtio1.raw")));
    }
  }

  @Test
  void sigtermUnmountsCleanly() throws Exception {
    Path mnt = dir.resolve("mnt-term");
    Files.createDirectories(mnt);
    Process p = new ProcessBuilder(Run.vmafsCommand("mount", "-f", archive.toString(), mnt.toString()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("term.log").toFile()).start();
    try {
      waitForFile(mnt.resolve("qemu-server.conf"));
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "server did not exit on SIGTERM");
      assertFalse(Mounted.isMounted(mnt), "SIGTERM left the mount behind");
    } finally {
      p.destroyForcibly();
      Run.cmd("fusermount3", "-u", "-z", mnt.toString());
    }
  }

  @Test
  void aMountLeftDeadByAKilledServerIsRecovered() throws Exception {
    Path mnt = dir.resolve("mnt-killed");
    Files.createDirectories(mnt);
    Process p = new ProcessBuilder(Run.vmafsCommand("mount", "-f", archive.toString(), mnt.toString()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
    try {
      waitForFile(mnt.resolve("qemu-server.conf"));
      p.destroyForcibly(); // SIGKILL: no unmount happens
      p.waitFor(30, TimeUnit.SECONDS);
      // statfs: stat could be answered from the kernel's attribute cache of the dead mount.
      Run.Result stat = Run.cmd("stat", "-f", mnt.toString());
      assertTrue(stat.err().contains("not connected"), "expected a dead mount, got: " + stat.err());
      try (Mounted m = Mounted.mount(archive, mnt)) {
        assertEquals(Images.sha256(disk1), Images.sha256(m.file("disk-drive-virtio1.raw")));
      }
    } finally {
      Run.cmd("fusermount3", "-u", "-z", mnt.toString());
    }
  }

  @Test
  void incompleteArchiveIsRefusedUnlessPartial() throws IOException {
    // Cut the archive at an extent boundary halfway through: clusters go missing, as when a
    // backup was interrupted. Proxmox's 'vma verify' would even accept this file.
    Path cut = dir.resolve("cut.vma");
    try (RandomAccessFile in = new RandomAccessFile(archive.toFile(), "r");
        RandomAccessFile out = new RandomAccessFile(cut.toFile(), "rw")) {
      long keep = extentBoundaryBefore(in, in.length() / 2);
      assertTrue(keep < in.length());
      byte[] b = new byte[(int) keep];
      in.readFully(b);
      out.write(b);
    }
    Path mnt = dir.resolve("mnt-cut");
    Files.createDirectories(mnt);
    try {
      // --wait: refused before anything is mounted (without it, InstantMountTest's rules apply).
      Run.Result r = Run.vmafs("mount", "--wait", cut.toString(), mnt.toString()).exit(4);
      assertTrue(r.err().contains("missing clusters"), r.err());
      assertFalse(r.err().contains("Exception"), r.err());
      assertFalse(Mounted.isMounted(mnt));
    } finally {
      new Mounted.Cleanup(mnt).close();
    }
    try (Mounted m = Mounted.mount(cut, mnt, "--partial")) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Files.size(disk0), Files.size(img));
      Files.readAllBytes(m.file("disk-drive-virtio1.raw")); // readable: missing parts are zeros
      long du = Long.parseLong(Run.cmd("du", "-B1", img.toString()).ok().out().split("\\s")[0]);
      long full = Images.dataRanges(disk0).stream().mapToLong(r -> r[1] - r[0]).sum();
      assertTrue(du < full, "missing clusters must be holes: du " + du + " vs full data " + full);
    }
  }

  @Test
  void archiveTruncatedUnderAMountGivesIoErrorsNotWrongData() throws IOException {
    Path copy = dir.resolve("victim.vma");
    Files.copy(archive, copy);
    try (Mounted m = Mounted.mount(copy, dir.resolve("mnt-victim"), "--no-save-index")) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(disk0), Images.sha256(img));
      try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
        f.setLength(f.length() / 2);
      }
      Mounted.sleep(2500); // the watcher checks once a second
      Run.Result r = Run.cmd("dd", "if=" + img, "of=/dev/null", "bs=1M", "iflag=direct");
      assertNotEquals(0, r.code(), "reading a changed archive must fail");
      assertTrue(r.err().contains("Input/output error"), r.err());
    }
  }

  // ---- helpers ----

  static void randomReadsMatch(Path mounted, Path source, int threads, int readsPerThread) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long seed = t;
        fs.add(pool.submit(() -> {
          Random r = new Random(seed);
          try (RandomAccessFile a = new RandomAccessFile(mounted.toFile(), "r");
              RandomAccessFile b = new RandomAccessFile(source.toFile(), "r")) {
            long size = b.length();
            for (int i = 0; i < readsPerThread; i++) {
              long off = (long) (r.nextDouble() * size);
              int len = (int) Math.min(size - off, 1 + r.nextInt(300_000));
              byte[] x = new byte[len];
              byte[] y = new byte[len];
              a.seek(off);
              a.readFully(x);
              b.seek(off);
              b.readFully(y);
              assertArrayEquals(y, x, "bytes differ at offset " + off + " length " + len);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** SEEK_DATA/SEEK_HOLE ranges through the kernel (Java has no SEEK_DATA; Debian's python does). */
  static List<long[]> seekWalk(Path file) {
    String py = String.join("\n",
        "import os, sys, errno",
        "fd = os.open(sys.argv[1], os.O_RDONLY)",
        "off = 0",
        "while True:",
        "    try:",
        "        d = os.lseek(fd, off, os.SEEK_DATA)",
        "    except OSError as e:",
        "        if e.errno == errno.ENXIO: break",
        "        raise",
        "    h = os.lseek(fd, d, os.SEEK_HOLE)",
        "    print(d, h)",
        "    off = h");
    String out = Run.cmd("/usr/bin/python3", "-c", py, file.toString()).ok().out();
    return out.lines().map(l -> Arrays.stream(l.split(" ")).mapToLong(Long::parseLong).toArray()).toList();
  }

  static String render(List<long[]> ranges) {
    StringBuilder sb = new StringBuilder();
    for (long[] r : ranges) {
      sb.append(r[0]).append('-').append(r[1]).append('\n');
    }
    return sb.toString();
  }

  static void waitForFile(Path p) {
    for (int i = 0; i < 300; i++) {
      if (Files.exists(p)) {
        return;
      }
      Mounted.sleep(100);
    }
    fail("mount did not come up: " + p);
  }

  /** The largest extent boundary ≤ limit, found by walking extent headers (block_count at +6). */
  static long extentBoundaryBefore(RandomAccessFile f, long limit) throws IOException {
    f.seek(56);
    long pos = f.readInt() & 0xFFFFFFFFL; // header_size
    long last = pos;
    while (pos + 512 <= Math.min(limit, f.length())) {
      f.seek(pos + 6);
      int blocks = f.readUnsignedShort();
      last = pos;
      pos += 512 + 4096L * blocks;
      if (pos <= limit) {
        last = pos;
      }
    }
    f.seek(0);
    return last;
  }
}
