package vmafs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import vmafs.fs.FuseException;

/**
 * Unmounts through the setuid helper rather than umount(2): it works for root and for the user
 * who mounted alike, and it leaves the server's /dev/fuse descriptor alone, so the request
 * threads see ENODEV and wind down on their own (docs/fuse.md §5).
 */
public final class Fusermount {
  /** fuse3 ships fusermount3; hosts with only libfuse2 have fusermount. Both unmount either. */
  private static final List<String> HELPERS = List.of("fusermount3", "fusermount");
  private static final long TIMEOUT_SECONDS = 10;

  private Fusermount() {}

  /**
   * Runs {@code fusermount3 -u [-z] mountpoint}.
   *
   * @param lazy detach now and let open files keep the filesystem until they are closed
   * @throws FuseException if no helper is installed or it fails; its message is included
   */
  public static void unmount(Path mountpoint, boolean lazy) {
    IOException notFound = null;
    for (String helper : HELPERS) {
      List<String> command = new ArrayList<>(List.of(helper, "-u"));
      if (lazy) {
        command.add("-z");
      }
      command.add(mountpoint.toString());
      try {
        run(command);
        return;
      } catch (IOException e) {
        notFound = e; // not installed: try the next helper
      }
    }
    throw new FuseException("cannot unmount " + mountpoint + ": neither fusermount3 nor fusermount"
        + " could be run (install fuse3): " + notFound.getMessage(), notFound);
  }

  private static void run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new FuseException(String.join(" ", command) + " did not finish within "
            + TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new FuseException("interrupted while running " + String.join(" ", command), e);
    }
    if (p.exitValue() != 0) {
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      throw new FuseException(String.join(" ", command) + " failed: "
          + output.replace('\n', ' '));
    }
  }
}
