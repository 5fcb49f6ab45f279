package vmafs.source.raw;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceChecks;
import vmafs.source.SourceMap;
import vmafs.source.TestArchives;
import vmafs.vma.io.ArchiveSource;

/**
 * The spill file holds the archive's decoded stream beside it: it is created without following
 * anything planted there, gets the archive's mode or stricter, and every read checks it against
 * the CRCs recorded while it was written (issue #13).
 */
class SpillSafetyTest {
  @TempDir Path tmp;

  /** A single-frame .vma.zst spilled as {@code --spill} asks (it has restart points otherwise). */
  private SpillMap spill(Path archive, Path spill) throws IOException {
    return assertInstanceOf(SpillMap.class, SourceChecks.decode(archive,
        DecodeOptions.defaults().withSpillFile(spill).withForceSpill(true), TestArchives.data()));
  }

  /** Reproduction: bytes changed in the spill (TAMPERED at offset 13312) were served as disk data. */
  @Test
  void bytesChangedInTheSpillAreAnErrorNotData() throws IOException {
    Path file = tmp.resolve("a.spill");
    SpillMap map = spill(TestArchives.zstd(), file);
    byte[] data = TestArchives.data();
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("TAMPERED".getBytes(StandardCharsets.US_ASCII)), 13312);
    }
    SourceMap reread = SourceMap.fromBytes(ByteBuffer.wrap(map.toBytes()), file);
    try (ArchiveSource src = reread.open(TestArchives.zstd(), new BlockCache(8 << 20))) {
      for (int[] r : new int[][] {{13312, 8}, {0, 65536}, {13000, 1000}, {65535 - 100, 4096}}) {
        ByteBuffer b = ByteBuffer.allocate(r[1]);
        IOException e = assertThrows(IOException.class, () -> src.readFully(r[0], b),
            "read of " + r[1] + " at " + r[0]);
        CorruptArchiveException c = assertInstanceOf(CorruptArchiveException.class, e);
        assertEquals(file.toString(), c.archive());
        assertTrue(c.problem().contains("CRC-32C") && c.problem().contains("offset 0"), e.getMessage());
      }
      // The rest of the spill still reads, and right.
      ByteBuffer ok = ByteBuffer.allocate(200_000);
      src.readFully(65536, ok);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 65536, 265_536), ok.array());
    }
  }

  /** Reproduction: a link planted at the old .partial name made the decoded stream overwrite its target. */
  @Test
  void linksPlantedBesideTheSpillAreNeverWrittenThrough() throws IOException {
    Path victim = Files.write(tmp.resolve("victim"), new byte[20]);
    Path file = tmp.resolve("a.spill");
    Files.createSymbolicLink(tmp.resolve("a.spill.partial"), victim);
    Files.createSymbolicLink(file, victim);
    spill(TestArchives.zstd(), file);
    assertArrayEquals(new byte[20], Files.readAllBytes(victim), "the victim is untouched");
    assertFalse(Files.isSymbolicLink(file), "the link at the final name was replaced");
    assertEquals(TestArchives.data().length, Files.size(file));
  }

  @Test
  void theSpillIsNoMoreReadableThanTheArchive() throws IOException {
    Path archive = TestArchives.copy(TestArchives.zstd(), tmp, "private.vma.zst");
    Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-------"));
    Path file = tmp.resolve("private.spill");
    spill(archive, file);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  /** A FIFO planted where the spill should be must not hang the reader. */
  @Test
  void aFifoInPlaceOfTheSpillIsRefusedAtOnce() throws Exception {
    Path file = tmp.resolve("a.spill");
    SpillMap map = spill(TestArchives.zstd(), file);
    Files.delete(file);
    assertEquals(0, new ProcessBuilder("mkfifo", file.toString()).start().waitFor());
    SourceMap reread = SourceMap.fromBytes(ByteBuffer.wrap(map.toBytes()), file);
    IOException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
        () -> assertThrows(IOException.class, () -> reread.open(TestArchives.zstd(), new BlockCache(1 << 20))));
    assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
  }

  /** The map names no file: whatever the bytes of a map, the reader opens the spill it was given. */
  @Test
  void aMapCannotRedirectItsReader() throws IOException {
    Path file = tmp.resolve("a.spill");
    SpillMap map = spill(TestArchives.zstd(), file);
    byte[] bytes = map.toBytes();
    assertFalse(new String(bytes, StandardCharsets.ISO_8859_1).contains(tmp.toString()),
        "no path in the serialized map");
    assertThrows(IOException.class, () -> SourceMap.fromBytes(ByteBuffer.wrap(bytes)),
        "without a spill location the map cannot be opened");
  }
}
