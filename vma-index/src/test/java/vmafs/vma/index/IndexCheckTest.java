package vmafs.vma.index;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.VmaHeader;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.io.FileArchiveSource;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/** An index from elsewhere is compared with the stream before it is believed. */
class IndexCheckTest {
  @TempDir Path dir;
  Path archive;
  ExtentIndex index;

  @BeforeEach
  void build() throws IOException {
    archive = VmaArchiveBuilder.archive().config("qemu-server.conf", "memory: 512\n")
        .device("drive-scsi0", Sources.mixed(65536 * 300 + 777, 5))
        .device("drive-scsi1", Sources.withDataBlocks(65536 * 64, 6, 0, 17, 900))
        .order(VmaArchiveBuilder.Order.SHUFFLED).build().writeTo(dir.resolve("a.vma"));
    try (FileChannel ch = FileChannel.open(archive)) {
      index = ExtentIndexBuilder.build(VmaStreamReader.open(new ChannelInputStream(ch, 0, 1 << 16)),
          vmafs.vma.Progress.NONE);
    }
  }

  private String sample(ExtentIndex i, int leading, int samples) throws IOException {
    try (FileArchiveSource src = FileArchiveSource.open(archive)) {
      return IndexCheck.sample(i, src, leading, samples, new Random(7));
    }
  }

  @Test
  void theRightIndexPasses() throws IOException {
    assertNull(sample(index, 32, 64));
  }

  @Test
  void anotherHeaderIsRefused() throws IOException {
    ExtentIndex other = ForgedIndex.withHeader(index, h -> new VmaHeader(h.version(), h.uuid(),
        h.ctime(), h.headerSize(), List.of(new ConfigBlob("qemu-server.conf", "memory: 99999\n".getBytes())),
        h.devices()));
    assertTrue(sample(other, 0, 0).contains("configs"), sample(other, 0, 0));
    ExtentIndex renamed = ForgedIndex.withHeader(index, h -> new VmaHeader(h.version(), h.uuid(),
        h.ctime(), h.headerSize(), h.configs(), List.of(new DeviceInfo(1, "drive-evil", h.devices().get(0).size()),
            h.devices().get(1))));
    assertTrue(IndexCheck.headerMismatch(renamed.header(), index.header()).contains("drive-evil"));
  }

  @Test
  void aSwappedClusterIsFoundInTheLeadingExtents() throws IOException {
    String why = sample(ForgedIndex.swapClusters(index, 0, 1), 1000, 0);
    assertNotNull(why);
    assertTrue(why.contains("cluster"), why);
  }

  @Test
  void aSwappedClusterIsFoundByRandomSamples() throws IOException {
    // Every stored cluster is a candidate; with enough samples the two swapped ones are hit.
    ExtentIndex forged = ForgedIndex.swapClusters(index, 5, 250);
    String why = null;
    for (int seed = 0; seed < 50 && why == null; seed++) {
      try (FileArchiveSource src = FileArchiveSource.open(archive)) {
        why = IndexCheck.sample(forged, src, 0, 200, new Random(seed));
      }
    }
    assertNotNull(why, "random samples never looked at clusters 5 or 250");
  }

  @Test
  void aDifferentStreamLengthIsRefused() throws IOException {
    ExtentIndex longer = new ExtentIndex(index.header(), index.devices(), index.extents(),
        index.streamLength() + 512, null);
    assertTrue(sample(longer, 0, 0).contains("stream"));
  }
}
