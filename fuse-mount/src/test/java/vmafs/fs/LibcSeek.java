package vmafs.fs;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.types.off_t;

/** lseek(2) with SEEK_DATA/SEEK_HOLE, which Java's file APIs cannot issue. */
final class LibcSeek implements AutoCloseable {
  public interface C {
    int open(String path, int flags);

    @off_t
    long lseek(int fd, @off_t long offset, int whence);

    int close(int fd);
  }

  static final int ENXIO = 6;
  private static final C LIBC = LibraryLoader.create(C.class).load("c");
  private final int fd;

  LibcSeek(String path) {
    fd = LIBC.open(path, 0);
    if (fd < 0) {
      throw new IllegalStateException("open " + path + ": errno " + errno());
    }
  }

  /** The new offset, or -errno. */
  long seek(long offset, int whence) {
    long r = LIBC.lseek(fd, offset, whence);
    return r < 0 ? -errno() : r;
  }

  private static int errno() {
    return Runtime.getRuntime(LIBC).getLastError();
  }

  @Override
  public void close() {
    LIBC.close(fd);
  }
}
