package vmafs.service;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.function.Consumer;
import vmafs.vma.io.StoredBytes;

/**
 * Checks once a second that a mounted archive is still the version that was indexed ({@link
 * StoredBytes#changed}: a local file's size, mtime and inode; a remote object's ETag, as its
 * requests see it). If it changed, the archive is invalidated: reads fail with EIO rather than
 * return bytes the index no longer describes. Cheaper than a stat per read, and the window is one
 * second.
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
  static ArchiveWatcher start(StoredBytes stored, Consumer<String> invalidate, Runnable onInvalid)
      throws IOException {
    ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread th = new Thread(r, "vmafs-archive-watcher");
      th.setDaemon(true);
      return th;
    });
    t.scheduleWithFixedDelay(() -> {
      String why;
      try {
        why = stored.changed();
      } catch (IOException e) {
        why = "the archive can no longer be read (" + e.getMessage() + ")";
      }
      if (why != null) {
        log.error("{}: {}; all reads now fail with EIO. Unmount and mount again.", stored.name(), why);
        invalidate.accept(why);
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
