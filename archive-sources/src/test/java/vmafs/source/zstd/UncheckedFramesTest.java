package vmafs.source.zstd;

import static org.junit.jupiter.api.Assertions.*;

import com.github.luben.zstd.ZstdCompressCtx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.SourceChecks;
import vmafs.source.TestArchives;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.Endian;

/**
 * Third-party seekable zstd files whose frames carry no checksum of their own (issue #13): their
 * seek table's XXH64 is checked instead, and a frame with no checksum anywhere is refused rather
 * than served unverified.
 */
class UncheckedFramesTest {
  private static final int FRAME = 1 << 20;
  @TempDir Path tmp;

  /** Random data: zstd stores it in raw blocks, so a changed byte still decodes, to wrong data. */
  private static byte[] data() {
    byte[] d = new byte[3 * FRAME + 12345];
    new Random(11).nextBytes(d);
    return d;
  }

  /** A seekable file of frames without content checksums; the seek table lists them or not. */
  private Path seekable(byte[] data, boolean tableChecksums) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    int frames = 0;
    try (ZstdCompressCtx ctx = new ZstdCompressCtx().setLevel(1).setChecksum(false).setContentSize(true)) {
      for (int at = 0; at < data.length; at += FRAME) {
        byte[] piece = Arrays.copyOfRange(data, at, Math.min(data.length, at + FRAME));
        byte[] c = ctx.compress(piece);
        out.write(c);
        ByteBuffer e = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(c.length).putInt(piece.length).putInt((int) XxHash64.of(piece, 0, piece.length));
        table.write(e.array(), 0, tableChecksums ? 12 : 8);
        frames++;
      }
    }
    byte[] t = table.toByteArray();
    ByteBuffer f = ByteBuffer.allocate(8 + t.length + 9).order(ByteOrder.LITTLE_ENDIAN);
    f.putInt(ZstdFormat.SEEK_TABLE_MAGIC).putInt(t.length + 9).put(t).putInt(frames)
        .put((byte) (tableChecksums ? ZstdFormat.SEEK_DESCRIPTOR_CHECKSUM : 0))
        .putInt(ZstdFormat.SEEKABLE_MAGIC);
    out.write(f.array());
    Path p = tmp.resolve(tableChecksums ? "listed.zst" : "bare.zst");
    Files.write(p, out.toByteArray());
    return p;
  }

  @Test
  void theSeekTableChecksumsVerifyFramesThatHaveNone() throws IOException {
    byte[] data = data();
    Path p = seekable(data, true);
    ZstdFrameMap map = ZstdFrameMap.fromSeekTable(p, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME).orElseThrow();
    try (ArchiveSource src = SourceChecks.roundTrip(map).open(p, new BlockCache(16 << 20))) {
      SourceChecks.randomReads(src, data, map.blockBoundaries(), 200);
    }
    TestArchives.flip(p, 300, 0x01); // inside frame #0's first raw block
    try (ArchiveSource src = map.open(p, new BlockCache(16 << 20))) {
      CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
          () -> src.readFully(0, ByteBuffer.allocate(4096)));
      assertEquals(new CorruptArchiveException.Where(p.toString(), CorruptArchiveException.Part.ZSTD_FRAME, 0, 0),
          e.where());
      assertTrue(e.problem().contains("seek-table entry"), e.getMessage());
      ByteBuffer later = ByteBuffer.allocate(4096);
      src.readFully(FRAME + 5, later); // other frames still verify and read
      assertArrayEquals(Arrays.copyOfRange(data, FRAME + 5, FRAME + 5 + 4096), later.array());
    }
    // The decode pass checks them too.
    try (DecodePass pass = DecodePass.open(p, DecodeOptions.defaults().withStreamOnly())) {
      CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
          () -> pass.stream().transferTo(OutputStream.nullOutputStream()));
      assertEquals(CorruptArchiveException.Part.ZSTD_FRAME, e.where().part());
      assertEquals(0, e.where().index());
      assertEquals(0, e.offset());
      assertTrue(e.problem().contains("seek-table entry"), e.getMessage());
    }
  }

  @Test
  void framesWithNoChecksumAnywhereAreRefused() throws IOException {
    Path p = seekable(data(), false);
    CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
        () -> ZstdFrameMap.fromSeekTable(p, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME));
    assertEquals(new CorruptArchiveException.Where(p.toString(), CorruptArchiveException.Part.ZSTD_FRAME, 0, 0),
        e.where());
    assertTrue(e.problem().contains("cannot be verified"), e.getMessage());
    assertTrue(e.getMessage().contains("zstd frame #0 at compressed offset 0"), e.getMessage());
    try (DecodePass pass = DecodePass.open(p, DecodeOptions.defaults().withStreamOnly())) {
      CorruptArchiveException d = assertThrows(CorruptArchiveException.class, () -> pass.stream().read());
      assertEquals(e.where(), d.where());
      assertTrue(d.problem().contains("cannot be verified"), d.getMessage());
    }
  }

  @Test
  void xxHash64MatchesZstd() throws IOException {
    byte[] d = data();
    try (ZstdCompressCtx ctx = new ZstdCompressCtx().setChecksum(true)) {
      for (int len : new int[] {0, 1, 31, 32, 33, 100, 4096, 1_000_003}) {
        byte[] c = ctx.compress(Arrays.copyOf(d, len));
        int trailer = Endian.le32(c, c.length - 4);
        assertEquals(trailer, (int) XxHash64.of(d, 0, len), "length " + len);
      }
    }
    XxHash64 pieces = new XxHash64();
    for (int at = 0; at < 100_000; at += 7) {
      pieces.update(d, at, Math.min(7, 100_000 - at));
    }
    assertEquals(XxHash64.of(d, 0, 100_000), pieces.hash(), "incremental = whole");
  }
}
