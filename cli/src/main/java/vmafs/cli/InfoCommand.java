package vmafs.cli;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.archive.Archive;
import vmafs.source.RandomAccess;
import vmafs.vma.ConfigBlob;
import vmafs.vma.VmaHeader;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.index.DeviceStats;
import vmafs.cli.log.Printable;

@Command(
    name = "info",
    mixinStandardHelpOptions = true,
    header = "Show what an archive holds and whether it is complete.",
    description = {
      "Prints the archive's uuid, creation time and version, its configs, and each device with its"
          + " size, stored and zero bytes and any missing, duplicate or out-of-range clusters. A"
          + " valid saved index is used; otherwise the archive is indexed in memory and nothing is"
          + " written beside it."
    },
    footer = {
      "  vmafs info vzdump-qemu-100-2026_11_22-12_00_00.vma.zst",
      "  vmafs info --json vzdump-qemu-100-2026_11_22-12_00_00.vma.zst | jq '.devices[].stored_bytes'"
    })
final class InfoCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin IndexOptions indexOptions = IndexOptions.readOnly();

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive: a file, s3://BUCKET/KEY or an http(s):// URL.")
  String archive;

  @Option(names = "--json", description = "Print the result as JSON (docs/json.md).")
  boolean json;

  @Override
  public Integer call() throws Exception {
    try (Archive a = ArchiveArgs.openIndexOnly(remote.open(archive), indexOptions)) {
      String out;
      if (json) {
        out = Json.write(toJson(a));
      } else {
        out = text(a) + RemoteArchiveOptions.transferText(a.stored());
      }
      System.out.print(out);
      System.out.flush();
    }
    return ExitCodes.OK;
  }

  static Map<String, Object> toJson(Archive a) {
    VmaHeader h = a.header();
    Map<String, Object> o = Json.object();
    o.put("archive", a.name());
    o.put("compression", a.compression());
    o.put("uuid", h.uuidString());
    o.put("ctime", ListCommand.isoTime(h.ctime()));
    o.put("version", h.version());
    List<Object> configs = Json.array();
    for (ConfigBlob c : h.configs()) {
      Map<String, Object> m = Json.object();
      m.put("name", c.name());
      m.put("size", c.size());
      configs.add(m);
    }
    o.put("configs", configs);
    List<Object> devices = Json.array();
    Map<String, PartitionFiles.Disk> disks = disks(a);
    for (DeviceIndex d : a.index().devices()) {
      Map<String, Object> m = Json.object();
      m.put("id", d.info().id());
      m.put("name", d.info().name());
      m.put("file", d.info().imageFileName());
      m.put("size", d.info().size());
      m.put("stored_bytes", d.storedBytes());
      m.put("zero_bytes", d.zeroBytes());
      statsJson(d, m);
      m.put("partition_table", PartitionFiles.json(disks.get(d.info().name()), PartitionFiles.otherFiles(a)));
      devices.add(m);
    }
    o.put("devices", devices);
    o.put("extents", a.index().extents());
    o.put("index_file", a.indexFile() == null ? null : a.indexFile().toString());
    o.put("stream_bytes", a.index().streamLength());
    randomAccessJson(a, o);
    // Last but one, so that the counters include the partition tables read above.
    o.put("remote", RemoteArchiveOptions.transferJson(a.stored()));
    o.put("complete", a.index().isComplete());
    return o;
  }

  /**
   * How reads are served, shared by info --json and index --json: {@code random_access} (null
   * when not known: a compressed archive without a saved index, which info does not decode for
   * it), {@code random_access_points}, {@code random_access_bytes} (what the index stores for
   * random access: restart prefixes, windows, checksums), {@code spill_bytes}.
   */
  static void randomAccessJson(Archive a, Map<String, Object> o) {
    RandomAccess r = a.randomAccess();
    o.put("random_access", r == null ? null : r.method());
    o.put("random_access_points", r == null ? null : r.points());
    o.put("random_access_bytes", r == null ? null : r.pointBytes());
    o.put("spill_bytes", r == null ? null : r.spilledBytes());
  }

  /** One line for humans, e.g. "zstd-restart-points (65 points, 7.6 MiB in the index)". */
  static String randomAccessText(RandomAccess r) {
    if (r == null) {
      return "not known until the archive is indexed ('vmafs index')";
    }
    StringBuilder sb = new StringBuilder(r.method());
    if (r.points() > 0) {
      sb.append(" (").append(r.points()).append(" points");
      if (r.pointBytes() > 0) {
        sb.append(", ").append(Units.bytes(r.pointBytes())).append(" in the index");
      }
      sb.append(')');
    }
    if (r.spilledBytes() > 0) {
      sb.append(", spill file ").append(Units.bytes(r.spilledBytes()));
    }
    return sb.toString();
  }

  static String text(Archive a) {
    VmaHeader h = a.header();
    StringBuilder sb = new StringBuilder();
    sb.append("archive:     ").append(a.name()).append('\n');
    if (!a.compression().equals("none")) {
      sb.append("compression: ").append(a.compression()).append('\n');
    }
    sb.append("uuid:        ").append(h.uuidString()).append('\n');
    sb.append("ctime:       ").append(ListCommand.isoTime(h.ctime())).append(" (").append(ListCommand.ctime(h.ctime())).append(")\n");
    sb.append("version:     ").append(h.version()).append('\n');
    sb.append("extents:     ").append(a.index().extents()).append('\n');
    sb.append("configs:\n");
    if (h.configs().isEmpty()) {
      sb.append("  (none)\n");
    }
    for (ConfigBlob c : h.configs()) {
      sb.append(String.format("  %-24s %10d bytes%n", Printable.of(c.name()), c.size()));
    }
    sb.append("devices:\n");
    if (a.index().devices().isEmpty()) {
      sb.append("  (none)\n");
    }
    Map<String, PartitionFiles.Disk> disks = disks(a);
    for (DeviceIndex d : a.index().devices()) {
      sb.append(String.format("  %3d %-24s size %s (%d bytes), stored %s, zero %s%n", d.info().id(),
          Printable.of(d.info().name()), Units.bytes(d.info().size()), d.info().size(), Units.bytes(d.storedBytes()),
          Units.bytes(d.zeroBytes())));
      problems(d, sb);
      PartitionFiles.text(disks.get(d.info().name()), PartitionFiles.otherFiles(a), sb);
    }
    sb.append("index:       ").append(a.indexFile() == null ? "in memory only" : a.indexFile())
        .append(switch (a.indexOrigin()) {
          case LOADED -> " (saved earlier)";
          case EMBEDDED -> " (from the index embedded in the archive)";
          case BUILT_AND_SAVED -> " (built now)";
          case BUILT_IN_MEMORY -> " (built now)";
        }).append('\n');
    sb.append("complete:    ").append(a.index().isComplete() ? "yes" : "NO (see 'vmafs verify')").append('\n');
    if (!a.compression().equals("none")) {
      sb.append("reads:       ").append(randomAccessText(a.randomAccess())).append('\n');
    }
    return sb.toString();
  }

  /** The partition table of each disk, by device name. */
  private static Map<String, PartitionFiles.Disk> disks(Archive a) {
    Map<String, PartitionFiles.Disk> m = new java.util.HashMap<>();
    PartitionFiles.read(a).forEach(d -> m.put(d.device().name(), d));
    return m;
  }

  /** One indented line per anomaly of a device. */
  static void problems(DeviceIndex d, StringBuilder sb) {
    DeviceStats s = d.stats();
    for (String p : s.problems()) {
      sb.append("      ").append(p).append('\n');
    }
    if (s.tailBitsPastEnd() > 0) {
      sb.append(String.format("      note: %d entries mark blocks past the device end as stored"
          + " (written before Proxmox's 2020 fix); that data is ignored%n", s.tailBitsPastEnd()));
    }
  }

  /** The completeness fields of a device, shared by info --json and verify --json. */
  static void statsJson(DeviceIndex d, Map<String, Object> m) {
    DeviceStats s = d.stats();
    m.put("clusters", d.clusterCount());
    m.put("present_clusters", s.presentClusters());
    m.put("missing_clusters", s.missingClusters());
    m.put("first_missing_cluster", s.firstMissing());
    m.put("duplicate_clusters", s.duplicateClusters());
    m.put("first_duplicate_cluster", s.firstDuplicate());
    m.put("beyond_end_entries", s.beyondEndEntries());
    m.put("vmstate_out_of_order", s.outOfOrder());
    m.put("tail_bits_past_end", s.tailBitsPastEnd());
    m.put("complete", s.isComplete());
  }
}
