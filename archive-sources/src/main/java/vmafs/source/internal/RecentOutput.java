package vmafs.source.internal;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import vmafs.source.LiveSource;

/**
 * The last bytes a decode pass produced ({@link LiveSource#RECENT_OUTPUT_BYTES} by default), kept so that reads while the pass runs
 * that wait for it, or follow just behind it, copy what it has just decoded instead of decoding the
 * same compressed bytes a second time on the other core (docs/design.md, "Serving while the index
 * pass runs"). The pass decodes straight into the ring, so keeping it costs no copy.
 *
 * <p>One writer (the pass), any number of readers, no lock: the writer announces the region it is
 * about to overwrite ({@link #reserve}) before writing, a reader copies and then checks that its
 * range was not announced meanwhile (a sequence-lock validation, as {@code StampedLock} does), and
 * gives up if it was: the caller then reads through the format's own source instead.
 */
public final class RecentOutput {
  private final byte[] buf;
  private final int mask;
  /** Stream offset of the first byte ever written here (the ring may start after the stream did). */
  private final long first;
  /** Stream bytes written and complete. */
  private volatile long written;
  /** The end of the region the writer may be overwriting: output before end - capacity is gone. */
  private volatile long reserved;

  /** @param capacity a power of two; @param first the stream offset the pass is at */
  public RecentOutput(int capacity, long first) {
    if (Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
    }
    this.buf = new byte[capacity];
    this.mask = capacity - 1;
    this.first = first;
    this.written = first;
    this.reserved = first;
  }

  /** The array the pass decodes into. */
  public byte[] array() {
    return buf;
  }

  /** Where in {@link #array()} the next output goes. */
  public int writeOffset() {
    return (int) (written & mask);
  }

  /**
   * The pass is about to decode up to {@code max} bytes at {@link #writeOffset()}; returns how many
   * it may (contiguous in the array, at least 1).
   */
  public int reserve(int max) {
    long w = written;
    int n = Math.min(max, buf.length - (int) (w & mask));
    if (w + n > reserved) {
      reserved = w + n;
    }
    // The volatile write must be visible before any byte the pass writes after it.
    VarHandle.storeStoreFence();
    return n;
  }

  /** The pass decoded {@code n} bytes into the reserved region. */
  public void commit(int n) {
    written += n;
  }

  /** Stream offset up to which output has been written. */
  public long written() {
    return written;
  }

  /** Whether {@code [position, end)} is held now (a {@link #read} of it would succeed). */
  public boolean holds(long position, long end) {
    return end <= written && position >= oldest();
  }

  private long oldest() {
    return Math.max(first, reserved - buf.length);
  }

  /**
   * Copies the output at {@code position} into {@code dst} (all of it) and returns true, or returns
   * false with {@code dst} untouched if that output is not held (not written yet, or overwritten).
   */
  public boolean read(long position, ByteBuffer dst) {
    int len = dst.remaining();
    if (!holds(position, position + len)) {
      return false;
    }
    int start = dst.position();
    for (int done = 0; done < len; ) {
      int at = (int) ((position + done) & mask);
      int k = Math.min(len - done, buf.length - at);
      dst.put(buf, at, k);
      done += k;
    }
    // Validate after the copy: if the writer announced an overwrite of the range meanwhile, the
    // bytes may be torn.
    VarHandle.acquireFence();
    if (position < oldest()) {
      dst.position(start);
      return false;
    }
    return true;
  }
}
