package vmafs.cli;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The directory for a server's default socket: {@code $XDG_RUNTIME_DIR/vmafs}, or {@code
 * /run/vmafs} without one (root). Created with mode 0700; an existing one is used only if it is a
 * real directory (not a link) owned by this user and writable by no one else, since whoever can
 * write there could put their own socket where clients look for ours.
 */
final class RuntimeDir {
  private static final int GROUP_OR_OTHER_WRITE = 0022;

  private RuntimeDir() {}

  /** Where the directory is (it may not exist yet). */
  static Path path() {
    String xdg = System.getenv("XDG_RUNTIME_DIR");
    return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of("/run")).resolve("vmafs");
  }

  /** This process's user id. */
  static int uid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot tell this process's user id: " + e.getMessage(), e);
    }
  }

  /**
   * Why {@code dir} is not a private directory of {@code uid} (a link, another owner, writable by
   * group or others), or null if it is one.
   */
  static String notPrivate(Path dir, int uid) throws IOException {
    int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || owner != uid || (mode & GROUP_OR_OTHER_WRITE) != 0) {
      return dir + " is not a private directory of uid " + uid + " (owner uid " + owner + ", mode "
          + Integer.toOctalString(mode & 07777) + ")";
    }
    return null;
  }

  static Path create() {
    Path dir = path();
    try {
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (FileAlreadyExistsException e) {
        // checked below like any existing one
      }
      String bad = notPrivate(dir, uid());
      if (bad != null) {
        throw new CliException(ExitCodes.ENVIRONMENT, bad + ": refusing to put a socket there;"
            + " pass --listen unix:PATH");
      }
      return dir;
    } catch (IOException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot create " + dir + " for the server's socket ("
          + e.getMessage() + "): set XDG_RUNTIME_DIR or pass --listen unix:PATH", e);
    }
  }
}
