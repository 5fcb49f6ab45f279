package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compressed archives made by the real tools exactly as vzdump runs them (from a pipe), used
 * directly: info, verify, extract and mount must behave as for the uncompressed archive.
 */
class CompressedTest {
  @TempDir static Path dir;
  static Path disk;
  static Path raw;

  /** vzdump's compressor command lines (PVE/VZDump.pm compressor_info). */
  static String compressor(String ext) {
    return switch (ext) {
      case "zst" -> "zstd --threads=2";
      case "lzo" -> "lzop";
      case "gz" -> "gzip --rsyncable";
      case "pigz.gz" -> "pigz -p 2 --rsyncable";
      default -> throw new IllegalArgumentException(ext);
    };
  }

  @BeforeAll
  static void archives() throws IOException {
    disk = dir.resolve("disk.raw");
    semiCompressible(disk, 96L << 20, 24L << 20);
    Path conf = dir.resolve("qemu-server.conf");
    Files.writeString(conf, "name: compressed\n");
    raw = dir.resolve("vzdump-qemu-101-2026_11_22-00_00_00.vma");
    Run.vmafs("create", "--order", "shuffled", "-c", conf.toString(), raw.toString(),
        "drive-scsi0=" + disk).ok();
    for (String ext : List.of("zst", "lzo", "gz", "pigz.gz")) {
      Run.sh(compressor(ext) + " < '" + raw + "' > '" + archive(ext) + "'").ok();
    }
  }

  static Path archive(String ext) {
    return dir.resolve("vzdump-qemu-101-2026_11_22-00_00_00." + ext.replace("pigz.", "pigz-") + ".vma-c");
  }

