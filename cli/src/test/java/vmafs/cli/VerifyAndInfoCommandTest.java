package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

class VerifyAndInfoCommandTest {
  @TempDir static Path dir;
  static byte[] disk0;
  static byte[] disk1;
  static ArchiveBytes goodBytes;
  static Path good;

  @BeforeAll
  static void writeArchives() throws IOException {
    disk0 = Sources.mixed(3_000_017, 1);
    disk1 = Sources.random(100_000, 2);
    goodBytes = VmaArchiveBuilder.archive().config("qemu-server.conf", "memory: 512\n")
        .device("drive-scsi0", disk0).device("drive-virtio1", disk1).build();
    good = goodBytes.writeTo(dir.resolve("good.vma"));
  }

  /** drive-scsi0 with {@code drop} left out and {@code twice} written a second time. */
  private static Path flawed(String name, long drop, long twice) throws IOException {
    return VmaArchiveBuilder.archive().device("drive-scsi0", disk0).build(w -> {
      for (long c = 0; c < clusterCount(disk0.length); c++) {
        if (c != drop) {
          w.writeCluster(1, c, VmaArchiveBuilder.cluster(disk0, c));
        }
      }
      if (twice >= 0) {
        w.writeCluster(1, twice, VmaArchiveBuilder.cluster(disk0, twice));
      }
    }).writeTo(dir.resolve(name));
  }

  @Test
  void verifyAcceptsACompleteArchive() {
    Cli.Result r = Cli.run("verify", good.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals("", r.err());
  }

  @Test
  void verifyAcceptsACompleteArchiveFromStdin() {
    assertEquals(ExitCodes.OK, Cli.runWithStdin(good, "verify", "-").code());
  }

  @Test
  void verifyReportsMissingClusterAsIncomplete() throws IOException {
    Cli.Result r = Cli.run("verify", flawed("missing.vma", 17, -1).toString());
    assertEquals(ExitCodes.INCOMPLETE, r.code(), r.err());
    assertTrue(r.stdout().contains("1 missing clusters, the first is cluster 17 (byte offset " + (17L << 16) + ")"), r.stdout());
  }

  @Test
  void verifyReportsDuplicateClusterAsIncomplete() throws IOException {
    Cli.Result r = Cli.run("verify", flawed("duplicate.vma", -1, 5).toString());
    assertEquals(ExitCodes.INCOMPLETE, r.code(), r.err());
    assertTrue(r.stdout().contains("1 duplicate cluster entries, the first for cluster 5"), r.stdout());
  }

  /** Proxmox's verify misses this case (format doc 3.5); ours must not, from a file or stdin. */
  @Test
  void verifyReportsArchiveTruncatedAtAnExtentBoundaryAsIncomplete() throws IOException {
    Path p = goodBytes.copy().truncate(goodBytes.lastExtentAt()).writeTo(dir.resolve("cut.vma"));
    assertEquals(ExitCodes.INCOMPLETE, Cli.run("verify", p.toString()).code());
    assertEquals(ExitCodes.INCOMPLETE, Cli.runWithStdin(p, "verify", "-").code());
  }

  /** Regression: a real stdin (a file descriptor) lets skip() run past the end of the file. */
  @Test
  void verifyFromRealStdinRejectsDataTruncatedInTheLastExtent() throws Exception {
    Path p = goodBytes.copy().truncate(goodBytes.length() - 1).writeTo(dir.resolve("short.vma"));
    Cli.Result r = Cli.subprocess(java.util.Map.of(), p, "verify", "-");
    r.assertCleanError(ExitCodes.MALFORMED);
    assertTrue(r.err().contains("extent data at offset " + (goodBytes.lastExtentAt() + EXTENT_HEADER_SIZE) + ":"), r.err());
  }

  /**
   * A short file whose header_size claims the largest header we accept (about 50 MB) must fail
   * as truncated without first allocating that much: run with a heap too small for it.
   */
  @Test
  void liedHeaderSizeOnAShortFileDoesNotAllocateIt() throws Exception {
    Path p = goodBytes.copy().putU32(OFF_HEADER_SIZE, vmafs.vma.VmaHeader.MAX_PARSED_HEADER_SIZE)
        .writeTo(dir.resolve("lying-header-size.vma"));
    Cli.Result r = Cli.subprocess(java.util.List.of("-Xmx24m"), java.util.Map.of(), null, "list", p.toString());
    r.assertCleanError(ExitCodes.MALFORMED);
    assertTrue(r.err().contains("header at offset " + goodBytes.length() + ":"), r.err());
  }

  @Test
  void verifyJsonNamesTheFlaw() throws IOException {
    Cli.Result r = Cli.run("verify", "--json", flawed("missing-json.vma", 3, -1).toString());
    assertEquals(ExitCodes.INCOMPLETE, r.code());
    assertEquals(3, number(r.stdout(), "first_missing_cluster"));
    assertEquals(1, number(r.stdout(), "missing_clusters"));
    assertTrue(r.stdout().contains("\"ok\": false"));
  }

  @Test
  void infoJsonDescribesTheArchive() {
    Cli.Result r = Cli.run("info", "--json", good.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    String j = r.stdout();
    assertTrue(j.contains("\"uuid\": \"11223344-5566-7788-99aa-bbccddeeff01\""), j);
    assertTrue(j.contains("\"ctime\": \"2023-11-14T22:13:20Z\""), j);
    assertTrue(j.contains("\"compression\": \"none\""), j);
    assertTrue(j.contains("\"name\": \"qemu-server.conf\""), j);
    assertTrue(j.contains("\"file\": \"disk-drive-scsi0.raw\""), j);
    assertEquals(goodBytes.extentOffsets().size(), number(j, "extents"));
    assertEquals(goodBytes.length(), number(j, "stream_bytes"));
    // Per device, in dev_id order: size, bytes in stored blocks (the last block clipped), zero bytes.
    String scsi0 = j.substring(j.indexOf("\"name\": \"drive-scsi0\""), j.indexOf("\"name\": \"drive-virtio1\""));
    assertEquals(disk0.length, number(scsi0, "size"));
    long stored = Sources.dataRanges(disk0).stream().mapToLong(x -> x[1] - x[0]).sum();
    assertEquals(stored, number(scsi0, "stored_bytes"));
    assertEquals(disk0.length - stored, number(scsi0, "zero_bytes"));
    assertEquals(clusterCount(disk0.length), number(scsi0, "clusters"));
    assertEquals(0, number(scsi0, "missing_clusters"));
    assertTrue(j.trim().endsWith("\"complete\": true\n}".trim()), j);
  }

  @Test
  void infoOfAnIncompleteArchiveSucceedsAndSaysSo() throws IOException {
    Cli.Result r = Cli.run("info", "--json", flawed("missing-info.vma", 0, -1).toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals(0, number(r.stdout(), "first_missing_cluster"));
    assertTrue(r.stdout().contains("\"complete\": false"));
  }

  /** The first {@code "key": number} in {@code json}. */
  static long number(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
