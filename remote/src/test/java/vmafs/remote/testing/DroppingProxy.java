package vmafs.remote.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 in front of a real server that breaks connections on purpose: for the
 * next {@code n} connections it forwards only so many bytes of the server's answer and then resets
 * the connection, as a flaky network or an overloaded load balancer does mid-transfer. Everything
 * else is relayed unchanged, so the bytes that do arrive are the server's own.
 */
public final class DroppingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final AtomicInteger dropsLeft = new AtomicInteger();
  private final AtomicLong dropAfter = new AtomicLong(Long.MAX_VALUE);
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();
  private final AtomicLong relayed = new AtomicLong();
  private volatile boolean stall;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  public DroppingProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::accept, "dropping-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** This proxy as the endpoint of {@code target} (same scheme and path, this port). */
  public URI endpoint(URI target) {
    return URI.create(target.getScheme() + "://127.0.0.1:" + port()
        + (target.getRawPath() == null ? "" : target.getRawPath()));
  }

  /**
   * The next {@code count} connections are reset after {@code bytes} bytes of the answer. Open
   * connections are closed first, so that clients cannot go on using kept-alive ones.
   */
  public void dropNext(int count, long bytes) {
    closeOpen();
    stall = false;
    dropAfter.set(bytes);
    dropsLeft.set(count);
  }

  /** The next {@code count} connections go silent after {@code bytes} bytes, without closing. */
  public void stallNext(int count, long bytes) {
    closeOpen();
    stall = true;
    dropAfter.set(bytes);
    dropsLeft.set(count);
  }

  /** Bytes of answers relayed to clients so far. */
  public long relayed() {
    return relayed.get();
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** Connections broken on purpose so far. */
  public int dropped() {
    return dropped.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        connections.incrementAndGet();
        long limit = dropsLeft.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0 ? dropAfter.get() : Long.MAX_VALUE;
        Socket server = new Socket(targetHost, targetPort);
        open.add(client);
        open.add(server);
        boolean silent = stall;
        pump(client, server, Long.MAX_VALUE, false, client, server);
        pump(server, client, limit, silent, client, server);
      } catch (IOException e) {
        if (listener.isClosed()) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to, long limit, boolean silent, Socket a, Socket b) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      long sent = 0;
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) > 0) {
          int allowed = (int) Math.min(n, limit - sent);
          out.write(buf, 0, allowed);
          out.flush();
          sent += allowed;
          if (to == a) {
            relayed.addAndGet(allowed);
          }
          if (sent >= limit) {
            dropped.incrementAndGet();
            if (silent) {
              while (!a.isClosed() && !listener.isClosed()) {
                Thread.sleep(50); // holds the connection open and says nothing more
              }
            }
            a.setSoLinger(true, 0); // a reset, not a clean end of stream
            break;
          }
        }
      } catch (IOException ignored) {
        // The other side went away; close both below.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        closeQuietly(a);
        closeQuietly(b);
      }
    }, "dropping-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException ignored) {
      // Already closed.
    }
  }

  private void closeOpen() {
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    closeOpen();
  }
}