  /** Disk-like content: text, structured records, random runs and zero runs; holes elsewhere. */
  static void semiCompressible(Path file, long size, long data) throws IOException {
    Random r = new Random(42);
    byte[] block = new byte[1 << 20];
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(size);
      for (long written = 0; written < data; written += block.length) {
        for (int i = 0; i < block.length; i += 4096) {
          int kind = r.nextInt(10);
          if (kind < 3) {
            byte[] b = new byte[4096];
            r.nextBytes(b);
            System.arraycopy(b, 0, block, i, 4096);
          } else if (kind < 7) {
            byte[] t = ("line " + r.nextInt(100000) + " the quick brown fox jumps over the lazy dog\n")
                .repeat(100).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(t, 0, block, i, 4096);
          } else if (kind < 9) {
            for (int k = 0; k < 4096; k += 8) {
              java.nio.ByteBuffer.wrap(block, i + k, 8).putLong(written + i + k);
            }
          } else {
            java.util.Arrays.fill(block, i, i + 4096, (byte) 0);
          }
        }
        long at = (long) (r.nextDouble() * (size - block.length)) & ~4095L;
        f.seek(at);
        f.write(block);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"zst", "lzo", "gz", "pigz.gz"})
  void compressedArchivesWorkLikeTheUncompressedOne(String ext) throws IOException {
    Path a = archive(ext);
    // Detected from the magic bytes: the file name says nothing.
    assertTrue(Run.vmafs("info", "--no-save-index", a.toString()).ok().out().contains("compression:"));
    Run.vmafs("verify", a.toString()).ok();
    Run.vmafs("list", a.toString()).ok();
    assertEquals("name: compressed\n", Run.vmafs("config", a.toString()).ok().out());

    Path out = dir.resolve("extract-" + ext);
    Run.vmafs("extract", a.toString(), out.toString()).ok();
    assertEquals(Images.sha256(disk), Images.sha256(out.resolve("disk-drive-scsi0.raw")));

    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-" + ext))) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(Images.sha256(disk), Images.sha256(img));
      assertEquals(MountTest.render(Images.dataRanges(disk)), MountTest.render(MountTest.seekWalk(img)));
      MountTest.randomReadsMatch(img, disk, 4, 200);
    }
    // Remount: the saved index (and the compressed format's map) are reused.
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt2-" + ext), "-v")) {
      assertEquals(Images.sha256(disk), Images.sha256(m.file("disk-drive-scsi0.raw")));
    }
  }

  @Test
  void convertMakesASeekableArchiveThatZstdAndTheMountRead() throws IOException {
    Path seekable = dir.resolve("seekable.vma.zst");
    Run.vmafs("convert", archive("gz").toString(), "--seekable", seekable.toString()).ok();
    // Proxmox restores with 'zstd -q -d -c': the stream must be byte for byte the original VMA.
    Run.sh("zstd -q -d -c '" + seekable + "' | cmp - '" + raw + "'").ok();
    assertTrue(Run.cmd("zstd", "-l", seekable.toString()).ok().out().matches("(?s).*\\d+\\s+\\d+\\s+.*"));
    Run.Result info = Run.vmafs("info", seekable.toString()).ok();
    assertTrue(info.out().contains("from the index embedded in the archive"), info.out());
    try (Mounted m = Mounted.mount(seekable, dir.resolve("mnt-seekable"))) {
      assertEquals(Images.sha256(disk), Images.sha256(m.file("disk-drive-scsi0.raw")));
      MountTest.randomReadsMatch(m.file("disk-drive-scsi0.raw"), disk, 4, 200);
    }
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("seekable.vma.zst.spill")),
          "a seekable archive must not need a spill file");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"zst", "lzo", "gz"})
  void corruptAndTruncatedCompressedArchivesGiveClearErrors(String ext) throws IOException {
    Path src = archive(ext);
    long size = Files.size(src);
    Path flipped = dir.resolve("flipped." + ext);
    Files.copy(src, flipped);
    try (RandomAccessFile f = new RandomAccessFile(flipped.toFile(), "rw")) {
      for (long at = size / 3; at < size / 3 + 64; at += 7) {
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x5a);
      }
    }
    Path truncated = dir.resolve("truncated." + ext);
    Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(src), (int) (size / 2)));
    Path garbage = dir.resolve("garbage." + ext);
    Files.copy(src, garbage);
    Files.write(garbage, "trailing garbage".getBytes(), java.nio.file.StandardOpenOption.APPEND);
    for (Path bad : List.of(flipped, truncated, garbage)) {
      Run.Result r = Run.vmafs("verify", bad.toString());
      assertEquals(3, r.code(), bad + ": " + r.err());
      assertTrue(r.err().matches("(?s)vmafs: error: .*offset \\d+.*"), bad + ": " + r.err());
      assertFalse(r.err().contains("Exception"), r.err());
      Path mnt = dir.resolve("mnt-bad-" + bad.getFileName());
      Files.createDirectories(mnt);
      try (Mounted.Cleanup c = new Mounted.Cleanup(mnt)) {
        // --wait: refused before anything is mounted, as every mount did before issue #12 (without
        // it the mount serves what the pass reached: InstantMountTest).
        Run.Result mr = Run.vmafs("mount", "--wait", "--no-save-index", bad.toString(), mnt.toString());
        assertEquals(3, mr.code(), bad + ": " + mr.err());
        assertFalse(Mounted.isMounted(mnt));
      }
    }
  }

  @Test
  void aMountNeverServesBytesOfABlockWhoseChecksumFailed() throws IOException {
    // Index an lzop archive, then corrupt a compressed block behind the saved index's back
    // (same size, same first/last 64 KiB; --ignore-mtime accepts it, as for a copied archive).
    Path a = dir.resolve("late-corrupt.vma.lzo");
    Files.copy(archive("lzo"), a);
    Run.vmafs("index", a.toString()).ok();
    long size = Files.size(a);
    try (RandomAccessFile f = new RandomAccessFile(a.toFile(), "rw")) {
      for (long at = size / 2; at < size / 2 + 4096; at += 97) {
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0xff);
      }
    }
    try (Mounted m = Mounted.mount(a, dir.resolve("mnt-late"), "--ignore-mtime")) {
      Run.Result r = Run.cmd("dd", "if=" + m.file("disk-drive-scsi0.raw"), "of=/dev/null", "bs=1M");
      assertNotEquals(0, r.code(), "a corrupt block must not be served");
      assertTrue(r.err().contains("Input/output error"), r.err());
    }
  }
}
