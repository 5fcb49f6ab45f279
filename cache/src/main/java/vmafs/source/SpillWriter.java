package vmafs.source;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the decompressed stream to {@code <target>.partial} and renames it to {@code target} only
 * once the pass has verified the archive, so a crash or a corrupt archive never leaves a spill
 * file that looks complete.
 */
final class SpillWriter implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(SpillWriter.class);
  /** Leave this much free so a spill never fills the disk the user's system lives on. */
  static final long MIN_FREE_BYTES = 64L << 20;
  /** Re-check free space this often; cheaper than waiting for ENOSPC and clearer. */
  private static final long FREE_SPACE_CHECK_INTERVAL = 256L << 20;

  private final Path target;
  private final Path partial;
  private final long spillMax;
  private final String archiveName;
  private final OutputStream out;
  private long written;
  private long nextSpaceCheck;
  private boolean committed;

  private SpillWriter(Path target, Path partial, long spillMax, String archiveName,
      OutputStream out) {
    this.target = target;
    this.partial = partial;
    this.spillMax = spillMax;
    this.archiveName = archiveName;
    this.out = out;
    this.nextSpaceCheck = FREE_SPACE_CHECK_INTERVAL;
  }

  static SpillWriter create(Path target, long spillMax, String archiveName) throws IOException {
    Files.createDirectories(target.getParent());
    Path partial = target.resolveSibling(target.getFileName() + ".partial");
    long usable = Files.getFileStore(target.getParent()).getUsableSpace();
    if (usable < MIN_FREE_BYTES) {
      throw new IOException(archiveName + " must be decompressed to a spill file in "
          + target.getParent() + ", but only " + mib(usable) + " MiB are free there");
    }
    log.info("{}: cannot be read at random; spilling the decompressed stream to {}", archiveName,
        target);
    OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(partial,
        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE), 1 << 20);
    return new SpillWriter(target, partial, spillMax, archiveName, out);
  }

  /** A spill that keeps nothing, for stream-only passes (list, verify, extract). */
  static SpillWriter discarding() {
    return new SpillWriter(null, null, Long.MAX_VALUE, "", OutputStream.nullOutputStream());
  }

  /** Fails now rather than hours later if {@code upperBound} more bytes cannot fit. */
  void checkRoom(long upperBound) throws IOException {
    if (partial == null) {
      return;
    }
    long needed = upperBound - written;
    if (upperBound > spillMax) {
      throw new IOException(archiveName + ": the spill file may need up to " + mib(upperBound)
          + " MiB, more than the spill limit of " + mib(spillMax) + " MiB");
    }
    long usable = Files.getFileStore(partial.getParent()).getUsableSpace();
    if (needed > usable - MIN_FREE_BYTES) {
      throw new IOException(archiveName + ": the spill file may need up to " + mib(needed)
          + " MiB more in " + partial.getParent() + ", but only " + mib(usable) + " MiB are free");
    }
  }

  void write(byte[] b, int off, int len) throws IOException {
    if (written + len > spillMax) {
      throw new IOException(archiveName + ": spill file exceeds the spill limit of "
          + mib(spillMax) + " MiB at uncompressed offset " + written
          + "; raise the limit or convert the archive to seekable zstd");
    }
    if (partial != null && written + len >= nextSpaceCheck) {
      nextSpaceCheck += FREE_SPACE_CHECK_INTERVAL;
      long usable = Files.getFileStore(partial.getParent()).getUsableSpace();
      if (usable < MIN_FREE_BYTES) {
        throw new IOException(archiveName + ": stopped spilling to " + partial + " after "
            + mib(written) + " MiB: only " + mib(usable) + " MiB left on that file system");
      }
    }
    out.write(b, off, len);
    written += len;
  }

  long written() {
    return written;
  }

  /** Flushes, syncs and renames the spill into place. */
  SpillFile commit() throws IOException {
    out.close();
    try (var ch = java.nio.channels.FileChannel.open(partial, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    committed = true;
    log.info("{}: spill file {} complete, {} MiB", archiveName, target, mib(written));
    return new SpillFile(target, written);
  }

  /** Removes the partial file unless {@link #commit} succeeded. */
  @Override
  public void close() throws IOException {
    if (!committed && partial != null) {
      try {
        out.close();
      } finally {
        Files.deleteIfExists(partial);
      }
    }
  }

  private static long mib(long bytes) {
    return bytes >> 20;
  }
}
