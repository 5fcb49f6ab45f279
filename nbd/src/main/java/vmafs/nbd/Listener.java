package vmafs.nbd;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listening socket. A Unix socket file is created with mode 0600 (only the server's user may
 * connect, as only the mounting user may read a mount), a stale one left by a killed server is
 * replaced, anything else at the path (a file, a link) is refused, and the file is removed when the
 * server stops if it is still the one it created.
 */
final class Listener implements IoLoop.Handler {
  private static final Logger log = LoggerFactory.getLogger(Listener.class);
  private static final int BACKLOG = 128;
  private static final int ACCEPTS_PER_EVENT = 64;
  /** st_mode's file type bits, and the type of a socket. */
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private final NbdServer server;
  private final ServerSocketChannel channel;
  private final ListenAddress bound;
  private final Path socketFile;
  private final Object socketFileKey;
  private SelectionKey key;
  private boolean acceptPaused;

  private Listener(NbdServer server, ServerSocketChannel channel, ListenAddress bound, Path socketFile, Object fileKey) {
    this.server = server;
    this.channel = channel;
    this.bound = bound;
    this.socketFile = socketFile;
    this.socketFileKey = fileKey;
  }

  static Listener open(NbdServer server, ListenAddress address) throws IOException {
    if (address instanceof ListenAddress.Unix u) {
      return openUnix(server, u);
    }
    ListenAddress.Tcp t = (ListenAddress.Tcp) address;
    InetSocketAddress sa;
    try {
      sa = t.resolve();
    } catch (UnknownHostException e) {
      throw new IOException("cannot listen on " + t.display() + ": unknown host '" + t.host() + "'", e);
    }
    ServerSocketChannel ch = ServerSocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      ch.bind(sa, BACKLOG);
      ch.configureBlocking(false);
    } catch (IOException e) {
      ch.close();
      throw new IOException("cannot listen on " + t.display() + ": " + e.getMessage(), e);
    }
    int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
    return new Listener(server, ch, new ListenAddress.Tcp(t.host(), port), null, null);
  }

  private static Listener openUnix(NbdServer server, ListenAddress.Unix u) throws IOException {
    Path p = u.path();
    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      if (!isSocket(p)) {
        throw new IOException(u.display() + ": the path exists and is not a socket; refusing to replace it");
      }
      if (answers(p)) {
        throw new IOException(u.display() + ": another server is listening on this socket");
      }
      log.info("{}: replacing a stale socket (its server is gone)", u.display());
      Files.delete(p);
    }
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.bind(UnixDomainSocketAddress.of(p), BACKLOG);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
      ch.configureBlocking(false);
    } catch (BindException e) {
      ch.close();
      throw new IOException("cannot listen on " + u.display() + ": " + e.getMessage(), e);
    } catch (IOException e) {
      ch.close();
      throw new IOException("cannot listen on " + u.display() + ": " + e.getMessage(), e);
    }
    Object key = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    return new Listener(server, ch, u, p, key);
  }

  private static boolean isSocket(Path p) throws IOException {
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (mode & S_IFMT) == S_IFSOCK;
  }

  /** Whether a server accepts connections on the socket file. */
  private static boolean answers(Path p) {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(p))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  ListenAddress bound() {
    return bound;
  }

  void register(java.nio.channels.Selector selector) throws IOException {
    key = channel.register(selector, SelectionKey.OP_ACCEPT, this);
  }

  @Override
  public void ready(SelectionKey k) {
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
      SocketChannel c;
      try {
        c = channel.accept();
      } catch (IOException e) {
        // Out of file descriptors, typically: stop accepting until the next tick rather than spin.
        server.clientProblem("cannot accept a connection on " + bound.display() + ": " + e.getMessage());
        acceptPaused = true;
        k.interestOps(0);
        return;
      }
      if (c == null) {
        return;
      }
      server.accepted(c, bound);
    }
  }

  @Override
  public void failed(Throwable t) {
    // ready() handles accept failures itself; the listening socket stays open
  }

  /** The timer (I/O thread): accept again after a failed accept. */
  void tick() {
    if (acceptPaused && key != null && key.isValid()) {
      acceptPaused = false;
      key.interestOps(SelectionKey.OP_ACCEPT);
    }
  }

  /** Stops listening and removes the socket file if it is still the one made here. */
  void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
    if (socketFile != null) {
      try {
        Object now = Files.readAttributes(socketFile, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        if (Objects.equals(now, socketFileKey)) {
          Files.delete(socketFile);
        }
      } catch (IOException e) {
        // gone already, or replaced by someone else's: leave it
      }
    }
  }
}
