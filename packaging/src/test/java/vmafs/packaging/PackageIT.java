package vmafs.packaging;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cli.Main;

/**
 * The Debian package as an admin gets it: its control data and files, lintian, its dependencies on
 * this Debian, and the installed files at work (unpacked with {@code dpkg --root} into a scratch
 * root): {@code vmafs --version}, a mount of the sample backup, and the same mount through
 * mount(8) and mount.fuse3 with the installed launcher on the helpers' PATH.
 */
class PackageIT {
  static final String SAMPLE = "samples/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst";
  static final Path REPO = Path.of(System.getProperty("vmafs.root", "..")).toAbsolutePath().normalize();

  @TempDir static Path dir;
  static Path deb;
  static Path root;
  static Path cache;

  @BeforeAll
  static void installIntoAScratchRoot() throws IOException {
    Path target = Path.of(System.getProperty("vmafs.deb.dir", "target"));
    try (Stream<Path> s = Files.list(target)) {
      List<Path> debs = s.filter(p -> p.getFileName().toString().matches("vmafs_.*_all\\.deb")).toList();
      assertEquals(1, debs.size(), "one package in " + target + ": " + debs);
      deb = debs.get(0);
    }
    root = dir.resolve("root");
    cache = Files.createDirectories(dir.resolve("cache"));
    Path admin = Files.createDirectories(root.resolve("var/lib/dpkg"));
    Files.createDirectories(admin.resolve("info"));
    Files.createDirectories(admin.resolve("updates"));
    Files.writeString(admin.resolve("status"), "");
    // --force-depends: the scratch root has no Java or fuse3 of its own; the host's are used.
    sh("dpkg", "--root=" + root, "--force-depends", "--force-not-root", "--log=/dev/null", "-i", deb.toString()).ok();
  }

  @AfterAll
  static void noServerLeftBehind() {
    killServersUnder(dir);
  }

  @Test
  void controlFieldsNameTheRuntimeBothDebianReleasesHave() {
    Result f = sh("dpkg-deb", "--field", deb.toString(), "Package", "Version", "Architecture", "Depends").ok();
    assertTrue(f.out.contains("Package: vmafs\n"), f.out);
    assertTrue(f.out.contains("Architecture: all\n"), f.out);
    // Debian 12 has default-jre-headless 2:1.17 (OpenJDK 17), Debian 13 2:1.21 (OpenJDK 21, which
    // also provides java17-runtime-headless). fuse3 everywhere; the libfuse3 binding loads Debian
    // 13's libfuse3.so.4 (libfuse3-4) or Debian 12's libfuse3.so.3 (libfuse3-3); libfuse2t64 and
    // libfuse2 are for the fallback backend.
    assertTrue(f.out.contains("Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, fuse3,"
        + " libfuse3-4 | libfuse3-3 | libfuse2t64 | libfuse2\n"), f.out);
    String debVersion = f.out.lines().filter(l -> l.startsWith("Version: ")).findFirst().orElseThrow().substring(9);
    assertTrue(debVersion.matches("\\d+\\.\\d+\\.\\d+(~SNAPSHOT)?"), debVersion);
    String changelog = sh("sh", "-c", "zcat " + root.resolve("usr/share/doc/vmafs/changelog.gz")).ok().out;
    assertTrue(changelog.startsWith("vmafs (" + debVersion + ") "), changelog);
  }

  @Test
  void installsTheLauncherTheJarAManPagePerCommandAndCompletion() throws IOException {
    String contents = sh("dpkg-deb", "--contents", deb.toString()).ok().out;
    assertTrue(contents.lines().anyMatch(l -> l.startsWith("-rwxr-xr-x root/root") && l.endsWith(" ./usr/bin/vmafs")), contents);
    for (String f : List.of("usr/share/vmafs/vmafs.jar", "usr/share/bash-completion/completions/vmafs",
        "usr/share/doc/vmafs/copyright", "usr/share/doc/vmafs/changelog.gz",
        "usr/share/doc/vmafs/examples/vmafs@.service", "usr/share/doc/vmafs/examples/fstab")) {
      assertTrue(Files.isRegularFile(root.resolve(f)), f);
    }
    List<String> pages = new ArrayList<>(List.of("vmafs"));
    Main.commandLine().getSubcommands().values().stream().distinct()
        .forEach(c -> pages.add("vmafs-" + c.getCommandName()));
    for (String page : pages) {
      Path p = root.resolve("usr/share/man/man1/" + page + ".1.gz");
      assertTrue(Files.isRegularFile(p), "man page " + p);
      Result man = sh("sh", "-c", "MANWIDTH=80 man --warnings -l '" + p + "'").ok();
      assertTrue(man.out.contains(page.toUpperCase()) && man.out.contains("SYNOPSIS"), man.out);
      assertEquals("", man.err, "man's warnings for " + page);
    }
    // The completion knows the commands: what bash offers after "vmafs mo<TAB>".
    Result c = sh("bash", "-c", "source '" + root.resolve("usr/share/bash-completion/completions/vmafs")
        + "'; COMP_WORDS=(vmafs mo); COMP_CWORD=1; COMP_LINE='vmafs mo'; COMP_POINT=8;"
        + " _complete_vmafs vmafs mo vmafs; echo \"${COMPREPLY[@]}\"").ok();
    assertEquals("mount", c.out.trim());
  }

