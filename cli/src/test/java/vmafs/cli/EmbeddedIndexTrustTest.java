package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.archive.Archive;
import vmafs.archive.ArchiveOpener;
import vmafs.archive.EmbeddedIndex;
import vmafs.source.zstd.SeekableZstdWriter;
import vmafs.vma.ConfigBlob;
import vmafs.vma.VmaHeader;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.ForgedIndex;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * The index inside a seekable .vma.zst was written by whoever made the archive (issue #13): it is
 * checked against the archive (header, and extents) before it is believed, and an index that
 * disagrees costs a decode pass, never other disks, configs or bytes than the stream holds.
 */
class EmbeddedIndexTrustTest {
  @TempDir Path dir;
  Path raw;
  byte[] disk;
  ExtentIndex real;

  @BeforeEach
  void archive() throws IOException {
    disk = Sources.mixed(65536 * 40 + 4096, 9);
    raw = VmaArchiveBuilder.archive().config("qemu-server.conf", "memory: 64\n")
        .device("drive-scsi0", disk).order(VmaArchiveBuilder.Order.SHUFFLED).build()
        .writeTo(dir.resolve("a.vma"));
    try (FileChannel ch = FileChannel.open(raw)) {
      real = ExtentIndexBuilder.build(VmaStreamReader.open(new ChannelInputStream(ch, 0, 1 << 16)),
          vmafs.vma.Progress.NONE);
    }
  }

  /** The raw stream as a seekable .vma.zst that embeds {@code index} (as convert would). */
  private Path seekableWith(ExtentIndex index, String name) throws IOException {
    Path idx = dir.resolve(name + ".idx");
    try (FileChannel ch = FileChannel.open(idx, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ForgedIndex.write(ch, index);
    }
    Path out = dir.resolve(name);
    byte[] stream = Files.readAllBytes(raw);
    try (OutputStream os = Files.newOutputStream(out);
        SeekableZstdWriter w = new SeekableZstdWriter(os, 1, 1, 16 << 20)) {
      for (int at = 0; at < stream.length; at += 1 << 18) {
        w.write(stream, at, Math.min(1 << 18, stream.length - at));
        w.endFrame();
      }
      try (FileChannel ch = FileChannel.open(idx)) {
        w.writeSkippableFrame(EmbeddedIndex.NIBBLE, EmbeddedIndex.pack(ch, ch.size()));
      }
    }
    return out;
  }

  private Archive open(Path p) throws IOException {
    return new ArchiveOpener().saveIndex(false).open(p);
  }

  private byte[] image(Archive a) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(disk.length);
    a.images().get(0).read(0, b);
    return b.array();
  }

  @Test
  void aTrueEmbeddedIndexIsAdopted() throws IOException {
    try (Archive a = open(seekableWith(real, "good.vma.zst"))) {
      assertEquals(ArchiveOpener.IndexOrigin.EMBEDDED, a.indexOrigin());
      assertArrayEquals(disk, image(a));
    }
  }

  /** Reproduction: a crafted embedded index mounted with other configs than vma extract restores. */
  @Test
  void anEmbeddedIndexWithOtherConfigsIsRefused() throws IOException {
    UnaryOperator<VmaHeader> evil = h -> new VmaHeader(h.version(), h.uuid(), h.ctime(), h.headerSize(),
        List.of(new ConfigBlob("qemu-server.conf", "memory: 64\nhookscript: evil\n".getBytes())), h.devices());
    Path p = seekableWith(ForgedIndex.withHeader(real, evil), "configs.vma.zst");
    Cli.Result r = Cli.run("info", "--json", p.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.err().contains("does not match the archive") && r.err().contains("configs differ"), r.err());
    assertTrue(r.stdout().contains("\"size\": 11"), "the archive's own config: " + r.stdout());
    try (Archive a = open(p)) {
      assertNotEquals(ArchiveOpener.IndexOrigin.EMBEDDED, a.indexOrigin());
      assertArrayEquals("memory: 64\n".getBytes(), a.header().configs().get(0).data());
    }
  }

  @Test
  void anEmbeddedIndexThatMovesClustersIsRefused() throws IOException {
    Path p = seekableWith(ForgedIndex.swapClusters(real, 3, 17), "swapped.vma.zst");
    try (Archive a = open(p)) {
      assertNotEquals(ArchiveOpener.IndexOrigin.EMBEDDED, a.indexOrigin(), "the 41 extents are all checked");
      assertArrayEquals(disk, image(a), "the stream's bytes, from a decode pass");
    }
  }
}
