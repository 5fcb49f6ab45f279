package vmafs.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.ProgressListener;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.testing.VmaArchiveBuilder;
import vmafs.vma.io.LocalStoredBytes;

/** What {@code vmafs convert} writes: zstd decodes it to the same stream, and damage is caught. */
class SeekableArchiveTest {
  @TempDir Path tmp;

  private byte[] vma() throws IOException {
    byte[] disk = new byte[3 << 20];
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < disk.length; i += 4096) {
      if (r.nextInt(3) > 0) { // a third of the blocks stays zero (not stored)
        byte[] b = new byte[4096];
        r.nextBytes(b);
        System.arraycopy(b, 0, disk, i, 4096);
      }
    }
    return VmaArchiveBuilder.archive().config("qemu-server.conf", "name: t\n").device("drive-scsi0", disk)
        .build().bytes();
  }

  private Path convert(byte[] vma, byte[][] digest) throws IOException {
    Path out = tmp.resolve("out.vma.zst");
    try (OutputStream os = Files.newOutputStream(out);
        FileChannel index = FileChannel.open(tmp.resolve("index"), StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      digest[0] = SeekableArchive.write(VmaStreamReader.open(new ByteArrayInputStream(vma)), os, index,
          64 << 10, 3, 1);
    }
    return out;
  }

  @Test
  void theFileDecodesToTheStreamItWasWrittenFrom() throws Exception {
    byte[] vma = vma();
    byte[][] digest = new byte[1][];
    Path out = convert(vma, digest);
    byte[] expected = MessageDigest.getInstance("SHA-256").digest(vma);
    assertArrayEquals(expected, digest[0]);
    assertArrayEquals(expected, SeekableArchive.decodedDigest(out, ProgressListener.NONE).orElseThrow());
    assertEquals(ArchiveFormat.ZSTD, ArchiveFormat.detect(out));
    ZstdFrameMap map = ZstdFrameMap.fromSeekTable(out, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME).orElseThrow();
    assertEquals(vma.length, map.uncompressedSize());
    assertTrue(map.frameCount() > vma.length / (64 << 10), "frames of about 64 KiB: " + map.frameCount());
    try (LocalStoredBytes stored = LocalStoredBytes.open(out)) {
      assertTrue(map.skippablePayload(stored, EmbeddedIndex.NIBBLE).isPresent(), "the index is embedded");
    }
    // The real zstd reads it byte for byte (what Proxmox's restore does).
    Process p = new ProcessBuilder("zstd", "-dc", out.toString()).redirectErrorStream(false).start();
    byte[] decoded = p.getInputStream().readAllBytes();
    assertEquals(0, p.waitFor());
    assertArrayEquals(vma, decoded);
  }

  @Test
  void damageFailsTheCheckNamingTheFrame() throws Exception {
    byte[][] digest = new byte[1][];
    Path out = convert(vma(), digest);
    try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      long at = ch.size() / 3;
      ch.read(b, at);
      ch.write(b.put(0, (byte) (b.get(0) ^ 0x40)).flip(), at);
    }
    CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
        () -> SeekableArchive.decodedDigest(out, ProgressListener.NONE));
    assertEquals(CorruptArchiveException.Part.ZSTD_FRAME, e.where().part(), e.getMessage());
    assertTrue(e.offset() <= Files.size(out) / 3, e.getMessage());
  }

  @Test
  void aFileWithoutSeekTableIsNotOne() throws Exception {
    Path plain = tmp.resolve("plain.zst");
    Files.write(plain, com.github.luben.zstd.Zstd.compress(vma()));
    assertTrue(SeekableArchive.decodedDigest(plain, ProgressListener.NONE).isEmpty());
  }
}
