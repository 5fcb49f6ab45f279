package vmafs.source;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import vmafs.source.zstd.SeekableZstdWriter;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.source.zstd.ZstdRestartMap;
import vmafs.vma.testing.FuzzSeeds;

/**
 * Writes the seed corpora of the decoder and source-map fuzz targets, and the fixed archives the
 * map targets open, into the source tree (committed; this only runs on request): the fuzz
 * fixtures' archives compressed by the real tools as vzdump runs them, a seekable archive from
 * {@link SeekableZstdWriter}, and the maps the decode passes make of them.
 * {@code mvn -o -q test -pl archive-sources -am -Dtest=CompressedFuzzSeedsTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dvmafs.fuzz.skip=true
 * -Dvmafs.fuzz.seeds=$PWD/archive-sources/src/test/resources}.
 */
class CompressedFuzzSeedsTest {

  @Test
  @EnabledIfSystemProperty(named = "vmafs.fuzz.seeds", matches = ".+")
  void writeSeeds() throws Exception {
    Path root = Path.of(System.getProperty("vmafs.fuzz.seeds")).resolve("vmafs/source");
    Path work = Files.createTempDirectory("vmafs-seeds");
    Path small = work.resolve("two-devices.vma");
    Files.write(small, FuzzSeeds.small().bytes());
    Path text = work.resolve("text.vma");
    Files.write(text, text().bytes());
    Path words = work.resolve("words.vma");
    Files.write(words, words().bytes());
    Path random = work.resolve("random.bin");
    Files.write(random, vmafs.vma.testing.Sources.random(70_000, 9));

    Path lzop = dir(root, "lzop/LzopPassFuzzTestInputs/fuzz");
    compress(text, "lzop", lzop.resolve("text"));
    compress(small, "lzop", lzop.resolve("two-devices"));
    compress(text, "lzop -9", lzop.resolve("text-level9"));
    compress(small, "lzop --crc32", lzop.resolve("two-devices-crc32"));
    compress(small, "lzop -F", lzop.resolve("two-devices-no-checksum"));
    compress(random, "lzop", lzop.resolve("incompressible-stored-blocks"));

    Path gzip = dir(root, "gzip/GzipPassFuzzTestInputs/fuzz");
    compress(words, "gzip --rsyncable", gzip.resolve("words-rsyncable"));
    compress(words, "pigz -p 2 --rsyncable", gzip.resolve("words-pigz"));
    compress(text, "gzip", gzip.resolve("text-plain-spills"));
    compress(small, "gzip -1", gzip.resolve("two-devices"));
    TestArchives.run("(gzip < " + small + "; gzip < " + small + ") > " + gzip.resolve("two-members"));
    TestArchives.run("cp " + small + " " + work.resolve("named.vma") + " && gzip -N -c "
        + work.resolve("named.vma") + " > " + gzip.resolve("with-file-name"));

    Path zstd = dir(root, "zstd/ZstdPassFuzzTestInputs/fuzz");
    compress(text, "zstd -q --threads=2", zstd.resolve("text-single-frame"));
    compress(small, "zstd -q --no-check", zstd.resolve("two-devices-no-checksum"));
    compress(small, "zstd -q -19", zstd.resolve("two-devices-level19"));
    TestArchives.run("(zstd -q < " + small + "; zstd -q < " + small + ") > " + zstd.resolve("two-frames"));
    Files.write(zstd.resolve("seekable"), seekable(Files.readAllBytes(text)));
    Files.write(zstd.resolve("seekable-small"), seekable(Files.readAllBytes(small)));
    // Small zstd jobs (-B; zstd 1.5.4 makes them 2 MiB, the window) over 2.5 MiB: a frame with
    // a job start, i.e. a restart point with a prefix, and a short last span.
    Path longText = work.resolve("long-text.vma");
    Files.write(longText, text(5 << 19).bytes());
    compress(longText, "zstd -q --threads=2 -B512KiB", zstd.resolve("text-restart-points"));

    // The fixed archives the map targets open, and the maps their passes make.
    Path fixed = dir(root, "fuzz");
    Files.copy(lzop.resolve("text"), fixed.resolve("text.vma.lzo"), REPLACE);
    Files.copy(gzip.resolve("words-rsyncable"), fixed.resolve("words.vma.gz"), REPLACE);
    Files.copy(zstd.resolve("seekable"), fixed.resolve("seekable.vma.zst"), REPLACE);
    Files.copy(small, fixed.resolve("two-devices.vma"), REPLACE);
    Files.copy(zstd.resolve("text-restart-points"), fixed.resolve("restart.vma.zst"), REPLACE);
    Files.write(dir(root, "lzop/LzopMapFuzzTestInputs/fuzz").resolve("text"), mapOf(fixed.resolve("text.vma.lzo"), work));
    Files.write(dir(root, "gzip/GzipMapFuzzTestInputs/fuzz").resolve("words"), mapOf(fixed.resolve("words.vma.gz"), work));
    Path frames = dir(root, "zstd/ZstdFrameMapFuzzTestInputs/fuzz");
    Files.write(frames.resolve("seekable"), mapOf(fixed.resolve("seekable.vma.zst"), work));
    Files.write(frames.resolve("seek-table"), ZstdFrameMap.fromSeekTable(fixed.resolve("seekable.vma.zst"),
        DecodeFuzzing.OPTIONS.zstdMaxFrameSize()).orElseThrow().toBytes());
    try (DecodePass pass = DecodePass.open(fixed.resolve("restart.vma.zst"), DecodeFuzzing.OPTIONS)) {
      pass.stream().transferTo(java.io.OutputStream.nullOutputStream());
      ZstdRestartMap map = (ZstdRestartMap) pass.finish();
      if (map.pointCount() < 2) {
        throw new AssertionError("restart seed has only " + map.pointCount() + " points");
      }
      Files.write(dir(root, "zstd/ZstdRestartMapFuzzTestInputs/fuzz").resolve("restart"),
          DecodeFuzzing.packSections(map));
    }
    Path other = dir(root, "raw/SpillAndRawMapFuzzTestInputs/fuzz");
    Files.write(other.resolve("raw"), mapOf(fixed.resolve("two-devices.vma"), work));
    try (DecodePass pass = DecodePass.open(zstd.resolve("text-single-frame"),
        DecodeFuzzing.OPTIONS.withForceSpill(true).withSpillFile(work.resolve("text.spill")))) {
      pass.stream().transferTo(java.io.OutputStream.nullOutputStream());
      Files.write(other.resolve("spill"), pass.finish().toBytes());
    }
  }

