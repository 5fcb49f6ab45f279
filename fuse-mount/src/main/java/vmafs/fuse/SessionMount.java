package vmafs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.fs.FuseException;
import vmafs.fs.FuseMount;
import vmafs.fs.MountOptions.Backend;

/**
 * A live mount served by a {@link FuseSession} on a thread of its own.
 *
 * <p>Only the session thread ever calls into libfuse's teardown. {@link #close()} merely detaches
 * the mount with fusermount; the kernel then ends the connection once no file is open, the
 * request threads read ENODEV, and the session thread unmounts and frees everything itself. That
 * keeps close() safe from a shutdown hook: it cannot free memory a request thread still uses
 * (the JVM crash of docs/fuse.md §5).
 */
public final class SessionMount implements FuseMount {
  private static final Logger log = LoggerFactory.getLogger(SessionMount.class);
  private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final Path mountpoint;
  private final String device;
  private final Backend backend;
  private final boolean supportsHoles;
  private final Thread sessionThread;
  private final AtomicBoolean detached = new AtomicBoolean();

  private SessionMount(Path mountpoint, String device, Backend backend, boolean supportsHoles,
      Thread sessionThread) {
    this.mountpoint = mountpoint;
    this.device = device;
    this.backend = backend;
    this.supportsHoles = supportsHoles;
    this.sessionThread = sessionThread;
  }

  /**
   * Starts {@code session} and returns once the kernel has connected and a stat of the
   * mountpoint is answered by the filesystem.
   *
   * @param mountpoint absolute, symlinks resolved, not mounted on
   */
  public static SessionMount start(FuseSession session, Path mountpoint, Backend backend,
      boolean supportsHoles) {
    CompletableFuture<Void> connected = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        session.run(() -> connected.complete(null));
        connected.completeExceptionally(new FuseException(
            "the FUSE session for " + mountpoint + " ended before the kernel connected"));
      } catch (Throwable t) {
        if (!connected.completeExceptionally(t)) {
          log.error("the FUSE session for {} failed", mountpoint, t);
        }
      }
    }, "vmafs-fuse-" + backend.name().toLowerCase());
    // The mount, not this thread, keeps the process alive: the CLI waits in awaitUnmount().
    thread.setDaemon(true);
    thread.start();

    try {
      connected.get(MOUNT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      join(thread);
      throw e.getCause() instanceof FuseException fe ? fe
          : new FuseException("mounting " + mountpoint + " failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      abandon(thread, mountpoint);
      throw new FuseException("mounting " + mountpoint + " did not complete within "
          + MOUNT_TIMEOUT.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon(thread, mountpoint);
      throw new FuseException("interrupted while mounting " + mountpoint, e);
    }

    String device = MountTable.at(mountpoint).filter(MountTable.Mount::isFuse)
        .map(MountTable.Mount::device).orElse(null);
    String visible;
    try {
      // The first stat of a new mount's root is answered by our getattr: the request path works.
      visible = statDevice(mountpoint);
    } catch (IOException e) {
      abandon(thread, mountpoint);
      throw new FuseException("the new mount at " + mountpoint + " does not answer: " + e, e);
    }
    if (device == null || !device.equals(visible)) {
      abandon(thread, mountpoint);
      throw new FuseException("the kernel connected, but " + mountpoint + " shows device " + visible
          + " instead of the new FUSE mount (mounted over by something else?)");
    }
    session.mounted(device);
    log.info("mounted {} ({}, {}, device {})", mountpoint, backend, supportsHoles
        ? "with SEEK_DATA/SEEK_HOLE" : "holes only via st_blocks", device);
    return new SessionMount(mountpoint, device, backend, supportsHoles, thread);
  }

  @Override
  public Backend backend() {
    return backend;
  }

  @Override
  public boolean supportsHoles() {
    return supportsHoles;
  }

  @Override
  public void awaitUnmount() throws InterruptedException {
    sessionThread.join();
  }

  /**
   * Detaches the mount (like {@code fusermount3 -u -z}) unless it is already gone, and waits up
   * to 10 s for open files to be closed and the session to end.
   *
   * @throws FuseException if the mount is still attached and fusermount failed
   */
  @Override
  public void close() {
    if (sessionThread.isAlive() && detached.compareAndSet(false, true)
        && MountTable.isMounted(mountpoint, device)) {
      Fusermount.unmount(mountpoint, true);
    }
    if (!join(sessionThread)) {
      log.warn("{} is detached but files on it are still open; they are served until closed or"
          + " until this process exits", mountpoint);
    }
  }

  /** Tears down a session that never became a usable mount; best effort, the error is thrown. */
  private static void abandon(Thread thread, Path mountpoint) {
    if (MountTable.at(mountpoint).filter(MountTable.Mount::isFuse).isPresent()) {
      try {
        Fusermount.unmount(mountpoint, true);
      } catch (FuseException e) {
        log.warn("cleaning up the failed mount: {}", e.getMessage());
      }
    }
    join(thread);
  }

  private static boolean join(Thread thread) {
    try {
      thread.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !thread.isAlive();
  }

  /** {@code major:minor} of {@code st_dev}, decoded as glibc's major()/minor() do. */
  private static String statDevice(Path path) throws IOException {
    long dev = (Long) Files.getAttribute(path, "unix:dev");
    long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    return major + ":" + minor;
  }
}
