package vmafs.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A bare NBD client over a blocking Unix socket, byte by byte as the spec lays the messages out
 * (written from the spec, not from the server's code): for the tests that must send what real
 * clients never send. Every read has a timeout, so a server that does not answer fails the test
 * instead of hanging it.
 */
final class RawClient implements AutoCloseable {
  static final long OPTION_MAGIC = 0x49484156454F5054L;
  static final long REPLY_MAGIC = 0x3e889045565a9L;
  static final int REQUEST_MAGIC = 0x25609513;
  static final int SIMPLE_MAGIC = 0x67446698;
  static final int STRUCTURED_MAGIC = 0x668e33ef;

  final SocketChannel ch;

  RawClient(Path socket) throws IOException {
    ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(socket));
  }

  /** Reads the greeting and sends the client flags (fixed newstyle, no zeroes). */
  RawClient hello() throws IOException {
    return hello(3);
  }

  RawClient hello(int clientFlags) throws IOException {
    ByteBuffer g = readExactly(18);
    assertEquals(0x4e42444d41474943L, g.getLong(), "NBDMAGIC");
    assertEquals(OPTION_MAGIC, g.getLong(), "IHAVEOPT");
    assertEquals(3, g.getShort(), "handshake flags: FIXED_NEWSTYLE | NO_ZEROES");
    write(ByteBuffer.allocate(4).putInt(clientFlags).flip());
    return this;
  }

  void option(int option, byte[] data) throws IOException {
    write(ByteBuffer.allocate(16 + data.length).putLong(OPTION_MAGIC).putInt(option).putInt(data.length).put(data).flip());
  }

  /** One option reply. */
  record OptionReply(int option, int type, byte[] data) {
    String text() {
      return new String(data, StandardCharsets.UTF_8);
    }

    boolean isError() {
      return type < 0;
    }
  }

  OptionReply optionReply() throws IOException {
    ByteBuffer h = readExactly(20);
    assertEquals(REPLY_MAGIC, h.getLong(), "option reply magic");
    int option = h.getInt();
    int type = h.getInt();
    int len = h.getInt();
    return new OptionReply(option, type, readExactly(len).array());
  }

  /** Replies until (and with) the first that is not REP_SERVER/INFO/META_CONTEXT. */
  List<OptionReply> optionReplies() throws IOException {
    List<OptionReply> out = new ArrayList<>();
    OptionReply r;
    do {
      r = optionReply();
      out.add(r);
    } while (r.type() >= 2 && r.type() <= 4);
    return out;
  }

  static byte[] infoRequest(String name, int... infos) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n).putShort((short) infos.length);
    for (int i : infos) {
      b.putShort((short) i);
    }
    return b.array();
  }

  static byte[] metaRequest(String name, String... queries) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    int len = 4 + n.length + 4;
    for (String q : queries) {
      len += 4 + q.getBytes(StandardCharsets.UTF_8).length;
    }
    ByteBuffer b = ByteBuffer.allocate(len).putInt(n.length).put(n).putInt(queries.length);
    for (String q : queries) {
      byte[] qb = q.getBytes(StandardCharsets.UTF_8);
      b.putInt(qb.length).put(qb);
    }
    return b.array();
  }

  /** STRUCTURED_REPLY, SET_META_CONTEXT base:allocation, GO: the usual way in. */
  RawClient structuredGo(String export) throws IOException {
    option(8, new byte[0]);
    assertEquals(1, optionReply().type());
    option(10, metaRequest(export, "base:allocation"));
    List<OptionReply> meta = optionReplies();
    assertEquals(2, meta.size(), "one META_CONTEXT, then ACK");
    go(export);
    return this;
  }

  void go(String export) throws IOException {
    option(7, infoRequest(export));
    List<OptionReply> r = optionReplies();
    assertEquals(1, r.get(r.size() - 1).type(), () -> "GO failed: " + r.get(r.size() - 1).text());
  }

  void request(int flags, int type, long cookie, long offset, long length) throws IOException {
    write(ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type)
        .putLong(cookie).putLong(offset).putInt((int) length).flip());
  }

  /** A simple reply's header: error and cookie. */
  record Simple(int error, long cookie) {}

  Simple simpleReply() throws IOException {
    ByteBuffer h = readExactly(16);
    assertEquals(SIMPLE_MAGIC, h.getInt(), "simple reply magic");
    return new Simple(h.getInt(), h.getLong());
  }

  /** One structured chunk, or a simple reply seen where a chunk was expected (magic tells). */
  record Chunk(int magic, int flags, int type, long cookie, byte[] payload) {
    boolean done() {
      return (flags & 1) != 0;
    }

    ByteBuffer buf() {
      return ByteBuffer.wrap(payload);
    }

    int error() {
      return buf().getInt();
    }

    String message() {
      ByteBuffer b = buf();
      b.getInt();
      int n = Short.toUnsignedInt(b.getShort());
      return new String(payload, 6, n, StandardCharsets.UTF_8);
    }
  }

  Chunk chunk() throws IOException {
    ByteBuffer h = readExactly(4);
    int magic = h.getInt();
    if (magic == SIMPLE_MAGIC) {
      ByteBuffer rest = readExactly(12);
      int error = rest.getInt();
      return new Chunk(magic, 1, -1, rest.getLong(), ByteBuffer.allocate(4).putInt(error).array());
    }
    assertEquals(STRUCTURED_MAGIC, magic, "structured reply magic");
    ByteBuffer r = readExactly(16);
    int flags = Short.toUnsignedInt(r.getShort());
    int type = Short.toUnsignedInt(r.getShort());
    long cookie = r.getLong();
    int len = r.getInt();
    return new Chunk(magic, flags, type, cookie, readExactly(len).array());
  }

  /** Chunks of one reply up to the one with DONE. */
  List<Chunk> reply() throws IOException {
    List<Chunk> out = new ArrayList<>();
    Chunk c;
    do {
      c = chunk();
      out.add(c);
    } while (!c.done());
    return out;
  }

  /**
   * A structured READ reassembled: data chunks copied in, hole chunks left as zeros; fails on an
   * error chunk, on chunks outside the request or overlapping, and unless every byte is covered.
   */
  byte[] read(long cookie, long offset, int length) throws IOException {
    request(0, 0, cookie, offset, length);
    byte[] out = new byte[length];
    boolean[] covered = new boolean[length];
    for (Chunk c : reply()) {
      assertEquals(cookie, c.cookie());
      ByteBuffer b = c.buf();
      switch (c.type()) {
        case 0 -> { }
        case 1 -> {
          long at = b.getLong() - offset;
          int n = c.payload().length - 8;
          mark(covered, at, n);
          b.get(out, (int) at, n);
        }
        case 2 -> mark(covered, b.getLong() - offset, b.getInt());
        default -> throw new AssertionError("chunk type " + c.type() + (c.type() >= 0x8000 ? ": " + c.message() : ""));
      }
    }
    for (int i = 0; i < length; i++) {
      if (!covered[i]) {
        throw new AssertionError("byte " + (offset + i) + " not covered by the reply");
      }
    }
    return out;
  }

  private static void mark(boolean[] covered, long at, int n) {
    if (at < 0 || at + n > covered.length) {
      throw new AssertionError("chunk [" + at + ", +" + n + ") outside the request");
    }
    for (int i = 0; i < n; i++) {
      if (covered[(int) at + i]) {
        throw new AssertionError("chunks overlap at " + (at + i));
      }
      covered[(int) at + i] = true;
    }
  }

  void write(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Exactly n bytes, or EOFException; at most 10 s. */
  ByteBuffer readExactly(int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    long deadline = System.nanoTime() + 10_000_000_000L;
    ch.configureBlocking(false);
    try {
      while (b.hasRemaining()) {
        int r = ch.read(b);
        if (r < 0) {
          throw new EOFException("the server closed the connection after " + b.position() + " of " + n + " bytes");
        }
        if (r == 0) {
          if (System.nanoTime() > deadline) {
            throw new IOException("no reply within 10 s (" + b.position() + " of " + n + " bytes)");
          }
          sleep(1);
        }
      }
    } finally {
      ch.configureBlocking(true);
    }
    return b.flip();
  }

  /** Whether the server closes the connection within {@code ms} (reading and dropping what comes). */
  boolean closedWithin(long ms) throws IOException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    ByteBuffer sink = ByteBuffer.allocate(1 << 16);
    ch.configureBlocking(false);
    try {
      while (System.nanoTime() < deadline) {
        sink.clear();
        int r;
        try {
          r = ch.read(sink);
        } catch (IOException e) {
          return true; // reset
        }
        if (r < 0) {
          return true;
        }
        if (r == 0) {
          sleep(10);
        }
      }
      return false;
    } finally {
      ch.configureBlocking(true);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
