package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;
import static vmafs.vma.testing.ArchiveBytes.cString;
import static vmafs.vma.testing.ArchiveBytes.devInfoAt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;
import vmafs.vma.testing.VmaArchiveBuilder.Order;

/** {@code extract} from a file and from stdin: exact, sparse images; refusals; crafted names. */
class ExtractCommandTest {
  static final byte[] CONF = "memory: 1024\n".getBytes();
  /** 16 MiB with data in five 4 KiB blocks: a sparse extract allocates about 20 KiB. */
  static final long[] SPARSE_BLOCKS = {0, 1, 700, 2047, 4095};

  @TempDir Path dir;
  @TempDir static Path archives;
  static byte[] sparse;
  static byte[] mixed;
  static ArchiveBytes goodBytes;
  static Path good;

  @BeforeAll
  static void writeArchive() throws IOException {
    sparse = Sources.withDataBlocks(16 << 20, 1, SPARSE_BLOCKS);
    mixed = Sources.mixed(3_000_017, 2);
    goodBytes = VmaArchiveBuilder.archive().order(Order.SHUFFLED).config("qemu-server.conf", CONF)
        .device("drive-scsi0", sparse).device("drive-virtio1", mixed).build();
    good = goodBytes.writeTo(archives.resolve("good.vma"));
  }

