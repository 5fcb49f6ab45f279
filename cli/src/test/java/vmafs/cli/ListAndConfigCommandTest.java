package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/** {@code list} in Proxmox's exact line format, and {@code config}'s raw bytes. */
class ListAndConfigCommandTest {
  static final byte[] CONF = "boot: order=scsi0\nmemory: 2048\n#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:\n"
      .getBytes(StandardCharsets.UTF_8);
  /** Not text, no trailing newline: config must not add or translate anything. */
  static final byte[] FW = {'[', 'O', 'P', 'T', 'I', 'O', 'N', 'S', ']', 0, (byte) 0xFF, '\r', '\n', 'x'};

  @TempDir static Path dir;
  static Path archive;

  @BeforeAll
  static void writeArchive() throws IOException {
    archive = VmaArchiveBuilder.archive().ctime(1_700_000_000L)
        .config("qemu-server.conf", CONF).config("qemu-server.fw", FW)
        .device("drive-efidisk0", new byte[540_672])
        .device("drive-scsi0", Sources.mixed(5_000_123, 1))
        .device("vmstate", Sources.random(70_000, 2))
        .build().writeTo(dir.resolve("vzdump-qemu-100-2023_11_14-22_13_20.vma"));
  }

  /** What Proxmox's print_content writes (format doc 3.7); the date is C ctime() in UTC. */
  static final String EXPECTED_LIST = ""
      + "CFG: size: " + CONF.length + " name: qemu-server.conf\n"
      + "CFG: size: " + FW.length + " name: qemu-server.fw\n"
      + "DEV: dev_id=1 size: 540672 devname: drive-efidisk0\n"
      + "DEV: dev_id=2 size: 5000123 devname: drive-scsi0\n"
      + "VMSTATE: dev_id=3 memory: 70000\n"
      + "CTIME: Tue Nov 14 22:13:20 2023\n";

  @Test
  void listMatchesProxmoxFormatByteForByte() {
    Cli.Result r = Cli.run("list", archive.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(EXPECTED_LIST, r.stdout());
    assertEquals("", r.err());
  }

  /** ctime() pads a one-digit day with a space; expectations from GNU date (TZ=UTC, "%a %b %e %T %Y"). */
  @ParameterizedTest
  @CsvSource({"1699000000, Fri Nov  3 08:26:40 2023", "1000000000, Sun Sep  9 01:46:40 2001",
      "1704067199, Sun Dec 31 23:59:59 2023", "0, Thu Jan  1 00:00:00 1970"})
  void ctimeLineUsesCtimeFormat(long ctime, String expected) throws IOException {
    Path p = VmaArchiveBuilder.archive().ctime(ctime).build().writeTo(dir.resolve("ctime-" + ctime + ".vma"));
    assertEquals("CTIME: " + expected + "\n", Cli.run("list", p.toString()).stdout());
  }

  /** A real process, its stdin redirected from the file, in a zone set through TZ. */
  @Test
  void listFromStdinInAChildProcessUsesTheTzZone() throws Exception {
    Cli.Result utc = Cli.subprocess(Map.of("TZ", "UTC"), archive, "list", "-");
    assertEquals(0, utc.code(), utc.err());
    assertEquals(EXPECTED_LIST, utc.stdout());
    Cli.Result ny = Cli.subprocess(Map.of("TZ", "America/New_York"), archive, "list", "-");
    assertEquals(EXPECTED_LIST.replace("22:13:20", "17:13:20"), ny.stdout());
  }

  /** A compressed stream on stdin is named, with what to do instead, not "not a VMA archive". */
  @Test
  void compressedStdinIsRecognisedAndExplained() throws Exception {
    Path zst = dir.resolve("piped.vma.zst");
    Process p = new ProcessBuilder("zstd", "-q", "-c", archive.toString())
        .redirectOutput(zst.toFile()).start();
    assertEquals(0, p.waitFor());
    Cli.Result r = Cli.runWithStdin(zst, "list", "-");
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains("stdin holds a zstd-compressed stream") && r.err().contains("zstd -dc FILE"), r.err());
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void listReadsStdin() {
    Cli.Result r = Cli.runWithStdin(archive, "list", "-");
    assertEquals(0, r.code(), r.err());
    assertEquals(EXPECTED_LIST, r.stdout());
  }

  @Test
  void configWritesTheDefaultConfigsBytesExactly() {
    Cli.Result r = Cli.run("config", archive.toString());
    assertEquals(0, r.code(), r.err());
    assertArrayEquals(CONF, r.out());
  }

  @Test
  void configWritesANamedConfigFromStdin() {
    Cli.Result r = Cli.runWithStdin(archive, "config", "-", "-c", "qemu-server.fw");
    assertEquals(0, r.code(), r.err());
    assertArrayEquals(FW, r.out());
  }

  @Test
  void configWithUnknownNameIsAUsageError() {
    Cli.Result r = Cli.run("config", archive.toString(), "-c", "nope.conf");
    r.assertCleanError(ExitCodes.USAGE);
    assertTrue(r.err().contains("nope.conf"), r.err());
    assertEquals(0, r.out().length);
  }

  @Test
  void missingArchiveFileIsAnEnvironmentError() {
    Cli.run("list", dir.resolve("absent.vma").toString()).assertCleanError(ExitCodes.ENVIRONMENT);
  }
}
