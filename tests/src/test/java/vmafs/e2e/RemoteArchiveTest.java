package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.remote.testing.HttpFileServer;
import vmafs.remote.testing.S3Server;

/**
 * Issue #16 end to end: archives in a real S3 server (s3proxy, filesystem backend, SigV4 checked,
 * in this JVM on 127.0.0.1) and behind a real HTTP server with Range (Jetty), read by the vmafs
 * command as a user runs it. Mounted images, extracted images and {@code verify} equal the source
 * byte for byte; the first mount's pass streams the object in one request; a remount uses the
 * index saved in the cache (the server sees no streaming GET); an object replaced under a mount
 * fails reads with EIO; the errors a user meets are one line with exit code 5.
 */
class RemoteArchiveTest {
  private static final String BUCKET = "dumps";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path disk;
  static String diskSha;
  static final Map<String, Path> archives = new HashMap<>();
  static S3Server s3;
  static HttpFileServer http;

  @BeforeAll
  static void servers() throws Exception {
    disk = dir.resolve("disk.raw");
    // ~40 MiB of VMA stream: a single-frame zstd of it has several 8 MiB jobs (restart points).
    CompressedTest.semiCompressible(disk, 96L << 20, 40L << 20);
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
      f.seek((96L << 20) - 3000);
      f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    }
    diskSha = Images.sha256(disk);
    Path files = Files.createDirectories(dir.resolve("files"));
    Path raw = files.resolve("vzdump-qemu-116.vma");
    Run.vmafs("create", "--order", "shuffled", raw.toString(), "drive-scsi0=" + disk).ok();
    archives.put("vma", raw);
    archives.put("zst", compress(raw, "vzdump-qemu-116.vma.zst", "zstd -q --threads=2 -c"));
    archives.put("lzo", compress(raw, "vzdump-qemu-116.vma.lzo", "lzop -q -c"));
    archives.put("gz", compress(raw, "vzdump-qemu-116.vma.gz", "gzip --rsyncable -c"));
    Path seekable = files.resolve("seekable-116.vma.zst");
    Run.vmafs("convert", raw.toString(), "--seekable=" + seekable).ok();
    archives.put("seekable", seekable);
    s3 = S3Server.start(Files.createDirectories(dir.resolve("s3")));
    s3.createBucket(BUCKET);
    for (Path a : archives.values()) {
      s3.put(BUCKET, "pve/" + a.getFileName(), a);
    }
    http = HttpFileServer.start(files, HttpFileServer.Mode.RANGES);
  }

  @AfterAll
  static void stop() throws Exception {
    if (http != null) {
      http.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private static Path compress(Path raw, String name, String command) {
    Path out = raw.resolveSibling(name);
    Run.sh(command + " < '" + raw + "' > '" + out + "'").ok();
    return out;
  }

  /** vmafs with its own cache and runtime directories and the test server's credentials only. */
  private static Isolated isolated(Path work) throws IOException {
    Map<String, String> aws = new HashMap<>();
    aws.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
    aws.put("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
    aws.put("AWS_REGION", "us-east-1");
    // Never the machine's own profiles, never the instance-metadata address.
    aws.put("AWS_CONFIG_FILE", work.resolve("no-aws-config").toString());
    aws.put("AWS_SHARED_CREDENTIALS_FILE", work.resolve("no-aws-credentials").toString());
    aws.put("AWS_EC2_METADATA_DISABLED", "true");
    return new Isolated(work, aws);
  }

  /** {@code vmafs mount --endpoint-url … URL MOUNTPOINT} in the background; unmounted on close. */
  private static Mounted.Cleanup mount(Isolated env, String url, Path mountpoint, String... options)
      throws IOException {
    List<String> args = new ArrayList<>(List.of("--endpoint-url", endpoint()));
    args.addAll(List.of(options));
    return env.mount(url, mountpoint, args.toArray(String[]::new));
  }

  private static String s3Url(String format) {
    return "s3://" + BUCKET + "/pve/" + archives.get(format).getFileName();
  }

  private static String endpoint() {
    return s3.endpoint().toString();
  }

  /** Ranges of GETs that stream to the end of the object ("N-"), as the server saw them. */
  private static long streamingGets() {
    return s3.ranges().stream().filter(r -> r.endsWith("-") || r.isEmpty()).count();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"vma", "zst", "seekable", "lzo", "gz"})
  void mountedFromS3TheImageEqualsTheSourceAndARemountNeedsNoPass(String format) throws Exception {
    Path work = Files.createDirectories(dir.resolve("mount-" + format));
    Isolated env = isolated(work);
    Path mnt = work.resolve("mnt");
    s3.resetCounts();
    try (Mounted.Cleanup m = mount(env, s3Url(format), mnt)) {
      Path img = mnt.resolve("disk-drive-scsi0.raw");
      assertEquals(diskSha, Images.sha256(img), format);
    }
    // The index pass read the object in order in one streaming GET, never a request per header.
    assertEquals(1, streamingGets(), "streaming GETs of the first mount: " + s3.ranges());
    System.out.println("first mount from S3, " + format + ": " + s3.gets() + " GETs, " + s3.ranges());
    try (var saved = Files.list(env.cacheDir().resolve("vmafs/remote"))) {
      assertTrue(saved.anyMatch(p -> p.getFileName().toString().endsWith(".vmafs-index")),
          "the index is saved in the cache");
    }

    s3.resetCounts();
    try (Mounted.Cleanup m = mount(env, s3Url(format), mnt)) {
      int atMount = s3.gets();
      assertEquals(0, streamingGets(), "a remount streams nothing: " + s3.ranges());
      assertTrue(atMount <= 8, "a remount costs a few range requests, not a pass: " + s3.ranges());
      Path img = mnt.resolve("disk-drive-scsi0.raw");
      assertEquals(MountTest.render(Images.dataRanges(disk)), MountTest.render(MountTest.seekWalk(img)),
          "holes as in the source");
      assertEquals(diskSha, Images.sha256(img), format + " after a remount");
      assertEquals(0, streamingGets(), "reads are range requests: " + s3.ranges());
    }
  }

  /**
   * A first {@code vmafs index} of a compressed archive reads the object in one streaming GET, and
   * once the pass streams, nothing else: the zstd restart finder reads the spans it verifies again,
   * behind the pass, and gzip's probes read ahead of it, both from bytes the stream has fetched.
   * Before the pass: the opening piece and the identity's last 64 KiB (and a .vma.zst's header walk).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"zst", "gz", "lzo"})
  void aFirstIndexOfACompressedArchiveStreamsTheObjectOnce(String format) throws Exception {
    Isolated env = isolated(Files.createDirectories(dir.resolve("index-" + format)));
    s3.resetCounts();
    env.vmafs("index", "--endpoint-url", endpoint(), s3Url(format)).ok();
    List<String> ranges = s3.ranges();
    long size = Files.size(archives.get(format));
    System.out.println("first index from S3, " + format + " (" + size + " bytes): " + ranges);
    List<String> streams = ranges.stream().filter(r -> r.endsWith("-") || r.isEmpty()).toList();
    assertEquals(1, streams.size(), "one streaming GET: " + ranges);
    int stream = ranges.indexOf(streams.get(0));
    assertEquals(ranges.size() - 1, stream, "no request once the pass streams: " + ranges);
    List<String> others = ranges.subList(0, stream);
    // Before the pass: the opening piece, the identity's last 64 KiB, and for a .vma.zst without a
    // seek table the walk over its block headers that decides between frames and restart points
    // (ZstdFormat.allFramesAtMost: up to 16 MiB of output, so at most 16 MiB and the seek-table
    // probe's last piece; it stops early for any larger frame).
    long walk = format.equals("zst") ? (16L << 20) + (2L << 20) : 0;
    assertTrue(others.size() <= 2 + walk / (1 << 20), "the opening piece and the identity's tail: " + ranges);
    String from = streams.get(0).isEmpty() ? "0" : streams.get(0).substring(0, streams.get(0).length() - 1);
    long streamed = size - Long.parseLong(from);
    assertTrue(streamed + bytesOf(others) <= size + (1L << 20) + (64L << 10) + walk,
        "the object is read once (" + size + " bytes): " + ranges);
  }

  /**
   * A server of a remote archive gets a bounded heap, whichever way it starts (the launcher, the
   * Java front end): the cache, the margin, the pass's recent output and the room for the pass of
   * an object of unknown size (ServerOptions.REMOTE_PASS_ROOM), not a quarter of RAM.
   */
  @Test
  void aRemoteServersHeapIsBounded() throws Exception {
    Path work = Files.createDirectories(dir.resolve("heap"));
    Isolated env = isolated(work);
    Map<String, String> e = new HashMap<>(env.env());
    e.put("VMAFS_JAR", Run.JAR.toString());
    e.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> args = List.of("mount", "--json", "--cache-size=40M", "--endpoint-url", endpoint(), s3Url("gz"));
    for (String how : List.of("launcher", "java")) {
      Path mnt = Files.createDirectories(work.resolve("mnt-" + how));
      List<String> cmd = new ArrayList<>(how.equals("launcher")
          ? List.of("bash", Run.ROOT.resolve("cli/src/main/sh/vmafs").toString()) : Run.vmafsCommand());
      cmd.addAll(args);
      cmd.add(mnt.toString());
      try (Mounted.Cleanup m = new Mounted.Cleanup(mnt)) {
        Run.Result r = Run.exec(cmd, null, e).ok();
        long pid = ServerHeapBoundTest.jsonNumber(r.out(), "pid");
        assertEquals(40 + 96 + 64 + 256, ServerHeapBoundTest.xmxMib(pid), how);
        assertEquals(96L << 20, Files.size(mnt.resolve("disk-drive-scsi0.raw")), how);
      }
    }
  }

  /** Bytes the GETs of {@code ranges} ("a-b") asked for. */
  private static long bytesOf(List<String> ranges) {
    long n = 0;
    for (String r : ranges) {
      String[] ab = r.split("-");
      n += Long.parseLong(ab[1]) - Long.parseLong(ab[0]) + 1;
    }
    return n;
  }

  /** The most a cold random read of each format may fetch, in one request (null: no bound asserted). */
  private static final Map<String, Long> SPAN_BOUND = Map.of(
      "vma", 64L << 10, // a cluster
      "seekable", (1L << 20) + 1024, // a frame of convert's 1 MiB (stored, at worst, plus headers)
      "lzo", (256L << 10) + (16L << 10) + 64, // an lzop block (256 KiB; incompressible: its worst)
      "gz", 2L << 20); // a checkpoint span: 1 MiB of output, read in one call up to 2 MiB

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"vma", "seekable", "lzo", "gz", "zst"})
  void aColdRandomReadFetchesTheSpanItNeedsInOneRequest(String format) throws Exception {
    Path work = Files.createDirectories(dir.resolve("random-" + format));
    Isolated env = isolated(work);
    Path mnt = work.resolve("mnt");
    try (Mounted.Cleanup m = mount(env, s3Url(format), mnt, "--wait")) {
      // the index is now in the cache
    }
    List<long[]> data = Images.dataRanges(disk);
    long total = data.stream().mapToLong(r -> r[1] - r[0]).sum();
    try (Mounted.Cleanup m = mount(env, s3Url(format), mnt)) {
      Path img = mnt.resolve("disk-drive-scsi0.raw");
      Thread.sleep(500); // what the mount reads on its own (partition tables) is not the reads' cost
      StringBuilder report = new StringBuilder(format + ":");
      for (int k = 0; k < 5; k++) {
        // The middle of the k-th fifth of the data: reads far apart, none in a span read before.
        long want = total * (2 * k + 1) / 10;
        long at = -1;
        for (long[] r : data) {
          if (want < r[1] - r[0]) {
            at = (r[0] + want) & ~4095L;
            break;
          }
          want -= r[1] - r[0];
        }
        s3.resetCounts();
        Run.sh("dd if='" + img + "' of=/dev/null bs=4096 count=1 iflag=direct skip=" + (at / 4096)).ok();
        List<String> ranges = s3.ranges();
        long bytes = bytesOf(ranges);
        report.append(String.format(" read %d at %d: %d requests, %d bytes %s;", k, at, ranges.size(), bytes, ranges));
        Long bound = SPAN_BOUND.get(format);
        if (bound != null) {
          assertEquals(1, ranges.size(), "one request for a cold random read at " + at + ": " + ranges);
          assertTrue(bytes <= bound, "at most " + bound + " bytes for a read at " + at + ": " + ranges);
        }
      }
      System.out.println("random reads from S3, " + report);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"vma", "seekable", "gz"})
  void servedOverNbdFromS3TheExportEqualsTheSourceWithItsHoles(String format) throws Exception {
    Path work = Files.createDirectories(dir.resolve("nbd-" + format));
    Isolated env = isolated(work);
    Map<String, String> aws = new HashMap<>(env.env());
    aws.remove("XDG_CACHE_HOME"); // Served keeps the server's cache and socket under its home
    aws.remove("XDG_RUNTIME_DIR");
    try (Served s = Served.start(work.resolve("home"), aws, s3Url(format), "--endpoint-url", endpoint())) {
      String uri = s.uri("drive-scsi0");
      assertEquals("Images are identical.", Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw", uri,
          disk.toString()).ok().out().trim(), format);
      assertEquals(MountTest.render(Images.dataRanges(disk)), MountTest.render(NbdTest.nbdinfoMap(uri)),
          "nbdinfo --map of the export: the source's holes");
      Path copy = work.resolve("copy.raw");
      Run.cmd("nbdcopy", uri, copy.toString()).ok();
      assertEquals(diskSha, Images.sha256(copy), format);
      assertEquals(MountTest.render(Images.dataRanges(disk)), MountTest.render(Images.dataRanges(copy)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"vma", "zst"})
  void extractVerifyAndInfoFromS3AndHttp(String format) throws Exception {
    Path work = Files.createDirectories(dir.resolve("extract-" + format));
    Isolated env = isolated(work);
    String name = archives.get(format).getFileName().toString();
    for (String url : List.of(s3Url(format), http.url(name).toString())) {
      String tag = url.startsWith("s3:") ? "s3" : "http";
      Path out = work.resolve("out-" + tag);
      env.vmafs("extract", "--endpoint-url", endpoint(), url, out.toString()).ok();
      assertEquals(diskSha, Images.sha256(out.resolve("disk-drive-scsi0.raw")), url);
      assertEquals(MountTest.render(Images.dataRanges(disk)),
          MountTest.render(Images.dataRanges(out.resolve("disk-drive-scsi0.raw"))), url);

      Run.Result verify = env.vmafs("verify", "--json", "--endpoint-url", endpoint(), url).ok();
      assertTrue(JSON.readTree(verify.out()).get("ok").asBoolean(), verify.out());

      JsonNode info = JSON.readTree(env.vmafs("info", "--json", "--endpoint-url", endpoint(), url).ok().out());
      assertEquals(url, info.get("archive").asText());
      assertTrue(info.get("complete").asBoolean());
      JsonNode remote = info.get("remote");
      assertTrue(remote.get("requests").asLong() >= 1, info.toString());
      assertTrue(remote.get("bytes_received").asLong() >= Files.size(archives.get(format)) / 2, info.toString());
      assertFalse(remote.get("version_tag").asText().isEmpty());
    }
    JsonNode local = JSON.readTree(env.vmafs("info", "--json", archives.get(format).toString()).ok().out());
    assertTrue(local.get("remote").isNull(), "a local archive has no transfer counters");
  }

  @Test
  void anObjectReplacedUnderAMountFailsReadsWithEio() throws Exception {
    Path work = Files.createDirectories(dir.resolve("replaced"));
    Isolated env = isolated(work);
    String key = "pve/replaced.vma";
    s3.put(BUCKET, key, archives.get("vma"));
    Path mnt = work.resolve("mnt");
    // Small pieces and a small piece cache: the later reads must reach the server.
    try (Mounted.Cleanup m = mount(env, "s3://" + BUCKET + "/" + key, mnt, "--piece-size", "64K", "--wait")) {
      Path img = mnt.resolve("disk-drive-scsi0.raw");
      byte[] first = new byte[4096];
      long at = Images.dataRanges(disk).get(0)[0];
      try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
        f.seek(at);
        f.readFully(first);
      }
      s3.put(BUCKET, key, archives.get("lzo")); // another object under the same key: a new ETag
      IOException e = assertThrows(IOException.class, () -> Images.sha256(img));
      assertTrue(String.valueOf(e.getMessage()).contains("Input/output error"), e.toString());
      // Once noticed, every read fails, also of what was read (and cached) before.
      Thread.sleep(2500);
      assertThrows(IOException.class, () -> {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
          f.seek(at);
          f.readFully(new byte[4096]);
        }
      });
    }
  }

  @Test
  void whatAUserGetsWrongIsOneLineAndExitCode5() throws Exception {
    Path work = Files.createDirectories(dir.resolve("errors"));
    Isolated env = isolated(work);
    record Case(String what, List<String> args, String message, Map<String, String> extraEnv) {}
    List<Case> cases = List.of(
        new Case("missing key", List.of("info", "--endpoint-url", endpoint(), "s3://" + BUCKET + "/pve/nothing.vma"),
            "no such key", Map.of()),
        new Case("missing bucket", List.of("info", "--endpoint-url", endpoint(), "s3://no-such-bucket/a.vma"),
            "no such bucket", Map.of()),
        new Case("wrong secret", List.of("verify", "--endpoint-url", endpoint(), s3Url("vma")),
            "access denied", Map.of("AWS_SECRET_ACCESS_KEY", "not-the-secret")),
        new Case("network down", List.of("extract", "--endpoint-url", "http://127.0.0.1:1", s3Url("vma"),
            work.resolve("never").toString()), "cannot connect", Map.of()),
        new Case("http 404", List.of("list", http.url("nothing.vma").toString()), "nothing.vma", Map.of()),
        new Case("mount of a missing key", List.of("mount", "--endpoint-url", endpoint(),
            "s3://" + BUCKET + "/pve/nothing.vma", Files.createDirectories(work.resolve("mnt")).toString()),
            "no such key", Map.of()));
    for (Case c : cases) {
      Map<String, String> e = new HashMap<>(env.env());
      e.putAll(c.extraEnv());
      Run.Result r = Run.exec(Run.vmafsCommand(c.args().toArray(String[]::new)), null, e);
      assertEquals(5, r.code(), c.what() + ": " + r.err());
      List<String> lines = r.err().lines().filter(l -> l.startsWith("vmafs: error:")).toList();
      assertEquals(1, lines.size(), c.what() + ": " + r.err());
      assertTrue(lines.get(0).contains(c.message()), c.what() + ": " + r.err());
      assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), c.what() + ": " + r.err());
    }
    assertNotEquals(0, s3.gets());
  }
}
