package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.testing.VmaArchiveBuilder;

/** {@code info} and {@code info --json} list each disk's partitions under the names the mount gives their files. */
class PartitionInfoTest {
  @TempDir static Path dir;
  static Path archive;

  @BeforeAll
  static void build() throws IOException, InterruptedException {
    Path mbr = dir.resolve("mbr.raw");
    tool(null, "truncate", "-s", "16M", mbr.toString());
    tool("label: dos\nstart=2048, size=4096, type=83, bootable\nstart=8192, size=20480, type=5\n"
        + "start=10240, size=4096, type=8e\nstart=16384, size=8192, type=7\n", "sfdisk", "-q", mbr.toString());
    Path gpt = dir.resolve("gpt.raw");
    tool(null, "truncate", "-s", "16M", gpt.toString());
    tool(null, "sgdisk", "-o", "-n", "1:2048:+4M", "-t", "1:ef00", "-c", "1:EFI", "-n", "3:0:+4M", "-t", "3:8300",
        "-c", "3:root \"quoted\"", gpt.toString());
    byte[] overlap = new byte[1 << 20];
    ByteBuffer b = ByteBuffer.wrap(overlap).order(ByteOrder.LITTLE_ENDIAN);
    b.put(446 + 4, (byte) 0x83).putInt(446 + 8, 100).putInt(446 + 12, 200);
    b.put(462 + 4, (byte) 0x83).putInt(462 + 8, 250).putInt(462 + 12, 100);
    b.put(478 + 4, (byte) 0x83).putInt(478 + 8, 1000).putInt(478 + 12, 10);
    b.put(510, (byte) 0x55).put(511, (byte) 0xAA);
    byte[] none = new byte[300_000];
    new Random(3).nextBytes(none);
    archive = VmaArchiveBuilder.archive().config("qemu-server.conf", "name: parts\n")
        .config("disk-drive-scsi1.raw.p3", "a config named like a partition file\n")
        .device("drive-scsi0", Files.readAllBytes(mbr)).device("drive-scsi1", Files.readAllBytes(gpt))
        .device("drive-scsi2", overlap).device("drive-scsi3", none).build().writeTo(dir.resolve("parts.vma"));
  }

  @Test
  void infoListsThePartitionsOfEachDisk() {
    Cli.Result r = Cli.run("info", archive.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    String out = r.stdout();
    assertTrue(out.matches("(?s).*      MBR partition table 0x[0-9a-f]{8}, 512-byte sectors\n.*"), out);
    assertTrue(out.contains("      p1   disk-drive-scsi0.raw.p1"), out);
    assertTrue(out.matches("(?s).*p1   disk-drive-scsi0.raw.p1 +start +1.00 MiB  size +2.00 MiB  0x83 Linux \\(bootable\\)\n.*"), out);
    assertTrue(out.contains("      p2   (extended)"), out);
    assertTrue(out.matches("(?s).*p5   disk-drive-scsi0.raw.p5 .*0x8e Linux LVM\n.*"), out);
    assertTrue(out.matches("(?s).*p6   disk-drive-scsi0.raw.p6 .*0x07 HPFS/NTFS/exFAT\n.*"), out);
    assertTrue(out.contains("      GPT partition table "), out);
    assertTrue(out.matches("(?s).*p1   disk-drive-scsi1.raw.p1 .*EFI System \"EFI\"\n.*"), out);
    assertTrue(out.matches("(?s).*p3   \\(no file: name taken\\) .*Linux filesystem \"root \"quoted\"\"\n.*"), out);
    assertTrue(out.contains("      problem: MBR entry 1 (disk offset 446): sectors 100..299 overlaps partition 2"
        + " (sectors 250..349); not exposed\n"), out);
    assertTrue(out.matches("(?s).*p3   disk-drive-scsi2.raw.p3 .*\n.*"), out);
    assertTrue(out.contains("      no partition table\n"), out);
  }

  @Test
  void infoJsonCarriesTheTables() {
    Cli.Result r = Cli.run("info", "--json", archive.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    String j = r.stdout();
    String scsi0 = section(j, "drive-scsi0", "drive-scsi1");
    assertTrue(scsi0.contains("\"scheme\": \"mbr\""), scsi0);
    assertTrue(scsi0.contains("\"file\": \"disk-drive-scsi0.raw.p5\""), scsi0);
    assertTrue(scsi0.contains("\"kind\": \"logical\""), scsi0);
    assertTrue(scsi0.contains("\"kind\": \"extended\""), scsi0);
    assertTrue(scsi0.contains("\"type\": \"0x8e\""), scsi0);
    assertTrue(scsi0.contains("\"type_name\": \"Linux LVM\""), scsi0);
    assertEquals(2048 * 512, VerifyAndInfoCommandTest.number(scsi0, "start"));
    String scsi1 = section(j, "drive-scsi1", "drive-scsi2");
    assertTrue(scsi1.contains("\"scheme\": \"gpt\""), scsi1);
    assertTrue(scsi1.contains("\"type\": \"C12A7328-F81F-11D2-BA4B-00A0C93EC93B\""), scsi1);
    assertTrue(scsi1.contains("\"name\": \"root \\\"quoted\\\"\""), scsi1);
    assertTrue(scsi1.matches("(?s).*\"number\": 3,\\s+\"file\": null,.*"), scsi1);
    String scsi2 = section(j, "drive-scsi2", "drive-scsi3");
    assertTrue(scsi2.contains("\"rejected\": [\n"), scsi2);
    assertTrue(scsi2.contains("\"reason\": \"sectors 250..349 overlaps partition 1 (sectors 100..299); not exposed\""), scsi2);
    assertTrue(scsi2.contains("\"field\": \"MBR entry 2\""), scsi2);
    assertTrue(scsi2.contains("\"offset\": 462"), scsi2);
    String scsi3 = section(j, "drive-scsi3", "\"extents\"");
    assertTrue(scsi3.contains("\"scheme\": \"none\""), scsi3);
    assertTrue(scsi3.contains("\"error\": null"), scsi3);
  }

  @Test
  void aCompressedArchiveWithoutSavedIndexSaysWhyItsTablesAreMissing() throws IOException, InterruptedException {
    Path zst = dir.resolve("parts.vma.zst");
    tool(null, "zstd", "-q", "-f", archive.toString(), "-o", zst.toString());
    Cli.Result r = Cli.run("info", "--json", zst.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.stdout().matches("(?s).*\"partition_table\": \\{\\s+\"scheme\": null,.*"), r.stdout());
    assertTrue(r.stdout().contains("\"partitions\": [],"), r.stdout());
    assertTrue(r.stdout().contains("\"error\": \"not read: the compressed archive has no saved index yet"), r.stdout());
    String text = Cli.run("info", zst.toString()).stdout();
    assertTrue(text.contains("      partition table not read: the compressed archive has no saved index yet"), text);
    assertEquals(ExitCodes.OK, Cli.run("index", zst.toString()).code());
    String after = Cli.run("info", zst.toString()).stdout();
    assertTrue(after.contains("p5   disk-drive-scsi0.raw.p5"), after);
  }

  private static String section(String json, String from, String to) {
    int a = json.indexOf("\"name\": \"" + from + "\"");
    int b = to.startsWith("\"") ? json.indexOf(to, a) : json.indexOf("\"name\": \"" + to + "\"");
    assertTrue(a >= 0 && b > a, from + " in " + json);
    return json.substring(a, b);
  }

  private static void tool(String stdin, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), List.of(cmd).toString());
    assertEquals(0, p.exitValue(), List.of(cmd) + ": " + out);
  }
}
