package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue #11: vzdump's single-frame {@code .vma.zst}, made by the Debian {@code zstd} exactly as
 * vzdump runs it (from a pipe), mounts with no spill file: reads go through restart points
 * inside the frame, saved with the index. Every vmafs here runs with its own cache directory,
 * which is checked for spill files along with the archive's directory.
 */
class RestartPointsTest {
  @TempDir static Path dir;
  static Path disk;
  static Path raw;
  static Path cacheHome;

  /** Odd-sized (a partial last cluster), 8 MiB zstd jobs over ~48 MiB of VMA stream. */
  static final long DISK_SIZE = (128L << 20) + 5000;

  @BeforeAll
  static void archives() throws IOException {
    disk = dir.resolve("disk.raw");
    CompressedTest.semiCompressible(disk, DISK_SIZE, 48L << 20);
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
      f.seek(DISK_SIZE - 3000); // data in the partial last block
      f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    }
    raw = dir.resolve("archive.vma");
    Run.vmafs("create", "--order", "shuffled", raw.toString(), "drive-scsi0=" + disk).ok();
    cacheHome = dir.resolve("xdg-cache");
  }

  /** {@code vmafs create - … | zstd OPTIONS > ARCHIVE}, as vzdump pipes its stream. */
  static Path zstd(String options) {
    Path a = dir.resolve("vzdump-qemu-111-" + options.replaceAll("[^a-z0-9]+", "_") + ".vma.zst");
    if (!Files.exists(a)) {
      Run.exec(List.of("bash", "-o", "pipefail", "-c", String.join(" ", Run.vmafsCommand("create", "-",
          "drive-scsi0=" + disk)) + " | zstd -q " + options + " > '" + a + "'"), null, Map.of()).ok();
    }
    return a;
  }

  static Map<String, String> env() {
    return Map.of("XDG_CACHE_HOME", cacheHome.toString());
  }

  static Run.Result vmafs(String... args) {
    return Run.exec(Run.vmafsCommand(args), null, env());
  }

  static String string(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": \"([^\"]*)\"").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return m.group(1);
  }

  static long number(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }

  /** Everything in the archive's directory and the cache directory that could be a spill. */
  static List<Path> spillsAndScratch() throws IOException {
    List<Path> found = new ArrayList<>();
    for (Path d : List.of(dir, cacheHome)) {
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> s = Files.walk(d)) {
        s.filter(Files::isRegularFile).filter(p -> {
          String n = p.getFileName().toString();
          return n.contains(".spill") || n.contains(".partial") || n.contains("vmafs-restart");
        }).forEach(found::add);
      }
    }
    return found;
  }

  @ParameterizedTest
  @ValueSource(strings = {"--threads=1", "--threads=2", "--rsyncable --threads=2"})
  void vzdumpArchivesMountThroughRestartPoints(String options) throws IOException {
    Path a = zstd(options);
    Run.Result index = vmafs("index", "--json", a.toString()).ok();
    assertEquals("zstd-restart-points", string(index.out(), "random_access"), index.out());
    assertTrue(number(index.out(), "random_access_points") >= 4, index.out());
    long restartBytes = number(index.out(), "random_access_bytes");
    assertTrue(restartBytes > 0 && restartBytes <= 0.03 * Files.size(a),
        restartBytes + " bytes of restart data for a " + Files.size(a) + "-byte archive");
    assertEquals(0, number(index.out(), "spill_bytes"));
    mountedImageEqualsTheSource(a);
    assertEquals(List.of(), spillsAndScratch(), "no spill file anywhere");
  }

  /**
   * zstd -19 makes 32 MiB jobs that each start with the whole 8 MiB window as prefix: restart
   * points must still fit the 3 % bound (this is the bigger archive for it). On ~80 MiB of stream
   * a job-start point costs more than the bound allows (its prefix compresses to ~3.6 MB, the
   * bound is ~1.1 MB), so the frame start may be the only point; the stream is still served
   * exactly and without a spill.
   */
  @Test
  void level19StaysWithinTheSizeBound() throws IOException {
    Path bigDisk = dir.resolve("big.raw");
    CompressedTest.semiCompressible(bigDisk, 128L << 20, 80L << 20);
    Path a = dir.resolve("vzdump-qemu-112-19.vma.zst");
    Run.exec(List.of("bash", "-o", "pipefail", "-c", String.join(" ", Run.vmafsCommand("create", "-",
        "drive-scsi0=" + bigDisk)) + " | zstd -q -19 --threads=2 > '" + a + "'"), null, Map.of()).ok();
    Run.Result index = vmafs("index", "--json", a.toString()).ok();
    assertEquals("zstd-restart-points", string(index.out(), "random_access"), index.out() + index.err());
    assertTrue(number(index.out(), "random_access_points") >= 1, index.out());
    assertTrue(number(index.out(), "random_access_bytes") <= 0.03 * Files.size(a), index.out());
    assertEquals(0, number(index.out(), "spill_bytes"), index.out());
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-19"), env())) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(bigDisk), Images.sha256(img));
      MountTest.randomReadsMatch(img, bigDisk, 2, 60);
    }
    assertEquals(List.of(), spillsAndScratch(), "no spill file anywhere");
  }

  private void mountedImageEqualsTheSource(Path a) throws IOException {
    List<long[]> uncompressedWalk;
    try (Mounted m = Mounted.mount(raw, dir.resolve("mnt-raw"), env())) {
      uncompressedWalk = MountTest.seekWalk(m.file("disk-drive-scsi0.raw"));
    }
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-" + a.getFileName()), env())) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(disk), Images.sha256(img));
      assertEquals(MountTest.render(uncompressedWalk), MountTest.render(MountTest.seekWalk(img)));
      MountTest.randomReadsMatch(img, disk, 4, 150);
      readsMatch(img, disk, new long[] {0, 1, 4095, 65535, 65536 * 7 + 13, DISK_SIZE - 5000,
          DISK_SIZE - 4097, DISK_SIZE - 1});
    }
    // A remount uses the saved restart points: no decode pass.
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt2-" + a.getFileName()), env(), "-v")) {
      assertTrue(m.errors().contains("using saved index") && !m.errors().contains("decode pass"),
          m.errors());
      MountTest.randomReadsMatch(m.file("disk-drive-scsi0.raw"), disk, 2, 50);
    }
  }

  /** Reads of up to 200 KiB at each offset (cut at the end) equal the source. */
  static void readsMatch(Path img, Path source, long[] offsets) throws IOException {
    try (RandomAccessFile a = new RandomAccessFile(img.toFile(), "r");
        RandomAccessFile b = new RandomAccessFile(source.toFile(), "r")) {
      for (long off : offsets) {
        int len = (int) Math.min(200_000, b.length() - off);
        byte[] x = new byte[len];
        byte[] y = new byte[len];
        a.seek(off);
        a.readFully(x);
        b.seek(off);
        b.readFully(y);
        assertArrayEquals(y, x, "at " + off);
      }
    }
  }

  @Test
  void aRemountDoesNotDecodeAgain() throws IOException {
    Path a = zstd("--threads=2");
    vmafs("index", a.toString()).ok();
    Run.Result r = vmafs("info", "-v", a.toString()).ok();
    assertTrue(r.err().contains("using saved index") && !r.err().contains("decode pass"), r.err());
    assertTrue(r.out().contains("reads:       zstd-restart-points"), r.out());
    Run.Result json = vmafs("info", "--json", a.toString()).ok();
    assertEquals("zstd-restart-points", string(json.out(), "random_access"));
  }

  /**
   * A window too large for restart points (zstd --long) falls back to the spill, with a warning
   * that says why and what to do; the mount still equals the source.
   */
  @Test
  void aLongWindowFallsBackToTheSpillWithAWarning() throws IOException {
    Path a = zstd("--long=27 --threads=2");
    Run.Result r = vmafs("index", "--json", a.toString()).ok();
    assertTrue(r.err().contains("window") && r.err().contains("--long") && r.err().contains("vmafs convert"),
        r.err());
    assertEquals("spill", string(r.out(), "random_access"));
    assertTrue(Files.exists(Path.of(a + ".spill")));
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-long"), env())) {
      assertEquals(Images.sha256(disk), Images.sha256(m.file("disk-drive-scsi0.raw")));
    }
    Files.delete(Path.of(a + ".spill"));
  }

  /**
   * zstd --single-thread compresses without jobs, so there are no job starts; blocks that
   * restart with the whole window are still verified points, fewer of them (within the same
   * budget). Whichever way the archive is read, the mount equals the source.
   */
  @Test
  void aSingleThreadFrameStillMountsExactly() throws IOException {
    Path a = zstd("--single-thread");
    Run.Result r = vmafs("index", "--json", a.toString()).ok();
    String method = string(r.out(), "random_access");
    assertTrue(method.startsWith("zstd-restart-points") || method.equals("spill"), r.out());
    assertTrue(number(r.out(), "random_access_bytes") <= 0.03 * Files.size(a), r.out());
    if (method.contains("spill")) {
      // Whatever part is spilled, the warning says why and what to do instead.
      assertTrue(r.err().contains("spill file") && r.err().contains("vmafs convert"), r.err());
      assertTrue(number(r.out(), "spill_bytes") > 0, r.out());
    } else {
      assertEquals(0, number(r.out(), "spill_bytes"), r.out());
    }
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-single"), env())) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(disk), Images.sha256(img));
      MountTest.randomReadsMatch(img, disk, 2, 50);
    }
  }

  @Test
  void spillWhenAsked() throws IOException {
    Path a = Files.copy(zstd("--threads=2"), dir.resolve("asked.vma.zst"));
    Run.Result r = vmafs("index", "--spill", "--json", a.toString()).ok();
    assertEquals("spill", string(r.out(), "random_access"));
    assertTrue(Files.size(Path.of(a + ".spill")) > 0);
    // Without --spill the saved (spill) index is used as it is; with --spill again too.
    assertEquals("spill", string(vmafs("index", "--json", a.toString()).ok().out(), "random_access"));
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-asked"), env())) {
      assertEquals(Images.sha256(disk), Images.sha256(m.file("disk-drive-scsi0.raw")));
    }
    Files.delete(Path.of(a + ".spill"));
  }

  /**
   * Damage behind the saved index's back (same size, same first and last 64 KiB; --ignore-mtime
   * accepts it as for a copied archive): the reads that need the damaged span fail with EIO,
   * every other read returns the source's bytes, and verify names the place.
   */
  @Test
  void aDamagedBlockAfterARestartPointGivesEio() throws IOException {
    Path a = Files.copy(zstd("--threads=2"), dir.resolve("damaged.vma.zst"));
    vmafs("index", a.toString()).ok();
    long size = Files.size(a);
    try (RandomAccessFile f = new RandomAccessFile(a.toFile(), "rw")) {
      for (long at = size * 3 / 5; at < size * 3 / 5 + 2000; at += 101) {
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x3c);
      }
    }
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-damaged"), env(), "--ignore-mtime")) {
      int failed = readEverythingOrEio(m.file("disk-drive-scsi0.raw"), disk);
      assertTrue(failed > 0, "the damage went unnoticed");
    }
    Run.Result v = vmafs("verify", a.toString());
    assertEquals(3, v.code(), v.err());
    assertTrue(v.err().matches("(?s)vmafs: error: .*offset \\d+.*") && !v.err().contains("Exception"), v.err());
  }

  /**
   * A damaged restart prefix in the saved index (it is checked when it is read, not when the
   * index is loaded): the reads of its span fail with EIO, everything else is exact.
   */
  @Test
  void aDamagedPrefixInTheSavedIndexGivesEio() throws IOException {
    Path a = Files.copy(zstd("--threads=2"), dir.resolve("prefix.vma.zst"));
    vmafs("index", a.toString()).ok();
    Path index = Path.of(a + ".vmafs-index");
    // The prefixes are the last section before the metadata (whose offset the fixed header holds).
    long metaOffset;
    try (FileChannel ch = FileChannel.open(index)) {
      java.nio.ByteBuffer fixed = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      ch.read(fixed, 0);
      metaOffset = fixed.getLong(16);
    }
    try (FileChannel ch = FileChannel.open(index, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      for (long at = metaOffset - 4096 - 20_000; at < metaOffset - 4096; at += 997) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
        ch.read(b, at);
        b.put(0, (byte) (b.get(0) ^ 0x55)).rewind();
        ch.write(b, at);
      }
    }
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-prefix"), env())) {
      int failed = readEverythingOrEio(m.file("disk-drive-scsi0.raw"), disk);
      assertTrue(failed > 0, "the damaged prefix went unnoticed");
    }
  }

  /** An archive truncated under a mount: reads fail with EIO instead of returning anything. */
  @Test
  void aTruncatedArchiveGivesEio() throws IOException {
    Path a = Files.copy(zstd("--threads=2"), dir.resolve("truncated.vma.zst"));
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-truncated"), env())) {
      try (FileChannel ch = FileChannel.open(a, StandardOpenOption.WRITE)) {
        ch.truncate(Files.size(a) / 2);
      }
      Run.Result r = Run.cmd("dd", "if=" + m.file("disk-drive-scsi0.raw"), "of=/dev/null", "bs=1M",
          "iflag=direct");
      assertNotEquals(0, r.code(), "reading a truncated archive must fail");
      assertTrue(r.err().contains("Input/output error"), r.err());
    }
    Run.Result v = vmafs("verify", a.toString());
    assertEquals(3, v.code(), v.err());
    assertTrue(v.err().contains("truncated") && v.err().contains("offset"), v.err());
  }

  /**
   * Reads the image in 1 MiB pieces: each either fails with an I/O error or equals the source,
   * never anything else. Returns how many failed.
   */
  static int readEverythingOrEio(Path img, Path source) throws IOException {
    int failed = 0;
    try (RandomAccessFile a = new RandomAccessFile(img.toFile(), "r");
        RandomAccessFile b = new RandomAccessFile(source.toFile(), "r")) {
      long size = b.length();
      byte[] x = new byte[1 << 20];
      byte[] y = new byte[1 << 20];
      for (long off = 0; off < size; off += x.length) {
        int len = (int) Math.min(x.length, size - off);
        try {
          a.seek(off);
          a.readFully(x, 0, len);
        } catch (IOException e) {
          assertTrue(e.getMessage() == null || e.getMessage().contains("Input/output error"), e.toString());
          failed++;
          continue;
        }
        b.seek(off);
        b.readFully(y, 0, len);
        assertEquals(-1, java.util.Arrays.mismatch(x, 0, len, y, 0, len), "wrong bytes served at " + off);
      }
    }
    return failed;
  }
}
