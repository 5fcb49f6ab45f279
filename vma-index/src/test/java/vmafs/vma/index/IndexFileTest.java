package vmafs.vma.index;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * The saved index: what is loaded equals what a fresh pass builds, and every way a saved file can
 * be wrong for its archive is detected (so the caller rebuilds instead of trusting it).
 */
class IndexFileTest {
  @TempDir Path dir;
  Path archive;
  Path indexFile;

  @BeforeEach
  void archive() throws IOException {
    archive = VmaArchiveBuilder.archive()
        .config("qemu-server.conf", "name: saved\n")
        .device("drive-scsi0", Sources.mixed(3 * 65536 * 20 + 12345, 1))
        .device("drive-virtio1", Sources.withDataBlocks(65536 * 300, 2, 5, 70, 4000))
        .order(VmaArchiveBuilder.Order.SHUFFLED)
        .build().writeTo(dir.resolve("a.vma"));
    indexFile = dir.resolve("a.vma.vmafs-index");
  }

  private ExtentIndex fresh() throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(archive)) {
      return ExtentIndexBuilder.build(VmaStreamReader.open(new ChannelInputStream(ch, 0, 1 << 16)),
          vmafs.vma.Progress.NONE);
    }
  }

  private ExtentIndex save(Map<String, byte[]> sections) throws IOException {
    return save(ArchiveIdentity.of(archive), sections);
  }

  /** Builds the index straight into the index file, as a first mount does, and commits it. */
  private ExtentIndex save(ArchiveIdentity identity, Map<String, byte[]> sections) throws IOException {
    Map<String, IndexSection.ToSave> toSave = new java.util.LinkedHashMap<>();
    sections.forEach((name, b) -> toSave.put(name, IndexSection.ToSave.checkedOnLoad(out -> out.write(b))));
    return saveSections(identity, toSave);
  }

  private ExtentIndex saveSections(ArchiveIdentity identity, Map<String, IndexSection.ToSave> sections)
      throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(archive)) {
      VmaStreamReader r = VmaStreamReader.open(new ChannelInputStream(ch, 0, 1 << 16));
      try (IndexFile.Writer w = new IndexFile.Writer(indexFile, r.header())) {
        ExtentIndex index = ExtentIndexBuilder.build(r, w.tables(), vmafs.vma.Progress.NONE);
        Map<String, IndexSection> saved = w.commit(index, identity, sections);
        assertEquals(sections.keySet(), saved.keySet());
        return index;
      }
    }
  }

  @Test
  void aLoadedIndexEqualsAFreshlyBuiltOne() throws IOException {
    save(Map.of("extra", new byte[] {1, 2, 3}));
    ExtentIndex built = fresh();
    IndexFile.Loaded loaded = IndexFile.load(indexFile, ArchiveIdentity.of(archive), false);
    ExtentIndex l = loaded.index();
    assertEquals(built.extents(), l.extents());
    assertEquals(built.streamLength(), l.streamLength());
    assertEquals(built.header().uuidString(), l.header().uuidString());
    assertEquals(built.header().ctime(), l.header().ctime());
    assertEquals(built.header().configs().size(), l.header().configs().size());
    assertArrayEquals(built.header().configs().get(0).data(), l.header().configs().get(0).data());
    assertEquals(built.devices().size(), l.devices().size());
    for (int i = 0; i < built.devices().size(); i++) {
      DeviceIndex a = built.devices().get(i);
      DeviceIndex b = l.devices().get(i);
      assertEquals(a.info(), b.info());
      assertEquals(a.stats(), b.stats());
      for (long c = 0; c < a.clusterCount(); c++) {
        assertEquals(a.entry(c), b.entry(c), "cluster " + c + " of " + a.info().name());
      }
      for (long g = 0; g < a.groupCount(); g++) {
        assertEquals(a.groupStoredBlocks(g), b.groupStoredBlocks(g));
      }
    }
    java.nio.ByteBuffer extra = java.nio.ByteBuffer.allocate(3);
    loaded.sections().get("extra").read(0, extra);
    assertArrayEquals(new byte[] {1, 2, 3}, extra.array());
    assertEquals(3, loaded.sections().get("extra").buffer().remaining());
  }

  /**
   * Sections are streamed in (a writer may produce many MiB in small writes) and come back
   * byte for byte; a damaged section checked on load makes the index stale, a damaged section
   * its owner checks does not (so that a remount never reads GiB of it) and reads back damaged.
   */
  @Test
  void sectionsAreStreamedAndCheckedByWhomTheySay() throws IOException {
    byte[] big = new byte[5_000_003];
    new java.util.Random(5).nextBytes(big);
    Map<String, IndexSection.ToSave> sections = new java.util.LinkedHashMap<>();
    sections.put("checked", IndexSection.ToSave.checkedOnLoad(out -> {
      for (int i = 0; i < 1000; i++) {
        out.write(i & 0xff);
      }
    }));
    sections.put("big", IndexSection.ToSave.checkedByReader(out -> {
      for (int at = 0; at < big.length; at += 77_777) {
        out.write(big, at, Math.min(77_777, big.length - at));
      }
    }));
    saveSections(ArchiveIdentity.of(archive), sections);
    IndexFile.Loaded loaded = IndexFile.load(indexFile, ArchiveIdentity.of(archive), false);
    IndexSection b = loaded.sections().get("big");
    assertEquals(big.length, b.length());
    java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(big.length);
    b.read(0, got);
    assertArrayEquals(big, got.array());
    assertThrows(java.io.EOFException.class, () -> b.read(big.length - 1, java.nio.ByteBuffer.allocate(2)));

    // Damage one byte of each section in turn: the checked one makes the index stale ...
    long checkedAt = sectionOffset(0);
    flip(indexFile, checkedAt + 10);
    assertTrue(assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), false)).getMessage().contains("checked"));
    flip(indexFile, checkedAt + 10);
    // ... the other one is its reader's business.
    flip(indexFile, sectionOffset(1) + 4_000_000);
    java.nio.ByteBuffer again = java.nio.ByteBuffer.allocate(big.length);
    IndexFile.load(indexFile, ArchiveIdentity.of(archive), false).sections().get("big").read(0, again);
    assertEquals(4_000_000, java.util.Arrays.mismatch(big, again.array()));
  }

  /** A section longer than one mapping is read across the pieces it is mapped in. */
  @Test
  void aSectionSpansSeveralMappings() throws IOException {
    Path f = dir.resolve("pieces");
    byte[] b = new byte[3 * 4096 + 100];
    new java.util.Random(9).nextBytes(b);
    Files.write(f, b);
    try (var ch = java.nio.channels.FileChannel.open(f)) {
      IndexSection s = IndexSection.map(ch, 100, b.length - 100, IndexSection.Check.ON_LOAD, 4096);
      assertThrows(IOException.class, s::buffer);
      for (int from : new int[] {0, 1, 4095, 4096, 5000, 8191}) {
        java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(b.length - 100 - from);
        s.read(from, got);
        assertArrayEquals(java.util.Arrays.copyOfRange(b, 100 + from, b.length), got.array(), "from " + from);
      }
    }
  }

  /** Offset of the n-th section, from the metadata the way load() reads it. */
  private long sectionOffset(int n) throws IOException {
    byte[] all = Files.readAllBytes(indexFile);
    java.nio.ByteBuffer fixed = java.nio.ByteBuffer.wrap(all).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long metaOffset = fixed.getLong(IndexFile.OFF_META_OFFSET);
    long metaLength = fixed.getLong(IndexFile.OFF_META_LENGTH);
    // The section list is at the end of the metadata: name, u64 offset, u64 length, u32 crc, u8 check.
    var in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(all, (int) metaOffset, (int) metaLength));
    byte[] meta = in.readAllBytes();
    // Walk backwards over the fixed-size tails: the last section's record ends the metadata.
    int count = 2;
    int at = meta.length;
    long[] offsets = new long[count];
    for (int i = count - 1; i >= 0; i--) {
      at -= 8 + 8 + 4 + 1;
      offsets[i] = java.nio.ByteBuffer.wrap(meta, at, 8).getLong();
      String name = i == 0 ? "checked" : "big";
      at -= 2 + name.length();
    }
    return offsets[n];
  }

  @Test
  void theIndexCostsSevenBytesPerClusterPlusPages() throws IOException {
    ExtentIndex index = save(Map.of());
    long clusters = index.devices().stream().mapToLong(DeviceIndex::clusterCount).sum();
    // Page alignment of each table plus a few KiB of metadata on top of 7 bytes per cluster.
    assertTrue(Files.size(indexFile) <= 7 * clusters + 4096L * (index.devices().size() + 2),
        Files.size(indexFile) + " bytes for " + clusters + " clusters");
  }

  private StaleIndexException staleAfter(Consumer<Path> damage) throws IOException {
    save(Map.of("extra", new byte[100]));
    damage.accept(indexFile);
    return assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), false));
  }

  private static void flip(Path p, long at) {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x40);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aCorruptTableIsDetected() throws IOException {
    assertTrue(staleAfter(p -> flip(p, 4096 + 8 * 3 + 1)).getMessage().contains("corrupt"));
  }

  @Test
  void corruptMetadataIsDetected() throws IOException {
    assertTrue(staleAfter(p -> {
      try {
        flip(p, Files.size(p) - 10);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }).getMessage().contains("checksum"));
  }

  @Test
  void aCorruptFixedHeaderIsDetected() throws IOException {
    staleAfter(p -> flip(p, 17));
  }

  @Test
  void aCorruptSectionIsDetected() throws IOException {
    // The section sits between the tables and the metadata: find it by its zeros after the tables.
    ExtentIndex idx = fresh();
    long tables = 4096;
    for (DeviceIndex d : idx.devices()) {
      long pages = (d.clusterCount() + ClusterTable.PAGE_CLUSTERS - 1) / ClusterTable.PAGE_CLUSTERS;
      tables += (pages * ClusterTable.PAGE_BYTES + 4095) / 4096 * 4096;
    }
    long at = tables + 50;
    assertTrue(staleAfter(p -> flip(p, at)).getMessage().contains("section"));
  }

  @Test
  void aTruncatedFileIsDetected() throws IOException {
    for (long keep : List.of(0L, 100L, 4096L, 6000L)) {
      StaleIndexException e = staleAfter(p -> {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
          f.setLength(Math.min(keep, f.length() - 1));
        } catch (IOException ex) {
          throw new AssertionError(ex);
        }
      });
      assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("not a vmafs index"),
          keep + ": " + e.getMessage());
    }
  }

  @Test
  void anotherFormatVersionIsNotTrusted() throws IOException {
    save(Map.of());
    // Rewrite the version and fix the header CRC, as a future vmafs would write it.
    try (var ch = java.nio.channels.FileChannel.open(indexFile, java.nio.file.StandardOpenOption.READ,
        java.nio.file.StandardOpenOption.WRITE)) {
      var fixed = java.nio.ByteBuffer.allocate(IndexFile.FIXED_LENGTH).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      ch.read(fixed, 0);
      fixed.putInt(IndexFile.OFF_VERSION, IndexFile.FORMAT_VERSION + 1);
      var crc = new java.util.zip.CRC32C();
      crc.update(fixed.array(), 0, IndexFile.OFF_HEADER_CRC);
      fixed.putInt(IndexFile.OFF_HEADER_CRC, (int) crc.getValue());
      ch.write(fixed.flip(), 0);
    }
    StaleIndexException e = assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), false));
    assertTrue(e.getMessage().contains("version"), e.getMessage());
  }

  @Test
  void aStaleIndexIsDetected() throws IOException {
    save(Map.of());
    Files.setLastModifiedTime(archive, FileTime.fromMillis(Files.getLastModifiedTime(archive).toMillis() + 5000));
    StaleIndexException e = assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), false));
    assertTrue(e.getMessage().contains("modification time"), e.getMessage());
    // A copied archive (new mtime, same content) is accepted on request.
    IndexFile.load(indexFile, ArchiveIdentity.of(archive), true);
  }

  @Test
  void anIndexOfAnotherArchiveIsNotTrusted() throws IOException {
    save(Map.of());
    Path other = VmaArchiveBuilder.archive().device("drive-scsi0", Sources.mixed((int) Files.size(archive), 9))
        .build().writeTo(dir.resolve("other.vma"));
    StaleIndexException e = assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(other), true));
    assertTrue(e.getMessage().contains("archive"), e.getMessage());
  }

  @Test
  void aGrownOrShrunkArchiveIsDetected() throws IOException {
    save(Map.of());
    Files.write(archive, new byte[512], java.nio.file.StandardOpenOption.APPEND);
    StaleIndexException e = assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), true));
    assertTrue(e.getMessage().contains("size"), e.getMessage());
  }

  @Test
  void adoptGivesAnEmbeddedIndexItsArchive() throws IOException {
    save(ArchiveIdentity.EMBEDDED, Map.of());
    assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), true));
    try (var ch = java.nio.channels.FileChannel.open(indexFile, java.nio.file.StandardOpenOption.READ,
        java.nio.file.StandardOpenOption.WRITE)) {
      IndexFile.adopt(ch, ArchiveIdentity.of(archive));
    }
    IndexFile.Loaded l = IndexFile.load(indexFile, ArchiveIdentity.of(archive), false);
    assertEquals(fresh().extents(), l.index().extents());
  }

  /** A FIFO planted where the index should be is refused at once: opening it would hang. */
  @Test
  void aFifoInPlaceOfTheIndexIsRefusedWithoutHanging() throws Exception {
    Process p = new ProcessBuilder("mkfifo", indexFile.toString()).start();
    assertEquals(0, p.waitFor());
    StaleIndexException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
        () -> assertThrows(StaleIndexException.class,
            () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), false)));
    assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
  }

  /** A link planted where the index should be is not followed. */
  @Test
  void aSymlinkInPlaceOfTheIndexIsNotFollowed() throws IOException {
    save(Map.of());
    Path real = dir.resolve("real-index");
    Files.move(indexFile, real);
    Files.createSymbolicLink(indexFile, real);
    assertThrows(StaleIndexException.class,
        () -> IndexFile.load(indexFile, ArchiveIdentity.of(archive), false));
  }

  /**
   * A 13 KiB archive may declare a 256 TiB disk: its saved index holds the pages the archive lists
   * (a few KiB), not 28 GiB of table, and loads as quickly.
   */
  @Test
  void aHugeDeclaredDeviceMakesASmallIndexFile() throws IOException {
    archive = VmaArchiveBuilder.archive().device("drive-scsi0", 1L << 48).build(w -> {
      w.writeCluster(1, 0, VmaArchiveBuilder.cluster(Sources.mixed(65536, 3), 0));
      w.writeCluster(1, (1L << 32) - 1, VmaArchiveBuilder.cluster(Sources.mixed(65536, 4), 0));
    }).writeTo(dir.resolve("huge.vma"));
    assertTrue(Files.size(archive) < 200_000, "archive: " + Files.size(archive));
    ExtentIndex built = save(Map.of());
    assertTrue(Files.size(indexFile) < 64 * 1024, "index file: " + Files.size(indexFile) + " bytes");
    DeviceIndex d = IndexFile.load(indexFile, ArchiveIdentity.of(archive), false).index().devices().get(0);
    assertEquals(1L << 32, d.clusterCount());
    assertEquals(built.devices().get(0).entry(0), d.entry(0));
    assertEquals(built.devices().get(0).entry((1L << 32) - 1), d.entry((1L << 32) - 1));
    assertEquals(0, d.entry(1L << 31));
    assertEquals(2, d.stats().presentClusters());
    assertArrayEquals(new long[] {1, (1L << 32) - 2}, d.missingRanges(5).get(0));
  }
}
