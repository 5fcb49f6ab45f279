package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13: {@code /usr/local/bin/vmafs} linked to a checkout that a user owns made root run that
 * user's Maven build and jar. As root, the checkout's {@code ./vmafs} runs only a tree that nobody
 * but root can change. Each case is a copy of the launchers with the built jar (newer than any
 * source, so nothing needs building) that then runs {@code vmafs --version}, as root.
 */
class LauncherAsRootTest {
  private static final String REFUSED = "refusing to build or run this checkout as root";
  @TempDir Path dir;

  private static Path checkout(Path parent) throws IOException {
    Path co = Files.createDirectories(parent.resolve("checkout"));
    Files.copy(Run.ROOT.resolve("vmafs"), co.resolve("vmafs"), StandardCopyOption.COPY_ATTRIBUTES);
    Path sh = Files.createDirectories(co.resolve("cli/src/main/sh"));
    Files.copy(Run.ROOT.resolve("cli/src/main/sh/vmafs"), sh.resolve("vmafs"), StandardCopyOption.COPY_ATTRIBUTES);
    Files.copy(Run.JAR, Files.createDirectories(co.resolve("cli/target")).resolve("vmafs.jar")); // last: newest
    return co;
  }

  private static Run.Result version(Path co) {
    return Run.exec(List.of(co.resolve("vmafs").toString(), "--version"), null, Map.of());
  }

  private static void assertRefused(Run.Result r, Path culprit) {
    assertEquals(5, r.code(), "stdout: " + r.out() + "\nstderr: " + r.err());
    assertTrue(r.err().contains(REFUSED) && r.err().contains(culprit + " (owner "), r.err());
    assertEquals("", r.out(), "the jar did not run");
  }

  @Test
  void aTreeOnlyRootCanChangeRuns() throws IOException {
    assertEquals("0", Run.cmd("id", "-u").ok().out().trim(), "runs as root");
    Run.Result r = version(checkout(dir)).ok();
    assertTrue(r.out().startsWith("vmafs "), r.out());
  }

  @Test
  void aTreeOwnedByAUserIsRefused() throws IOException {
    Path co = checkout(dir);
    Run.cmd("chown", "-R", "65534:65534", co.toString()).ok();
    // Whatever the tree's owner put there: here a build would be due, too.
    Files.writeString(co.resolve("pom.xml"), "<project/>");
    assertRefused(version(co), co);
  }

  @Test
  void aFileOthersMayWriteIsRefused() throws IOException {
    Path co = checkout(dir);
    Path jar = co.resolve("cli/target/vmafs.jar");
    Run.cmd("chmod", "o+w", jar.toString()).ok();
    assertRefused(version(co), jar);
  }

  @Test
  void aDirectoryAboveOwnedByAUserIsRefused() throws IOException {
    Path theirs = Files.createDirectory(dir.resolve("home-of-someone"));
    Path co = checkout(theirs);
    Run.cmd("chown", "65534:65534", theirs.toString()).ok();
    assertRefused(version(co), theirs);
  }
}