  /**
   * An archive of 300 KiB of disk-like content in the manner of {@link TestArchives#data()}
   * (16-byte structured records, lines of words of a small vocabulary): two lzop blocks, several
   * gzip restart points and zstd frames, yet only ~45-85 KiB compressed, so the fuzzer stays fast.
   */
  static vmafs.vma.testing.ArchiveBytes text() throws IOException {
    return text(300 << 10);
  }

  /** As {@link #text()}, with a disk of {@code size} bytes. */
  static vmafs.vma.testing.ArchiveBytes text(int size) throws IOException {
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    String[] words = {"alpha", "beta", "gamma", "delta", "disk", "block", "cluster", "extent",
        "backup", "proxmox", "qemu", "vma", "zero", "data", "hole", "seek"};
    ByteArrayOutputStream disk = new ByteArrayOutputStream();
    for (long i = 0; disk.size() < size; i++) {
      if (i % 16 == 0) {
        StringBuilder line = new StringBuilder();
        for (int k = 3 + r.nextInt(10); k > 0; k--) {
          line.append(words[r.nextInt(words.length)]).append(k > 1 ? " " : "\n");
        }
        disk.writeBytes(line.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
      disk.writeBytes(java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(i).array());
    }
    return vmafs.vma.testing.VmaArchiveBuilder.archive().config("qemu-server.conf", "name: text\n")
        .device("drive-scsi0", java.util.Arrays.copyOf(disk.toByteArray(), size)).build();
  }

  /**
   * 300 KiB of words of a small vocabulary, as in {@link TestArchives#data()}: varied enough for
   * {@code --rsyncable} to emit restart points every few KiB (on {@link #text()} it emits almost
   * none), so that the gzip seeds have checkpoints.
   */
  static vmafs.vma.testing.ArchiveBytes words() throws IOException {
    java.util.SplittableRandom r = new java.util.SplittableRandom(0x5eed);
    String[] words = new String[256];
    for (int i = 0; i < words.length; i++) {
      words[i] = Integer.toString(r.nextInt(1 << 30), 36).substring(0, 1 + r.nextInt(5));
    }
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 300 << 10) {
      sb.append(words[r.nextInt(words.length)]).append(r.nextInt(12) == 0 ? ".\n" : " ");
    }
    return vmafs.vma.testing.VmaArchiveBuilder.archive().config("qemu-server.conf", "name: words\n")
        .device("drive-scsi0", java.util.Arrays.copyOf(
            sb.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), 300 << 10)).build();
  }

  private static final java.nio.file.CopyOption REPLACE = java.nio.file.StandardCopyOption.REPLACE_EXISTING;

  private static void compress(Path in, String tool, Path out) throws IOException {
    TestArchives.run(tool + " < " + in + " > " + out);
  }

  /** A seekable archive with 64 KiB frames, an embedded skippable frame and chunk checksums. */
  private static byte[] seekable(byte[] vma) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (SeekableZstdWriter w = new SeekableZstdWriter(out, 3, 0, 64 << 10)) {
      w.write(vma);
      w.endFrame();
      w.writeSkippableFrame(0xA, "embedded index placeholder".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    return out.toByteArray();
  }

  private static byte[] mapOf(Path archive, Path spillDir) throws IOException {
    try (DecodePass pass = DecodePass.open(archive, DecodeFuzzing.OPTIONS.withSpillFile(spillDir.resolve(archive.getFileName() + ".spill")))) {
      pass.stream().transferTo(java.io.OutputStream.nullOutputStream());
      return pass.finish().toBytes();
    }
  }

  private static Path dir(Path root, String rel) throws IOException {
    return Files.createDirectories(root.resolve(rel));
  }

}
