package vmafs.fs;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import vmafs.fuse.Fusermount;
import vmafs.fuse.MountTable;

final class FuseTestSupport {
  private FuseTestSupport() {}

  /** FUSE tests need a FUSE device; everything else about the host is a test failure. */
  static void assumeFuse() {
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is absent");
  }

  /** The mounts on {@code dir} that this test may have left behind. */
  static List<MountTable.Mount> mountsAt(Path dir) throws IOException {
    return MountTable.at(dir.toRealPath().getParent().resolve(dir.getFileName())).stream()
        .toList();
  }

  /** Last-resort cleanup so that a failing test does not leave a mount on a deleted directory. */
  static void forceUnmount(Path dir) {
    if (dir == null) {
      return;
    }
    Path canonical = dir.toAbsolutePath();
    while (MountTable.at(canonical).filter(MountTable.Mount::isFuse).isPresent()) {
      Fusermount.unmount(canonical, true);
    }
  }

  /** Runs a command, fails on a non-zero exit, returns its trimmed stdout. */
  static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }
}
