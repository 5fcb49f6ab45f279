package vmafs.cli;

import java.nio.file.Path;

/**
 * Where a source image holds data, from the kernel ({@code SEEK_DATA}), so that {@code create}
 * skips the holes of a thin disk instead of reading gigabytes of zeros. Where the file system
 * cannot say, everything counts as data (the zeros are then read and found, just slower).
 */
final class SparseSource implements AutoCloseable {
  private static final int O_RDONLY = 0;
  private static final int SEEK_DATA = 3;
  /** errno of SEEK_DATA when only hole follows. */
  private static final int ENXIO = 6;

  private final int fd;
  /** Cached answer: no data in [askedFrom, nextData); nextData = MAX_VALUE when none follows. */
  private long askedFrom = -1;
  private long nextData = -1;

  private SparseSource(int fd) {
    this.fd = fd;
  }

  static SparseSource open(Path image) {
    try {
      return new SparseSource(Posix.libc().open(image.toString(), O_RDONLY, 0));
    } catch (LinkageError | RuntimeException e) {
      return new SparseSource(-1); // no libc binding: treat everything as data
    }
  }

  /** Whether [from, to) is certainly a hole. */
  boolean isHole(long from, long to) {
    if (fd < 0) {
      return false;
    }
    if (from < askedFrom || from >= nextData) {
      long d = Posix.libc().lseek(fd, from, SEEK_DATA);
      if (d < 0) {
        // ENXIO: nothing but hole up to the end. Any other error: assume data.
        d = jnr.ffi.LastError.getLastError(jnr.ffi.Runtime.getSystemRuntime()) == ENXIO ? Long.MAX_VALUE : from;
      }
      askedFrom = from;
      nextData = d;
    }
    return nextData >= to;
  }

  @Override
  public void close() {
    if (fd >= 0) {
      Posix.libc().close(fd);
    }
  }
}
