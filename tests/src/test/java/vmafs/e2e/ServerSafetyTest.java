package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The background server (issue #13): the Java front end passes every option on, a server that
 * cannot log fails before it reports success, SIGTERM detaches its loop devices, and a
 * --page-cache mount stops serving cached pages once the archive changed.
 */
class ServerSafetyTest {
  @TempDir static Path dir;
  static Path disk;
  static Path raw;
  static Path zst;
  @TempDir Path work;

  @BeforeAll
  static void archives() throws IOException {
    disk = Images.sparse(dir.resolve("disk.raw"), 48L << 20, 12, 5);
    raw = dir.resolve("a.vma");
    Run.vmafs("create", raw.toString(), "drive-scsi0=" + disk).ok();
    // More than 16 MiB of stream in one frame: with --spill, random access goes to a spill file.
    Path big = Images.sparse(dir.resolve("big.raw"), 256L << 20, 160, 6);
    Path bigRaw = dir.resolve("big.vma");
    Run.vmafs("create", bigRaw.toString(), "drive-scsi0=" + big).ok();
    zst = dir.resolve("big.vma.zst");
    Run.sh("zstd -q --threads=2 < '" + bigRaw + "' > '" + zst + "'").ok();
    assertTrue(Files.size(bigRaw) > 20 << 20, "spills: " + Files.size(bigRaw));
  }

  /** Every vmafs this test starts has its own cache directory. */
  private Map<String, String> env() {
    return Map.of("XDG_CACHE_HOME", work.resolve("xdg").toString());
  }

  private Run.Result vmafs(String... args) {
    return Run.exec(Run.vmafsCommand(args), null, env());
  }

  private final List<Path> mounts = new ArrayList<>();

  private Path mountpoint(String name) throws IOException {
    Path m = Files.createDirectories(work.resolve(name));
    mounts.add(m);
    return m;
  }

  @AfterEach
  void unmount() {
    for (Path m : mounts) {
      new Mounted.Cleanup(m).close();
      Loops.cleanUnder(m);
    }
  }

  /** Reproduction: the Java front end (java -jar vmafs.jar mount) dropped --spill-max (and --spill). */
  @Test
  void theBackgroundServerGetsEveryOption() throws IOException {
    Path mnt = mountpoint("spillmax");
    Path copy = Files.copy(zst, work.resolve("b.vma.zst"));
    Run.Result r = vmafs("mount", "--spill", "--spill-max", "1M", copy.toString(), mnt.toString());
    assertEquals(5, r.code(), r.err());
    assertTrue(r.err().contains("spill limit"), r.err());
    assertFalse(Mounted.isMounted(mnt));
  }

  /** Reproduction: a log that could not be opened ended the server after success was reported. */
  @Test
  void aServerThatCannotLogFailsBeforeItReportsSuccess() throws IOException {
    Path mnt = mountpoint("nolog");
    Path notADir = Files.writeString(work.resolve("file"), "x");
    Run.Result r = vmafs("mount", "--log-file", notADir.resolve("mount.log").toString(),
        raw.toString(), mnt.toString());
    assertEquals(5, r.code(), "stdout: " + r.out() + "\nstderr: " + r.err());
    assertTrue(r.err().contains("cannot open the log file"), r.err());
    assertFalse(Mounted.isMounted(mnt), "nothing is mounted");
  }

  /** A link planted as the log file is not followed. */
  @Test
  void theLogFileIsNeverALink() throws IOException {
    Path mnt = mountpoint("loglink");
    Path victim = Files.writeString(work.resolve("victim"), "precious");
    Path log = work.resolve("mount.log");
    Files.createSymbolicLink(log, victim);
    Run.Result r = vmafs("mount", "--log-file", log.toString(), raw.toString(), mnt.toString());
    assertEquals(5, r.code(), r.err());
    assertEquals("precious", Files.readString(victim));
  }

  /**
   * Reproduction: the default log (in the cache directory) was opened without O_NOFOLLOW, so a
   * link planted there made the server append its output to the link's target.
   */
  @Test
  void theDefaultLogFileIsNeverALinkEither() throws IOException {
    Path mnt = mountpoint("defaultlog");
    Path victim = Files.writeString(work.resolve("victim"), "precious");
    Path logDir = Files.createDirectories(work.resolve("xdg/vmafs/log"));
    Files.setPosixFilePermissions(logDir.getParent(), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    String name = mnt.toAbsolutePath().normalize().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    Files.createSymbolicLink(logDir.resolve("mount" + name + ".log"), victim);
    Run.Result r = vmafs("mount", raw.toString(), mnt.toString());
    assertEquals(5, r.code(), "stdout: " + r.out() + "\nstderr: " + r.err());
    assertTrue(r.err().contains("cannot open the log file " + logDir.resolve("mount" + name + ".log")), r.err());
    assertFalse(Mounted.isMounted(mnt), "nothing is mounted");
    assertEquals("precious", Files.readString(victim));
  }

  /** The server process of a mount (found by its unique mount point), if running. */
  private static Optional<ProcessHandle> server(Path mnt) {
    String m = mnt.toString();
    return ProcessHandle.allProcesses().filter(p -> p.info().arguments()
        .map(a -> List.of(a).contains("--daemon-child") && List.of(a).contains(m)).orElse(false))
        .findFirst();
  }

  /** Reproduction: SIGTERM to the server left its --loop devices attached. */
  @Test
  void sigtermDetachesTheLoopDevices() throws Exception {
    Path mnt = mountpoint("loop");
    Path log = work.resolve("loop.log");
    vmafs("mount", "--loop", "--log-file", log.toString(), raw.toString(), mnt.toString()).ok();
    List<Loops.Loop> attached = Loops.under(mnt);
    assertFalse(attached.isEmpty(), "attached");
    ProcessHandle p = server(mnt).orElseThrow();
    Run.cmd("kill", "-TERM", Long.toString(p.pid())).ok();
    p.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertFalse(Mounted.isMounted(mnt));
    // A loop device left attached after the lazy unmount shows its file as "/disk-…" (outside any
    // mount), so look at the devices themselves.
    List<String> left = new ArrayList<>();
    for (Loops.Loop l : attached) {
      Path backing = Path.of("/sys/block", l.name(), "loop/backing_file");
      if (Files.exists(backing) && Files.readString(backing).strip().endsWith("disk-drive-scsi0.raw")) {
        left.add(l.device());
        Run.cmd("losetup", "-d", l.device()); // do not leave it to the next test
      }
    }
    assertEquals(List.of(), left, "loop devices left attached; log: " + Files.readString(log));
  }

  /** Reproduction: --page-cache kept serving cached pages after the archive changed. */
  @Test
  void aPageCacheMountStopsServingCachedPagesWhenTheArchiveChanges() throws Exception {
    Path mnt = mountpoint("pagecache");
    Path copy = Files.copy(raw, work.resolve("c.vma"));
    vmafs("mount", "--page-cache", "--log-file", work.resolve("pc.log").toString(), copy.toString(),
        mnt.toString()).ok();
    Path image = mnt.resolve("disk-drive-scsi0.raw");
    assertEquals(Images.sha256(disk), Images.sha256(image)); // now in the page cache
    Files.write(copy, new byte[512], java.nio.file.StandardOpenOption.APPEND);
    Mounted.sleep(2500); // the watcher looks once a second
    IOException e = assertThrows(IOException.class, () -> {
      try (InputStream in = Files.newInputStream(image)) {
        in.readAllBytes();
      }
    });
    assertTrue(String.valueOf(e.getMessage()).contains("Input/output error"), e.toString());
  }
}
