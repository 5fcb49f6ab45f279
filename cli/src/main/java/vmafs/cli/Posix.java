package vmafs.cli;

import jnr.ffi.LibraryLoader;

/** The two libc calls a daemonised mount needs to move its stdout/stderr onto a log file. */
final class Posix {
  /** The libc functions used. */
  public interface LibC {
    int open(String path, int flags, int mode);

    int dup2(int oldfd, int newfd);

    int close(int fd);
  }

  private static final int O_WRONLY = 01;
  private static final int O_CREAT = 0100;
  private static final int O_APPEND = 02000;

  private Posix() {}

  /** Loaded on first use: jnr-ffi generates the binding class, which takes a few hundred ms. */
  private static final class Holder {
    static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  }

  /** Loads the binding now (MountCommand does it on a background thread). */
  static void preload() {
    Object unused = Holder.LIBC;
  }

  /** Points file descriptors 1 and 2 at {@code logFile} (appending), so native code logs there too. */
  static void redirectStdoutAndStderr(String logFile) {
    LibC libc = Holder.LIBC;
    int fd = libc.open(logFile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot open log file " + logFile);
    }
    libc.dup2(fd, 1);
    libc.dup2(fd, 2);
    libc.close(fd);
  }
}
