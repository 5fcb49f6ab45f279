package vmafs.fuse;

/** The native side of one mount, as a backend implements it; {@link SessionMount} drives it. */
public interface FuseSession {

  /**
   * Mounts, serves requests until the kernel ends the connection (after an unmount), then tears
   * the session down. Runs on a thread of its own and returns only when all request threads it
   * started have finished.
   *
   * @param connected called once, from the kernel's INIT request: from then on the mount is live
   * @throws vmafs.fs.FuseException if the filesystem could not be mounted
   */
  void run(Runnable connected);

  /** Called once the mount is live and known as {@code device} (major:minor). */
  default void mounted(String device) {}
}
