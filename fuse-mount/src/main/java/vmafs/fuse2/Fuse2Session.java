package vmafs.fuse2;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.LibFuse;
import vmafs.fs.FuseException;
import vmafs.fs.MountOptions;
import vmafs.fs.ReadOnlyFs;
import vmafs.fuse.FuseSession;
import vmafs.fuse.MountArgs;

/**
 * A libfuse2 session through jnr-fuse, single-threaded ({@code -s}) on the calling Java thread.
 * libfuse2's multithreaded loop would call into Java from threads it keeps creating and
 * reaping, each paying jffi's attach/detach churn; {@code -s} was the faster of the two for
 * both sequential and random reads (docs/fuse.md §1, §3). libfuse2 has no lseek
 * operation, so holes show only through {@code st_blocks}.
 */
public final class Fuse2Session implements FuseSession {
  private static final Logger log = LoggerFactory.getLogger(Fuse2Session.class);
  static final String SONAME = "libfuse.so.2";

  private final ReadOnlyFs fs;
  private final Path mountpoint;
  private final MountArgs args;

  /**
   * @throws FuseException if libfuse2 cannot be loaded
   */
  public Fuse2Session(ReadOnlyFs fs, Path mountpoint, MountArgs args) {
    String missing = unavailability();
    if (missing != null) {
      throw new FuseException(missing);
    }
    this.fs = fs;
    this.mountpoint = mountpoint;
    this.args = args;
  }

  /** Whether libfuse2 can be loaded; the reason is logged when not. */
  public static boolean isUsable() {
    String missing = unavailability();
    if (missing != null) {
      log.info("libfuse2 backend unavailable: {}", missing);
    }
    return missing == null;
  }

  /** libfuse2's own version call; jnr-fuse's {@link LibFuse} does not bind it. */
  public interface Version {
    /** {@code major * 10 + minor}, e.g. 29. */
    int fuse_version();
  }

  /**
   * The loaded library and its version, e.g. {@code "libfuse.so.2 2.9 (through jnr-fuse)"}.
   *
   * @throws FuseException if libfuse2 cannot be loaded
   */
  public static String libraryVersion() {
    String missing = unavailability();
    if (missing != null) {
      throw new FuseException(missing);
    }
    int v = LibraryLoader.create(Version.class).failImmediately().load(SONAME).fuse_version();
    return SONAME + " " + v / 10 + "." + v % 10 + " (through jnr-fuse)";
  }

  private static String unavailability() {
    try {
      LibraryLoader.create(LibFuse.class).failImmediately().load(SONAME);
      return null;
    } catch (LinkageError e) {
      return SONAME + " cannot be loaded (install libfuse2): " + e.getMessage();
    }
  }

  @Override
  public void run(Runnable connected) {
    AtomicBoolean wasConnected = new AtomicBoolean();
    Fuse2Fs fuse = new Fuse2Fs(fs, () -> {
      wasConnected.set(true);
      connected.run();
    });
    // -f: libfuse must not fork (daemonize) inside a JVM. use_ino: report ReadOnlyFs's stable
    // inode numbers (libfuse3 sets this in init, having dropped the option).
    String[] argv = {"vmafs", "-f", "-s", mountpoint.toString(), "-o", args.joined(),
        "-o", args.directIo() ? "use_ino," + MountOptions.DIRECT_IO : "use_ino"};
    int result = fuse.serve(argv);
    if (!wasConnected.get()) {
      throw new FuseException("cannot mount " + mountpoint
          + " with libfuse2 (its reason is on stderr)" + args.refusalHint());
    }
    if (result != 0) {
      log.warn("libfuse2's loop for {} ended with status {}", mountpoint, result);
    }
  }
}
