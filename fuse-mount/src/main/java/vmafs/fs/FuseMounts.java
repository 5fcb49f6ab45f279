package vmafs.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.fs.MountOptions.Backend;
import vmafs.fuse.FuseSession;
import vmafs.fuse.Fusermount;
import vmafs.fuse.MountArgs;
import vmafs.fuse.MountTable;
import vmafs.fuse.SessionMount;
import vmafs.fuse2.Fuse2Session;
import vmafs.fuse3.Fuse3Session;

/** Mounting and unmounting a {@link ReadOnlyFs}: where the CLI starts. */
public final class FuseMounts {
  private static final Logger log = LoggerFactory.getLogger(FuseMounts.class);

  private FuseMounts() {}

  /**
   * Mounts {@code fs} and returns once the mount is live: the kernel has connected and a stat of
   * the mountpoint reached the filesystem. A dead mount left on the mountpoint by a killed
   * server is detached first.
   *
   * @throws FuseException if the mountpoint is unusable, the requested backend is unavailable,
   *     or libfuse refused the mount
   */
  public static FuseMount mount(ReadOnlyFs fs, MountOptions opts) {
    Path mountpoint = prepareMountpoint(opts.mountpoint());
    MountArgs args = MountArgs.of(opts);
    Backend backend = choose(opts.backend());
    FuseSession session = switch (backend) {
      case FUSE3 -> new Fuse3Session(fs, mountpoint, args, opts.threads());
      case FUSE2 -> new Fuse2Session(fs, mountpoint, args);
      case AUTO -> throw new AssertionError("choose() resolves AUTO");
    };
    return SessionMount.start(session, mountpoint, backend, backend == Backend.FUSE3);
  }

  /**
   * Unmounts a vmafs mount, as {@code vmafs umount} does. Not lazy: if files are open the
   * unmount fails and says so.
   *
   * @throws FuseException if nothing of vmafs is mounted there or the unmount fails
   */
  public static void unmount(Path mountpoint) {
    Path path = canonical(mountpoint);
    Optional<MountTable.Mount> mount = MountTable.at(path);
    if (mount.isEmpty()) {
      throw new FuseException(path + " is not a mount point");
    }
    String vmafsType = "fuse." + MountArgs.SUBTYPE;
    if (!mount.get().fsType().equals(vmafsType)) {
      throw new FuseException(path + " is a " + mount.get().fsType() + " mount, not a vmafs one ("
          + vmafsType + ")");
    }
    Fusermount.unmount(path, false);
  }

  /** The vmafs mounts this process can see, in the kernel's order. */
  public static java.util.List<MountTable.Mount> vmafsMounts() {
    String vmafsType = "fuse." + MountArgs.SUBTYPE;
    return MountTable.all().stream().filter(m -> m.fsType().equals(vmafsType)).toList();
  }

  /**
   * {@code mountpoint} as the mount table spells it (absolute, symlinks resolved, a dead mount's
   * parent resolved).
   *
   * @throws FuseException if not even its parent directory can be resolved
   */
  public static Path canonicalMountpoint(Path mountpoint) {
    return canonical(mountpoint);
  }

  /**
   * Which FUSE library a mount with {@code requested} would bind, with its version, for bug
   * reports ({@code vmafs --version}), e.g. {@code "libfuse3.so.3 3.14.0"}.
   *
   * @throws FuseException if no usable library is installed
   */
  public static String libraryVersion(Backend requested) {
    return switch (choose(requested)) {
      case FUSE3 -> Fuse3Session.libraryVersion();
      case FUSE2 -> Fuse2Session.libraryVersion();
      case AUTO -> throw new AssertionError("choose() resolves AUTO");
    };
  }

  private static Backend choose(Backend requested) {
    return switch (requested) {
      case FUSE3, FUSE2 -> requested;
      case AUTO -> {
        String fuse3Unusable = Fuse3Session.unusableReason();
        if (fuse3Unusable == null) {
          yield Backend.FUSE3;
        }
        if (Fuse2Session.isUsable()) {
          log.warn("libfuse3 is not usable ({}), falling back to libfuse2: SEEK_DATA/SEEK_HOLE"
              + " will not see holes", fuse3Unusable);
          yield Backend.FUSE2;
        }
        throw new FuseException("neither libfuse3 nor libfuse2 can be used; install fuse3"
            + " (libfuse3: " + fuse3Unusable + "; the log says why libfuse2 failed)");
      }
    };
  }

  /** Checks the mountpoint and detaches a stale FUSE mount from it; returns its canonical path. */
  private static Path prepareMountpoint(Path requested) {
    Path path = canonical(requested);
    Optional<MountTable.Mount> existing = MountTable.at(path).filter(MountTable.Mount::isFuse);
    if (existing.isPresent()) {
      try {
        // statfs always reaches the server; a stat may be answered from the kernel's attribute
        // cache, which our long attr_timeout keeps valid after the server is gone.
        Files.getFileStore(path).getTotalSpace();
      } catch (IOException e) {
        // A server that was killed leaves its mount answering ENOTCONN.
        log.warn("{} holds a dead FUSE mount ({}); detaching it", path, e.getMessage());
        Fusermount.unmount(path, true);
        return checkDirectory(path);
      }
      throw new FuseException(path + " already has a FUSE mount on it (" + existing.get().fsType()
          + "); unmount it first");
    }
    return checkDirectory(path);
  }

  private static Path checkDirectory(Path path) {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      throw new FuseException("mountpoint " + path + " does not exist");
    }
    if (!Files.isDirectory(path)) {
      throw new FuseException("mountpoint " + path + " is not a directory");
    }
    return path;
  }

  /** {@link MountTable#canonical}, or a clear error naming the inaccessible parent. */
  private static Path canonical(Path path) {
    try {
      return MountTable.canonical(path);
    } catch (IOException e) {
      throw new FuseException("mountpoint " + path + ": its parent directory "
          + path.toAbsolutePath().normalize().getParent() + " is not accessible: " + e.getMessage(), e);
    }
  }
}
