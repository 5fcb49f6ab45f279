package vmafs.image.partition;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.image.partition.ToolImages.run;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.image.SparseImage;

/**
 * The reader against tables written by the real tools, checked against util-linux's own reading
 * ({@code partx}, which is libblkid) and the tools' type names.
 */
class PartitionToolsTest {
  @TempDir Path dir;

  @Test
  void mbrWithLogicalPartitionsAsSfdiskWritesIt() throws IOException {
    Path file = ToolImages.mbrWithLogicals(dir.resolve("mbr.raw"));
    PartitionTable t = PartitionTables.read(ToolImages.load(file));
    assertEquals(PartitionTable.Scheme.MBR, t.scheme());
    assertEquals(List.of(), t.problems());
    assertEquals(partx(file), mine(t));
    String labelId = run(null, "sfdisk", "-d", file.toString()).lines()
        .filter(l -> l.startsWith("label-id: ")).findFirst().orElseThrow().substring(10);
    assertEquals(labelId, t.diskId());
    assertTrue(t.partitions().get(0).bootable());
    assertEquals(List.of("Linux", "Extended", "Linux LVM", "Linux", "W95 FAT32 (LBA)", "HPFS/NTFS/exFAT"),
        t.partitions().stream().map(Partition::typeName).toList());
  }

  @Test
  void gptAsSgdiskWritesIt() throws IOException {
    Path file = ToolImages.gpt(dir.resolve("gpt.raw"));
    PartitionTable t = PartitionTables.read(ToolImages.load(file));
    assertEquals(PartitionTable.Scheme.GPT, t.scheme());
    assertEquals(List.of(), t.problems());
    assertEquals(partx(file), mine(t));
    assertEquals(List.of("EFI System", "Linux filesystem", "Microsoft basic data", "Linux LVM"),
        t.partitions().stream().map(Partition::typeName).toList());
    assertTrue(t.partitions().get(1).bootable(), "attribute 2 set by sgdisk -A 2:set:2");
    assertFalse(t.partitions().get(0).bootable());
    Matcher m = Pattern.compile("Disk identifier \\(GUID\\): (\\S+)").matcher(run(null, "sgdisk", "-p", file.toString()));
    assertTrue(m.find());
    assertEquals(m.group(1), t.diskId());
  }

  @Test
  void gptWith4096ByteSectorsAsFdiskWritesIt() throws IOException {
    Path file = ToolImages.gpt4k(dir.resolve("gpt4k.raw"));
    PartitionTable t = PartitionTables.read(ToolImages.load(file));
    assertEquals(4096, t.sectorSize());
    assertEquals(List.of(), t.problems());
    // fdisk -l -b 4096: "gpt4k.raw1  256  2303  2048  8M Linux filesystem"
    List<String> expected = new ArrayList<>();
    for (String l : run(null, "fdisk", "-b", "4096", "-l", "-o", "Device,Start,Sectors", file.toString()).lines().toList()) {
      String[] f = l.trim().split("\\s+");
      if (f.length == 3 && f[0].startsWith(file.toString())) {
        expected.add(f[0].substring(file.toString().length()) + " " + f[1] + " " + f[2]);
      }
    }
    assertEquals(2, expected.size());
    assertEquals(expected, t.partitions().stream().map(p -> p.number() + " " + p.firstSector() + " " + p.sectors()).toList());
  }

  @Test
  void aDamagedPrimaryGptIsReadFromTheBackupAsLibblkidDoes() throws IOException {
    Path file = ToolImages.gpt(dir.resolve("gpt.raw"));
    List<String> before = partx(file);
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(512 + 16); // the primary header's CRC32
      f.write(new byte[] {1, 2, 3, 4});
    }
    assertEquals(before, partx(file), "libblkid falls back to the backup");
    PartitionTable t = PartitionTables.read(ToolImages.load(file));
    assertEquals(before, mine(t));
    assertEquals("primary GPT header CRC32", t.problems().get(0).field());
  }

  @Test
  void aDiskEnlargedAfterPartitioningKeepsItsPartitions() throws IOException {
    Path file = ToolImages.gpt(dir.resolve("gpt.raw"));
    List<String> before = partx(file);
    run(null, "truncate", "-s", "96M", file.toString()); // qm resize: the backup GPT stays at the old end
    PartitionTable t = PartitionTables.read(ToolImages.load(file));
    assertEquals(before, mine(t));
    assertEquals(1, t.problems().size(), t.problems().toString());
    assertTrue(t.problems().get(0).message().contains("not at the disk's last LBA"), t.problems().toString());
  }

  @Test
  void typeNamesAreFdisks() throws IOException {
    Map<String, String> dos = types("dos");
    PartitionTypes.MBR_NAMES.forEach((type, name) ->
        assertEquals(dos.get(Integer.toHexString(type)), name, "type " + Integer.toHexString(type)));
    Map<String, String> gpt = types("gpt");
    PartitionTypes.GPT_NAMES.forEach((type, name) -> assertEquals(gpt.get(type), name, type));
  }

  /** {@code sfdisk --label L -T}: type ("83", or a GUID in upper case) to name. */
  private static Map<String, String> types(String label) throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    for (String l : run(null, "sfdisk", "--label", label, "-T").lines().toList()) {
      String[] f = l.trim().split("\\s+", 2);
      if (f.length == 2) {
        m.put(f[0].toUpperCase(Locale.ROOT), f[1].trim());
      }
    }
    if (label.equals("dos")) {
      Map<String, String> lower = new LinkedHashMap<>();
      m.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
      return lower;
    }
    return m;
  }

  /** partx's reading: "NR START SECTORS TYPE UUID NAME" per partition. */
  static List<String> partx(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    Pattern kv = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    for (String l : run(null, "partx", "-P", "-o", "NR,START,SECTORS,TYPE,UUID,NAME", file.toString()).lines().toList()) {
      Map<String, String> f = new LinkedHashMap<>();
      Matcher m = kv.matcher(l);
      while (m.find()) {
        f.put(m.group(1), m.group(2));
      }
      String type = f.get("TYPE");
      if (type.startsWith("0x")) {
        type = Integer.toHexString(Integer.parseInt(type.substring(2), 16));
      }
      out.add(String.join(" ", f.get("NR"), f.get("START"), f.get("SECTORS"), type.toLowerCase(Locale.ROOT),
          f.get("UUID").toLowerCase(Locale.ROOT), unescape(f.get("NAME"))));
    }
    return out;
  }

  /** partx -P writes bytes outside printable ASCII as \\xHH. */
  private static String unescape(String s) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      if (s.startsWith("\\x", i) && i + 4 <= s.length()) {
        b.write(Integer.parseInt(s.substring(i + 2, i + 4), 16));
        i += 3;
      } else {
        b.write(s.charAt(i));
      }
    }
    return b.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  static List<String> mine(PartitionTable t) {
    return t.partitions().stream().map(p -> {
      String type = p.type().startsWith("0x") ? Integer.toHexString(Integer.parseInt(p.type().substring(2), 16)) : p.type();
      return String.join(" ", "" + p.number(), "" + p.firstSector(), "" + p.sectors(), type.toLowerCase(Locale.ROOT),
          p.uuid().toLowerCase(Locale.ROOT), p.name());
    }).toList();
  }

}
