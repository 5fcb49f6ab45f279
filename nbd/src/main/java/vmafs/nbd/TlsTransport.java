package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * TLS over the non-blocking socket with the JDK's SSLEngine, after NBD_OPT_STARTTLS. The handshake
 * runs inside {@link #read}: the client speaks first, and every handshake record the server must
 * send is sealed and written there (under the output lock, which also serialises the replies'
 * {@link #write}s: SSLEngine allows one wrap and one unwrap at a time, concurrently).
 *
 * <p>Buffers: {@code netIn} (ciphertext read, not yet unwrapped) and {@code appIn} (plaintext not
 * yet handed out) are the I/O thread's and stay in write mode; {@code netOut} (sealed records not
 * yet written) is the output lock's and stays in read mode.
 */
final class TlsTransport implements Transport {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  /** Records sealed before each socket write: fewer, larger writes for large replies. */
  private static final int RECORDS_PER_WRITE = 4;

  private final SocketChannel channel;
  private final SSLEngine engine;
  private final ReentrantLock outputLock;
  private ByteBuffer netIn;
  private ByteBuffer appIn;
  private ByteBuffer netOut;
  private boolean inboundClosed;
  /** The last unwrap left complete records in netIn (read() returned once it had plaintext). */
  private boolean moreRecords;

  /**
   * @param early bytes that arrived after the STARTTLS option, before the switch (the start of
   *     the client's handshake)
   */
  TlsTransport(SocketChannel channel, SSLEngine engine, ByteBuffer early, ReentrantLock outputLock) throws SSLException {
    this.channel = channel;
    this.engine = engine;
    this.outputLock = outputLock;
    int packet = engine.getSession().getPacketBufferSize();
    this.netIn = ByteBuffer.allocate(Math.max(packet, early.remaining()));
    this.netIn.put(early);
    this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    this.netOut = ByteBuffer.allocate(packet * RECORDS_PER_WRITE).flip();
    engine.beginHandshake();
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    int n = drainAppIn(dst);
    if (n > 0 || !dst.hasRemaining()) {
      return n;
    }
    moreRecords = false;
    boolean eof = false;
    while (true) {
      int r = 0;
      if (!eof && !inboundClosed) {
        if (!netIn.hasRemaining()) {
          netIn = grow(netIn, netIn.capacity() + engine.getSession().getPacketBufferSize());
        }
        r = channel.read(netIn);
        eof = r < 0;
      }
      SSLEngineResult res;
      netIn.flip();
      try {
        res = engine.unwrap(netIn, appIn);
      } catch (SSLException e) {
        sendAlert();
        throw e;
      } finally {
        netIn.compact();
      }
      handshake(res.getHandshakeStatus());
      switch (res.getStatus()) {
        case CLOSED -> {
          inboundClosed = true;
          n = drainAppIn(dst);
          return n > 0 ? n : -1;
        }
        case BUFFER_OVERFLOW -> {
          appIn = grow(appIn, appIn.capacity() + engine.getSession().getApplicationBufferSize());
          continue;
        }
        case BUFFER_UNDERFLOW -> {
          if (r <= 0) {
            return eof ? -1 : 0; // a record is incomplete: wait for the rest
          }
          continue;
        }
        default -> { }
      }
      n = drainAppIn(dst);
      if (n > 0) {
        moreRecords = netIn.position() > 0;
        return n;
      }
      if (res.bytesConsumed() == 0 && r <= 0 && res.getHandshakeStatus() != HandshakeStatus.NEED_UNWRAP_AGAIN) {
        return eof ? -1 : 0;
      }
    }
  }

  /** Whether plaintext or ciphertext is held here that the socket will not signal again. */
  @Override
  public boolean hasBufferedInput() {
    return appIn.position() > 0 || moreRecords;
  }

  private int drainAppIn(ByteBuffer dst) {
    if (appIn.position() == 0) {
      return 0;
    }
    appIn.flip();
    int n = Math.min(appIn.remaining(), dst.remaining());
    int limit = appIn.limit();
    appIn.limit(appIn.position() + n);
    dst.put(appIn);
    appIn.limit(limit);
    appIn.compact();
    return n;
  }

  /** Runs what the handshake needs now: delegated tasks, and records to send. */
  private void handshake(HandshakeStatus hs) throws IOException {
    while (true) {
      switch (hs) {
        case NEED_TASK -> {
          Runnable task;
          while ((task = engine.getDelegatedTask()) != null) {
            task.run(); // certificate checks: milliseconds, once per connection
          }
          hs = engine.getHandshakeStatus();
        }
        case NEED_WRAP -> {
          outputLock.lock();
          try {
            hs = seal(EMPTY);
            flush();
          } finally {
            outputLock.unlock();
          }
        }
        default -> {
          return;
        }
      }
    }
  }

  /** Wraps {@code src} (empty: handshake records) into netOut; caller holds the output lock. */
  private HandshakeStatus seal(ByteBuffer src) throws IOException {
    netOut.compact();
    try {
      SSLEngineResult res = engine.wrap(src, netOut);
      if (res.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
        netOut = grow(netOut, netOut.capacity() + engine.getSession().getPacketBufferSize());
        return engine.getHandshakeStatus();
      }
      return res.getHandshakeStatus();
    } finally {
      netOut.flip();
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    if (!flush()) {
      return 0;
    }
    long consumed = 0;
    int packet = engine.getSession().getPacketBufferSize();
    while (true) {
      // Seal records while they fit, then write them in one go.
      netOut.compact();
      SSLEngineResult res = null;
      try {
        while (netOut.remaining() >= packet) {
          res = engine.wrap(srcs, offset, length, netOut);
          consumed += res.bytesConsumed();
          if (res.getStatus() != SSLEngineResult.Status.OK || res.bytesConsumed() == 0) {
            break;
          }
        }
      } finally {
        netOut.flip();
      }
      if (res != null && res.getStatus() == SSLEngineResult.Status.CLOSED) {
        throw new IOException("the TLS session is closed");
      }
      if (res != null && res.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
        handshake(HandshakeStatus.NEED_TASK);
      }
      boolean flushed = flush();
      if (!flushed || res == null || res.bytesConsumed() == 0 || !anyRemaining(srcs, offset, length)) {
        return consumed;
      }
    }
  }

  private static boolean anyRemaining(ByteBuffer[] srcs, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      if (srcs[i].hasRemaining()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean flush() throws IOException {
    while (netOut.hasRemaining()) {
      if (channel.write(netOut) == 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean wantsWrite() {
    return netOut.hasRemaining();
  }

  @Override
  public boolean buffersOutput() {
    return true;
  }

  @Override
  public void shutdownOutput() {
    try {
      engine.closeOutbound();
      outputLock.lock();
      try {
        for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
          seal(EMPTY);
        }
        flush();
      } finally {
        outputLock.unlock();
      }
    } catch (IOException e) {
      // the peer is gone: nothing to tell it
    }
  }

  /** After a failed handshake the engine holds an alert that says why; give it to the client. */
  private void sendAlert() {
    outputLock.lock();
    try {
      seal(EMPTY);
      flush();
    } catch (IOException | RuntimeException e) {
      // best effort: the connection closes anyway
    } finally {
      outputLock.unlock();
    }
  }

  private static ByteBuffer grow(ByteBuffer b, int capacity) {
    ByteBuffer n = ByteBuffer.allocate(capacity);
    b.flip();
    n.put(b);
    return n;
  }
}
