package vmafs.source.zstd;

import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import vmafs.source.internal.ChunkChecksums;

/**
 * The last stretch of a decode pass's output, shared by two threads: the pass decodes straight
 * into it (no copy) and the {@link ZstdRestartFinder} compares its own decodes with it and takes
 * restart prefixes from it. The finder says how far back it still needs the output ({@link
 * #release}); the pass waits rather than overwrite that. Positions are offsets in the
 * uncompressed stream.
 */
final class OutputRing {
  private final ByteBuffer buf;
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Bytes the pass has decoded into the ring; written by the pass thread only. */
  private volatile long written;
  /** Output before this position may be overwritten; raised by the finder. */
  private volatile long keepFrom;
  private volatile boolean ended;
  /** Set when the finder no longer holds anything back (it finished or gave up). */
  private volatile boolean detached;

  /** @param capacity a power of two */
  OutputRing(int capacity) {
    if (Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("ring capacity must be a power of two: " + capacity);
    }
    this.capacity = capacity;
    this.buf = ByteBuffer.allocateDirect(capacity);
  }

  int capacity() {
    return capacity;
  }

  long written() {
    return written;
  }

  /**
   * Where the pass may decode next: up to {@code max} bytes at {@link #written()}, contiguous in
   * the ring. Waits while the finder still needs what would be overwritten; returns null if
   * {@code stop} turns true meanwhile (the finder gave up and the pass must act on it first).
   */
  ByteBuffer writable(int max, java.util.function.BooleanSupplier stop) throws InterruptedIOException {
    long w = written;
    int at = (int) (w & (capacity - 1));
    int n = Math.min(max, capacity - at);
    lock.lock();
    try {
      while (!detached && w + n - keepFrom > capacity) {
        if (stop.getAsBoolean()) {
          return null;
        }
        changed.await(50, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while decoding");
    } finally {
      lock.unlock();
    }
    return buf.slice(at, n);
  }

  /** The pass has decoded {@code n} more bytes into the buffer {@link #writable} returned. */
  void commit(int n) {
    written += n;
    signal();
  }

  /** The pass has reached the end of the stream. */
  void end() {
    ended = true;
    signal();
  }

  boolean ended() {
    return ended;
  }

  /** The finder no longer needs anything kept: the pass never waits for it again. */
  void detach() {
    detached = true;
    signal();
  }

  /** The finder needs nothing before {@code position} any more. */
  void release(long position) {
    if (position > keepFrom) {
      keepFrom = position;
      signal();
    }
  }

  /**
   * Waits until the pass has decoded the stream up to {@code position}; false if the stream ends
   * before it.
   */
  boolean awaitWritten(long position, java.util.function.BooleanSupplier stop)
      throws InterruptedIOException {
    if (written >= position) {
      return true;
    }
    lock.lock();
    try {
      while (written < position) {
        if (ended || stop.getAsBoolean()) {
          return written >= position;
        }
        changed.await(50, TimeUnit.MILLISECONDS);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for decoded output");
    } finally {
      lock.unlock();
    }
  }

  /**
   * Offset of the first byte where {@code data} (position to limit) differs from the output at
   * {@code position}, or -1 if it is equal. The caller must hold the range: written, and not
   * released.
   */
  int mismatch(long position, ByteBuffer data) {
    ByteBuffer d = data.duplicate();
    int done = 0;
    while (d.hasRemaining()) {
      ByteBuffer part = segment(position + done, d.remaining());
      int k = part.remaining();
      int m = part.mismatch(d.slice(d.position(), k));
      if (m >= 0) {
        return done + m;
      }
      d.position(d.position() + k);
      done += k;
    }
    return -1;
  }

  /**
   * Feeds the held output {@code [position, position + len)} to a chunk checksum recorder: the
   * checksums a span is read back with come from the pass's own (frame-checksummed) output, not
   * from the decode that was compared with it.
   */
  void checksum(long position, int len, ChunkChecksums.Recorder recorder) {
    int done = 0;
    while (done < len) {
      ByteBuffer part = segment(position + done, len - done);
      done += part.remaining();
      recorder.update(part);
    }
  }

  /**
   * Copies the output {@code [position, position + len)} into {@code dst}: output the pass has
   * not handed on yet (it overwrites the ring only after that), or output the finder still holds.
   */
  void copy(long position, byte[] dst, int off, int len) {
    int done = 0;
    while (done < len) {
      ByteBuffer part = segment(position + done, len - done);
      int k = part.remaining();
      part.get(dst, off + done, k);
      done += k;
    }
  }

  /** The longest contiguous view of the output at {@code position}, at most {@code len}. */
  private ByteBuffer segment(long position, int len) {
    if (position < written - capacity || position + len > written) {
      throw new IllegalStateException("output " + position + "+" + len + " is not held (kept from "
          + keepFrom + ", written " + written + ")");
    }
    int at = (int) (position & (capacity - 1));
    return buf.slice(at, Math.min(len, capacity - at));
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
