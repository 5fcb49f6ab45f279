package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stress (issue #13): the server SIGKILLed in the middle of its decode pass, on a mount point
 * that already holds a dead mount of an earlier killed server. The next mount must detach the dead
 * mount, ignore whatever the killed pass left half-written, rebuild the index and serve the right
 * bytes; nothing half-written may sit under a final name (the index and the spill are renamed
 * into place only when complete), and the temporaries the killed pass left are removed.
 */
class KilledDuringPassTest {
  @TempDir Path dir;

  @Test
  void theNextMountCleansUpAndRebuilds() throws Exception {
    Path disk = dir.resolve("disk.raw");
    CompressedTest.semiCompressible(disk, 160L << 20, 64L << 20);
    Path raw = dir.resolve("killed.vma");
    Run.vmafs("create", raw.toString(), "drive-scsi0=" + disk).ok();
    Path archives = Files.createDirectories(dir.resolve("archives"));
    // Plain gzip has no restart points: the whole stream is spilled, the slowest pass there is.
    Path gz = archives.resolve("killed.vma.gz");
    Run.sh("gzip -1 < '" + raw + "' > '" + gz + "'").ok();
    Isolated vmafs = new Isolated(dir);
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    try (Mounted.Cleanup cleanup = new Mounted.Cleanup(mnt)) {
      // 1. A dead mount: a server killed while serving.
      Process serving = vmafs.start(dir.resolve("serving.log"), "mount", "-f", "--no-save-index",
          raw.toString(), mnt.toString());
      try {
        MountTest.waitForFile(mnt.resolve("disk-drive-scsi0.raw"));
      } finally {
        serving.destroyForcibly();
        serving.waitFor(30, TimeUnit.SECONDS);
      }
      assertTrue(Run.cmd("stat", "-f", mnt.toString()).err().contains("not connected"),
          "expected a dead mount");

      // 2. A server killed in the middle of its decode pass.
      Process passing = vmafs.start(dir.resolve("passing.log"), "mount", "-f", gz.toString(), mnt.toString());
      try {
        waitForPartialOutput(passing, List.of(archives, vmafs.cacheDir()), gz);
      } finally {
        passing.destroyForcibly();
        passing.waitFor(30, TimeUnit.SECONDS);
      }
      List<String> leftovers = files(List.of(archives, vmafs.cacheDir()), gz);
      System.out.println("left by the killed pass: " + leftovers);

      // 3. The next mount: dead mount detached, index rebuilt, the source's bytes.
      try (Mounted.Cleanup m = vmafs.mount(gz, mnt)) {
        assertEquals(Images.sha256(disk), Images.sha256(mnt.resolve("disk-drive-scsi0.raw")));
      }
      // Remounted from what the second mount saved: complete files under their final names.
      try (Mounted.Cleanup m = vmafs.mount(gz, mnt)) {
        assertEquals(Images.sha256(disk), Images.sha256(mnt.resolve("disk-drive-scsi0.raw")));
      }
      List<String> after = files(List.of(archives, vmafs.cacheDir()), gz);
      System.out.println("after the remounts: " + after);
      assertTrue(leftovers.stream().anyMatch(f -> f.startsWith(".killed.vma.gz.")),
          "the killed pass left its temporaries: " + leftovers);
      // The pass that rebuilt the index (under the lock, so no other pass was writing) removed them.
      assertTrue(after.stream().noneMatch(f -> f.startsWith(".")), "temporaries of the killed pass: " + after);
    }
  }

  /** Waits until the pass has written at least 8 MiB of some file (its spill) and is still running. */
  private static void waitForPartialOutput(Process p, List<Path> dirs, Path archive) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        fail("the server exited (" + p.exitValue() + ") before it could be killed during its pass");
      }
      for (Path d : dirs) {
        try (Stream<Path> all = Files.walk(d)) {
          if (all.filter(f -> !f.equals(archive) && Files.isRegularFile(f))
              .anyMatch(f -> f.toFile().length() > (8 << 20))) {
            return;
          }
        }
      }
      Thread.sleep(20);
    }
    fail("the decode pass wrote nothing within two minutes");
  }

  private static List<String> files(List<Path> dirs, Path archive) throws IOException {
    List<String> out = new java.util.ArrayList<>();
    for (Path d : dirs) {
      try (Stream<Path> all = Files.walk(d)) {
        all.filter(f -> !f.equals(archive) && Files.isRegularFile(f))
            .forEach(f -> out.add(d.relativize(f) + " (" + f.toFile().length() + " bytes)"));
      }
    }
    return out;
  }
}
