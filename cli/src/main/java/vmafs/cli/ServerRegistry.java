package vmafs.cli;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How {@code vmafs status} finds the NBD servers of the machine (a mount is found in the mount
 * table and answers through its root's extended attribute; an NBD server has no such place). Each
 * server listens on a status socket {@code servers/PID.sock} in its user's runtime directory
 * ({@link RuntimeDir}: {@code $XDG_RUNTIME_DIR/vmafs}, {@code /run/vmafs} for root without one)
 * and answers every connection with its status as one flat JSON object, then closes it.
 *
 * <p>A socket is live state: a server that was killed leaves at most a file nobody answers on
 * (skipped), never a stale status. Nothing another user could plant is trusted: a directory is
 * read only if it is a real directory (no link), writable by its owner alone, as is its parent;
 * a socket only if it is a socket (no link) owned by the directory's owner, and the process that
 * answers must run as that owner ({@code SO_PEERCRED}). Root also reads the other users' runtime
 * directories ({@code /run/user/UID/vmafs}) and {@code /run/vmafs}, each entry marked with its
 * owner; what a server answers is untrusted input all the same (bounded, parsed strictly, only
 * known fields kept: {@link StatusCommand}).
 */
final class ServerRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServerRegistry.class);
  private static final String DIR = "servers";
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;
  /** The most a status may be, as for a mount's attribute. */
  static final int MAX_STATUS = 64 << 10;
  /** How long one server may take to answer before it is reported as not answering. */
  private static final long ANSWER_MILLIS = 2000;

  private final ServerSocketChannel channel;
  private final Path socket;
  private final Thread thread;

  private ServerRegistry(ServerSocketChannel channel, Path socket, Thread thread) {
    this.channel = channel;
    this.socket = socket;
    this.thread = thread;
  }

  /** A server found in a registry. */
  record Found(Path socket, int uid, String status, String error) {}

  /**
   * Registers this process: binds {@code servers/PID.sock} (mode 0600 in a 0700 directory) and
   * answers each connection with {@code status.get()}.
   */
  static ServerRegistry register(Supplier<byte[]> status) throws IOException {
    Path dir = RuntimeDir.create().resolve(DIR);
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      // checked below like any existing one
    }
    int uid = RuntimeDir.uid();
    String bad = untrustedDirectory(dir, uid);
    if (bad != null) {
      throw new IOException(bad);
    }
    Path socket = dir.resolve(ProcessHandle.current().pid() + ".sock");
    // A socket of this name is a dead server's whose pid came round again: only this user can
    // have made it (the directory is private), so it goes.
    if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && isSocket(socket)) {
      Files.delete(socket);
    }
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    Thread t = new Thread(() -> answer(ch, status), "vmafs-status-socket");
    t.setDaemon(true);
    t.start();
    return new ServerRegistry(ch, socket, t);
  }

  private static void answer(ServerSocketChannel ch, Supplier<byte[]> status) {
    while (ch.isOpen()) {
      try (SocketChannel c = ch.accept()) {
        ByteBuffer b = ByteBuffer.wrap(status.get());
        // A client that does not read blocks only this thread, and only until its socket buffer
        // (far larger than a status) is full; a status is a few hundred bytes.
        while (b.hasRemaining()) {
          c.write(b);
        }
      } catch (java.nio.channels.ClosedChannelException e) {
        return;
      } catch (IOException | RuntimeException e) {
        log.debug("status socket: {}", e.toString());
      }
    }
  }

  /** The status socket, for the log. */
  Path socket() {
    return socket;
  }

  @Override
  public void close() {
    try {
      channel.close();
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      log.debug("status socket {}: {}", socket, e.toString());
    }
    thread.interrupt();
  }

  // ---- vmafs status

  /** Every registered server this user may trust (root: every user's), in directory order. */
  static List<Found> list() {
    int uid = RuntimeDir.uid();
    List<Path> dirs = new ArrayList<>();
    dirs.add(RuntimeDir.path().resolve(DIR));
    if (uid == 0) {
      dirs.add(Path.of("/run/vmafs", DIR));
      try (DirectoryStream<Path> users = Files.newDirectoryStream(Path.of("/run/user"))) {
        for (Path u : users) {
          dirs.add(u.resolve("vmafs").resolve(DIR));
        }
      } catch (IOException e) {
        // no per-user runtime directories here
      }
    }
    List<Found> out = new ArrayList<>();
    List<Path> seen = new ArrayList<>();
    for (Path d : dirs) {
      Path real;
      try {
        real = d.toRealPath(LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        continue; // no such directory: no server registered there
      }
      if (seen.contains(real)) {
        continue;
      }
      seen.add(real);
      int owner;
      try {
        owner = (Integer) Files.getAttribute(real, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        continue;
      }
      // Only root reads other users' directories; their servers answer as themselves.
      if ((uid != 0 && owner != uid) || untrustedDirectory(real, owner) != null) {
        log.debug("{}: {}", real, untrustedDirectory(real, owner));
        continue;
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(real, "*.sock")) {
        for (Path s : files) {
          Found f = ask(s, owner);
          if (f != null) {
            out.add(f);
          }
        }
      } catch (IOException e) {
        log.debug("{}: {}", real, e.toString());
      }
    }
    return out;
  }

  /** The server's answer on {@code socket}, or null if nobody listens there (a dead server's). */
  private static Found ask(Path socket, int owner) {
    try {
      int fileOwner = (Integer) Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      if (!isSocket(socket) || fileOwner != owner) {
        return null;
      }
    } catch (IOException e) {
      return null;
    }
    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      try {
        c.connect(UnixDomainSocketAddress.of(socket));
      } catch (IOException e) {
        return null; // ECONNREFUSED: its server is gone
      }
      var peer = c.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
      var expected = Files.getOwner(socket, LinkOption.NOFOLLOW_LINKS);
      if (!peer.user().equals(expected)) {
        return new Found(socket, owner, null, "answered by " + peer.user().getName()
            + ", not by the socket's owner " + expected.getName() + ": ignored");
      }
      return new Found(socket, owner, readAll(c), null);
    } catch (IOException e) {
      return new Found(socket, owner, null, "no status: " + e.getMessage());
    }
  }

  /** Everything the server sends until it closes, at most {@link #MAX_STATUS}, within a deadline. */
  private static String readAll(SocketChannel c) throws IOException {
    c.configureBlocking(false);
    ByteBuffer b = ByteBuffer.allocate(MAX_STATUS + 1);
    long deadline = System.nanoTime() + ANSWER_MILLIS * 1_000_000;
    try (Selector sel = Selector.open()) {
      c.register(sel, SelectionKey.OP_READ);
      while (b.hasRemaining()) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new IOException("the server did not answer within " + ANSWER_MILLIS + " ms");
        }
        sel.select(left);
        sel.selectedKeys().clear();
        if (c.read(b) < 0) {
          break;
        }
      }
    }
    if (!b.hasRemaining()) {
      throw new IOException("the status is longer than " + MAX_STATUS + " bytes");
    }
    return new String(b.array(), 0, b.position(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Why {@code dir} (and its parent) may not be trusted as {@code uid}'s, or null. */
  private static String untrustedDirectory(Path dir, int uid) {
    try {
      String bad = RuntimeDir.notPrivate(dir, uid);
      return bad != null ? bad : RuntimeDir.notPrivate(dir.getParent(), uid);
    } catch (IOException e) {
      return dir + ": " + e.getMessage();
    }
  }

  private static boolean isSocket(Path p) throws IOException {
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (mode & S_IFMT) == S_IFSOCK;
  }
}
