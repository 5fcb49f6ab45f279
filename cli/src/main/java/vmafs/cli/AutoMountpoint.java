package vmafs.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import vmafs.fuse.MountTable;

/**
 * The mount point of {@code vmafs mount ARCHIVE} without one: a directory named after the archive
 * ({@code vzdump-qemu-100-….vma.zst} → {@code vzdump-qemu-100-…}), made beside the archive, or under
 * {@code /run/vmafs/} (root) or {@code $XDG_RUNTIME_DIR/vmafs/} (other users) when the archive's
 * directory is not one to make it in. The server removes it after the unmount, and so does
 * {@code vmafs umount} (it recognises the name from the archive the mount serves).
 *
 * <p>Only a directory that nobody else can change is used: owned by the invoking user or root and
 * writable by neither group nor others (ssh's StrictModes rule). In a directory that others can
 * write, someone could swap the new mount point for a symlink between its creation and the mount,
 * and a root mount would then land wherever the link points.
 */
final class AutoMountpoint {
  static final Path ROOT_RUN_DIR = Path.of("/run/vmafs");
  private static final String[] ARCHIVE_SUFFIXES = {".vma.zst", ".vma.lzo", ".vma.gz", ".vma"};
  /** Appended to an archive name without a VMA suffix, so the directory differs from the file. */
  private static final String OTHER_SUFFIX = ".mnt";

  private AutoMountpoint() {}

  /** The directory's name for {@code archive}: the file name without its VMA suffix. */
  static String name(Path archive) {
    String file = archive.getFileName().toString();
    for (String suffix : ARCHIVE_SUFFIXES) {
      if (file.endsWith(suffix) && file.length() > suffix.length()) {
        return file.substring(0, file.length() - suffix.length());
      }
    }
    return file + OTHER_SUFFIX;
  }

  /**
   * Makes (or reuses, see below) the mount point for {@code archive} and returns it. An existing
   * directory of that name is reused when it is one of ours: owned by this user, not a symlink,
   * and empty or holding a FUSE mount (a dead one from a killed server is cleared by the mount).
   */
  static Path create(Path archive) throws IOException {
    return make(parentFor(archive).resolve(name(archive)));
  }

  private static Path make(Path mp) throws IOException {
    try {
      Files.createDirectory(mp);
      return mp;
    } catch (FileAlreadyExistsException e) {
      if (isOurs(mp)) {
        return mp;
      }
      throw new CliException(ExitCodes.ENVIRONMENT, mp + " already exists and is not an empty directory"
          + " of yours; give a mount point: vmafs mount ARCHIVE MOUNTPOINT");
    }
  }

  /**
   * The mount point of a remote archive ({@code url}'s last segment as the name): never beside it,
   * so under {@code /run/vmafs/} or {@code $XDG_RUNTIME_DIR/vmafs/}.
   */
  static Path createForRemote(String url) throws IOException {
    Path named = Path.of(vmafs.remote.RemoteIndexLocation.fileName(url));
    Path dir = Posix.uid() == 0 ? runDir(ROOT_RUN_DIR, "rwxr-xr-x") : userRunDirOrFail();
    return make(dir.resolve(name(named)));
  }

  private static Path userRunDirOrFail() throws IOException {
    Path user = userRunDir();
    if (user == null) {
      throw new CliException(ExitCodes.ENVIRONMENT, "XDG_RUNTIME_DIR is not set, so there is no"
          + " directory to make a mount point for a remote archive in; give a mount point");
    }
    return runDir(user, "rwx------");
  }

  /**
   * Whether {@code mountpoint} is where {@link #create} puts the mount of {@code archive}, so that
   * {@code vmafs umount} may remove it (if it is empty once unmounted).
   */
  static boolean isAutomatic(Path mountpoint, Path archive) {
    if (!mountpoint.getFileName().toString().equals(name(archive))) {
      return false;
    }
    Path parent = mountpoint.getParent();
    return parent.equals(archive.getParent()) || parent.equals(ROOT_RUN_DIR) || parent.equals(userRunDir());
  }

  /** Removes the directory if it is empty; anything else (in use, not empty, gone) leaves it. */
  static boolean remove(Path mountpoint) {
    try {
      Files.delete(mountpoint);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static Path parentFor(Path archive) throws IOException {
    Path beside = archive.toAbsolutePath().getParent().toRealPath();
    if (Files.isWritable(beside) && isTrusted(beside)) {
      return beside;
    }
    if (Posix.uid() == 0) {
      return runDir(ROOT_RUN_DIR, "rwxr-xr-x");
    }
    Path user = userRunDir();
    if (user == null) {
      throw new CliException(ExitCodes.ENVIRONMENT, beside + " is not a directory to make a mount point in"
          + " (not writable, or writable by others) and XDG_RUNTIME_DIR is not set; give a mount point");
    }
    return runDir(user, "rwx------");
  }

  private static Path userRunDir() {
    String xdg = System.getenv("XDG_RUNTIME_DIR");
    return xdg == null || xdg.isEmpty() ? null : Path.of(xdg).resolve("vmafs");
  }

  private static Path runDir(Path dir, String mode) throws IOException {
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
    } catch (FileAlreadyExistsException e) {
      // checked below like any existing directory
    }
    if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir) || !isTrusted(dir)) {
      throw new CliException(ExitCodes.ENVIRONMENT, dir + " is not a directory that only its owner (you or"
          + " root) can write; fix its owner and mode, or give a mount point");
    }
    return dir;
  }

  /** Owned by this user or root, and writable by neither group nor others. */
  private static boolean isTrusted(Path dir) throws IOException {
    PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    Set<PosixFilePermission> p = a.permissions();
    int owner = Posix.ownerUid(dir);
    return (owner == 0 || owner == Posix.uid())
        && !p.contains(PosixFilePermission.GROUP_WRITE) && !p.contains(PosixFilePermission.OTHERS_WRITE);
  }

  private static boolean isOurs(Path mp) throws IOException {
    // First: a dead FUSE mount cannot even be stat'ed. Only we or root can have mounted it, as
    // nobody else can write the directory it is in.
    Optional<MountTable.Mount> mounted = MountTable.at(MountTable.canonical(mp)).filter(MountTable.Mount::isFuse);
    if (mounted.isPresent()) {
      return true;
    }
    if (!Files.isDirectory(mp, LinkOption.NOFOLLOW_LINKS) || Posix.ownerUid(mp) != Posix.uid()) {
      return false;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(mp)) {
      return !entries.iterator().hasNext();
    }
  }
}
