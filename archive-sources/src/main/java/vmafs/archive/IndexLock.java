package vmafs.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serializes index passes over one archive: two mounts, or {@code vmafs index} from cron during a
 * mount, would otherwise build the same index and spill at once. The lock is an exclusive
 * {@code fcntl} lock on {@code <index>.lock} beside the index (a directory nobody else can write
 * to); the file stays, since removing a lock file lets a third process lock a new inode while a
 * second still waits on the old one. The kernel drops the lock when the process dies, so a killed
 * pass never blocks the next one.
 */
final class IndexLock implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(IndexLock.class);
  static final IndexLock NONE = new IndexLock(null, null, false);

  private final FileChannel channel;
  private final FileLock lock;
  private final boolean waited;

  private IndexLock(FileChannel channel, FileLock lock, boolean waited) {
    this.channel = channel;
    this.lock = lock;
    this.waited = waited;
  }

  /**
   * Takes the lock, waiting (with a message) while another process holds it. Where no lock can be
   * had (the file cannot be created, or is not a regular file) the pass runs unlocked, with a
   * warning: what it writes is still renamed into place whole.
   */
  static IndexLock acquire(Path file, String archiveName) {
    FileChannel ch = null;
    try {
      if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)
          && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException(file + " is not a regular file");
      }
      ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
              PosixFilePermissions.fromString("rw-------")));
      FileLock l = ch.tryLock();
      if (l != null) {
        return new IndexLock(ch, l, false);
      }
      log.warn("{}: another vmafs is indexing it; waiting for it to finish", archiveName);
      return new IndexLock(ch, ch.lock(), true);
    } catch (OverlappingFileLockException e) {
      // This JVM holds it already (in-process callers): nothing to wait for here.
      close(ch);
      return NONE;
    } catch (IOException e) {
      log.warn("{}: cannot lock {} ({}); indexing without the lock", archiveName, file,
          e.getMessage());
      close(ch);
      return NONE;
    }
  }

  private static void close(FileChannel ch) {
    try {
      if (ch != null) {
        ch.close();
      }
    } catch (IOException e) {
      // nothing held
    }
  }

  /**
   * Whether this process holds the lock, so that no other pass of this index is running anywhere
   * (not while the lock is missing, nor when another thread of this JVM holds it).
   */
  boolean held() {
    return lock != null;
  }

  /** Whether another process held the lock first (and so may have built the index meanwhile). */
  boolean waited() {
    return waited;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      try {
        lock.release();
      } finally {
        channel.close();
      }
    }
  }
}
