package vmafs.nbd;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.nbd.tls.TlsCredentials;

/**
 * A read-only NBD server for a set of exports: fixed newstyle handshake, structured replies,
 * base:allocation, STARTTLS, any number of clients and connections (up to a limit), requests
 * answered out of order by a pool of workers, connections spread over up to four I/O threads. See
 * docs/design.md ("The NBD server").
 *
 * <pre>{@code
 * NbdServer s = new NbdServer(exports, ServerLimits.defaults(), TlsMode.OFF, null);
 * List<ListenAddress> bound = s.listen(List.of(ListenAddress.parse("unix:/run/x.sock")));
 * ...
 * s.shutdown(Duration.ofSeconds(10)); // answers what is in flight, then closes
 * }</pre>
 */
public final class NbdServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
  /** Client problems logged as warnings before the rest are only counted (and summed up once a minute). */
  private static final int PROBLEMS_WARNED = 20;
  private static final long PROBLEM_SUMMARY_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Exports exports;
  private final ServerLimits limits;
  private final TlsMode tlsMode;
  private final TlsCredentials tls;
  private final BufferPool pool;
  private final ThreadPoolExecutor workers;
  /** I/O threads; the listeners run on the first, each connection on one of them, in turn. */
  private final IoLoop[] loops;
  private final AtomicInteger nextLoop = new AtomicInteger();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final List<Listener> listeners = new ArrayList<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong problems = new AtomicLong();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private long problemsSummarised;
  private long lastSummary = System.nanoTime();

  /**
   * @param tls the server's certificate and key; null when {@code mode} is OFF
   */
  public NbdServer(List<Export> exports, ServerLimits limits, TlsMode mode, TlsCredentials tls) throws IOException {
    if (exports.isEmpty()) {
      throw new IllegalArgumentException("no exports to serve");
    }
    if (mode != TlsMode.OFF && tls == null) {
      throw new IllegalArgumentException("TLS mode " + mode + " needs a certificate and key");
    }
    this.exports = new Exports(exports);
    this.limits = limits;
    this.tlsMode = mode;
    this.tls = mode == TlsMode.OFF ? null : tls;
    this.pool = new BufferPool(limits.bufferBytes());
    AtomicInteger n = new AtomicInteger();
    this.workers = new ThreadPoolExecutor(limits.workers(), limits.workers(), 0, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "vmafs-nbd-worker-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    this.loops = new IoLoop[ioThreads];
    for (int i = 0; i < ioThreads; i++) {
      IoLoop l = new IoLoop("vmafs-nbd-io-" + (i + 1));
      l.onTick(() -> tick(l));
      loops[i] = l;
    }
  }

  /**
   * Binds every address and starts serving; returns the addresses as bound (a TCP port 0 replaced
   * by the port chosen). Either all addresses are bound or none is.
   */
  public List<ListenAddress> listen(List<ListenAddress> addresses) throws IOException {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("listen() was called already");
    }
    List<ListenAddress> bound = new ArrayList<>();
    try {
      for (ListenAddress a : addresses) {
        Listener l = Listener.open(this, a);
        listeners.add(l);
        l.register(loops[0].selector());
        bound.add(l.bound());
      }
    } catch (IOException | RuntimeException e) {
      listeners.forEach(Listener::close);
      listeners.clear();
      started.set(false);
      throw e;
    }
    for (IoLoop l : loops) {
      l.start();
    }
    for (ListenAddress a : bound) {
      log.info("NBD server listening on {}", a.display());
    }
    return bound;
  }

  // ---- what connections use ----

  Exports exports() {
    return exports;
  }

  ServerLimits limits() {
    return limits;
  }

  TlsMode tlsMode() {
    return tlsMode;
  }

  TlsCredentials tls() {
    return tls;
  }

  BufferPool pool() {
    return pool;
  }

  ExecutorService workers() {
    return workers;
  }

  /** A new connection (I/O thread). */
  void accepted(SocketChannel ch, ListenAddress on) {
    try {
      if (stopping.get() || connections.size() >= limits.maxConnections()) {
        ch.close();
        if (!stopping.get()) {
          refused.incrementAndGet();
          clientProblem("refused a connection on " + on.display() + ": " + limits.maxConnections()
              + " connections are open already");
        }
        return;
      }
      ch.configureBlocking(false);
      if (on instanceof ListenAddress.Tcp) {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true); // replies are whole messages already
        ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      }
      IoLoop loop = loops[Math.floorMod(nextLoop.getAndIncrement(), loops.length)];
      Connection c = new Connection(this, loop, ids.incrementAndGet(), ch, peer(ch, on));
      connections.add(c);
      loop.post(() -> {
        try {
          c.start();
          log.debug("{}: accepted on {}", c, on.display());
        } catch (IOException e) {
          c.close("it failed as it was accepted: " + e, false);
        }
      });
    } catch (IOException e) {
      log.debug("a connection failed as it was accepted: {}", e.toString());
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  private static String peer(SocketChannel ch, ListenAddress on) {
    try {
      if (on instanceof ListenAddress.Unix) {
        var cred = ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
        return "unix, user " + cred.user().getName();
      }
      return String.valueOf(ch.getRemoteAddress()).replaceFirst("^/", "");
    } catch (IOException | RuntimeException e) {
      return on.display();
    }
  }

  void removed(Connection c) {
    connections.remove(c);
  }

  /**
   * Something a client did wrong (or too much of): a warning for the first few, then counted, so
   * that a flood of bad connections cannot fill the log.
   */
  void clientProblem(String message) {
    long n = problems.incrementAndGet();
    if (n <= PROBLEMS_WARNED) {
      log.warn("{}", message);
      if (n == PROBLEMS_WARNED) {
        log.warn("further client problems are counted and summed up once a minute (details with --debug)");
      }
    } else {
      log.debug("{}", message);
    }
  }

  /** The timers of one I/O thread's connections; the first also looks after the listeners. */
  private void tick(IoLoop loop) {
    long now = System.nanoTime();
    for (Connection c : connections) {
      if (c.loop() == loop) {
        c.tick(now);
      }
    }
    if (loop != loops[0]) {
      return;
    }
    listeners.forEach(Listener::tick);
    if (now - lastSummary > PROBLEM_SUMMARY_NANOS) {
      lastSummary = now;
      long n = problems.get() - PROBLEMS_WARNED;
      if (n > problemsSummarised) {
        log.warn("{} more client problems (connections refused or closed for breaking the protocol or a limit)",
            n - problemsSummarised);
        problemsSummarised = n;
      }
    }
  }

  // ---- lifecycle ----

  public ServerStats stats() {
    int handshaking = 0;
    long inFlight = 0;
    long queued = 0;
    for (Connection c : connections) {
      handshaking += c.handshaking() ? 1 : 0;
      inFlight += c.output().inFlight();
      queued += c.output().queuedBytes();
    }
    return new ServerStats(connections.size(), handshaking, inFlight, queued, pool.reservedBytes(),
        pool.allocatedBytes(), refused.get());
  }

  /**
   * Stops accepting, ends handshakes, answers the requests in flight (new ones get ESHUTDOWN), closes
   * each connection once it is idle, and after {@code drain} closes the rest. Idempotent; returns
   * when the server has stopped.
   */
  public void shutdown(Duration drain) {
    if (!stopping.compareAndSet(false, true)) {
      awaitQuietly();
      return;
    }
    try {
      if (started.get()) {
        loops[0].post(() -> listeners.forEach(Listener::close));
        eachConnection(Connection::shutDown);
        long deadline = System.nanoTime() + drain.toNanos();
        while (!connections.isEmpty() && System.nanoTime() - deadline < 0) {
          Thread.sleep(20);
        }
        if (!connections.isEmpty()) {
          log.warn("{} connections still busy after {} s: closing them", connections.size(), drain.toSeconds());
        }
        eachConnection(c -> c.close("the server stopped", false));
      }
      for (IoLoop l : loops) {
        l.stop();
      }
      workers.shutdownNow();
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      terminated.countDown();
    }
    log.info("NBD server stopped");
  }

  /** Runs {@code action} for each connection on its own I/O thread. */
  private void eachConnection(java.util.function.Consumer<Connection> action) {
    for (Connection c : new ArrayList<>(connections)) {
      c.loop().post(() -> action.accept(c));
    }
  }

  /** Waits until {@link #shutdown} has finished. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  private void awaitQuietly() {
    try {
      terminated.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@link #shutdown} with 10 s to drain. */
  @Override
  public void close() {
    shutdown(Duration.ofSeconds(10));
  }
}