  @Test
  void lintianReportsNoErrorsAndNoWarnings() {
    Result r = sh("lintian", "--fail-on", "error,warning", deb.toString());
    assertEquals(0, r.code, r.out + r.err);
    assertFalse(r.out.lines().anyMatch(l -> l.startsWith("E: ") || l.startsWith("W: ")), r.out);
  }

  @Test
  void itsDependenciesAreSatisfiedOnThisDebian() {
    Result r = sh("apt-get", "install", "--simulate", "--no-install-recommends", deb.toString());
    assertEquals(0, r.code, r.out + r.err);
    assertTrue(r.out.contains("Inst vmafs "), r.out);
  }

  @Test
  void theInstalledLauncherRunsTheInstalledJar() {
    Result v = installed("--version").ok();
    List<String> lines = v.out.lines().toList();
    assertEquals("vmafs " + lines.get(0).split(" ")[1] + " (" + root.resolve("usr/share/vmafs/vmafs.jar") + ")",
        lines.get(0), "the jar under the scratch root, not a build: " + v.out);
    for (String component : List.of("Java ", "FUSE libfuse3.so.", "libzstd 1.", "aircompressor ", "jnr-ffi ")) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(component)), component + " in " + v.out);
    }
    String launcher = read(root.resolve("usr/bin/vmafs"));
    assertFalse(launcher.contains("mvn"), "the installed launcher never builds");
  }

  @Test
  void theInstalledFilesMountTheSample() throws IOException {
    Path archive = dir.resolve("vzdump-qemu-100-2026_11_22-12_00_00.vma.zst");
    Files.copy(REPO.resolve(SAMPLE), archive);
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    try {
      installed("mount", archive.toString(), mnt.toString()).ok();
      assertTrue(read(mnt.resolve("qemu-server.conf")).contains("name: sample-vm"));
      assertEquals(64L << 20, Files.size(mnt.resolve("disk-drive-scsi0.raw")));
      installed("umount", mnt.toString()).ok();
      assertFalse(mounted(mnt));

      // mount(8) -> mount.fuse3 -> 'vmafs ARCHIVE MOUNTPOINT -o ro,allow_other,...' with mount's
      // restricted PATH, which finds the installed launcher in /usr/local/bin: a private mount
      // namespace gives this test its own /usr/local/bin, so the host's is never touched.
      Result m = sh("unshare", "--mount", "--propagation", "private", "bash", "-euc", String.join("\n",
          "mount -t tmpfs tmpfs /usr/local/bin",
          "ln -s '" + root.resolve("usr/bin/vmafs") + "' /usr/local/bin/vmafs",
          "trap 'fusermount3 -u -z " + mnt + " 2>/dev/null || true' EXIT",
          "mount -t fuse.vmafs -o ro,allow_other,nofail,nosuid,nodev '" + archive + "' '" + mnt + "'",
          "grep ' " + mnt + " ' /proc/self/mountinfo",
          "head -c 4 '" + mnt + "/disk-drive-scsi0.raw' | od -An -tx1",
          "umount '" + mnt + "'",
          "! grep ' " + mnt + " ' /proc/self/mountinfo"));
      assertEquals(0, m.code, m.out + m.err);
      assertTrue(m.out.contains("fuse.vmafs " + archive + " "), m.out);
      assertTrue(m.out.contains(" ro,nosuid,nodev"), m.out);
    } finally {
      if (mounted(mnt)) {
        sh("fusermount3", "-u", "-z", mnt.toString());
      }
    }
  }

  // ---- helpers ----

  record Result(int code, String out, String err) {
    Result ok() {
      assertEquals(0, code, () -> "stdout: " + out + "\nstderr: " + err);
      return this;
    }
  }

  /** The installed /usr/bin/vmafs, with a cache of its own. */
  static Result installed(String... args) {
    List<String> cmd = new ArrayList<>(List.of(root.resolve("usr/bin/vmafs").toString()));
    cmd.addAll(List.of(args));
    return exec(cmd, Map.of("XDG_CACHE_HOME", cache.toString()));
  }

  static Result sh(String... cmd) {
    return exec(List.of(cmd), Map.of("XDG_CACHE_HOME", cache.toString()));
  }

  static Result exec(List<String> cmd, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    pb.environment().remove("VMAFS_JAR");
    try {
      Process p = pb.start();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread t = new Thread(() -> copy(p.getErrorStream(), err));
      t.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("timed out: " + cmd);
      }
      t.join();
      return new Result(p.exitValue(), out, err.toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("cannot run " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream to) {
    try {
      in.transferTo(to);
    } catch (IOException e) {
      // process ended
    }
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static boolean mounted(Path mnt) {
    return sh("mountpoint", "-q", mnt.toString()).code == 0;
  }

  /** vmafs servers started by this test (their command line names its temp dir), by pid. */
  static void killServersUnder(Path dir) {
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains("vmafs") && c.contains(dir.toString())).orElse(false))
        .forEach(ProcessHandle::destroy);
  }
}
