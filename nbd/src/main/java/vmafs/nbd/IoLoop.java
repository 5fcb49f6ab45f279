package vmafs.nbd;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of the server's I/O threads: reads and parses its connections' input, writes what workers
 * could not, runs tasks posted by other threads and, ten times a second, the timers (handshake
 * deadlines, unread replies); the first also accepts. Nothing it runs blocks.
 */
final class IoLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(IoLoop.class);
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** What a selection key's attachment does when its channel is ready. */
  interface Handler {
    void ready(SelectionKey key);

    /** The handler failed; it must close its channel. */
    void failed(Throwable t);
  }

  private final Selector selector;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private Runnable tick = () -> { };
  private final Thread thread;
  private volatile boolean running = true;

  IoLoop(String name) throws IOException {
    this.selector = Selector.open();
    this.thread = new Thread(this, name);
    this.thread.setDaemon(true);
  }

  /** What runs ten times a second (before {@link #start}). */
  void onTick(Runnable r) {
    this.tick = r;
  }

  Selector selector() {
    return selector;
  }

  void start() {
    thread.start();
  }

  boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  /** Runs {@code r} on the I/O thread, soon. */
  void post(Runnable r) {
    tasks.add(r);
    if (!inLoop()) {
      selector.wakeup();
    }
  }

  void stop() throws InterruptedException {
    running = false;
    selector.wakeup();
    if (!inLoop()) {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    }
  }

  @Override
  public void run() {
    long nextTick = System.nanoTime() + TICK_NANOS;
    try {
      while (running) {
        long wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextTick - System.nanoTime()));
        selector.select(wait);
        Runnable t;
        while ((t = tasks.poll()) != null) {
          runSafely(t);
        }
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey k = it.next();
          it.remove();
          if (k.isValid() && k.attachment() instanceof Handler h) {
            try {
              h.ready(k);
            } catch (Throwable e) {
              log.error("I/O handler failed: {}", e.toString(), e);
              h.failed(e);
            }
          }
        }
        long now = System.nanoTime();
        if (now - nextTick >= 0) {
          runSafely(tick);
          nextTick = now + TICK_NANOS;
        }
      }
    } catch (IOException | RuntimeException e) {
      log.error("the NBD server's I/O loop stopped: {}", e.toString(), e);
    } finally {
      Runnable t;
      while ((t = tasks.poll()) != null) {
        runSafely(t);
      }
      try {
        selector.close();
      } catch (IOException e) {
        // stopping anyway
      }
    }
  }

  private static void runSafely(Runnable r) {
    try {
      r.run();
    } catch (Throwable e) {
      log.error("NBD server task failed: {}", e.toString(), e);
    }
  }
}
