package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two mounts and an {@code index} of one archive at once (issue #13): they used to share one
 * {@code ARCHIVE.spill.partial}, so the second truncated the first's data. The pass is locked now:
 * one builds, the others wait and use what it saved, and all serve the archive's bytes.
 */
class ConcurrentIndexTest {
  @TempDir Path dir;

  /** A vmafs process started now, its stderr in a file. */
  private Process start(Map<String, String> env, Path err, String... args) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(Run.vmafsCommand(args));
    pb.environment().putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.redirectError(err.toFile());
    return pb.start();
  }

  @Test
  void twoMountsAndAnIndexOfOneArchiveAtOnce() throws Exception {
    Path disk = Images.sparse(dir.resolve("disk.raw"), 256L << 20, 160, 21);
    Path raw = dir.resolve("a.vma");
    Run.vmafs("create", "--order", "shuffled", raw.toString(), "drive-scsi0=" + disk).ok();
    Path archiveDir = Files.createDirectory(dir.resolve("archives"));
    Path zst = archiveDir.resolve("a.vma.zst");
    // One frame, spilled as --spill asks (else it is read through restart points, no spill).
    Run.sh("zstd -q --threads=2 < '" + raw + "' > '" + zst + "'").ok();
    Files.delete(raw);
    Map<String, String> env = Map.of("XDG_CACHE_HOME", dir.resolve("xdg").toString());
    Path a = Files.createDirectory(dir.resolve("mnt-a"));
    Path b = Files.createDirectory(dir.resolve("mnt-b"));
    List<Process> servers = new ArrayList<>();
    List<Path> errs = List.of(dir.resolve("a.err"), dir.resolve("b.err"), dir.resolve("i.err"));
    try (Mounted.Cleanup ca = new Mounted.Cleanup(a); Mounted.Cleanup cb = new Mounted.Cleanup(b)) {
      // Foreground servers: one JVM each, so all three passes start at the same moment.
      servers.add(start(env, errs.get(0), "mount", "-f", "-v", "--spill", zst.toString(),
          a.toString()));
      servers.add(start(env, errs.get(1), "mount", "-f", "-v", "--spill", zst.toString(),
          b.toString()));
      Process index = start(env, errs.get(2), "index", "-v", "--spill", zst.toString());
      assertTrue(index.waitFor(300, TimeUnit.SECONDS));
      assertEquals(0, index.exitValue(), Files.readString(errs.get(2)));
      for (Path m : List.of(a, b)) {
        for (int i = 0; i < 600 && !Mounted.isMounted(m); i++) {
          Mounted.sleep(100);
        }
        assertTrue(Mounted.isMounted(m), m + ": " + Files.readString(errs.get(m == a ? 0 : 1)));
      }
      String sha = Images.sha256(disk);
      assertEquals(sha, Images.sha256(a.resolve("disk-drive-scsi0.raw")));
      assertEquals(sha, Images.sha256(b.resolve("disk-drive-scsi0.raw")));
      long passes = 0;
      for (Path e : errs) {
        String text = Files.readString(e);
        assertFalse(text.contains("Exception"), text);
        passes += text.lines().filter(l -> l.contains("decode pass done")).count();
      }
      assertEquals(1, passes, "one pass decoded the archive; the others waited and loaded it");

      // Rebuilding while both serve: they keep reading the spill they opened, whole.
      Run.exec(Run.vmafsCommand("index", "--reindex", "--spill", zst.toString()), null, env).ok();
      assertEquals(sha, Images.sha256(a.resolve("disk-drive-scsi0.raw")));
      assertTrue(Run.exec(Run.vmafsCommand("index", "--spill", zst.toString()), null, env).ok().out()
          .contains("already up to date"));
    } finally {
      for (Process p : servers) {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    try (Stream<Path> s = Files.list(archiveDir)) {
      assertEquals(List.of("a.vma.zst", "a.vma.zst.spill", "a.vma.zst.vmafs-index",
          "a.vma.zst.vmafs-index.lock"), s.map(p -> p.getFileName().toString()).sorted().toList(),
          "one index, one spill, nothing half-written");
    }
  }
}
