package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.archive.Archive;
import vmafs.archive.ArchiveOpener;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * Files vmafs writes into a directory someone else may have prepared (issue #13): nothing planted
 * under a predictable name is written through, names from the archive never make two files
 * collide, and what is written is no more readable than the archive.
 */
class FileCreationSafetyTest {
  static final byte[] CONF = "memory: 1024\n".getBytes();
  @TempDir Path dir;
  Path archive;
  byte[] disk;
  Path victim;

  @BeforeEach
  void setUp() throws IOException {
    disk = Sources.mixed(65536 * 5 + 100, 4);
    archive = VmaArchiveBuilder.archive().config("qemu-server.conf", CONF).device("drive-scsi0", disk)
        .build().writeTo(dir.resolve("a.vma"));
    victim = Files.write(dir.resolve("victim"), new byte[20]);
  }

  private void assertVictimUntouched() throws IOException {
    assertArrayEquals(new byte[20], Files.readAllBytes(victim), "a planted link was written through");
  }

  /** Reproduction: extract --force wrote through links planted at its tmp-NAME temporaries. */
  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void extractForceNeverWritesThroughPlantedLinks(boolean stdin) throws IOException {
    Path target = Files.createDirectory(dir.resolve("target"));
    for (String n : List.of("tmp-qemu-server.conf", "tmp-disk-drive-scsi0.raw", "disk-drive-scsi0.raw")) {
      Files.createSymbolicLink(target.resolve(n), victim);
    }
    String[] args = {"extract", "--force", stdin ? "-" : archive.toString(), target.toString()};
    Cli.Result r = stdin ? Cli.runWithStdin(archive, args) : Cli.run(args);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertVictimUntouched();
    assertArrayEquals(disk, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
    assertFalse(Files.isSymbolicLink(target.resolve("disk-drive-scsi0.raw")));
    assertArrayEquals(CONF, Files.readAllBytes(target.resolve("qemu-server.conf")));
  }

  /** Reproduction: convert wrote through a link planted at .OUT.PID.partial. */
  @Test
  void convertNeverWritesThroughPlantedLinks() throws IOException {
    long pid = ProcessHandle.current().pid(); // the in-process command's pid, as an attacker sees it
    for (String n : List.of(".out.vma.zst." + pid + ".partial", ".out.vma.zst." + pid + ".index")) {
      Files.createSymbolicLink(dir.resolve(n), victim);
    }
    Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-r-----"));
    Cli.Result r = Cli.run("convert", archive.toString(), "--seekable", dir.resolve("out.vma.zst").toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertVictimUntouched();
    assertEquals("rw-r-----", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve("out.vma.zst"))), "the archive's mode");
    Cli.Result x = Cli.run("extract", dir.resolve("out.vma.zst").toString(), dir.resolve("x").toString());
    assertEquals(ExitCodes.OK, x.code(), x.err());
    assertArrayEquals(disk, Files.readAllBytes(dir.resolve("x/disk-drive-scsi0.raw")));
  }

  /**
   * Reproduction: opening a seekable .vma.zst unpacked its embedded index through a link planted at
   * ARCHIVE.vmafs-index.tmp-PID, overwriting the link's target with bytes the archive chose.
   */
  @Test
  void anEmbeddedIndexIsNeverWrittenThroughPlantedLinks() throws IOException {
    Path seekable = dir.resolve("s.vma.zst");
    Cli.Result c = Cli.run("convert", archive.toString(), "--seekable", seekable.toString());
    assertEquals(ExitCodes.OK, c.code(), c.err());
    long pid = ProcessHandle.current().pid();
    Path index = dir.resolve("s.vma.zst.vmafs-index");
    Files.createSymbolicLink(dir.resolve("s.vma.zst.vmafs-index.tmp-" + pid), victim);
    Files.createSymbolicLink(index, victim);
    try (Archive a = new ArchiveOpener().open(seekable)) {
      assertEquals(ArchiveOpener.IndexOrigin.EMBEDDED, a.indexOrigin(), "the embedded index was adopted");
      assertEquals(index, a.indexFile());
    }
    assertVictimUntouched();
    assertTrue(Files.isRegularFile(index, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the link was replaced");
    Cli.Result x = Cli.run("extract", seekable.toString(), dir.resolve("x").toString());
    assertEquals(ExitCodes.OK, x.code(), x.err());
    assertArrayEquals(disk, Files.readAllBytes(dir.resolve("x/disk-drive-scsi0.raw")));
  }

  /** create deleted its predictable temporary, then opened it again: a race a link could win. */
  @Test
  void createNeverWritesThroughPlantedLinks() throws IOException {
    Path img = Files.write(dir.resolve("d.raw"), disk);
    long pid = ProcessHandle.current().pid();
    Files.createSymbolicLink(dir.resolve(".new.vma." + pid + ".partial"), victim);
    Files.createSymbolicLink(dir.resolve("new.vma"), victim);
    Cli.Result r = Cli.run("create", "--force", dir.resolve("new.vma").toString(), "drive-scsi0=" + img);
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertVictimUntouched();
    assertFalse(Files.isSymbolicLink(dir.resolve("new.vma")));
    assertEquals(ExitCodes.OK, Cli.run("verify", dir.resolve("new.vma").toString()).code());
  }

  /** Reproduction: extract --force ARCHIVE . failed with a NullPointerException. */
  @Test
  void extractIntoTheCurrentDirectory() throws Exception {
    Path target = Files.createDirectory(dir.resolve("here"));
    Cli.Result r = Cli.subprocessIn(target, List.of(), Map.of(), null, "extract", "--force",
        archive.toString(), ".");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertArrayEquals(disk, Files.readAllBytes(target.resolve("disk-drive-scsi0.raw")));
  }

  @Test
  void extractedFilesAreNoMoreReadableThanTheArchive() throws IOException {
    Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-------"));
    assertEquals(ExitCodes.OK, Cli.run("extract", archive.toString(), dir.resolve("x").toString()).code());
    for (String n : List.of("qemu-server.conf", "disk-drive-scsi0.raw")) {
      assertEquals("rw-------", PosixFilePermissions.toString(
          Files.getPosixFilePermissions(dir.resolve("x").resolve(n))), n);
    }
  }

  // ---- names from the archive that would make two files collide ----

  private Cli.Result extract(boolean stdin, Path a, Path target) {
    String[] args = {"extract", stdin ? "-" : a.toString(), target.toString()};
    return stdin ? Cli.runWithStdin(a, args) : Cli.run(args);
  }

  /** Reproduction: configs 'tmp-x' and 'x' lost data (their temporaries collided) with exit 0. */
  @ParameterizedTest(name = "stdin={0}")
  @ValueSource(booleans = {false, true})
  void configsTmpXAndXBothSurvive(boolean stdin) throws IOException {
    Path a = VmaArchiveBuilder.archive().config("x", "one").config("tmp-x", "two")
        .device("drive-scsi0", disk).build().writeTo(dir.resolve("tmpx.vma"));
    Cli.Result r = extract(stdin, a, dir.resolve("out"));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals("one", Files.readString(dir.resolve("out/x")));
    assertEquals("two", Files.readString(dir.resolve("out/tmp-x")));
  }

  /** Two devices of one name (crafted: the writer refuses it). */
  private Path twoDevicesOfOneName() throws IOException {
    ArchiveBytes b = VmaArchiveBuilder.archive().config("qemu-server.conf", CONF)
        .device("drive-scsi0", disk).device("drive-scsi1", disk).build();
    return b.putU32(ArchiveBytes.devInfoAt(2) + DEV_OFF_NAME_PTR, b.deviceNamePointer(1))
        .rehashHeader().writeTo(dir.resolve("dup.vma"));
  }

  /** Reproduction: two devices of one name, and a config named like a device's image, lost data. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"devices file", "devices stdin", "config file", "config stdin"})
  void namesThatWouldCollideAreAnErrorBeforeAnythingIsWritten(String what) throws IOException {
    boolean stdin = what.endsWith("stdin");
    Path a = what.startsWith("devices") ? twoDevicesOfOneName()
        : VmaArchiveBuilder.archive().config("disk-drive-scsi0.raw", "not a disk")
            .device("drive-scsi0", disk).build().writeTo(dir.resolve("cfg.vma"));
    Cli.Result r = extract(stdin, a, dir.resolve("out"));
    r.assertCleanError(ExitCodes.MALFORMED);
    assertTrue(r.err().contains("two files of one name"), r.err());
    assertFalse(Files.exists(dir.resolve("out")), "nothing was written");
  }

  /** Reproduction: mount with two devices of one name said "internal error". */
  @Test
  void mountingTwoDevicesOfOneNameIsAClearError() throws IOException {
    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    Cli.Result r = Cli.run("mount", "-f", twoDevicesOfOneName().toString(), mnt.toString());
    r.assertCleanError(ExitCodes.MALFORMED);
    assertTrue(r.err().contains("dev_info[2].devname_ptr") && r.err().contains("two files of one name"),
        r.err());
  }

  /**
   * Reproduction: streaming extract --partial mixed the blocks of two copies of a cluster that one
   * extent lists twice; the last copy wins, as everywhere else.
   */
  @Test
  void aClusterListedTwiceInOneExtentGivesTheLastCopy() throws IOException {
    byte[] first = VmaArchiveBuilder.cluster(Sources.mixed(65536, 8), 0);
    byte[] second = new byte[65536];
    java.util.Arrays.fill(second, 4096, 8192, (byte) 0x5A); // block 1 only; block 0 zero
    Path a = VmaArchiveBuilder.archive().device("drive-scsi0", 2 * 65536L).build(w -> {
      w.writeCluster(1, 0, first);
      w.writeCluster(1, 1, first);
      w.writeCluster(1, 0, second); // the same extent: 58 slots
    }).writeTo(dir.resolve("twice.vma"));
    byte[] expected = new byte[2 * 65536];
    System.arraycopy(second, 0, expected, 0, 65536);
    System.arraycopy(first, 0, expected, 65536, 65536);
    for (boolean stdin : new boolean[] {false, true}) {
      Path out = dir.resolve("out-" + stdin);
      String[] args = {"extract", "--partial", stdin ? "-" : a.toString(), out.toString()};
      Cli.Result r = stdin ? Cli.runWithStdin(a, args) : Cli.run(args);
      assertEquals(ExitCodes.OK, r.code(), r.err());
      assertArrayEquals(expected, Files.readAllBytes(out.resolve("disk-drive-scsi0.raw")), "stdin=" + stdin);
    }
  }
}
