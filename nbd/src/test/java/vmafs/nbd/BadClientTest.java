package vmafs.nbd;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that break the rules or take too much: each gets an error or a closed connection, and
 * neither the other clients nor the server's memory notice.
 */
class BadClientTest {
  @TempDir Path dir;

  /** A well-behaved client reading from the server while a bad one does its worst. */
  static void aGoodClientStillWorks(TestServer s, SparseImage img) throws IOException {
    try (RawClient c = s.client().hello().structuredGo("disk")) {
      assertArrayEquals(ProtocolTest.expected(img, (4L << 20) + 123, 300_000), c.read(1, (4L << 20) + 123, 300_000));
    }
  }

  static void await(String what, java.util.function.BooleanSupplier condition, long ms) {
    long deadline = System.nanoTime() + ms * 1_000_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting for: " + what);
      }
      RawClient.sleep(20);
    }
  }

  @Test
  void aClientThatNeverReadsItsRepliesHoldsBoundedMemoryAndIsDisconnected() throws Exception {
    SparseImage img = TestServer.image();
    ServerLimits limits = TestServer.quick().withBuffers(8, 40L << 20, 64L << 20);
    try (TestServer s = new TestServer(dir, List.of(new Export("disk", "d", img)), limits, TlsMode.OFF, null);
         RawClient bad = s.client().hello().structuredGo("disk")) {
      // 1 MiB reads of data, as fast as the socket takes them, never reading a reply.
      AtomicLong sent = new AtomicLong();
      Thread flood = new Thread(() -> {
        try {
          for (long i = 0; i < 100_000; i++) {
            bad.request(4, 0, i, 4L << 20, 1 << 20); // DF: the data is sent, zeros included
            sent.incrementAndGet();
          }
        } catch (IOException e) {
          // the server closed the connection: expected
        }
      });
      flood.setDaemon(true);
      flood.start();
      // The server stops reading once 8 requests are in flight: the client's sends block.
      await("the flood to stall", () -> {
        long before = sent.get();
        RawClient.sleep(300);
        return sent.get() == before;
      }, 5000);
      ServerStats st = s.server.stats();
      assertTrue(st.inFlight() <= 8, st.toString());
      assertTrue(st.bufferBytesReserved() <= 40L << 20, st.toString());
      assertTrue(st.bufferBytesAllocated() <= 64L << 20, st.toString());

      aGoodClientStillWorks(s, img);

      // No byte of the replies read for the reply timeout (2 s): closed, its buffers returned.
      await("the bad client to be dropped", () -> s.server.stats().connections() == 0, 10_000);
      flood.join(5000);
      assertFalse(flood.isAlive(), "the flood ends once the connection is closed");
      await("buffers returned", () -> s.server.stats().bufferBytesReserved() == 0, 2000);
    }
  }

  @Test
  void aThousandConnectionsCostLittleAndAreClosedWhenTheyStallTheHandshake() throws Exception {
    SparseImage img = TestServer.image();
    ServerLimits limits = TestServer.quick().withMaxConnections(2000)
        .withTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(2));
    try (TestServer s = new TestServer(dir, List.of(new Export("disk", "d", img)), limits, TlsMode.OFF, null)) {
      List<RawClient> idle = new ArrayList<>();
      try {
        for (int i = 0; i < 1000; i++) {
          idle.add(s.client());
        }
        await("1000 connections", () -> s.server.stats().connections() == 1000, 5000);
        assertEquals(1000, s.server.stats().handshaking());
        aGoodClientStillWorks(s, img);
        // None finishes its handshake: all closed after the handshake limit (1 s).
        await("the stalled handshakes to be closed", () -> s.server.stats().connections() == 0, 10_000);
        for (RawClient c : idle.subList(0, 10)) {
          assertTrue(c.closedWithin(1000));
        }
      } finally {
        for (RawClient c : idle) {
          c.close();
        }
      }
    }
  }

  @Test
  void connectionsBeyondTheLimitAreClosedAtOnce() throws Exception {
    SparseImage img = TestServer.image();
    try (TestServer s = new TestServer(dir, List.of(new Export("disk", "d", img)),
        ServerLimits.defaults().withMaxConnections(3), TlsMode.OFF, null)) {
      List<RawClient> open = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          open.add(s.client().hello());
        }
        try (RawClient fourth = s.client()) {
          assertTrue(fourth.closedWithin(2000), "a fourth connection is closed");
        }
        assertEquals(1, s.server.stats().refused());
        open.remove(0).close();
        await("a slot to free", () -> s.server.stats().connections() == 2, 2000);
        aGoodClientStillWorks(s, img);
      } finally {
        for (RawClient c : open) {
          c.close();
        }
      }
    }
  }

  @Test
  void handshakesThatStopHalfwayAreClosed() throws Exception {
    SparseImage img = TestServer.image();
    try (TestServer s = new TestServer(dir, List.of(new Export("disk", "d", img)), TestServer.quick(), TlsMode.OFF, null)) {
      List<RawClient> stuck = new ArrayList<>();
      try {
        stuck.add(s.client()); // never sends its flags
        RawClient half = s.client();
        half.readExactly(18);
        half.write(ByteBuffer.wrap(new byte[] {0, 0})); // half the flags
        stuck.add(half);
        RawClient option = s.client().hello();
        option.write(ByteBuffer.allocate(20).putLong(RawClient.OPTION_MAGIC).putInt(7).putInt(100).putInt(4).flip());
        stuck.add(option); // an option whose data never comes
        RawClient trickle = s.client().hello();
        stuck.add(trickle);
        long t0 = System.nanoTime();
        // One byte every 200 ms: always some progress, never done.
        byte[] opt = ByteBuffer.allocate(16).putLong(RawClient.OPTION_MAGIC).putInt(3).putInt(0).array();
        for (int i = 0; i < opt.length - 1 && System.nanoTime() - t0 < 3_000_000_000L; i++) {
          try {
            trickle.write(ByteBuffer.wrap(opt, i, 1));
          } catch (IOException e) {
            break;
          }
          RawClient.sleep(200);
        }
        for (RawClient c : stuck) {
          assertTrue(c.closedWithin(3000), "a stalled handshake is closed within the limit");
        }
        assertEquals(0, s.server.stats().connections());
      } finally {
        for (RawClient c : stuck) {
          c.close();
        }
      }
    }
  }

  @Test
  void garbageAfterTheHandshakeClosesOnlyThatConnection() throws Exception {
    SparseImage img = TestServer.image();
    try (TestServer s = new TestServer(dir, img);
         RawClient good = s.client().hello().structuredGo("disk");
         RawClient bad = s.client().hello().structuredGo("disk")) {
      bad.write(ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
      assertTrue(bad.closedWithin(2000), "a request with a bad magic ends the connection");
      assertArrayEquals(ProtocolTest.expected(img, 0, 65536), good.read(1, 0, 65536));
    }
  }

  @Test
  void manyClientsAtOnceGetTheirOwnBytes() throws Exception {
    SparseImage img = TestServer.image();
    try (TestServer s = new TestServer(dir, img)) {
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int t = 0; t < 8; t++) {
        int seed = t;
        Thread th = new Thread(() -> {
          try (RawClient c = s.client().hello().structuredGo("disk")) {
            java.util.Random r = new java.util.Random(seed);
            // Pipelined: 16 requests out, then their replies in whatever order they come.
            for (int round = 0; round < 10; round++) {
              long[][] reqs = new long[16][];
              for (int i = 0; i < 16; i++) {
                int len = 1 + r.nextInt(200_000);
                reqs[i] = new long[] {(long) (r.nextDouble() * (img.size() - len)), len};
                c.request(0, 0, i, reqs[i][0], len);
              }
              byte[][] got = new byte[16][];
              int[] covered = new int[16];
              int done = 0;
              while (done < 16) {
                RawClient.Chunk ch = c.chunk();
                int i = (int) ch.cookie();
                if (got[i] == null) {
                  got[i] = new byte[(int) reqs[i][1]];
                }
                ByteBuffer b = ch.buf();
                if (ch.type() == 1) {
                  long at = b.getLong() - reqs[i][0];
                  int n = ch.payload().length - 8;
                  b.get(got[i], (int) at, n);
                  covered[i] += n;
                } else if (ch.type() == 2) {
                  b.getLong();
                  covered[i] += b.getInt();
                } else {
                  throw new AssertionError("chunk type " + ch.type());
                }
                if (ch.done()) {
                  done++;
                  assertEquals(reqs[i][1], covered[i]);
                  assertArrayEquals(ProtocolTest.expected(img, reqs[i][0], (int) reqs[i][1]), got[i]);
                }
              }
            }
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) {
        th.join(60_000);
      }
      assertEquals(List.of(), failures);
    }
  }

  @Test
  void shutdownAnswersWhatIsInFlightThenCloses() throws Exception {
    GatedImage slow = new GatedImage(TestServer.image());
    TestServer s = new TestServer(dir, List.of(new Export("disk", "d", slow)), ServerLimits.defaults(), TlsMode.OFF, null);
    try (RawClient c = s.client().hello().structuredGo("disk");
         RawClient handshaking = s.client().hello()) {
      c.request(0, 0, 1, 0, 1 << 20);
      slow.awaitHeld();
      Thread stopper = new Thread(() -> s.server.shutdown(Duration.ofSeconds(5)));
      stopper.start();
      assertTrue(handshaking.closedWithin(3000), "handshakes end at once");
      c.request(0, 0, 2, 1 << 20, 4096);
      RawClient.Chunk refused = c.chunk();
      assertEquals(2, refused.cookie());
      assertEquals(108, refused.error(), "a request after the shutdown began gets ESHUTDOWN");
      slow.open();
      List<RawClient.Chunk> r = c.reply();
      assertEquals(1, r.get(0).cookie());
      assertEquals(1, r.get(0).type(), "the request in flight is answered with its data");
      assertTrue(c.closedWithin(3000), "then the connection closes");
      stopper.join(10_000);
      assertFalse(stopper.isAlive());
      assertFalse(java.nio.file.Files.exists(s.socket), "the socket file is removed");
    } finally {
      s.close();
    }
  }
}
