package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A connection's way out: replies queued in send order and written without blocking, and the
 * per-connection budget that bounds them (requests in flight, reply slabs held).
 *
 * <p>Whoever queues a reply writes what the socket takes at once (a worker, usually, so a reply
 * costs no hand-off back to the I/O thread), unless another thread is writing to this connection
 * already: then the reply is left for that writer, which looks for new replies before it lets go,
 * so no worker ever waits for another one's write. What the socket does not take is written when
 * it has room again, by the I/O thread or by the next reply's writer.
 *
 * <p>Two locks: {@link #writeLock} guards the transport's writes (TLS records included: SSLEngine
 * takes one wrap at a time), the queue and the key's write interest; the budget has its own
 * monitor, so the I/O thread never waits behind a write to take a credit. Whoever holds the write
 * lock writes what was handed over while it did before it is done ({@link #unlock}); the TLS
 * transport's handshake steps, which take it too, are followed by {@link #kick}.
 */
final class Output {
  /** Buffers handed to one gathering write. */
  private static final int GATHER = 64;

  /** The connection's side of things. */
  interface Owner {
    /** Turns the key's write interest on or off; called under the write lock. */
    void writeInterest(boolean on);

    /** The socket failed on a write; the connection must close. Called outside the locks. */
    void writeFailed(IOException e);

    /** A credit came back while the connection waited for one; called outside the locks. */
    void creditAvailable();
  }

  private final Owner owner;
  private final int maxInFlight;
  private final int maxSlabs;
  private final ReentrantLock writeLock = new ReentrantLock();
  /** Replies handed over and not yet taken into {@link #queue} by a writer. */
  private final ConcurrentLinkedQueue<Reply> incoming = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<Reply> queue = new ArrayDeque<>();
  private final ByteBuffer[] gather = new ByteBuffer[GATHER];
  private final Object budget = new Object();
  private volatile Transport transport;
  private volatile boolean closed;
  private boolean armed;
  private volatile long lastProgressNanos = System.nanoTime();
  private int inFlight;
  private int slabs;
  private boolean creditWanted;

  Output(Owner owner, Transport transport, int maxInFlight, int maxSlabs) {
    this.owner = owner;
    this.transport = transport;
    this.maxInFlight = maxInFlight;
    this.maxSlabs = maxSlabs;
  }

  /** The lock a TLS transport writes its handshake records under. */
  ReentrantLock writeLock() {
    return writeLock;
  }

  /** For STARTTLS, once everything queued has been written in plain text. */
  void transport(Transport t) {
    writeLock.lock();
    try {
      transport = t;
    } finally {
      unlock();
    }
  }

  /**
   * Lets go of the write lock outside the write loop: a reply handed over meanwhile found the lock
   * taken and left it to the holder, so the holder writes it.
   */
  private void unlock() {
    writeLock.unlock();
    if (!closed && !incoming.isEmpty()) {
      write(false);
    }
  }

  // ---- the budget ----

  /**
   * Takes an in-flight slot and {@code n} slabs of this connection's budget; if it has none left,
   * answers false and calls {@link Owner#creditAvailable} once some comes back.
   */
  boolean tryAcquire(int n) {
    synchronized (budget) {
      if (inFlight < maxInFlight && slabs + n <= maxSlabs) {
        inFlight++;
        slabs += n;
        return true;
      }
      creditWanted = true;
      return false;
    }
  }

  /** Asks for {@link Owner#creditAvailable} at the next credit that comes back. */
  void wantNotice() {
    synchronized (budget) {
      creditWanted = true;
    }
  }

  /** Returns a credit taken by {@link #tryAcquire} whose request will not be answered. */
  void giveBack(int n) {
    returnCredits(1, n);
  }

  private void returnCredits(int requests, int n) {
    boolean wake;
    synchronized (budget) {
      inFlight -= requests;
      slabs -= n;
      wake = creditWanted;
      creditWanted = false;
    }
    if (wake) {
      owner.creditAvailable();
    }
  }

  int inFlight() {
    synchronized (budget) {
      return inFlight;
    }
  }

  // ---- writing ----

  /** Queues a reply and writes what the socket takes now, unless another thread is writing. */
  void send(Reply r) {
    if (closed) {
      release(List.of(r));
      return;
    }
    incoming.add(r);
    write(false);
  }

  /** Write readiness (the I/O thread): writes what waits, waiting for a writer that is busy. */
  void onWritable() {
    write(true);
  }

  /** Starts writing if the transport holds bytes of its own (TLS handshake records). */
  void kick() {
    if (transport.buffersOutput()) {
      write(true);
    }
  }

  /**
   * Writes as long as there is something to write and this thread is the one to do it. A thread
   * that finds the lock taken leaves: the holder checks {@link #incoming} after letting go.
   */
  private void write(boolean wait) {
    List<Reply> done = new ArrayList<>();
    IOException failure = null;
    boolean first = true;
    while (failure == null && (first || !incoming.isEmpty())) {
      if (first && wait) {
        writeLock.lock();
      } else if (!writeLock.tryLock()) {
        break;
      }
      first = false;
      try {
        if (closed) {
          drainLocked(done);
          break;
        }
        Reply in;
        while ((in = incoming.poll()) != null) {
          if (queue.isEmpty()) {
            lastProgressNanos = System.nanoTime(); // the client's time to read starts now
          }
          queue.addLast(in);
        }
        writeLocked(done);
      } catch (IOException e) {
        failure = e;
      } finally {
        writeLock.unlock();
      }
    }
    release(done);
    if (failure != null) {
      owner.writeFailed(failure);
    }
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
          done.add(queue.pollFirst());
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

  private void drainLocked(List<Reply> done) {
    done.addAll(queue);
    queue.clear();
    Reply r;
    while ((r = incoming.poll()) != null) {
      done.add(r);
    }
  }

  /** Returns the credits of written or dropped replies, outside the write lock. */
  private void release(List<Reply> done) {
    int requests = 0;
    int n = 0;
    for (Reply r : done) {
      if (r.credit() != null) {
        r.credit().release();
        requests++;
        n += r.credit().reservedSlabs();
      }
    }
    if (requests > 0) {
      returnCredits(requests, n);
    }
  }

  /** Drops everything queued (the connection closes); later replies are dropped as they come. */
  void close() {
    closed = true;
    List<Reply> done = new ArrayList<>();
    writeLock.lock();
    try {
      drainLocked(done);
      armed = false;
    } finally {
      writeLock.unlock();
    }
    release(done);
  }

  /** Nothing in flight, nothing left to write. */
  boolean idle() {
    return inFlight() == 0 && drained();
  }

  /** Everything handed over so far is written (requests may still be in flight). */
  boolean drained() {
    writeLock.lock();
    try {
      return queue.isEmpty() && incoming.isEmpty() && !transport.wantsWrite();
    } finally {
      unlock();
    }
  }

  /** Whether bytes have waited longer than {@code timeoutNanos} without the client taking any. */
  boolean stalled(long now, long timeoutNanos) {
    return now - lastProgressNanos > timeoutNanos && !drained();
  }

  long queuedBytes() {
    writeLock.lock();
    try {
      long n = 0;
      for (Reply r : queue) {
        n += r.remaining();
      }
      for (Reply r : incoming) {
        n += r.remaining();
      }
      return n;
    } finally {
      unlock();
    }
  }
}
