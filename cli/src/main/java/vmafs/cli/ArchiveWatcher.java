package vmafs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.archive.Archive;

/**
 * Checks once a second that a mounted archive is still the file that was indexed (size and mtime).
 * If it changed, the archive is invalidated: reads fail with EIO rather than return bytes the
 * index no longer describes. Cheaper than a stat per read, and the window is one second.
 */
final class ArchiveWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ArchiveWatcher.class);

  private final ScheduledExecutorService timer;

  private ArchiveWatcher(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /**
   * @param onInvalid run once the archive was invalidated (e.g. to drop pages the kernel cached
   *     with {@code --page-cache}, which it would otherwise keep serving without asking)
   */
  static ArchiveWatcher start(Archive a, Runnable onInvalid) throws IOException {
    Path p = a.path();
    long size = Files.size(p);
    long mtime = Files.getLastModifiedTime(p).toMillis();
    Object key = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread th = new Thread(r, "vmafs-archive-watcher");
      th.setDaemon(true);
      return th;
    });
    t.scheduleWithFixedDelay(() -> {
      String why = null;
      try {
        if (Files.size(p) != size) {
          why = "the archive's size changed since it was mounted";
        } else if (Files.getLastModifiedTime(p).toMillis() != mtime) {
          why = "the archive was modified since it was mounted";
        } else if (key != null && !key.equals(Files.readAttributes(p,
            java.nio.file.attribute.BasicFileAttributes.class).fileKey())) {
          why = "the archive file was replaced since it was mounted";
        }
      } catch (IOException e) {
        why = "the archive can no longer be read (" + e.getMessage() + ")";
      }
      if (why != null) {
        log.error("{}: {}; all reads now fail with EIO. Unmount and mount again.", p, why);
        a.invalidate(why);
        onInvalid.run();
        throw new IllegalStateException("stop watching"); // cancels the schedule
      }
    }, 1, 1, TimeUnit.SECONDS);
    return new ArchiveWatcher(t);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
