package vmafs.vma.io;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The archive as it is <em>stored</em>: the bytes of the file (compressed or not) wherever they
 * live — a local file, an object in S3, a URL. Every byte source and decode pass reads the archive
 * through this one interface, so a new place to keep archives (or a test that injects faults) plugs
 * in here and nowhere else. Compare {@link ArchiveSource}, which is the <em>uncompressed</em> VMA
 * stream built on top of it.
 *
 * <p>Implementations are safe for concurrent {@link #read} calls from many threads.
 */
public interface StoredBytes extends Closeable {

  /** What to call the archive in messages: a path or a URL. */
  String name();

  /** Length of the stored archive in bytes, as of {@link #open}ing it. */
  long size() throws IOException;

  /**
   * Identifies this version of the stored bytes (a local file's device, inode, size and
   * modification time; an object's ETag). Whoever saved something derived from the archive (an
   * index) compares it to tell a changed archive from the same one.
   */
  String versionTag();

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code position} into {@code dst}.
   *
   * @return the number of bytes read, at least 1, or -1 at or past the end
   */
  int read(long position, ByteBuffer dst) throws IOException;

  /** Reads exactly {@code dst.remaining()} bytes at {@code position}, or throws. */
  default void readFully(long position, ByteBuffer dst) throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = read(pos, dst);
      if (n < 0) {
        throw new EOFException(name() + ": ends at offset " + pos + " where " + dst.remaining()
            + " more bytes were expected; was the archive truncated or replaced?");
      }
      pos += n;
    }
  }

  /**
   * A sequential stream of the bytes from {@code position} to the end, for one pass over the whole
   * archive. Remote stores override this to fetch the object in one request instead of one per
   * buffer; the default reads 1 MiB at a time through {@link #read}.
   */
  default InputStream openSequential(long position) throws IOException {
    return new PositionalInputStream(this, position, 1 << 20);
  }

  /**
   * A stream for one pass in order that skips most of what it passes (the index pass of an
   * uncompressed archive reads each 512-byte extent header and skips the data), never past the
   * end. By default {@link #openSequential}, which reads short skips through: one request for the
   * pass instead of one per header. A local file jumps instead.
   */
  default InputStream openScan(long position, int bufferSize) throws IOException {
    return openSequential(position);
  }

  /**
   * Why the stored archive is no longer the version that was opened, or null while it still is.
   * A mount's watcher asks about once a second, so an implementation that would need a request to
   * find out reports what its reads have seen instead (a remote object's ETag is checked on every
   * request).
   */
  default String changed() throws IOException {
    return null;
  }

  /**
   * Whether small reads at scattered offsets cost about what a local {@code pread} costs. False
   * for a remote object, where each one may be a request: code that would read a few bytes at
   * many places (every frame header of a file) does it only where this is true.
   */
  default boolean cheapScatteredReads() {
    return false;
  }
}
