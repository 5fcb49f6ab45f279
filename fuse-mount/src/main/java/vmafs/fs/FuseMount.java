package vmafs.fs;

/**
 * A live FUSE mount of a {@link ReadOnlyFs}. Created by {@code FuseMounts.mount}; the request
 * loop runs on Java-owned threads. {@link #close()} unmounts (idempotent) and waits for in-flight
 * requests; an external {@code fusermount3 -u} / {@code vmafs umount} ends the mount too, which
 * {@link #awaitUnmount()} observes.
 */
public interface FuseMount extends AutoCloseable {

  /** The backend actually in use. */
  MountOptions.Backend backend();

  /** Whether SEEK_DATA/SEEK_HOLE reach the filesystem (false on libfuse2). */
  boolean supportsHoles();

  /** Blocks until the filesystem has been unmounted, by {@link #close()} or from outside. */
  void awaitUnmount() throws InterruptedException;

  /** Unmounts (lazily, like {@code fusermount3 -u -z}) and joins the request threads. */
  @Override
  void close();
}