  /** Runs extract from the file or, for stdin, as {@code extract - TARGET < archive}. */
  private static Cli.Result extract(boolean stdin, Path archive, Path target, String... options) {
    String[] args = Stream.concat(Stream.of("extract", stdin ? "-" : archive.toString(), target.toString()),
        Stream.of(options)).toArray(String[]::new);
    return stdin ? Cli.runWithStdin(archive, args) : Cli.run(args);
  }

  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void extractWritesConfigsAndSparseImagesEqualToTheSources(boolean stdin) throws Exception {
    Path target = dir.resolve("out");
    Cli.Result r = extract(stdin, good, target);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals(List.of("disk-drive-scsi0.raw", "disk-drive-virtio1.raw", "qemu-server.conf"), names(target));
    assertArrayEquals(CONF, Files.readAllBytes(target.resolve("qemu-server.conf")));
    assertArrayEquals(sparse, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
    assertArrayEquals(mixed, Files.readAllBytes(target.resolve("disk-drive-virtio1.raw")));
    // Zero blocks are holes: no more is allocated than the data blocks (plus a little slack).
    long allocated = allocatedBytes(target.resolve("disk-drive-scsi0.raw"));
    assertTrue(allocated <= SPARSE_BLOCKS.length * BLOCK_SIZE + 64 * 1024, "allocated " + allocated);
    long mixedData = Sources.dataBlocks(mixed) * BLOCK_SIZE;
    assertTrue(allocatedBytes(target.resolve("disk-drive-virtio1.raw")) <= mixedData + 64 * 1024);
    assertTrue(r.stdout().contains(target.resolve("disk-drive-virtio1.raw").toString()), r.stdout());
  }

  @Test
  void extractFromRealStdinInAChildProcess() throws Exception {
    Path target = dir.resolve("piped");
    Cli.Result r = Cli.subprocess(java.util.Map.of(), good, "extract", "-", target.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertArrayEquals(sparse, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
    assertArrayEquals(mixed, Files.readAllBytes(target.resolve("disk-drive-virtio1.raw")));
  }

  /** Bytes the file system allocated for {@code p}, from stat(1): Java has no st_blocks. */
  static long allocatedBytes(Path p) throws IOException, InterruptedException {
    Process proc = new ProcessBuilder("stat", "-c", "%b %B", p.toString()).redirectErrorStream(true).start();
    String[] out = new String(proc.getInputStream().readAllBytes()).trim().split(" ");
    assertEquals(0, proc.waitFor());
    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
  }

  static List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void extractRefusesAnExistingTargetUnlessForced(boolean stdin) throws IOException {
    Path target = Files.createDirectory(dir.resolve("exists"));
    Files.write(target.resolve("disk-drive-scsi0.raw"), new byte[] {1, 2, 3});
    Cli.Result refused = extract(stdin, good, target);
    refused.assertCleanError(ExitCodes.ENVIRONMENT);
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
    Cli.Result forced = extract(stdin, good, target, "--force");
    assertEquals(ExitCodes.OK, forced.code(), forced.err());
    assertArrayEquals(sparse, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
  }

  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void driveFilterExtractsOnlyTheNamedDevicesAndAllConfigs(boolean stdin) throws IOException {
    Path target = dir.resolve("filtered");
    Cli.Result r = extract(stdin, good, target, "-d", "drive-virtio1");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals(List.of("disk-drive-virtio1.raw", "qemu-server.conf"), names(target));
    assertArrayEquals(mixed, Files.readAllBytes(target.resolve("disk-drive-virtio1.raw")));
  }

  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void unknownDriveIsAUsageErrorAndCreatesNothing(boolean stdin) {
    Path target = dir.resolve("none");
    Cli.Result r = extract(stdin, good, target, "-d", "drive-scsi0,drive-nope");
    r.assertCleanError(ExitCodes.USAGE);
    assertTrue(r.err().contains("drive-nope"), r.err());
    assertFalse(Files.exists(target));
  }

  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void incompleteArchiveIsRefusedUnlessPartial(boolean stdin) throws IOException {
    Path p = VmaArchiveBuilder.archive().device("drive-scsi0", mixed).build(w -> {
      for (long c = 1; c < clusterCount(mixed.length); c++) { // cluster 0 is missing
        w.writeCluster(1, c, VmaArchiveBuilder.cluster(mixed, c));
      }
    }).writeTo(dir.resolve("missing.vma"));
    Path target = dir.resolve("incomplete");
    Cli.Result r = extract(stdin, p, target);
    r.assertCleanError(ExitCodes.INCOMPLETE);
    assertTrue(r.err().contains("first is cluster 0"), r.err());
    assertFalse(Files.exists(target), "nothing is left behind");

    Cli.Result partial = extract(stdin, p, target, "--partial");
    assertEquals(ExitCodes.OK, partial.code(), partial.err());
    byte[] expected = mixed.clone();
    java.util.Arrays.fill(expected, 0, CLUSTER_SIZE, (byte) 0);
    assertArrayEquals(expected, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
  }

  // ---- crafted names: the archive decides file names, so they must not escape the target ----

  /** Points config_names[0] at a new name blob. */
  static ArchiveBytes withConfigName(String name) {
    ArchiveBytes a = goodBytes.copy();
    return a.putU32(OFF_CONFIG_NAMES, a.appendBlob(cString(name))).rehashHeader();
  }

  /** Points dev_info[1]'s name at a new name blob. */
  static ArchiveBytes withDeviceName(String name) {
    ArchiveBytes a = goodBytes.copy();
    return a.putU32(devInfoAt(1) + DEV_OFF_NAME_PTR, a.appendBlob(cString(name))).rehashHeader();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"config ../evil", "config sub/evil", "config ..", "config /tmp/evil",
      "device ../evil", "device a/b", "device ..", "device with space"})
  void craftedNameFailsAndWritesNothingOutsideTheTarget(String what) throws IOException {
    String name = what.substring(what.indexOf(' ') + 1);
    boolean config = what.startsWith("config");
    ArchiveBytes a = config ? withConfigName(name) : withDeviceName(name);
    long field = config ? OFF_CONFIG_NAMES : devInfoAt(1) + DEV_OFF_NAME_PTR;
    Path jail = Files.createDirectory(dir.resolve("jail"));
    Path p = a.writeTo(dir.resolve("crafted.vma"));
    for (boolean stdin : new boolean[] {false, true}) {
      Cli.Result r = extract(stdin, p, jail.resolve("out"));
      r.assertCleanError(ExitCodes.MALFORMED);
      assertTrue(r.err().contains("at offset " + field + ":"), "names the field offset " + field + ": " + r.err());
      assertEquals(List.of(), names(jail), "stdin=" + stdin);
      assertEquals(List.of("crafted.vma", "jail"), names(dir));
    }
    assertFalse(Files.exists(Path.of("/tmp/evil")));
  }

  /** The message names the table slot the config really sits in, not its position in the list. */
  @Test
  void craftedConfigNameInALaterSlotIsReportedAtThatSlot() throws IOException {
    ArchiveBytes a = withConfigName("../evil");
    // Move config 0 to slot 5, leaving slots 0-4 empty (the reader skips them).
    a.putU32(OFF_CONFIG_NAMES + 20, a.configNamePointer(0)).putU32(OFF_CONFIG_DATA + 20, a.configDataPointer(0))
        .putU32(OFF_CONFIG_NAMES, 0).putU32(OFF_CONFIG_DATA, 0).rehashHeader();
    Cli.Result r = extract(false, a.writeTo(dir.resolve("slot5.vma")), dir.resolve("out"));
    r.assertCleanError(ExitCodes.MALFORMED);
    assertTrue(r.err().contains("config_names[5] at offset " + (OFF_CONFIG_NAMES + 20) + ":"), r.err());
  }
}
