package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.DEV_OFF_NAME_PTR;
import static vmafs.vma.testing.ArchiveBytes.cString;
import static vmafs.vma.testing.ArchiveBytes.devInfoAt;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * What the archive chose reaches a person's terminal only escaped (issue #13); {@code --json}
 * stays exact. And no header value makes a command fail with an internal error.
 */
class HumanOutputTest {
  @TempDir Path dir;

  /** A config name with a newline forged a DEV: line of 'vmafs list'; ESC could rewrite the screen. */
  @Test
  void namesWithNewlinesAndEscapesAreEscapedForHumansAndExactInJson() throws IOException {
    String forged = "x\nDEV: dev_id=9 size: 1 devname: fake";
    ArchiveBytes b = VmaArchiveBuilder.archive().config(forged, "a").config("\u001b[2Jclear", "b")
        .device("drive-scsi0", new byte[65536]).build();
    // A device name the writer refuses, as a crafted archive has it.
    b.putU32(devInfoAt(1) + DEV_OFF_NAME_PTR, b.appendBlob(cString("d\u001b]0;owned\u0007\u202e"))).rehashHeader();
    Path a = b.writeTo(dir.resolve("names.vma"));

    Cli.Result list = Cli.run("list", a.toString());
    assertEquals(ExitCodes.OK, list.code(), list.err());
    assertEquals(1, list.stdout().lines().filter(l -> l.startsWith("DEV:")).count(), list.stdout());
    assertTrue(list.stdout().contains("name: x\\x0aDEV: dev_id=9"), list.stdout());
    assertTrue(list.stdout().contains("name: \\x1b[2Jclear"), list.stdout());
    assertTrue(list.stdout().contains("devname: d\\x1b]0;owned\\x07\\u{202e}"), list.stdout());
    for (String cmd : new String[] {"info", "verify"}) {
      Cli.Result r = Cli.run(cmd, a.toString());
      assertFalse(r.stdout().contains("\u001b") || r.stdout().contains("\u202e")
          || r.stdout().contains("x\nDEV"), cmd + ": " + r.stdout());
    }
    Cli.Result json = Cli.run("info", "--json", a.toString());
    assertEquals(ExitCodes.OK, json.code(), json.err());
    assertTrue(json.stdout().contains("\"x\\nDEV: dev_id=9 size: 1 devname: fake\""), json.stdout());
  }

  /** Reproduction: ctime 2^62 made list and info fail with "internal error: DateTimeException". */
  @Test
  void aCtimeNoCalendarHoldsIsPrintedAsTheNumber() throws IOException {
    Path a = VmaArchiveBuilder.archive().ctime(1L << 62).device("drive-scsi0", new byte[4096])
        .build().writeTo(dir.resolve("ctime.vma"));
    Cli.Result list = Cli.run("list", a.toString());
    assertEquals(ExitCodes.OK, list.code(), list.err());
    assertTrue(list.stdout().contains("CTIME: 4611686018427387904 (seconds since the epoch, out of range)"),
        list.stdout());
    Cli.Result info = Cli.run("info", a.toString());
    assertEquals(ExitCodes.OK, info.code(), info.err());
    Cli.Result json = Cli.run("info", "--json", a.toString());
    assertEquals(ExitCodes.OK, json.code(), json.err());
    assertTrue(json.stdout().contains("\"ctime\": \"4611686018427387904\""), json.stdout());
    Cli.Result negative = Cli.run("list", VmaArchiveBuilder.archive().ctime(Long.MIN_VALUE)
        .device("drive-scsi0", new byte[4096]).build().writeTo(dir.resolve("neg.vma")).toString());
    assertEquals(ExitCodes.OK, negative.code(), negative.err());
  }
}
