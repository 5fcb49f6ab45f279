package vmafs.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.archive.Archive;
import vmafs.service.ArchiveService;
import vmafs.service.ImageFile;
import vmafs.vma.DeviceInfo;
import vmafs.fs.ReadOnlyFs;
import vmafs.image.ImageContent;
import vmafs.image.SliceContent;
import vmafs.image.partition.Partition;
import vmafs.image.partition.PartitionTable;
import vmafs.image.partition.PartitionTables;
import vmafs.image.partition.Problem;
import vmafs.image.partition.Rejected;
import vmafs.vma.image.DeviceImage;

/**
 * The partitions of each disk of an archive as files of the mount, {@code <disk file>.p<N>} (N as
 * Linux numbers them), and as {@code info} shows them. One place decides the names, so {@code
 * info} lists exactly the files a mount has.
 */
final class PartitionFiles {
  private static final Logger log = LoggerFactory.getLogger(PartitionFiles.class);

  private PartitionFiles() {}

  /** A disk's table, or why it could not be read. */
  record Disk(DeviceInfo device, PartitionTable table, String error) {
    String file() {
      return device.imageFileName();
    }
  }

  /** The table of every image, read through the archive (not for the vmstate stream: it is no disk). */
  static List<Disk> read(Archive a) {
    if (!a.hasData()) {
      List<Disk> out = new ArrayList<>();
      for (DeviceImage img : a.images()) {
        out.add(new Disk(img.info(), null, img.info().isVmstate()
            ? "not read: the VM's saved RAM state is no disk"
            : "not read: the compressed archive has no saved index yet"
                + " (run 'vmafs index' or mount it once)"));
      }
      return out;
    }
    List<ArchiveService.Image> images = new ArrayList<>();
    for (DeviceImage img : a.images()) {
      images.add(new ArchiveService.Image(img.info(), new ImageFile(img, a.source())));
    }
    return read(images);
  }

  /** The table of every image (not for the vmstate stream: it is no disk). */
  static List<Disk> read(List<ArchiveService.Image> images) {
    return read(images, true);
  }

  /** @param checkBackup false while the index pass runs: see {@link PartitionTables#read(vmafs.image.ImageContent, boolean)} */
  static List<Disk> read(List<ArchiveService.Image> images, boolean checkBackup) {
    List<Disk> out = new ArrayList<>();
    for (ArchiveService.Image img : images) {
      if (img.device().isVmstate()) {
        out.add(new Disk(img.device(), null, "not read: the VM's saved RAM state is no disk"));
      } else {
        try {
          out.add(new Disk(img.device(), PartitionTables.read(img.content(), checkBackup), null));
        } catch (IOException e) {
          out.add(new Disk(img.device(), null, "cannot be read: " + e.getMessage()));
        }
      }
    }
    return out;
  }

  /**
   * The file name of each data partition; a name some other file of the mount already has (a
   * config named like it) gets none.
   */
  static Map<Partition, String> names(Disk d, Set<String> taken) {
    Map<Partition, String> m = new LinkedHashMap<>();
    if (d.table() != null) {
      for (Partition p : d.table().dataPartitions()) {
        String name = d.file() + ".p" + p.number();
        if (!taken.contains(name)) {
          m.put(p, name);
        }
      }
    }
    return m;
  }

  /**
   * One read-only file per valid data partition, with the disk's holes. What is wrong with a
   * table is logged as a warning (the mount goes on: the whole disk is always there).
   *
   * @param taken the names of the mount's other files; the new names are added
   */
  static List<ReadOnlyFs.Entry> entries(List<ArchiveService.Image> images, Set<String> taken,
      boolean checkBackup) throws IOException {
    List<ReadOnlyFs.Entry> out = new ArrayList<>();
    Map<String, ImageContent> contents = new java.util.HashMap<>();
    images.forEach(i -> contents.put(i.device().name(), i.content()));
    for (Disk d : read(images, checkBackup)) {
      if (d.device().isVmstate()) {
        continue;
      }
      if (d.table() == null) {
        log.warn("{}: partition table {}; no partition files for it", d.file(), d.error());
        continue;
      }
      for (Problem p : d.table().problems()) {
        log.warn("{}: partition table: {}", d.file(), p);
      }
      if (d.table().problemsOmitted() > 0) {
        log.warn("{}: partition table: {} more problems", d.file(), d.table().problemsOmitted());
      }
      ImageContent disk = contents.get(d.device().name());
      Map<Partition, String> names = names(d, taken);
      for (Partition p : d.table().dataPartitions()) {
        String name = names.get(p);
        if (name == null) {
          log.warn("{}: partition {} gets no file: another file of the mount is named {}.p{}", d.file(),
              p.number(), d.file(), p.number());
          continue;
        }
        taken.add(name);
        out.add(new ReadOnlyFs.Entry(name, SliceContent.of(disk, p.start(), p.size())));
      }
    }
    return out;
  }

