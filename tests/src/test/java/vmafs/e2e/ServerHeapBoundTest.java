package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #11: the server JVM's maximum heap follows --cache-size (cache + a 96 MiB margin + room
 * for the index pass, 64 MiB of it for a compressed archive's recent output, docs/design.md "Memory") instead of the JVM's default of a quarter of RAM,
 * whichever way the server starts: the launcher script in the background or with -f, or the Java
 * front end ({@code java -jar vmafs.jar mount}). Checked on the running server's command line and
 * on the JVM's own MaxHeapSize, which the server reports in its status.
 */
class ServerHeapBoundTest {
  private static final Path LAUNCHER = Run.ROOT.resolve("cli/src/main/sh/vmafs");
  private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
  @TempDir static Path dir;
  static Path archive;
  @TempDir Path work;
  private final List<Path> mounts = new ArrayList<>();

  @BeforeAll
  static void archive() throws IOException {
    Path disk = Images.sparse(dir.resolve("disk.raw"), 32L << 20, 8, 3);
    Path vma = dir.resolve("a.vma");
    Run.vmafs("create", vma.toString(), "drive-scsi0=" + disk).ok();
    archive = dir.resolve("a.vma.zst");
    Run.sh("zstd -q --threads=2 < '" + vma + "' > '" + archive + "'").ok();
  }

  @AfterEach
  void unmount() {
    mounts.forEach(m -> new Mounted.Cleanup(m).close());
  }

  private Path mountpoint(String name) throws IOException {
    Path m = Files.createDirectories(work.resolve(name));
    mounts.add(m);
    return m;
  }

  private Map<String, String> env(String javaOpts) {
    return Map.of("XDG_CACHE_HOME", work.resolve("xdg").toString(), "VMAFS_JAR", Run.JAR.toString(),
        "JAVA", JAVA.toString(), "VMAFS_JAVA_OPTS", javaOpts);
  }

  private static List<String> launcher(String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", LAUNCHER.toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The last -Xmx on a process's command line, in MiB (the JVM takes the last one). */
  static long xmxMib(long pid) throws IOException {
    String[] args = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).split("\0");
    return xmxMib(List.of(args));
  }

  private static long xmxMib(List<String> args) {
    long mib = -1;
    for (String a : args) {
      if (a.startsWith("-Xmx")) {
        assertTrue(a.endsWith("m"), a);
        mib = Long.parseLong(a.substring(4, a.length() - 1));
      }
    }
    assertNotEquals(-1, mib, "no -Xmx in " + args);
    return mib;
  }

  static long jsonNumber(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*(\\d+)").matcher(json);
    assertTrue(m.find(), field + " in " + json);
    return Long.parseLong(m.group(1));
  }

  /** The server's own MaxHeapSize, through {@code vmafs status --json}. */
  private long reportedHeap(Path mnt) {
    return jsonNumber(Run.vmafs("status", "--json", mnt.toString()).ok().out(), "max_heap_bytes");
  }

  @Test
  void theLaunchersBackgroundServerGetsCachePlusMargin() throws IOException {
    Path mnt = mountpoint("bg");
    Run.Result r = Run.exec(launcher("mount", "--json", "--cache-size=40M", archive.toString(),
        mnt.toString()), null, env("")).ok();
    long pid = jsonNumber(r.out(), "pid");
    assertEquals(40 + 96 + 64, xmxMib(pid));
    assertEquals(200L << 20, reportedHeap(mnt));
    // Still a working mount.
    assertEquals(32L << 20, Files.size(mnt.resolve("disk-drive-scsi0.raw")));
  }

  @Test
  void theLaunchersForegroundServerGetsItToo() throws Exception {
    Path mnt = mountpoint("fg");
    ProcessBuilder pb = new ProcessBuilder(launcher("mount", "-f", "--cache-size", "1GiB",
        archive.toString(), mnt.toString())).redirectErrorStream(true)
        .redirectOutput(work.resolve("fg.log").toFile());
    pb.environment().putAll(env(""));
    Process p = pb.start();
    try {
      for (int i = 0; i < 600 && !Mounted.isMounted(mnt) && p.isAlive(); i++) {
        Thread.sleep(100);
      }
      assertTrue(Mounted.isMounted(mnt), Files.readString(work.resolve("fg.log")));
      // The launcher execs the JVM: same process.
      assertEquals(1024 + 96 + 64, xmxMib(p.pid()));
      assertEquals(1184L << 20, reportedHeap(mnt));
    } finally {
      new Mounted.Cleanup(mnt).close();
      p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      p.destroyForcibly();
    }
  }

