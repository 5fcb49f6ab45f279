package vmafs.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.remote.RemoteAccessException.Reason;
import vmafs.remote.testing.DroppingProxy;
import vmafs.remote.testing.HttpFileServer;
import vmafs.remote.testing.HttpFileServer.Mode;
import vmafs.remote.testing.TestObjects;

/** HttpStoredBytes against a real HTTP server (Jetty's file handler) on 127.0.0.1. */
class HttpStoredBytesTest {
  static final int PIECE = 64 << 10;

  @TempDir static Path dir;
  static Map<String, Path> objects;
  static HttpFileServer ranges;
  static HttpFileServer noEtag;
  static HttpFileServer ignoresRange;

  @BeforeAll
  static void startServers() throws Exception {
    objects = TestObjects.write(dir);
    ranges = HttpFileServer.start(dir, Mode.RANGES);
    noEtag = HttpFileServer.start(dir, Mode.RANGES_NO_ETAG);
    ignoresRange = HttpFileServer.start(dir, Mode.IGNORES_RANGE);
  }

  @AfterAll
  static void stopServers() throws Exception {
    for (HttpFileServer s : new HttpFileServer[] {ranges, noEtag, ignoresRange}) {
      if (s != null) {
        s.close();
      }
    }
  }

  static RemoteOptions options() {
    return RemoteOptions.defaults().withPieceSize(PIECE);
  }

  @Test
  void positionalAndSequentialReadsAreByteExact() throws IOException {
    for (Map.Entry<String, Path> e : objects.entrySet()) {
      byte[] local = Files.readAllBytes(e.getValue());
      ranges.resetCounts();
      try (HttpStoredBytes remote = HttpStoredBytes.open(ranges.url(e.getKey()), options())) {
        assertEquals(local.length, remote.size());
        assertTrue(remote.versionTag().startsWith("ETag "), remote.versionTag());
        Random rnd = new Random(e.getKey().hashCode());
        for (int i = 0; i < 100; i++) {
          int pos = rnd.nextInt(local.length);
          int len = Math.min(1 + rnd.nextInt(3 * PIECE), local.length - pos);
          ByteBuffer dst = ByteBuffer.allocate(len);
          remote.readFully(pos, dst);
          assertArrayEquals(Arrays.copyOfRange(local, pos, pos + len), dst.array(), e.getKey() + " at " + pos);
        }
        assertEquals(ranges.requests(), remote.stats().requests(), "every request reached the server");
        int before = ranges.requests();
        try (InputStream in = remote.openSequential(0)) {
          assertEquals(TestObjects.sha256(local), TestObjects.sha256(in));
        }
        assertEquals(before + 1, ranges.requests(), "one GET for the sequential pass");
        assertEquals("bytes=0-", ranges.ranges().get(before));
      }
    }
  }

  /**
   * Positional reads behind a streaming GET (the zstd restart finder behind its pass) are served
   * from the whole pieces the stream passed, and a sequential reader there reads no further ahead
   * than the stream: no request of their own.
   */
  @Test
  void readsBehindAStreamComeFromWhatItPassed() throws IOException {
    byte[] local = Files.readAllBytes(objects.get("random.bin"));
    ranges.resetCounts();
    try (HttpStoredBytes remote = HttpStoredBytes.open(ranges.url("random.bin"), options());
        InputStream in = remote.openSequential(0)) {
      int streamed = 12 * PIECE + 777;
      byte[] got = new byte[streamed];
      for (int off = 0, n; off < streamed; off += n) {
        n = in.read(got, off, Math.min(streamed - off, 10_001));
        assertTrue(n > 0);
      }
      int before = ranges.requests();
      // A sequential run over pieces 2-10 (read-ahead would reach past the stream's piece 12),
      // a header-sized read and a random span in what the stream passed.
      for (int pos = 2 * PIECE + 100; pos < 10 * PIECE; pos += 8192) {
        ByteBuffer dst = ByteBuffer.allocate(8192);
        remote.readFully(pos, dst);
        assertArrayEquals(Arrays.copyOfRange(local, pos, pos + 8192), dst.array(), "at " + pos);
      }
      for (int[] r : new int[][] {{5 * PIECE + 3, 3}, {PIECE + 17, 40_000}}) {
        ByteBuffer dst = ByteBuffer.allocate(r[1]);
        remote.readFully(r[0], dst);
        assertArrayEquals(Arrays.copyOfRange(local, r[0], r[0] + r[1]), dst.array(), "at " + r[0]);
      }
      assertEquals(before, ranges.requests(), "reads behind the stream: " + ranges.ranges());
      assertEquals(1, ranges.ranges().stream().filter(r -> r.endsWith("-")).count(), ranges.ranges().toString());
    }
  }

  @Test
  void openingIsOneRangeRequest() throws IOException {
    ranges.resetCounts();
    try (HttpStoredBytes remote = HttpStoredBytes.open(ranges.url("random.bin"), options())) {
      remote.readFully(0, ByteBuffer.allocate(PIECE));
      assertEquals(List.of("bytes=0-" + (PIECE - 1)), ranges.ranges());
    }
  }

