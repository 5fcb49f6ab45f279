package vmafs.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of one reply (a simple reply, the chunks of a structured one, or option replies) in
 * send order, and, for a request's reply, its credit: the reservation taken when the request was
 * accepted, returned once the bytes are written or the connection is gone.
 */
final class Reply {
  private final ByteBuffer[] buffers;
  private final Credit credit;
  private int next;

  Reply(ByteBuffer[] buffers, Credit credit) {
    this.buffers = buffers;
    this.credit = credit;
  }

  static Reply of(Credit credit, ByteBuffer... buffers) {
    return new Reply(buffers, credit);
  }

  /** Copies references to the unwritten buffers into {@code dst} from {@code at}; returns the new end. */
  int gather(ByteBuffer[] dst, int at) {
    for (int i = next; i < buffers.length && at < dst.length; i++) {
      dst[at++] = buffers[i];
    }
    return at;
  }

  /** Skips written buffers; true when every byte is written. */
  boolean advance() {
    while (next < buffers.length && !buffers[next].hasRemaining()) {
      next++;
    }
    return next == buffers.length;
  }

  Credit credit() {
    return credit;
  }

  long remaining() {
    long n = 0;
    for (int i = next; i < buffers.length; i++) {
      n += buffers[i].remaining();
    }
    return n;
  }

  /**
   * One request's share of the connection's and the pool's budget: an in-flight slot and
   * {@code reservedSlabs} reply slabs, of which the request takes what it needs.
   */
  static final class Credit {
    private final BufferPool pool;
    private final int reservedSlabs;
    private final List<ByteBuffer> taken = new ArrayList<>(0);
    private boolean released;

    Credit(BufferPool pool, int reservedSlabs) {
      this.pool = pool;
      this.reservedSlabs = reservedSlabs;
    }

    int reservedSlabs() {
      return reservedSlabs;
    }

    /** The slab taken last (a reply fills it before taking the next), or null. */
    ByteBuffer currentSlab() {
      return taken.isEmpty() ? null : taken.get(taken.size() - 1);
    }

    /** A slab out of this credit's reservation. */
    ByteBuffer takeSlab() {
      if (taken.size() == reservedSlabs) {
        throw new IllegalStateException("request takes more than its " + reservedSlabs + " reserved slabs");
      }
      ByteBuffer b = pool.take();
      taken.add(b);
      return b;
    }

    /** Returns the slabs and the reservation to the pool; idempotent. */
    void release() {
      synchronized (this) {
        if (released) {
          return;
        }
        released = true;
      }
      pool.give(taken);
      pool.unreserve(reservedSlabs - taken.size());
    }
  }
}
