package vmafs.vma.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Whether a file vmafs derived from an archive (a saved index, a spill) may be believed: ssh's
 * {@code StrictModes} rule. The file and its directory must be owned by the invoking user or root
 * and writable by nobody else, and no directory above may let anyone else rename them away; the
 * file must be a regular file, not a link or a FIFO. Anything else could have been written, or
 * swapped in later, by another user, and a forged index makes vmafs serve whatever bytes its author
 * chose (docs/security.md).
 *
 * <p>A directory above may be writable by others if it has the sticky bit ({@code /tmp}): there
 * nobody but the owner can rename or remove an entry.
 */
public final class FileTrust {
  private static final int S_IWGRP = 0020;
  private static final int S_IWOTH = 0002;
  private static final int S_ISVTX = 01000;
  private static final int ROOT = 0;
  private static final int UID = readUid();

  private FileTrust() {}

  /** The effective uid of this process (the owner of {@code /proc/self}). */
  public static int uid() {
    return UID;
  }

  private static int readUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      throw new IllegalStateException("vmafs needs Linux's /proc to know its own uid", e);
    }
  }

  /**
   * Why {@code dir} is not a safe home for derived files, or null if it is.
   *
   * @throws NoSuchFileException if it does not exist
   */
  public static String untrustedDirectory(Path dir) throws IOException {
    Path real = dir.toRealPath();
    if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
      return real + " is not a directory";
    }
    boolean self = true;
    for (Path p = real; p != null; p = p.getParent(), self = false) {
      int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      if (uid != UID && uid != ROOT) {
        return p + " is owned by uid " + uid + ", not by uid " + UID + " or root";
      }
      boolean othersWrite = (mode & (S_IWGRP | S_IWOTH)) != 0;
      // The directory itself must be private; one above only must not let others rename it away.
      if (othersWrite && (self || (mode & S_ISVTX) == 0)) {
        return p + " is writable by other users (mode " + Integer.toOctalString(mode & 07777) + ")";
      }
    }
    return null;
  }

  /**
   * Why {@code file} (in a directory {@link #untrustedDirectory} accepts) must not be believed, or
   * null if it may be. Read without following a link, so the answer is about the entry itself.
   *
   * @throws NoSuchFileException if it does not exist
   */
  public static String untrustedFile(Path file) throws IOException {
    if (Files.isSymbolicLink(file)) {
      return file + " is a symbolic link";
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(file.toString());
      }
      return file + " is not a regular file";
    }
    int uid = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if (uid != UID && uid != ROOT) {
      return file + " is owned by uid " + uid + ", not by uid " + UID + " or root";
    }
    if ((mode & (S_IWGRP | S_IWOTH)) != 0) {
      return file + " is writable by other users (mode " + Integer.toOctalString(mode & 07777) + ")";
    }
    return null;
  }

  /** Why {@code file} or its directory must not be believed, or null; the file must exist. */
  public static String untrusted(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    String why = untrustedDirectory(dir);
    return why != null ? why : untrustedFile(file);
  }

  /**
   * The permissions of a file derived from {@code archive}: never more readable than the archive
   * (a 0600 archive's index and spill hold its configs and data), never writable by others, always
   * readable and writable by its owner.
   */
  public static Set<PosixFilePermission> derivedPermissions(StoredBytes archive) throws IOException {
    return archive instanceof LocalStoredBytes local ? derivedPermissions(local.path())
        : EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  }

  /** As {@link #derivedPermissions(StoredBytes)}: a remote archive's derived files are the owner's only. */
  public static Set<PosixFilePermission> derivedPermissions(Path archive) throws IOException {
    Set<PosixFilePermission> out = EnumSet.of(PosixFilePermission.OWNER_READ,
        PosixFilePermission.OWNER_WRITE);
    Set<PosixFilePermission> a = Files.getPosixFilePermissions(archive);
    if (a.contains(PosixFilePermission.GROUP_READ)) {
      out.add(PosixFilePermission.GROUP_READ);
    }
    if (a.contains(PosixFilePermission.OTHERS_READ)) {
      out.add(PosixFilePermission.OTHERS_READ);
    }
    return out;
  }

  /** Owner read and write only. */
  public static Set<PosixFilePermission> privatePermissions() {
    return EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  }
}
