package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.source.zstd.SeekableZstdWriter;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * A seekable .vma.zst whose seek table is damaged is a malformed archive (exit 3) that names the
 * table's field and its compressed offset, not an environment error (issue #14). The table is
 * read when the archive is opened, before any decode pass; the layout is the zstd seekable
 * format's (footer: u32 Number_Of_Frames, u8 Seek_Table_Descriptor, u32 magic; before it the
 * skippable frame of 8-byte (or, with checksums, 12-byte) entries).
 */
class SeekTableDamageTest {
  private static final int FOOTER = 9;
  private static final int SKIPPABLE_HEADER = 8;

  @TempDir Path dir;
  byte[] archive;
  long frames;
  int entrySize;
  long tableStart;

  @BeforeEach
  void seekable() throws IOException {
    Path raw = VmaArchiveBuilder.archive().config("qemu-server.conf", "memory: 64\n")
        .device("drive-scsi0", Sources.mixed(65536 * 24, 3)).build().writeTo(dir.resolve("a.vma"));
    byte[] stream = Files.readAllBytes(raw);
    Path out = dir.resolve("good.vma.zst");
    try (OutputStream os = Files.newOutputStream(out);
        SeekableZstdWriter w = new SeekableZstdWriter(os, 1, 1, 16 << 20)) {
      for (int at = 0; at < stream.length; at += 1 << 18) {
        w.write(stream, at, Math.min(1 << 18, stream.length - at));
        w.endFrame();
      }
    }
    archive = Files.readAllBytes(out);
    ByteBuffer b = ByteBuffer.wrap(archive).order(ByteOrder.LITTLE_ENDIAN);
    frames = b.getInt(archive.length - FOOTER) & 0xffffffffL;
    entrySize = (archive[archive.length - 5] & 0x80) != 0 ? 12 : 8;
    tableStart = archive.length - FOOTER - frames * entrySize - SKIPPABLE_HEADER;
    assertTrue(frames > 2, "several frames: " + frames);
    assertEquals(Cli.run("info", out.toString()).code(), ExitCodes.OK, "the undamaged archive opens");
  }

  private Cli.Result infoOf(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return Cli.run("info", p.toString());
  }

  private byte[] withLe32(long at, long value) {
    byte[] b = archive.clone();
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt((int) at, (int) value);
    return b;
  }

  private static void assertNames(Cli.Result r, String field, long offset) {
    r.assertCleanError(ExitCodes.MALFORMED);
    assertTrue(r.err().contains(field), r.err());
    assertTrue(r.err().contains("at compressed offset " + offset + ":"), r.err());
  }

  @Test
  void reservedDescriptorBits() throws IOException {
    byte[] b = archive.clone();
    long at = b.length - 5;
    b[(int) at] |= 0x04;
    Cli.Result r = infoOf("descriptor.vma.zst", b);
    assertNames(r, "Seek_Table_Descriptor", at);
    assertTrue(r.err().contains("zstd seek table at compressed offset"), r.err());
  }

  @Test
  void aFrameCountTheFileCannotHold() throws IOException {
    long at = archive.length - FOOTER;
    assertNames(infoOf("count.vma.zst", withLe32(at, 1L << 26)), "Number_Of_Frames", at);
  }

  @Test
  void aFrameCountThatMissesTheTableHeader() throws IOException {
    long at = archive.length - FOOTER;
    long start = tableStart - entrySize;
    assertNames(infoOf("one-more.vma.zst", withLe32(at, frames + 1)), "Magic_Number", start);
  }

  @Test
  void anEntryClaimingAHugeFrame() throws IOException {
    long at = tableStart + SKIPPABLE_HEADER + entrySize + 4;
    Cli.Result r = infoOf("huge.vma.zst", withLe32(at, 0x7fffffffL));
    assertNames(r, "Decompressed_Size", at);
    assertTrue(r.err().contains("zstd seek-table entry #1"), r.err());
  }

  @Test
  void compressedSizesThatDoNotAddUp() throws IOException {
    long at = tableStart + SKIPPABLE_HEADER;
    long size = ByteBuffer.wrap(archive).order(ByteOrder.LITTLE_ENDIAN).getInt((int) at) & 0xffffffffL;
    assertNames(infoOf("sum.vma.zst", withLe32(at, size + 1)), "Compressed_Size", tableStart);
  }
}
