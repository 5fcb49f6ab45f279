package vmafs.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LibraryLoader;

/**
 * The few libc calls Java does not offer: moving a daemonised mount's stdout/stderr onto a log
 * file (opened without following links), and finding a sparse file's data ({@code SEEK_DATA}).
 */
final class Posix {
  /** The libc functions used. */
  public interface LibC {
    int open(String path, int flags, int mode);

    int dup2(int oldfd, int newfd);

    int close(int fd);

    long lseek(int fd, @jnr.ffi.types.off_t long offset, int whence);

    int posix_fadvise(int fd, @jnr.ffi.types.off_t long offset, @jnr.ffi.types.off_t long len,
        int advice);
  }

  /** {@code POSIX_FADV_DONTNEED} (Linux, every architecture vmafs runs on). */
  private static final int POSIX_FADV_DONTNEED = 4;

  private static final class Holder {
    static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  }

  static LibC libc() {
    return Holder.LIBC;
  }

  private Posix() {}

  /** The real user id of this process. */
  static int uid() {
    return attribute(Path.of("/proc/self"), "unix:uid");
  }

  /** The owner of {@code path} itself (a symlink is not followed). */
  static int ownerUid(Path path) throws IOException {
    return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }

  private static int attribute(Path path, String name) {
    try {
      return (Integer) Files.getAttribute(path, name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Loads the binding now (MountCommand does it on a background thread). */
  static void preload() {
    libc();
  }

  /**
   * Opens {@code logFile} for appending, creating it 0600, never through a link ({@code
   * O_NOFOLLOW}: the flag's value differs between architectures, hence jnr-constants), and only
   * if it is a regular file (a FIFO would block the server). Done before the server reports ready,
   * so a log that cannot be opened fails the mount instead of ending it after success was reported.
   *
   * @return the file descriptor, for {@link #redirectStdoutAndStderr}
   */
  static int openLog(Path logFile) {
    LibC libc = libc();
    int flags = OpenFlags.O_WRONLY.intValue() | OpenFlags.O_CREAT.intValue()
        | OpenFlags.O_APPEND.intValue() | OpenFlags.O_NOFOLLOW.intValue()
        | OpenFlags.O_NONBLOCK.intValue();
    int fd = libc.open(logFile.toString(), flags, 0600);
    if (fd < 0) {
      int errno = jnr.ffi.LastError.getLastError(jnr.ffi.Runtime.getRuntime(libc));
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot open the log file " + logFile + ": "
          + jnr.constants.platform.Errno.valueOf(errno).description()
          + " (a link is never followed; choose another with --log-file)");
    }
    if (!Files.isRegularFile(logFile, LinkOption.NOFOLLOW_LINKS)) {
      libc.close(fd);
      throw new CliException(ExitCodes.ENVIRONMENT, "the log file " + logFile + " is not a regular file");
    }
    return fd;
  }

  /**
   * Asks the kernel to drop the pages it caches for {@code file} (a file of our own mount, whose
   * open and reads this process serves): after an archive changed under a {@code --page-cache}
   * mount, readers must reach the server, which fails them, rather than get the old pages. Best
   * effort: pages a reader has mapped stay.
   */
  static void dropCachedPages(Path file) {
    LibC libc = libc();
    int fd = libc.open(file.toString(), OpenFlags.O_RDONLY.intValue() | OpenFlags.O_NOFOLLOW.intValue(), 0);
    if (fd >= 0) {
      libc.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      libc.close(fd);
    }
  }

  /** Points file descriptors 1 and 2 at {@code fd} (from {@link #openLog}) and closes it. */
  static void redirectStdoutAndStderr(int fd) {
    LibC libc = libc();
    libc.dup2(fd, 1);
    libc.dup2(fd, 2);
    libc.close(fd);
  }
}
