package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A connection's way out: replies queued in send order and written without blocking, and the
 * per-connection budget that bounds them (requests in flight, reply slabs held).
 *
 * <p>Whoever queues a reply writes it at once if the socket takes it (a worker, usually, so a reply
 * costs no hand-off back to the I/O thread); what the socket does not take waits for the I/O
 * thread's write readiness. This object's monitor is the output lock: it guards the queue, the
 * budget, the transport's writes and the key's write interest.
 */
final class Output {
  /** Buffers handed to one gathering write. */
  private static final int GATHER = 64;

  /** The connection's side of things. */
  interface Owner {
    /** Turns the key's write interest on or off; called under the output lock. */
    void writeInterest(boolean on);

    /** The socket failed on a write; the connection must close. Called outside the lock. */
    void writeFailed(IOException e);

    /** A credit came back while the connection waited for one; called outside the lock. */
    void creditAvailable();
  }

  private final Owner owner;
  private final int maxInFlight;
  private final int maxSlabs;
  private final ArrayDeque<Reply> queue = new ArrayDeque<>();
  private final ByteBuffer[] gather = new ByteBuffer[GATHER];
  private Transport transport;
  private boolean armed;
  private boolean closed;
  private long lastProgressNanos = System.nanoTime();
  private int inFlight;
  private int slabs;
  private boolean creditWanted;

  Output(Owner owner, Transport transport, int maxInFlight, int maxSlabs) {
    this.owner = owner;
    this.transport = transport;
    this.maxInFlight = maxInFlight;
    this.maxSlabs = maxSlabs;
  }

  /** For STARTTLS, once everything queued has been written in plain text. */
  synchronized void transport(Transport t) {
    transport = t;
  }

  /**
   * Takes an in-flight slot and {@code n} slabs of this connection's budget; if it has none left,
   * answers false and calls {@link Owner#creditAvailable} once some comes back.
   */
  synchronized boolean tryAcquire(int n) {
    if (inFlight < maxInFlight && slabs + n <= maxSlabs) {
      inFlight++;
      slabs += n;
      return true;
    }
    creditWanted = true;
    return false;
  }

  /** Asks for {@link Owner#creditAvailable} at the next credit that comes back. */
  synchronized void wantNotice() {
    creditWanted = true;
  }

  /** Returns a credit taken by {@link #tryAcquire} whose request will not be answered. */
  void giveBack(int n) {
    boolean wake;
    synchronized (this) {
      inFlight--;
      slabs -= n;
      wake = creditWanted;
      creditWanted = false;
    }
    if (wake) {
      owner.creditAvailable();
    }
  }

  /** Queues a reply and writes what the socket takes now. */
  void send(Reply r) {
    List<Reply> done;
    IOException failure = null;
    synchronized (this) {
      if (closed) {
        done = List.of(r);
        dropCredit(r);
      } else {
        if (queue.isEmpty()) {
          lastProgressNanos = System.nanoTime();
        }
        queue.addLast(r);
        if (armed) {
          return; // the I/O thread writes once the socket has room
        }
        done = new ArrayList<>(1);
        try {
          writeLocked(done);
        } catch (IOException e) {
          failure = e;
        }
      }
    }
    finish(done, failure);
  }

  /** Writes what the transport or the queue holds (the I/O thread, on write readiness). */
  void onWritable() {
    List<Reply> done = new ArrayList<>();
    IOException failure = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      try {
        writeLocked(done);
      } catch (IOException e) {
        failure = e;
      }
    }
    finish(done, failure);
  }

  /** Starts writing if the transport holds bytes of its own (TLS handshake records). */
  void kick() {
    synchronized (this) {
      if (closed || armed || (!transport.wantsWrite() && queue.isEmpty())) {
        return;
      }
    }
    onWritable();
  }

  private void writeLocked(List<Reply> done) throws IOException {
    try {
      if (!transport.flush()) {
        arm(true);
        return;
      }
      while (!queue.isEmpty()) {
        int n = 0;
        for (Reply r : queue) {
          n = r.gather(gather, n);
          if (n == GATHER) {
            break;
          }
        }
        long written = transport.write(gather, 0, n);
        boolean full = false;
        for (int i = 0; i < n; i++) {
          full |= gather[i].hasRemaining();
        }
        Arrays.fill(gather, 0, n, null);
        if (written > 0) {
          lastProgressNanos = System.nanoTime();
        }
        while (!queue.isEmpty() && queue.peekFirst().advance()) {
          Reply r = queue.pollFirst();
          dropCredit(r);
          done.add(r);
        }
        if (full) {
          arm(true);
          return;
        }
      }
      arm(!transport.flush());
    } catch (IOException e) {
      closed = true;
      drainLocked(done);
      throw e;
    }
  }

  private void arm(boolean on) {
    if (armed != on) {
      armed = on;
      owner.writeInterest(on);
    }
  }

  /** Counts a reply's credit out of the budget; caller holds the lock. */
  private void dropCredit(Reply r) {
    if (r.credit() != null) {
      inFlight--;
      slabs -= r.credit().reservedSlabs();
    }
  }

  private void drainLocked(List<Reply> done) {
    for (Reply r : queue) {
      dropCredit(r);
      done.add(r);
    }
    queue.clear();
  }

  private void finish(List<Reply> done, IOException failure) {
    boolean wake = false;
    for (Reply r : done) {
      if (r.credit() != null) {
        r.credit().release();
        wake = true;
      }
    }
    if (wake) {
      synchronized (this) {
        wake = creditWanted;
        creditWanted = false;
      }
      if (wake) {
        owner.creditAvailable();
      }
    }
    if (failure != null) {
      owner.writeFailed(failure);
    }
  }

  /** Drops everything queued (the connection closes); later replies are dropped as they come. */
  void close() {
    List<Reply> done = new ArrayList<>();
    synchronized (this) {
      closed = true;
      drainLocked(done);
      if (armed) {
        armed = false;
      }
    }
    for (Reply r : done) {
      if (r.credit() != null) {
        r.credit().release();
      }
    }
  }

  /** Nothing in flight, nothing left to write. */
  synchronized boolean idle() {
    return inFlight == 0 && queue.isEmpty() && !transport.wantsWrite();
  }

  /** Everything queued so far is written (requests may still be in flight). */
  synchronized boolean drained() {
    return queue.isEmpty() && !transport.wantsWrite();
  }

  /** Whether bytes have waited longer than {@code timeoutNanos} without the client taking any. */
  synchronized boolean stalled(long now, long timeoutNanos) {
    return (!queue.isEmpty() || transport.wantsWrite()) && now - lastProgressNanos > timeoutNanos;
  }

  synchronized int inFlight() {
    return inFlight;
  }

  synchronized long queuedBytes() {
    long n = 0;
    for (Reply r : queue) {
      n += r.remaining();
    }
    return n;
  }

  /** Slabs of this connection's budget in use (reserved by requests in flight). */
  synchronized int slabs() {
    return slabs;
  }
}