  // ---- info

  /**
   * {@code info --json}: the table of one disk, with the file name of each partition. Always an
   * object with every field (scripts need not test for null): a table that was not read has null
   * scheme, sector size and disk id, empty lists, and says why in {@code error}.
   */
  static Map<String, Object> json(Disk d, Set<String> taken) {
    PartitionTable t = d.table() != null ? d.table() : PartitionTables.none();
    boolean read = d.table() != null;
    Map<Partition, String> names = names(d, taken);
    Map<String, Object> o = Json.object();
    o.put("scheme", read ? t.scheme().label() : null);
    o.put("sector_size", read ? t.sectorSize() : null);
    o.put("disk_id", read ? t.diskId() : null);
    List<Object> parts = Json.array();
    for (Partition p : t.partitions()) {
      Map<String, Object> m = Json.object();
      m.put("number", p.number());
      m.put("file", names.get(p));
      m.put("kind", p.kind().label());
      m.put("type", p.type());
      m.put("type_name", p.typeName());
      m.put("name", p.name());
      m.put("uuid", p.uuid());
      m.put("bootable", p.bootable());
      m.put("start", p.start());
      m.put("size", p.size());
      m.put("first_sector", p.firstSector());
      m.put("sectors", p.sectors());
      parts.add(m);
    }
    o.put("partitions", parts);
    List<Object> rejected = Json.array();
    for (Rejected r : t.rejected()) {
      Map<String, Object> m = Json.object();
      m.put("number", r.number());
      m.put("kind", r.kind().label());
      m.put("type", r.type());
      m.put("first_sector", new java.math.BigInteger(Long.toUnsignedString(r.firstSector())));
      m.put("last_sector", new java.math.BigInteger(Long.toUnsignedString(r.lastSector())));
      m.put("reason", r.why().message());
      rejected.add(m);
    }
    o.put("rejected", rejected);
    List<Object> problems = Json.array();
    for (Problem p : t.problems()) {
      Map<String, Object> m = Json.object();
      m.put("field", p.field());
      m.put("offset", p.offset());
      m.put("message", p.message());
      problems.add(m);
    }
    o.put("problems", problems);
    o.put("problems_omitted", t.problemsOmitted());
    o.put("error", d.error());
    return o;
  }

  /** {@code info}: the table of one disk, indented under the device's line. */
  static void text(Disk d, Set<String> taken, StringBuilder sb) {
    if (d.device().isVmstate()) {
      return;
    }
    PartitionTable t = d.table();
    if (t == null) {
      sb.append("      partition table ").append(d.error()).append('\n');
      return;
    }
    if (t.scheme() == PartitionTable.Scheme.NONE) {
      sb.append("      no partition table\n");
      return;
    }
    sb.append(String.format("      %s partition table %s, %d-byte sectors%n", t.scheme().label().toUpperCase(
        java.util.Locale.ROOT), t.diskId(), t.sectorSize()));
    Map<Partition, String> names = names(d, taken);
    for (Partition p : t.partitions()) {
      String file = p.isData() ? names.getOrDefault(p, "(no file: name taken)") : "(extended)";
      sb.append(String.format("      p%-3d %-32s start %10s  size %10s  %s%s%s%n", p.number(), file,
          Units.bytes(p.start()), Units.bytes(p.size()), typeText(p), p.name().isEmpty() ? "" : " \"" + p.name() + "\"",
          p.bootable() ? " (bootable)" : ""));
    }
    for (Problem p : t.problems()) {
      sb.append("      problem: ").append(p).append('\n');
    }
    if (t.problemsOmitted() > 0) {
      sb.append("      ... and ").append(t.problemsOmitted()).append(" more problems\n");
    }
  }

  /** "0x83 Linux" for MBR; the name of a GPT type, or its GUID when the name is unknown. */
  private static String typeText(Partition p) {
    if (p.kind() != Partition.Kind.GPT) {
      return p.type() + " " + p.typeName();
    }
    return p.typeName().equals("unknown") ? p.type() : p.typeName();
  }

  /** The names other than partition files that a mount of {@code a} has: disk images and configs. */
  static Set<String> otherFiles(Archive a) {
    Set<String> s = new java.util.HashSet<>();
    a.images().forEach(i -> s.add(i.info().imageFileName()));
    a.header().configs().forEach(c -> s.add(c.name()));
    return s;
  }
}
