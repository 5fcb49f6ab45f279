package vmafs.nbd;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one connection's requests on the shared workers: up to {@code parallelism} at once (so a
 * slow read does not hold up the ones behind it, and replies go out as they are ready), each worker
 * going on with the connection's next request instead of back to the pool, for up to {@link #BATCH}
 * requests before it lets the other connections' turns come: a burst of pipelined requests is one
 * hand-off to the pool, not one per request, and one busy connection cannot keep every worker from
 * the others (docs/benchmarks.md, issue 15).
 */
final class Dispatcher {
  /** Requests a worker takes from one connection before it goes back to the pool's queue. */
  static final int BATCH = 8;

  private final Executor pool;
  private final int parallelism;
  private final ConcurrentLinkedQueue<Runnable> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger active = new AtomicInteger();

  Dispatcher(Executor pool, int parallelism) {
    this.pool = pool;
    this.parallelism = parallelism;
  }

  void submit(Runnable request) {
    pending.add(request);
    startWorker();
  }

  /** Starts a worker for this connection unless enough run (they take what is pending). */
  private void startWorker() {
    while (!pending.isEmpty()) {
      int a = active.get();
      if (a >= parallelism) {
        return; // a running worker looks at the queue again before it stops
      }
      if (active.compareAndSet(a, a + 1)) {
        pool.execute(this::drain);
        return;
      }
    }
  }

  private void drain() {
    try {
      for (int i = 0; i < BATCH; i++) {
        Runnable r = pending.poll();
        if (r == null) {
          break;
        }
        r.run();
      }
    } finally {
      active.decrementAndGet();
      startWorker(); // what came meanwhile, or what is left after a batch
    }
  }
}