  @Test
  void theJavaFrontEndsServerGetsItToo() throws IOException {
    Path mnt = mountpoint("java");
    // An even number of MiB: the JVM rounds its maximum heap up to its 2 MiB alignment.
    Run.Result r = Run.exec(Run.vmafsCommand("mount", "--json", "--cache-size", "1536k",
        archive.toString(), mnt.toString()), null, env("")).ok();
    long pid = jsonNumber(r.out(), "pid");
    assertEquals(2 + 96 + 64, xmxMib(pid), "1.5 MiB rounds up to 2 MiB");
    assertEquals(162L << 20, reportedHeap(mnt));
  }

  @Test
  void anXmxOfTheUsersWins() throws IOException {
    Path mnt = mountpoint("user");
    Run.exec(launcher("mount", archive.toString(), mnt.toString()), null, env("-Xmx300m")).ok();
    assertEquals(300L << 20, reportedHeap(mnt));
  }

  /**
   * The launcher reads --cache-size as the server does (Units.parseSize; ServerOptionsTest checks
   * the Java side with the same figures), and adds room for the pass of a large archive. Run with
   * a stand-in for java that prints its arguments, so no server starts.
   */
  @Test
  void theLauncherParsesSizesAsTheServerDoes() throws IOException {
    Path fake = work.resolve("bin/java");
    Files.createDirectories(fake.getParent());
    Files.writeString(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    // The archive is a .vma.zst: 64 MiB for its pass's recent output on top of cache and margin.
    Map<String, Long> expected = Map.of("40M", 200L, "40m", 200L, "40MiB", 200L, "40MB", 200L,
        "41943040", 200L, "1G", 1184L, "1gib", 1184L, "512k", 161L, "1T", (1L << 20) + 160);
    for (Map.Entry<String, Long> e : expected.entrySet()) {
      assertEquals(e.getValue(), xmxMib(fakeRun(fake, "mount", "-f", "--cache-size", e.getKey(),
          archive.toString(), "/nonexistent")), e.getKey());
      assertEquals(e.getValue(), xmxMib(fakeRun(fake, "nbd", "-f", "--cache-size=" + e.getKey(),
          archive.toString())), "nbd " + e.getKey());
    }
    List<String> dflt = fakeRun(fake, "mount", "-f", archive.toString(), "/nonexistent");
    assertEquals(256 + 96 + 64, xmxMib(dflt));
    assertTrue(dflt.stream().anyMatch(a -> a.startsWith("-XX:MaxDirectMemorySize=")), dflt.toString());
    // An 8000 MiB .gz (sparse) adds 1/8 of its size for the pass's windows; other archives 1/2048.
    Path gz = work.resolve("big.vma.gz");
    Path zst = work.resolve("big.vma.zst");
    for (Path p : List.of(gz, zst)) {
      try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
        f.setLength(8000L << 20);
      }
    }
    assertEquals(256 + 96 + 1000 + 64, xmxMib(fakeRun(fake, "mount", "-f", gz.toString(), "/nonexistent")));
    assertEquals(256 + 96 + 3 + 64, xmxMib(fakeRun(fake, "mount", "-f", zst.toString(), "/nonexistent")));
    // An archive in S3 or behind a URL, of unknown size: room for its pass's recent output and
    // REMOTE_PASS_ROOM, whatever its name; an --endpoint-url is no archive.
    for (String url : List.of("s3://dumps/a.vma.gz", "https://example.org/a.vma", "http://h/a?x=1")) {
      assertEquals(40 + 96 + 64 + 256, xmxMib(fakeRun(fake, "mount", "-f", "--cache-size=40M",
          "--endpoint-url", "http://127.0.0.1:9", url, "/nonexistent")), url);
      assertEquals(40 + 96 + 64 + 256, xmxMib(fakeRun(fake, "nbd", "-f", "--cache-size", "40M", url)), url);
    }
    assertEquals(256 + 96 + 3 + 64, xmxMib(fakeRun(fake, "mount", "-f", "--endpoint-url", "http://127.0.0.1:9",
        zst.toString(), "/nonexistent")));
    // Other commands keep the JVM's default heap.
    assertTrue(fakeRun(fake, "info", archive.toString()).stream().noneMatch(a -> a.startsWith("-Xmx")));
  }

  private List<String> fakeRun(Path fake, String... args) {
    Map<String, String> env = new java.util.HashMap<>(env(""));
    env.put("JAVA", fake.toString());
    Run.Result r = Run.exec(launcher(args), null, env).ok();
    return List.of(r.out().split("\n"));
  }
}
