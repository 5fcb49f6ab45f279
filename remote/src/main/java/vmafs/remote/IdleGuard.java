package vmafs.remote;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A read timeout for response bodies of the JDK's HttpClient, which has none of its own: its
 * request timeout ends when the headers arrive, and a server that then stalls would block a reader
 * forever. A guarded stream is closed when no byte arrived for the timeout, which fails the blocked
 * read; the retrier then tries again on a new connection.
 */
final class IdleGuard {
  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "vmafs-remote-idle");
    t.setDaemon(true);
    return t;
  });

  private IdleGuard() {}

  static InputStream guard(InputStream in, Duration timeout) {
    return new Guarded(in, timeout.toNanos());
  }

  private static final class Guarded extends FilterInputStream {
    private final long timeoutNanos;
    private final ScheduledFuture<?> check;
    private volatile long lastProgress = System.nanoTime();
    private volatile boolean stalled;

    Guarded(InputStream in, long timeoutNanos) {
      super(in);
      this.timeoutNanos = timeoutNanos;
      long period = Math.max(10, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 4));
      this.check = TIMER.scheduleWithFixedDelay(this::checkIdle, period, period, TimeUnit.MILLISECONDS);
    }

    private void checkIdle() {
      if (System.nanoTime() - lastProgress > timeoutNanos) {
        stalled = true;
        check.cancel(false);
        try {
          in.close();
        } catch (IOException ignored) {
          // Closing is what fails the stalled read; nothing more can be done here.
        }
      }
    }

    @Override
    public int read() throws IOException {
      return Responses.readByte(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        int n = in.read(b, off, len);
        lastProgress = System.nanoTime();
        return n;
      } catch (IOException e) {
        if (stalled) {
          throw new SocketTimeoutException("no data for " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s");
        }
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      check.cancel(false);
      in.close();
    }
  }
}
