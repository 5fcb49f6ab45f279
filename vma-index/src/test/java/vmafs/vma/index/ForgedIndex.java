package vmafs.vma.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import vmafs.vma.VmaHeader;

/**
 * What an attacker who can read an archive can write: a well-formed index for it (right identity,
 * right CRCs) that says something else. For tests of the checks that must refuse it.
 */
public final class ForgedIndex {
  private ForgedIndex() {}

  /** {@code index} with the table entries of clusters {@code a} and {@code b} of device 0 swapped. */
  public static ExtentIndex swapClusters(ExtentIndex index, long a, long b) {
    return rewrite(index, index.header(), (d, c) -> d != 0 ? c : c == a ? b : c == b ? a : c);
  }

  /** {@code index} claiming another header (configs, devices of the same sizes, uuid...). */
  public static ExtentIndex withHeader(ExtentIndex index, UnaryOperator<VmaHeader> change) {
    return rewrite(index, change.apply(index.header()), (d, c) -> c);
  }

  private interface ClusterMap {
    long source(int device, long cluster);
  }

  private static ExtentIndex rewrite(ExtentIndex index, VmaHeader header, ClusterMap map) {
    List<DeviceIndex> out = new ArrayList<>();
    for (int i = 0; i < index.devices().size(); i++) {
      DeviceIndex d = index.devices().get(i);
      ClusterTable t = ClusterTable.allocate(d.clusterCount(), header.headerSize());
      for (long c = 0; c < d.clusterCount(); c++) {
        long e = d.entry(map.source(i, c));
        if (ClusterTable.isPresent(e)) {
          t.set(c, e);
        }
      }
      t.sealed();
      out.add(new DeviceIndex(header.devices().get(i), t, d.stats()));
    }
    return new ExtentIndex(header, out, index.extents(), index.streamLength(), null);
  }

  /** Writes {@code index} as a saved index at {@code file}, with the given identity and sections. */
  public static void save(Path file, ExtentIndex index, ArchiveIdentity identity,
      Map<String, ByteBuffer> sections) throws IOException {
    Map<String, IndexSection.ToSave> bytes = new LinkedHashMap<>();
    sections.forEach((k, v) -> {
      byte[] b = new byte[v.remaining()];
      v.duplicate().get(b);
      bytes.put(k, IndexSection.ToSave.of(b));
    });
    try (IndexFile.Writer w = new IndexFile.Writer(file, index.header())) {
      w.commit(index, identity, bytes);
    }
  }

  /** The index file bytes of {@code index}, as an embedded index carries them. */
  public static void write(FileChannel ch, ExtentIndex index) throws IOException {
    IndexFile.write(ch, index, ArchiveIdentity.EMBEDDED, Map.of());
  }
}
