package vmafs.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;

/**
 * The few libc calls Java does not offer: moving a daemonised mount's stdout/stderr onto a log
 * file, and finding a sparse file's data ({@code SEEK_DATA}).
 */
final class Posix {
  /** The libc functions used. */
  public interface LibC {
    int open(String path, int flags, int mode);

    int dup2(int oldfd, int newfd);

    int close(int fd);

    long lseek(int fd, @jnr.ffi.types.off_t long offset, int whence);
  }

  private static final class Holder {
    static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  }

  static LibC libc() {
    return Holder.LIBC;
  }

  private static final int O_WRONLY = 01;
  private static final int O_CREAT = 0100;
  private static final int O_APPEND = 02000;

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

  /** Points file descriptors 1 and 2 at {@code logFile} (appending), so native code logs there too. */
  static void redirectStdoutAndStderr(String logFile) {
    LibC libc = libc();
    int fd = libc.open(logFile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot open log file " + logFile);
    }
    libc.dup2(fd, 1);
    libc.dup2(fd, 2);
    libc.close(fd);
  }
}
