package vmafs.nbd;

import static vmafs.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the handshake, then the transmission phase. Reading and parsing run on
 * the I/O thread only; requests that read an image run on a worker, which queues the reply on
 * {@link Output} (whose lock guards everything the two sides share).
 *
 * <p>A request is parsed only once it has a credit (an in-flight slot and its reply slabs); without
 * one the connection stops reading, so the client's next requests stay in its socket, not in
 * server memory, until replies have been written.
 */
final class Connection implements Output.Owner, IoLoop.Handler {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);
  /** Plaintext input; holds the largest option taken whole. */
  static final int INPUT_BUFFER = 16 << 10;
  static final int MAX_OPTION_DATA = INPUT_BUFFER - OPTION_HEADER_SIZE;
  /** Socket reads per readiness event, so that one busy client cannot hold the I/O thread. */
  private static final int READS_PER_EVENT = 16;
  /** Read errors logged per connection; the rest are counted and summed up at close. */
  private static final int READ_ERRORS_LOGGED = 10;

  private enum Phase { CLIENT_FLAGS, OPTIONS, STARTING_TLS, TRANSMISSION }

  private final NbdServer server;
  private final IoLoop loop;
  private final long id;
  private final String peer;
  private final SocketChannel channel;
  private final Output output;
  private final Dispatcher dispatcher;
  private final Negotiation negotiation;
  private final ByteBuffer in = ByteBuffer.allocate(INPUT_BUFFER);
  private final long handshakeDeadline;
  private SelectionKey key;
  private Transport transport;
  private volatile Phase phase = Phase.CLIENT_FLAGS; // read by stats() on other threads
  private Negotiation.Session session;
  /** Input bytes still to be thrown away (a refused option's data, a WRITE's payload). */
  private long skip;
  /** Waiting for a credit: not reading. */
  private boolean paused;
  /** Closes once the queued replies are written (ABORT, a refused handshake). */
  private String closeWhenWritten;
  /** NBD_CMD_DISC received, or the server is stopping: closes once idle. */
  private String closeWhenIdle;
  /** NBD_CMD_DISC received: the client sends nothing more. */
  private boolean discReceived;
  private boolean shuttingDown;
  private volatile boolean closed;
  private final java.util.concurrent.atomic.AtomicLong readErrors = new java.util.concurrent.atomic.AtomicLong();

  Connection(NbdServer server, IoLoop loop, long id, SocketChannel channel, String peer) {
    this.server = server;
    this.loop = loop;
    this.id = id;
    this.peer = peer;
    this.channel = channel;
    this.transport = new PlainTransport(channel);
    ServerLimits l = server.limits();
    this.output = new Output(this, transport, l.maxInFlight(),
        (int) (l.replyBytesPerConnection() / BufferPool.SLAB_SIZE));
    this.dispatcher = new Dispatcher(server.workers(), l.workers());
    this.negotiation = new Negotiation(server.exports(), server.tlsMode(), server.tls() != null);
    this.handshakeDeadline = System.nanoTime() + l.handshakeTimeout().toNanos();
  }

  /** Registers with its I/O thread's selector and sends the greeting (on that thread). */
  void start() throws IOException {
    key = channel.register(loop.selector(), SelectionKey.OP_READ, this);
    output.send(Reply.of(null, Wire.greeting()));
  }

  IoLoop loop() {
    return loop;
  }

  @Override
  public String toString() {
    return "connection #" + id + " (" + peer + ")";
  }

  boolean handshaking() {
    return phase != Phase.TRANSMISSION;
  }

  Output output() {
    return output;
  }

  @Override
  public void ready(SelectionKey k) {
    if (k.isWritable()) {
      onWritable();
    }
    if (k.isValid() && k.isReadable()) {
      onReadable();
    }
  }

  @Override
  public void failed(Throwable t) {
    close("internal error in the server: " + t, false);
  }

  // ---- reading (I/O thread) ----

  private boolean canRead() {
    return !closed && !paused && closeWhenWritten == null && !discReceived
        && phase != Phase.STARTING_TLS && in.hasRemaining();
  }

  void onReadable() {
    for (int i = 0; i < READS_PER_EVENT && canRead(); i++) {
      int n;
      try {
        n = transport.read(in);
      } catch (SSLException e) {
        close("TLS failed: " + e.getMessage(), true);
        return;
      } catch (IOException e) {
        close("read failed: " + e.getMessage(), false);
        return;
      }
      if (n < 0) {
        close(phase == Phase.TRANSMISSION ? "the client disconnected" : "the client closed the connection", false);
        return;
      }
      process();
      output.kick(); // what a TLS handshake step left to send
      afterInput();
      if (n == 0) {
        break;
      }
    }
    if (canRead() && transport.hasBufferedInput()) {
      loop.post(this::onReadable); // TLS holds input the socket will not announce again
    }
    interest();
  }

  /** Parses what the input holds, as far as credits allow. */
  private void process() {
    in.flip();
    try {
      while (!closed && !paused && closeWhenWritten == null) {
        if (skip > 0) {
          int k = (int) Math.min(skip, in.remaining());
          in.position(in.position() + k);
          skip -= k;
          if (skip > 0) {
            break;
          }
          continue;
        }
        boolean more = switch (phase) {
          case CLIENT_FLAGS -> clientFlags();
          case OPTIONS -> option();
          case TRANSMISSION -> !discReceived && request();
          case STARTING_TLS -> false;
        };
        if (!more) {
          break;
        }
      }
    } finally {
      in.compact();
    }
  }

  private boolean clientFlags() {
    if (in.remaining() < 4) {
      return false;
    }
    int flags = in.getInt();
    if (!negotiation.clientFlags(flags)) {
      close("the client sent unknown client flags 0x" + Integer.toHexString(flags), true);
      return false;
    }
    phase = Phase.OPTIONS;
    return true;
  }

  private boolean option() {
    if (in.remaining() < OPTION_HEADER_SIZE) {
      return false;
    }
    int p = in.position();
    long magic = in.getLong(p);
    if (magic != OPTION_MAGIC) {
      close("the client sent an option with magic 0x" + Long.toHexString(magic) + " instead of IHAVEOPT", true);
      return false;
    }
    int option = in.getInt(p + 8);
    long length = Integer.toUnsignedLong(in.getInt(p + 12));
    if (length > MAX_OPTION_DATA) {
      in.position(p + OPTION_HEADER_SIZE);
      skip = length;
      return apply(negotiation.oversized(option, length));
    }
    if (in.remaining() < OPTION_HEADER_SIZE + length) {
      return false;
    }
    ByteBuffer data = in.slice(p + OPTION_HEADER_SIZE, (int) length);
    in.position(p + OPTION_HEADER_SIZE + (int) length);
    log.debug("{}: option {} ({} bytes)", this, optionName(option), length);
    return apply(negotiation.option(option, data));
  }

  /** Sends an option's replies and takes its next step; true to go on parsing. */
  private boolean apply(Negotiation.Outcome o) {
    if (!o.replies().isEmpty()) {
      output.send(new Reply(o.replies().toArray(ByteBuffer[]::new), null));
    }
    switch (o.next()) {
      case CONTINUE -> {
        return true;
      }
      case CLOSE -> {
        closeWhenWritten = o.reason();
        return false;
      }
      case START_TLS -> {
        phase = Phase.STARTING_TLS; // switches once the acknowledgement is written
        return false;
      }
      case TRANSMIT -> {
        session = o.session();
        phase = Phase.TRANSMISSION;
        log.info("{}: serving {} ({}{}{})", this, session.export().name(),
            session.structured() ? "structured replies" : "simple replies",
            session.baseAllocation() ? ", base:allocation" : "", negotiation.tls() ? ", TLS" : "");
        return true;
      }
      default -> throw new IllegalStateException(o.next().toString());
    }
  }

  /** Switches to TLS once the STARTTLS acknowledgement is written in plain text. */
  private void startTls() {
    in.flip();
    ByteBuffer early = ByteBuffer.allocate(in.remaining()).put(in).flip();
    in.clear();
    try {
      TlsTransport t = new TlsTransport(channel, server.tls().newServerEngine(), early, output.writeLock());
      transport = t;
      output.transport(t);
    } catch (SSLException | RuntimeException e) {
      close("TLS could not start: " + e.getMessage(), false);
      return;
    }
    negotiation.tlsStarted();
    phase = Phase.OPTIONS;
    log.debug("{}: TLS started", this);
    loop.post(this::onReadable); // the client's handshake may already be here
  }

  private boolean request() {
    if (in.remaining() < REQUEST_SIZE) {
      return false;
    }
    int p = in.position();
    int magic = in.getInt(p);
    if (magic != REQUEST_MAGIC) {
      close("the client sent a request with magic 0x" + Integer.toHexString(magic) + " instead of 0x25609513", true);
      return false;
    }
    Commands.Request r = new Commands.Request(Short.toUnsignedInt(in.getShort(p + 4)),
        Short.toUnsignedInt(in.getShort(p + 6)), in.getLong(p + 8), in.getLong(p + 16),
        Integer.toUnsignedLong(in.getInt(p + 24)));
    if (r.type() == CMD_DISC) {
      in.position(p + REQUEST_SIZE);
      discReceived = true;
      closeWhenIdle = "the client disconnected (NBD_CMD_DISC)";
      output.wantNotice();
      return false;
    }
    int slabs = Commands.slabsFor(r);
    if (!acquire(slabs)) {
      return false; // the request stays in the input buffer until a credit comes back
    }
    in.position(p + REQUEST_SIZE);
    Reply.Credit credit = new Reply.Credit(server.pool(), slabs);
    Negotiation.Session s = session;
    if (r.type() == CMD_WRITE) {
      skip = r.length();
      if (r.length() > ServerLimits.MAX_PAYLOAD) {
        // The payload cannot be trusted to be what the header says: stop parsing.
        output.send(Commands.error(s, r, credit, new Commands.Refusal(EPERM, "the export is read-only")));
        closeWhenWritten = "the client sent a WRITE of " + r.length() + " bytes, more than the maximum payload";
        return false;
      }
    }
    if (shuttingDown) {
      output.send(Commands.error(s, r, credit, new Commands.Refusal(ESHUTDOWN, "the server is shutting down")));
      return true;
    }
    Commands.Refusal f = Commands.check(s, r);
    if (f != null) {
      log.debug("{}: {} refused: {}", this, r.describe(), f.message());
      output.send(Commands.error(s, r, credit, f));
    } else if (r.type() == CMD_FLUSH) {
      output.send(Commands.ok(r, credit));
    } else {
      dispatcher.submit(() -> work(s, r, credit));
    }
    return true;
  }

  /** Takes a credit for a request of {@code slabs}; without one, pauses until one comes back. */
  private boolean acquire(int slabs) {
    if (!output.tryAcquire(slabs)) {
      paused = true;
      return false;
    }
    if (slabs > 0 && !server.pool().tryReserve(slabs, () -> loop.post(this::resume))) {
      paused = true;
      output.giveBack(slabs);
      return false;
    }
    return true;
  }

  /** A credit is back (I/O thread): parse what waited for it and read on. */
  private void resume() {
    if (closed || !paused) {
      return;
    }
    paused = false;
    process();
    afterInput();
    if (canRead()) {
      onReadable();
    } else {
      interest();
    }
  }

  private void interest() {
    if (closed || !key.isValid()) {
      return;
    }
    try {
      if (canRead()) {
        key.interestOpsOr(SelectionKey.OP_READ);
      } else {
        key.interestOpsAnd(~SelectionKey.OP_READ);
      }
    } catch (java.nio.channels.CancelledKeyException e) {
      // closed meanwhile
    }
  }

  // ---- workers ----

  private void work(Negotiation.Session s, Commands.Request r, Reply.Credit credit) {
    if (closed) {
      output.send(Reply.of(credit)); // dropped at once; returns the credit
      return;
    }
    Reply reply;
    try {
      reply = switch (r.type()) {
        case CMD_READ -> Commands.read(s, r, credit);
        case CMD_BLOCK_STATUS -> Commands.blockStatus(s, r, credit);
        case CMD_CACHE -> Commands.cache(s, r, credit);
        default -> throw new IllegalStateException("no worker step for " + r.describe());
      };
    } catch (IOException e) {
      reply = Commands.error(s, r, credit, new Commands.Refusal(EIO, s.export().name() + ": " + e.getMessage()));
      logReadError(s, r, e);
    } catch (RuntimeException | Error e) {
      log.error("{}: {} failed: {}", this, r.describe(), e.toString(), e);
      reply = Commands.error(s, r, credit, new Commands.Refusal(EIO, "internal error in the server"));
    }
    output.send(reply);
  }

  private void logReadError(Negotiation.Session s, Commands.Request r, IOException e) {
    long n = readErrors.incrementAndGet();
    if (n <= READ_ERRORS_LOGGED) {
      log.warn("{}: {} of {}: {} (the client gets EIO)", this, r.describe(), s.export().name(), e.getMessage());
    } else if (n == READ_ERRORS_LOGGED + 1) {
      log.warn("{}: further read errors are counted, not logged", this);
    }
  }

  // ---- writing, timers, closing ----

  /** Write readiness (I/O thread). */
  void onWritable() {
    output.onWritable();
    afterWrite();
  }

  private void afterInput() {
    afterWrite();
    afterReplies();
  }

  /** Steps that wait for queued replies to be written. */
  private void afterWrite() {
    if (closed || (closeWhenWritten == null && phase != Phase.STARTING_TLS) || !output.drained()) {
      return;
    }
    if (closeWhenWritten != null) {
      close(closeWhenWritten, false);
    } else if (phase == Phase.STARTING_TLS) {
      startTls();
    }
  }

  /** Steps that wait for every request to be answered (I/O thread). */
  private void afterReplies() {
    if (closed || closeWhenIdle == null) {
      return;
    }
    if (output.idle()) {
      close(closeWhenIdle, false);
    } else {
      output.wantNotice();
    }
  }

  @Override
  public void writeInterest(boolean on) {
    try {
      if (on) {
        key.interestOpsOr(SelectionKey.OP_WRITE);
        if (!loop.inLoop()) {
          key.selector().wakeup();
        }
      } else {
        key.interestOpsAnd(~SelectionKey.OP_WRITE);
      }
    } catch (java.nio.channels.CancelledKeyException | ClosedSelectorException e) {
      // closing
    }
  }

  @Override
  public void writeFailed(IOException e) {
    loop.post(() -> close("write failed: " + e.getMessage(), false));
  }

  @Override
  public void creditAvailable() {
    loop.post(() -> {
      resume();
      afterReplies();
    });
  }

  /** The periodic check (I/O thread): handshake deadline, unread replies, draining. */
  void tick(long now) {
    if (closed) {
      return;
    }
    ServerLimits l = server.limits();
    if (phase != Phase.TRANSMISSION && now - handshakeDeadline > 0) {
      close("the client did not finish the handshake within " + l.handshakeTimeout().toSeconds() + " s", true);
    } else if (output.stalled(now, l.replyTimeout().toNanos())) {
      close("the client has not read its replies for " + l.replyTimeout().toSeconds() + " s", true);
    } else if (closeWhenIdle != null) {
      afterReplies();
    }
  }

  /**
   * The server stops (I/O thread): a handshake ends now; in transmission the requests in flight
   * are answered, later ones get ESHUTDOWN, and the connection closes once nothing is in flight.
   */
  void shutDown() {
    shuttingDown = true;
    negotiation.shutDown();
    if (phase != Phase.TRANSMISSION) {
      close("the server is shutting down", false);
    } else {
      closeWhenIdle = "the server is shutting down";
      afterReplies();
    }
  }

  /**
   * Closes the connection (I/O thread). {@code misbehaved}: the client broke the protocol or a
   * limit (logged as a warning, rate-limited by the server).
   */
  void close(String reason, boolean misbehaved) {
    if (closed) {
      return;
    }
    closed = true;
    output.close();
    transport.shutdownOutput();
    if (key != null) {
      key.cancel();
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
    String errors = readErrors.get() > 0 ? " (" + readErrors.get() + " reads failed)" : "";
    if (misbehaved) {
      server.clientProblem(this + ": closed: " + reason + errors);
    } else {
      log.info("{}: closed: {}{}", this, reason, errors);
    }
    server.removed(this);
  }

  boolean closed() {
    return closed;
  }
}
