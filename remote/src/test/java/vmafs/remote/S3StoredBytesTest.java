package vmafs.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.remote.RemoteAccessException.Reason;
import vmafs.remote.testing.DroppingProxy;
import vmafs.remote.testing.S3Server;
import vmafs.remote.testing.TestObjects;

/** S3StoredBytes against a real S3 server (s3proxy, filesystem backend) on 127.0.0.1. */
class S3StoredBytesTest {
  static final String BUCKET = "vmafs-test";
  static final int PIECE = 64 << 10;

  @TempDir static Path tmp;
  static S3Server s3;
  static Map<String, Path> objects;

  @BeforeAll
  static void startServer() throws Exception {
    AwsTestEnvironment.install(tmp);
    Path store = Files.createDirectories(tmp.resolve("store"));
    s3 = S3Server.start(store);
    s3.createBucket(BUCKET);
    objects = TestObjects.write(Files.createDirectories(tmp.resolve("objects")));
    for (Map.Entry<String, Path> e : objects.entrySet()) {
      s3.put(BUCKET, e.getKey(), e.getValue());
    }
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  @BeforeEach
  void reset() {
    s3.resetCounts();
  }

  static RemoteOptions options() {
    return RemoteOptions.defaults().withEndpoint(s3.endpoint()).withPieceSize(PIECE);
  }

  static S3StoredBytes open(String key) throws IOException {
    return S3StoredBytes.open(BUCKET, key, options());
  }

  @Test
  void positionalReadsAreByteExact() throws IOException {
    for (Map.Entry<String, Path> e : objects.entrySet()) {
      byte[] local = Files.readAllBytes(e.getValue());
      s3.resetCounts();
      try (S3StoredBytes remote = open(e.getKey())) {
        assertEquals(local.length, remote.size(), e.getKey());
        Random rnd = new Random(e.getKey().hashCode());
        for (int i = 0; i < 200; i++) {
          long pos = rnd.nextInt(local.length);
          int len = 1 + rnd.nextInt(3 * PIECE);
          ByteBuffer dst = ByteBuffer.allocate(len);
          remote.readFully(pos, dst.limit((int) Math.min(len, local.length - pos)));
          byte[] want = java.util.Arrays.copyOfRange(local, (int) pos, (int) pos + dst.limit());
          assertArrayEquals(want, dst.array().length == want.length ? dst.array()
              : java.util.Arrays.copyOf(dst.array(), want.length), e.getKey() + " at " + pos);
        }
        assertEquals(-1, remote.read(local.length, ByteBuffer.allocate(10)), "at the end");
        ByteBuffer all = ByteBuffer.allocateDirect(local.length);
        remote.readFully(0, all);
        all.flip();
        byte[] got = new byte[local.length];
        all.get(got);
        assertEquals(TestObjects.sha256(local), TestObjects.sha256(got), e.getKey());
        assertEquals(s3.gets(), remote.stats().requests(), "every request reached the server");
      }
    }
  }

  @Test
  void sequentialStreamIsOneGetOfTheWholeObject() throws IOException {
    Path file = objects.get("random.bin");
    try (S3StoredBytes remote = open("random.bin")) {
      s3.resetCounts();
      try (InputStream in = remote.openSequential(0)) {
        assertEquals(TestObjects.sha256(file), TestObjects.sha256(in));
      }
      assertEquals(1, s3.gets(), "one GET for the whole pass: " + s3.ranges());
      assertEquals(List.of("0-"), s3.ranges());
      try (InputStream in = remote.openSequential(1_000_000)) {
        byte[] local = Files.readAllBytes(file);
        assertArrayEquals(java.util.Arrays.copyOfRange(local, 1_000_000, local.length), in.readAllBytes());
      }
      assertEquals(2, s3.gets());
    }
  }

  @Test
  void openingFetchesTheFirstPieceAndLearnsSizeAndEtag() throws IOException {
    try (S3StoredBytes remote = open("random.bin")) {
      assertEquals(1, s3.gets());
      assertEquals(List.of("0-" + (PIECE - 1)), s3.ranges());
      assertTrue(remote.versionTag().startsWith("\""), remote.versionTag());
      remote.readFully(100, ByteBuffer.allocate(1000));
      assertEquals(1, s3.gets(), "the first piece came with the opening request");
    }
  }

  @Test
  void aRandomReadIsOneRequestOfExactlyItsRange() throws IOException {
    try (S3StoredBytes remote = open("random.bin")) {
      s3.resetCounts();
      // Across a piece boundary: still one request, and of the asked bytes only.
      long at = 3L * PIECE - 1000;
      remote.readFully(at, ByteBuffer.allocate(5000));
      assertEquals(List.of(at + "-" + (at + 4999)), s3.ranges());
      assertEquals(1, remote.stats().rangesFetched());
      assertEquals(0, remote.stats().piecesFetched());
      // The first piece came with the opening request: the cache answers.
      remote.readFully(100, ByteBuffer.allocate(4096));
      assertEquals(1, s3.gets(), s3.ranges().toString());
      assertEquals("2 requests, 70536 B received, 0 retries", remote.stats().summary());
      // Reads shorter than a sector (header walks) take their piece: one request for many.
      for (int i = 0; i < 20; i++) {
        remote.readFully(5L * PIECE + 3000L * i, ByteBuffer.allocate(3));
      }
      assertEquals(2, s3.gets(), s3.ranges().toString());
      assertEquals(5 * PIECE + "-" + (6 * PIECE - 1), s3.ranges().get(1));
    }
  }

  @Test
  void cachedPiecesAreFetchedOnce() throws IOException {
    try (S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin", options().withReadAhead(0))) {
      s3.resetCounts();
      // Until the run covers a piece its reads are exact ranges (3 here); then pieces 3 to 5.
      for (long pos = 3L * PIECE; pos < 6L * PIECE; pos += 16 << 10) {
        remote.readFully(pos, ByteBuffer.allocate(16 << 10));
      }
      assertEquals(6, s3.gets(), s3.ranges().toString());
      assertEquals(3, remote.stats().piecesFetched());
      long hits = remote.stats().cacheHits();
      for (int i = 0; i < 5; i++) {
        remote.readFully(4L * PIECE + 17 * i, ByteBuffer.allocate(4096));
      }
      assertEquals(6, s3.gets(), "pieces are fetched once: " + s3.ranges());
      assertEquals(hits + 5, remote.stats().cacheHits());
    }
  }

  @Test
  void largeReadsAreSplitIntoPieceRequests() throws IOException {
    try (S3StoredBytes remote = open("random.bin")) {
      s3.resetCounts();
      ByteBuffer dst = ByteBuffer.allocate(8 * PIECE);
      remote.readFully(10L * PIECE, dst);
      List<String> ranges = s3.ranges();
      assertEquals(8, ranges.size(), ranges.toString());
      for (int p = 10; p < 18; p++) {
        assertTrue(ranges.contains(p * PIECE + "-" + ((p + 1) * PIECE - 1)), ranges.toString());
      }
    }
  }

  @Test
  void aSequentialScanFetchesEachPieceOnce() throws IOException {
    Path file = objects.get("random.bin");
    long size = Files.size(file);
    int pieces = (int) ((size + PIECE - 1) / PIECE);
    // A cache much smaller than the object, as for any real archive: its admission policy must not
    // make a sequential reader fetch a piece twice, nor read-ahead fetch pieces nobody gets to read.
    try (S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin", options().withCacheBytes(4L * PIECE))) {
      s3.resetCounts();
      byte[] got = new byte[(int) size];
      ByteBuffer chunk = ByteBuffer.allocate(16 << 10);
      for (int pos = 0; pos < size; pos += chunk.capacity()) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), size - pos));
        remote.readFully(pos, chunk);
        chunk.flip().get(got, pos, chunk.remaining());
      }
      assertEquals(TestObjects.sha256(file), TestObjects.sha256(got));
      assertEquals(pieces - 1, s3.gets(), "every piece but the first, once");
      assertEquals(pieces - 1, remote.stats().piecesFetched());
    }
  }

  @Test
  void sequentialReadsFetchAhead() throws Exception {
    try (S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin", options().withReadAhead(4))) {
      s3.resetCounts();
      remote.readFully(PIECE, ByteBuffer.allocate(PIECE / 2));
      assertEquals(List.of(PIECE + "-" + (PIECE + PIECE / 2 - 1)), s3.ranges(),
          "a first read is not taken for sequential: its range alone");
      remote.readFully(PIECE + PIECE / 2, ByteBuffer.allocate(PIECE / 2));
      // The second read continues the first: its piece, and pieces 2-5 without being asked for.
      waitFor(() -> s3.gets() == 6, "read-ahead of 4 pieces: " + s3.ranges());
      assertTrue(s3.ranges().contains(5 * PIECE + "-" + (6 * PIECE - 1)), s3.ranges().toString());
      for (int p = 2; p < 6; p++) {
        remote.readFully((long) p * PIECE, ByteBuffer.allocate(PIECE));
      }
      waitFor(() -> s3.gets() == 10, "the window moves on: " + s3.ranges());
    }
  }

  @Test
  void aChangedObjectFailsTheNextRead() throws Exception {
    s3.put(BUCKET, "changing.bin", new byte[5 * PIECE]);
    try (S3StoredBytes remote = open("changing.bin")) {
      byte[] other = new byte[5 * PIECE];
      other[0] = 1;
      s3.put(BUCKET, "changing.bin", other);
      RemoteAccessException e = assertThrows(RemoteAccessException.class,
          () -> remote.readFully(3L * PIECE, ByteBuffer.allocate(10)));
      assertEquals(Reason.CHANGED, e.reason());
      assertEquals("s3://vmafs-test/changing.bin: the object changed while it was being read (its ETag is not"
          + " the one it had when opened)", e.getMessage());
      RemoteAccessException s = assertThrows(RemoteAccessException.class, () -> remote.openSequential(0));
      assertEquals(Reason.CHANGED, s.reason());
      assertEquals(0, remote.stats().retries(), "a change is not retried");
    }
  }

  @Test
  void droppedConnectionsAreRetriedAndTheBytesStayRight() throws Exception {
    Path file = objects.get("random.bin");
    byte[] local = Files.readAllBytes(file);
    try (DroppingProxy proxy = new DroppingProxy("127.0.0.1", s3.port());
        S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin",
            options().withEndpoint(proxy.endpoint(s3.endpoint())))) {
      proxy.dropNext(3, 30_000);
      ByteBuffer all = ByteBuffer.allocate(local.length);
      remote.readFully(0, all);
      assertEquals(TestObjects.sha256(local), TestObjects.sha256(all.array()));
      assertEquals(3, proxy.dropped());
      assertTrue(remote.stats().retries() >= 3, remote.stats().toString());

      proxy.dropNext(2, 1_500_000);
      try (InputStream in = remote.openSequential(0)) {
        assertEquals(TestObjects.sha256(local), TestObjects.sha256(in));
      }
      assertEquals(5, proxy.dropped());
    }
  }

  @Test
  void aStalledServerTimesOutAndIsRetried() throws Exception {
    byte[] local = Files.readAllBytes(objects.get("random.bin"));
    try (DroppingProxy proxy = new DroppingProxy("127.0.0.1", s3.port());
        S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin",
            options().withEndpoint(proxy.endpoint(s3.endpoint()))
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2)))) {
      proxy.stallNext(1, 20_000);
      ByteBuffer dst = ByteBuffer.allocate(PIECE);
      remote.readFully(7L * PIECE, dst);
      assertArrayEquals(java.util.Arrays.copyOfRange(local, 7 * PIECE, 8 * PIECE), dst.array());
      assertEquals(1, proxy.dropped());
      assertTrue(remote.stats().retries() >= 1, remote.stats().toString());
    }
  }

  @Test
  void closingReleasesAReaderWaitingOnAStalledRequest() throws Exception {
    try (DroppingProxy proxy = new DroppingProxy("127.0.0.1", s3.port())) {
      S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin", options().withEndpoint(
          proxy.endpoint(s3.endpoint())));
      proxy.stallNext(1, 0);
      ExecutorService reader = Executors.newSingleThreadExecutor();
      try {
        Future<?> read = reader.submit(() -> {
          remote.readFully(5L * PIECE, ByteBuffer.allocate(10));
          return null;
        });
        waitFor(() -> proxy.dropped() == 1, "the request is stalled");
        remote.close();
        Exception e = assertThrows(java.util.concurrent.ExecutionException.class,
            () -> read.get(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals("s3://vmafs-test/random.bin: closed while reading", e.getCause().getMessage());
      } finally {
        reader.shutdownNow();
      }
    }
  }

  @Test
  void aDeadNetworkCostsABoundedNumberOfRetries() throws Exception {
    DroppingProxy proxy = new DroppingProxy("127.0.0.1", s3.port());
    RetryPolicy fast = new RetryPolicy(4, Duration.ofMillis(10), Duration.ofMillis(40), 10);
    try (S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin",
        options().withEndpoint(proxy.endpoint(s3.endpoint())).withRetry(fast).withReadAhead(0))) {
      proxy.close();
      ExecutorService readers = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> reads = new java.util.ArrayList<>();
        for (int p = 1; p <= 40; p++) {
          long pos = (long) p * PIECE;
          reads.add(readers.submit(() -> {
            remote.readFully(pos, ByteBuffer.allocate(10));
            return null;
          }));
        }
        for (Future<?> f : reads) {
          Exception e = assertThrows(java.util.concurrent.ExecutionException.class, f::get);
          RemoteAccessException r = (RemoteAccessException) e.getCause();
          assertEquals(Reason.NETWORK, r.reason(), r.getMessage());
          assertTrue(r.getMessage().startsWith("s3://vmafs-test/random.bin: cannot connect to http://127.0.0.1:"),
              r.getMessage());
        }
      } finally {
        readers.shutdownNow();
      }
      // 40 failing pieces, 4 attempts each, would be 120 retries; the budget stops at 10.
      assertTrue(remote.stats().retries() <= 10, remote.stats().toString());
    }
  }

  @Test
  void aClosedPortIsANetworkErrorAfterBoundedRetries() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    RetryPolicy fast = new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(20), 10);
    RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> S3StoredBytes.open(BUCKET,
        "random.bin", options().withEndpoint(URI.create("http://127.0.0.1:" + port)).withRetry(fast)));
    assertEquals(Reason.NETWORK, e.reason());
    assertEquals("s3://vmafs-test/random.bin: cannot connect to http://127.0.0.1:" + port
        + " (Connection refused) (gave up after 3 attempts)", e.getMessage());
  }

  @Test
  void missingKeyBucketAndBadCredentialsAreOneLineErrors() {
    RemoteAccessException key = assertThrows(RemoteAccessException.class, () -> open("no-such-key.vma"));
    assertEquals(Reason.NOT_FOUND, key.reason());
    assertEquals("s3://vmafs-test/no-such-key.vma: no such key (NoSuchKey)", key.getMessage());

    RemoteAccessException bucket = assertThrows(RemoteAccessException.class,
        () -> S3StoredBytes.open("no-such-bucket", "x.vma", options()));
    assertEquals(Reason.NO_SUCH_BUCKET, bucket.reason());
    assertEquals("s3://no-such-bucket/x.vma: no such bucket 'no-such-bucket'", bucket.getMessage());

    RemoteAccessException secret = assertThrows(RemoteAccessException.class, () -> S3StoredBytes.open(BUCKET,
        "random.bin", options().withProfile("wrong-secret")));
    assertEquals(Reason.ACCESS_DENIED, secret.reason());
    assertEquals("s3://vmafs-test/random.bin: access denied: the secret key does not match the access key"
        + " (SignatureDoesNotMatch)", secret.getMessage());

    RemoteAccessException unknown = assertThrows(RemoteAccessException.class, () -> S3StoredBytes.open(BUCKET,
        "random.bin", options().withProfile("unknown-key")));
    assertEquals(Reason.ACCESS_DENIED, unknown.reason());
    assertTrue(unknown.getMessage().startsWith("s3://vmafs-test/random.bin: access denied"), unknown.getMessage());
    for (RemoteAccessException e : List.of(key, bucket, secret, unknown)) {
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
      assertFalse(e.retryable(), e.getMessage());
    }
  }

  @Test
  void aNamedProfileSuppliesTheCredentials() throws IOException {
    try (S3StoredBytes remote = S3StoredBytes.open(BUCKET, "random.bin", options().withProfile("good"))) {
      assertEquals(Files.size(objects.get("random.bin")), remote.size());
    }
  }

  @Test
  void emptyObjectsHaveSizeZero() throws IOException {
    s3.put(BUCKET, "empty", new byte[0]);
    try (S3StoredBytes remote = open("empty")) {
      assertEquals(0, remote.size());
      assertEquals(-1, remote.read(0, ByteBuffer.allocate(1)));
      try (InputStream in = remote.openSequential(0)) {
        assertEquals(-1, in.read());
      }
    }
  }

  static void waitFor(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
    for (int i = 0; i < 500 && !cond.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
    assertTrue(cond.getAsBoolean(), what);
  }
}
