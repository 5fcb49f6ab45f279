package vmafs.vma.testing;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The archives the fuzz corpora start from (docs/fuzzing.md): small, so that the fuzzer mutates
 * quickly, and together reaching every part of the format. The compressed corpora are these
 * archives run through the real compressors.
 */
public final class FuzzSeeds {
  private FuzzSeeds() {}

  /** Small archives that reach every part of the format: the fuzzer mutates from these. */
  public static Map<String, ArchiveBytes> archives() throws IOException {
    Map<String, ArchiveBytes> out = new LinkedHashMap<>();
    ArchiveBytes two = small();
    out.put("two-devices", two);
    out.put("shuffled-59-slots", VmaArchiveBuilder.archive().slots(59)
        .order(VmaArchiveBuilder.Order.SHUFFLED).config("qemu-server.conf", "name: a\n")
        .config("qemu-server.fw", "[OPTIONS]\n")
        .device("drive-scsi0", Sources.withDataBlocks(200_000, 3, 0, 1, 2, 20, 47))
        .device("drive-efidisk0", Sources.withDataBlocks(131_072, 4, 31)).build());
    out.put("vmstate-and-partial-block", VmaArchiveBuilder.archive().slots(2)
        .device("drive-scsi0", Sources.withDataBlocks(5_000, 5, 0, 1))
        .device("vmstate", Sources.withDataBlocks(140_000, 6, 0, 17, 33)).build());
    out.put("duplicate-missing-and-beyond-end", VmaArchiveBuilder.archive().slots(4)
        .device("drive-scsi0", 300_000L).build(w -> {
          byte[] c = new byte[65536];
          c[0] = 1;
          c[40_000] = 2;
          w.writeCluster(1, 0, c);
          w.writeClusterWithMask(1, 4, 0xFFFF, c);
          w.writeCluster(1, 0, c);
          w.writeZeroCluster(1, 2);
        }));
    for (Defects.Defect d : Defects.all().toList()) {
      out.put("defect-" + d.name(), d.apply(two));
    }
    return out;
  }

  public static ArchiveBytes small() throws IOException {
    return VmaArchiveBuilder.archive().slots(3)
        .config("qemu-server.conf", "bootdisk: scsi0\nscsi0: local:vm-100-disk-0,size=1M\n")
        .device("drive-scsi0", Sources.withDataBlocks(150_000, 1, 0, 5, 17, 30, 33))
        .device("drive-scsi1", Sources.mixed(70_000, 2)).build();
  }
}
