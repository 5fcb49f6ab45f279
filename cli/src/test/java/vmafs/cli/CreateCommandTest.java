package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Sources;

/** {@code create} from raw images and configs, checked by extracting the result again. */
class CreateCommandTest {
  @TempDir Path dir;
  byte[] disk0;
  byte[] disk1;
  Path img0;
  Path img1;
  Path conf;

  @BeforeEach
  void writeImages() throws IOException {
    disk0 = Sources.mixed(5_000_123, 1); // 77 clusters: more than one full extent
    disk1 = Sources.random(70_001, 2);
    img0 = Files.write(dir.resolve("disk0.raw"), disk0);
    img1 = Files.write(dir.resolve("disk1.raw"), disk1);
    conf = Files.writeString(Files.createDirectory(dir.resolve("etc")).resolve("qemu-server.conf"), "memory: 64\n");
  }

  @ParameterizedTest(name = "--order {0} --slots {1}")
  @CsvSource({"sequential, 58", "interleaved, 58", "shuffled, 58", "sequential, 59", "shuffled, 59", "interleaved, 1"})
  void createThenExtractGivesBackTheImages(String order, int slots) throws IOException {
    Path archive = dir.resolve("new.vma");
    Cli.Result c = Cli.run("create", archive.toString(), "-c", conf.toString(), "--order", order,
        "--slots", Integer.toString(slots), "drive-scsi0=" + img0, "drive-virtio1=" + img1);
    assertEquals(ExitCodes.OK, c.code(), c.err());
    assertEquals(slots, fullestExtent(ArchiveBytes.read(archive)));
    assertEquals(ExitCodes.OK, Cli.run("verify", archive.toString()).code());

    Path out = dir.resolve("out");
    Cli.Result x = Cli.run("extract", archive.toString(), out.toString());
    assertEquals(ExitCodes.OK, x.code(), x.err());
    assertArrayEquals(disk0, Files.readAllBytes(out.resolve("disk-drive-scsi0.raw")));
    assertArrayEquals(disk1, Files.readAllBytes(out.resolve("disk-drive-virtio1.raw")));
    // Stored under its base name, as Proxmox stores configs.
    assertEquals("memory: 64\n", Files.readString(out.resolve("qemu-server.conf")));
  }

  private static int fullestExtent(ArchiveBytes a) {
    int fullest = 0;
    for (long e : a.extentOffsets()) {
      int used = 0;
      for (int s = 0; s < SLOTS_PER_EXTENT; s++) {
        used += blockDevId(a.u64(ArchiveBytes.blockInfoAt(e, s))) != 0 ? 1 : 0;
      }
      fullest = Math.max(fullest, used);
    }
    return fullest;
  }

  @Test
  void createWithFixedUuidCtimeAndSeedIsReproducible() throws IOException {
    String[] opts = {"--uuid", "00112233-4455-6677-8899-aabbccddeeff", "--ctime", "1700000000", "--order", "shuffled",
        "--seed", "7", "drive-scsi0=" + img0};
    Path a = dir.resolve("a.vma");
    Path b = dir.resolve("b.vma");
    assertEquals(0, Cli.run(concat("create", a.toString(), opts)).code());
    assertEquals(0, Cli.run(concat("create", b.toString(), opts)).code());
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    assertEquals("00112233-4455-6677-8899-aabbccddeeff", Cli.run("info", "--json", a.toString()).stdout()
        .replaceAll("(?s).*\"uuid\": \"([^\"]+)\".*", "$1"));
  }

  /**
   * {@code create} asks the kernel where a thin image's data is and skips the holes without
   * reading them; the archive must be the same bytes as one made from a fully written copy.
   */
  @Test
  void sparseImageGivesTheSameArchiveAsAFullyWrittenCopy() throws IOException {
    Path sparse = dir.resolve("thin.raw");
    long size = 3L * CLUSTER_SIZE * 1024 + 12_345; // odd size: partial last cluster
    byte[] block = Sources.random(4096, 3);
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(sparse.toFile(), "rw")) {
      f.setLength(size);
      for (long at : new long[] {0, 5 * 4096, 1000L * CLUSTER_SIZE + 4096 * 15, 2048L * CLUSTER_SIZE - 4096,
          size - 12_345}) {
        f.seek(at);
        f.write(block, 0, (int) Math.min(4096, size - at));
      }
    }
    Path dense = Files.write(dir.resolve("dense.raw"), Files.readAllBytes(sparse));
    Path fromSparse = dir.resolve("sparse.vma");
    Path fromDense = dir.resolve("dense.vma");
    for (Path[] p : new Path[][] {{fromSparse, sparse}, {fromDense, dense}}) {
      assertEquals(0, Cli.run("create", p[0].toString(), "--uuid", "00112233-4455-6677-8899-aabbccddeeff",
          "--ctime", "1700000000", "--order", "shuffled", "--seed", "3", "drive-scsi0=" + p[1]).code());
    }
    assertArrayEquals(Files.readAllBytes(fromDense), Files.readAllBytes(fromSparse));
  }

  @Test
  void createToStdoutWritesTheArchiveThere() throws Exception {
    Cli.Result r = Cli.subprocess(Map.of(), null, "create", "-", "--ctime", "1700000000", "drive-scsi0=" + img1);
    assertEquals(0, r.code(), r.err());
    Path archive = Files.write(dir.resolve("stdout.vma"), r.out());
    Path out = dir.resolve("out");
    assertEquals(0, Cli.run("extract", archive.toString(), out.toString()).code());
    assertArrayEquals(disk1, Files.readAllBytes(out.resolve("disk-drive-scsi0.raw")));
  }

  @Test
  void createRefusesAnExistingArchiveUnlessForced() throws IOException {
    Path archive = Files.write(dir.resolve("exists.vma"), new byte[] {42});
    Cli.run("create", archive.toString(), "drive-scsi0=" + img1).assertCleanError(ExitCodes.ENVIRONMENT);
    assertArrayEquals(new byte[] {42}, Files.readAllBytes(archive));
    assertEquals(0, Cli.run("create", "--force", archive.toString(), "drive-scsi0=" + img1).code());
    assertEquals(0, Cli.run("verify", archive.toString()).code());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "device name with a slash | drive/scsi0=IMG",
      "no device name | IMG",
      "empty image | drive-scsi0=EMPTY",
      "too many slots | --slots=60 drive-scsi0=IMG",
      "zero slots | --slots=0 drive-scsi0=IMG",
      "bad uuid | --uuid=xyz drive-scsi0=IMG"})
  void createRejectsBadArgumentsAsUsageErrors(String what, String args) throws IOException {
    Path empty = Files.createFile(dir.resolve("empty.raw"));
    Path archive = dir.resolve("bad.vma");
    String[] a = args.replace("IMG", img1.toString()).replace("EMPTY", empty.toString()).split(" ");
    Cli.run(concat("create", archive.toString(), a)).assertCleanError(ExitCodes.USAGE);
    assertFalse(Files.exists(archive), "no archive on failure");
  }

  private static String[] concat(String a, String b, String... rest) {
    String[] out = new String[rest.length + 2];
    out[0] = a;
    out[1] = b;
    System.arraycopy(rest, 0, out, 2, rest.length);
    return out;
  }
}
