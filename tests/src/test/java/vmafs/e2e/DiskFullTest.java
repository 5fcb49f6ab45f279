package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A full disk at every write (issue #13): the index, the spill, extract's images and convert's
 * output go to small tmpfs mounts. Each command ends with a clean one-line error (exit 5) or, for
 * the index of a mount, falls back to memory; nothing half-written is left under a final name.
 * The index used to be written through a mapping, which turned ENOSPC into SIGBUS and an
 * InternalError.
 */
class DiskFullTest {
  @TempDir static Path dir;
  static Path disk;
  static Path raw;
  static Path bigDisk;
  static Path zst;
  @TempDir Path work;
  private final List<Path> tmpfs = new ArrayList<>();

  @BeforeAll
  static void archives() throws IOException {
    // 4 GiB, every cluster listed: an index of ~460 KiB.
    disk = Images.sparse(dir.resolve("disk.raw"), 4L << 30, 20, 8);
    raw = dir.resolve("a.vma");
    Run.vmafs("create", raw.toString(), "drive-scsi0=" + disk).ok();
    bigDisk = Images.sparse(dir.resolve("big.raw"), 256L << 20, 160, 9);
    Path bigRaw = dir.resolve("big.vma");
    Run.vmafs("create", bigRaw.toString(), "drive-scsi0=" + bigDisk).ok();
    zst = dir.resolve("big.vma.zst");
    Run.sh("zstd -q --threads=2 < '" + bigRaw + "' > '" + zst + "'").ok();
  }

  private Path tmpfs(String size) throws IOException {
    Path m = Files.createDirectory(work.resolve("tmpfs-" + size + "-" + tmpfs.size()));
    Run.cmd("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", m.toString()).ok();
    tmpfs.add(m);
    return m;
  }

  @AfterEach
  void unmountTmpfs() {
    for (Path m : tmpfs) {
      new Mounted.Cleanup(work.resolve("mnt")).close();
      Run.cmd("umount", m.toString());
    }
  }

  private Run.Result vmafs(String... args) {
    return Run.exec(Run.vmafsCommand(args), null, Map.of("XDG_CACHE_HOME", work.resolve("xdg").toString()));
  }

  /** What is left on the full file system: only complete files under their final names. */
  private static List<String> left(Path m) throws IOException {
    try (Stream<Path> s = Files.walk(m)) {
      return s.filter(p -> !p.equals(m)).map(p -> m.relativize(p).toString()).sorted().toList();
    }
  }

  private static void assertCleanError(Run.Result r) {
    assertEquals(5, r.code(), "stdout: " + r.out() + "\nstderr: " + r.err());
    assertTrue(r.err().contains("vmafs: error: "), r.err());
    assertFalse(r.err().contains("Exception") || r.err().contains("at vmafs."), r.err());
  }

  @ParameterizedTest(name = "tmpfs {0}")
  @ValueSource(strings = {"16k", "64k", "256k"})
  void theIndexOnAFullDiskIsACleanError(String size) throws IOException {
    Path m = tmpfs(size);
    Run.Result r = vmafs("index", "--index-file", m.resolve("a.vmafs-index").toString(), raw.toString());
    assertCleanError(r);
    assertTrue(r.err().contains("could not save the index") || r.err().contains("cannot write the index"), r.err());
    assertTrue(List.of(List.of(), List.of("a.vmafs-index.lock")).contains(left(m)), left(m).toString());
  }

  /** Reproduction: a mount whose index filled a 64 KiB tmpfs died of SIGBUS; now it mounts from memory. */
  @Test
  void aMountWhoseIndexDoesNotFitServesFromMemory() throws IOException {
    Path m = tmpfs("64k");
    Path mnt = Files.createDirectory(work.resolve("mnt"));
    // --wait: the warning comes when the pass ends, before the command returns only then (without
    // it the pass ends behind the mount and the warning goes to the log).
    Run.Result r = vmafs("mount", "--wait", "--log-file", work.resolve("m.log").toString(), "--index-file",
        m.resolve("a.vmafs-index").toString(), raw.toString(), mnt.toString()).ok();
    assertTrue(r.err().contains("kept in memory only"), r.err());
    assertEquals(Images.sha256(disk), Images.sha256(mnt.resolve("disk-drive-scsi0.raw")));
    Run.vmafs("umount", mnt.toString()).ok();
    assertTrue(List.of(List.of(), List.of("a.vmafs-index.lock")).contains(left(m)), left(m).toString());
  }

  @ParameterizedTest(name = "tmpfs {0}")
  @ValueSource(strings = {"1m", "16m", "80m"})
  void aSpillThatDoesNotFitIsACleanError(String size) throws IOException {
    Path m = tmpfs(size);
    Run.Result r = vmafs("index", "--spill", "--index-file", m.resolve("b.vmafs-index").toString(),
        zst.toString());
    assertCleanError(r);
    assertTrue(r.err().contains("spill"), r.err());
    assertTrue(List.of(List.of(), List.of("b.vmafs-index.lock")).contains(left(m)), left(m).toString());
  }

  /**
   * The disk fills up while the spill is written (another writer takes the space after the
   * pass checked it): whichever write fails, the command ends cleanly and leaves only whole files.
   */
  @Test
  void aDiskThatFillsDuringTheSpill() throws Exception {
    Path m = tmpfs("120m");
    java.util.concurrent.ExecutorService starter = java.util.concurrent.Executors.newSingleThreadExecutor();
    CompletableFuture<Run.Result> pass = CompletableFuture.supplyAsync(() ->
        vmafs("index", "--spill", "--index-file", m.resolve("b.vmafs-index").toString(),
        zst.toString()), starter);
    starter.shutdown();
    Path filler = m.resolve("filler");
    byte[] chunk = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(filler)) {
      for (int i = 0; i < 120; i++) {
        out.write(chunk);
        Thread.sleep(20);
      }
    } catch (IOException e) {
      // ENOSPC for the filler: the spill took the space first
    }
    Run.Result r = pass.get();
    Files.delete(filler);
    if (r.code() == 0) {
      assertTrue(vmafs("index", "--spill", "--index-file", m.resolve("b.vmafs-index").toString(),
        zst.toString())
          .ok().out().contains("already up to date"), "what was saved is whole");
    } else {
      assertCleanError(r);
      assertTrue(List.of(List.of(), List.of("b.vmafs-index.lock")).contains(left(m)), left(m).toString());
    }
  }

  @ParameterizedTest(name = "tmpfs {0}")
  @ValueSource(strings = {"64k", "1m"})
  void extractOnAFullDiskIsACleanError(String size) throws IOException {
    Path m = tmpfs(size);
    assertCleanError(vmafs("extract", raw.toString(), m.resolve("out").toString()));
    assertEquals(List.of(), left(m));
    assertCleanError(vmafs("extract", zst.toString(), m.resolve("out").toString()));
    assertEquals(List.of(), left(m));
  }

  @ParameterizedTest(name = "tmpfs {0}")
  @ValueSource(strings = {"64k", "4m"})
  void convertOnAFullDiskIsACleanError(String size) throws IOException {
    Path m = tmpfs(size);
    assertCleanError(vmafs("convert", zst.toString(), "--seekable", m.resolve("out.vma.zst").toString()));
    assertEquals(List.of(), left(m));
  }
}