  @Test
  void aServerThatIgnoresRangeIsRefusedWithoutDownloadingTheFile() throws Exception {
    Path big = dir.resolve("big.bin");
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(256L << 20);
    }
    try (DroppingProxy counting = new DroppingProxy("127.0.0.1", ignoresRange.port())) {
      URI url = counting.endpoint(ignoresRange.url("big.bin"));
      RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> HttpStoredBytes.open(url, options()));
      assertEquals(Reason.RANGE_IGNORED, e.reason());
      assertEquals("http://127.0.0.1:" + counting.port() + "/big.bin: the server ignores Range requests (it"
          + " answered 'bytes=0-65535' with the whole file, 200 OK); vmafs reads archives in ranges and needs a"
          + " server that answers them with 206 (nginx, Apache, S3 and most CDNs do)", e.getMessage());
      Thread.sleep(200);
      assertTrue(counting.relayed() < (32L << 20), "relayed " + counting.relayed() + " bytes of 256 MiB");
    } finally {
      Files.delete(big);
    }
  }

  @Test
  void lastModifiedIsTheVersionWithoutEtags() throws Exception {
    Path file = Files.write(dir.resolve("dated.bin"), new byte[4 * PIECE]);
    Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2026-01-01T00:00:00Z")));
    try (HttpStoredBytes remote = HttpStoredBytes.open(noEtag.url("dated.bin"), options())) {
      assertEquals("Last-Modified Thu, 01 Jan 2026 00:00:00 GMT", remote.versionTag());
      remote.readFully(PIECE, ByteBuffer.allocate(10));
      replace(file, new byte[4 * PIECE], Instant.parse("2026-01-02T00:00:00Z"));
      RemoteAccessException e = assertThrows(RemoteAccessException.class,
          () -> remote.readFully(3L * PIECE, ByteBuffer.allocate(10)));
      assertEquals(Reason.CHANGED, e.reason());
      assertEquals(noEtag.url("dated.bin") + ": the file changed while it was being read (its Last-Modified is"
          + " not the one it had when opened)", e.getMessage());
    }
  }

  @Test
  void aChangedEtagFailsTheNextRead() throws Exception {
    Path file = Files.write(dir.resolve("tagged.bin"), new byte[4 * PIECE]);
    try (HttpStoredBytes remote = HttpStoredBytes.open(ranges.url("tagged.bin"), options())) {
      byte[] other = new byte[4 * PIECE + 1];
      replace(file, other, Instant.now().plusSeconds(5));
      RemoteAccessException e = assertThrows(RemoteAccessException.class,
          () -> remote.readFully(2L * PIECE, ByteBuffer.allocate(10)));
      assertEquals(Reason.CHANGED, e.reason());
      assertEquals(Reason.CHANGED,
          assertThrows(RemoteAccessException.class, () -> remote.openSequential(0).read()).reason());
    }
  }

  @Test
  void droppedAndStalledConnectionsAreRetriedAndTheBytesStayRight() throws Exception {
    byte[] local = Files.readAllBytes(objects.get("random.bin"));
    try (DroppingProxy proxy = new DroppingProxy("127.0.0.1", ranges.port());
        HttpStoredBytes remote = HttpStoredBytes.open(proxy.endpoint(ranges.url("random.bin")),
            options().withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2)))) {
      proxy.dropNext(3, 20_000);
      ByteBuffer all = ByteBuffer.allocate(local.length);
      remote.readFully(0, all);
      assertEquals(TestObjects.sha256(local), TestObjects.sha256(all.array()));
      assertEquals(3, proxy.dropped());
      long retries = remote.stats().retries();
      assertTrue(retries >= 3, remote.stats().toString());

      proxy.dropNext(2, 1_000_000);
      try (InputStream in = remote.openSequential(0)) {
        assertEquals(TestObjects.sha256(local), TestObjects.sha256(in));
      }
      assertEquals(5, proxy.dropped());

      proxy.stallNext(1, 1_000_000);
      try (InputStream in = remote.openSequential(0)) {
        assertEquals(TestObjects.sha256(local), TestObjects.sha256(in));
      }
      assertEquals(6, proxy.dropped());
      assertTrue(remote.stats().retries() >= retries + 3, remote.stats().toString());
    }
  }

  @Test
  void notFoundAndClosedPortAreOneLineErrors() throws Exception {
    RemoteAccessException missing = assertThrows(RemoteAccessException.class,
        () -> HttpStoredBytes.open(ranges.url("missing.vma"), options()));
    assertEquals(Reason.NOT_FOUND, missing.reason());
    assertEquals(ranges.url("missing.vma") + ": not found (HTTP 404)", missing.getMessage());

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    URI closed = URI.create("http://127.0.0.1:" + port + "/x.vma");
    RetryPolicy fast = new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10), 10);
    RemoteAccessException down = assertThrows(RemoteAccessException.class,
        () -> HttpStoredBytes.open(closed, options().withRetry(fast)));
    assertEquals(Reason.NETWORK, down.reason());
    assertTrue(down.getMessage().startsWith(closed + ": cannot connect to http://127.0.0.1:" + port + " ("),
        down.getMessage());
    assertTrue(down.getMessage().endsWith("(gave up after 2 attempts)"), down.getMessage());
  }

  @Test
  void emptyFilesHaveSizeZero() throws IOException {
    Files.write(dir.resolve("empty"), new byte[0]);
    try (HttpStoredBytes remote = HttpStoredBytes.open(ranges.url("empty"), options())) {
      assertEquals(0, remote.size());
      assertEquals(-1, remote.read(0, ByteBuffer.allocate(1)));
    }
  }

  /** Replaces a file as a sync tool does: a new file renamed over the old one. */
  private static void replace(Path file, byte[] data, Instant mtime) throws IOException {
    Path tmp = Files.write(file.resolveSibling(file.getFileName() + ".new"), data);
    Files.setLastModifiedTime(tmp, FileTime.from(mtime));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
