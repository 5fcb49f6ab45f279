package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.CLUSTER_SIZE;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scenario 3 of the design card: copy a drive out of a mount with standard tools. An 8 GiB drive
 * holding 32 MiB of data, spread over it in 512 clusters, out of order in the archive. cp
 * --sparse=auto and qemu-img convert (raw and qcow2) must give an image identical to the source
 * ({@code qemu-img compare}), as sparse as the data ({@code du}), and must skip the holes rather
 * than read them: afterwards the page cache holds about the data of the mounted file, not 8 GiB
 * ({@code fincore}), and the copy takes about as long as the same copy from the source file on
 * local disk (reading 8 GiB of zeros through FUSE takes ~15 s here; a skipping copy well under 1 s).
 */
class ExtractToolsTest {
  static final long SIZE = 8L << 30;
  static final long DATA = 32L << 20;
  static final String IMAGE = "disk-drive-scsi0.raw";

  @TempDir static Path dir;
  static Path archive;
  static Path source;
  static long dataBytes;

  @BeforeAll
  static void build() throws IOException {
    SyntheticArchive synth = new SyntheticArchive(SIZE, DATA, 5);
    archive = dir.resolve("vzdump-qemu-103-2026_11_22-12_00_00.vma");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(archive), 1 << 20)) {
      synth.write(out);
    }
    // The same drive as a sparse raw file: what 'vma extract' would give.
    source = dir.resolve("source.raw");
    byte[] buf = new byte[CLUSTER_SIZE];
    try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
      f.setLength(SIZE);
      for (long c = 0; c < SIZE / CLUSTER_SIZE; c++) {
        if (synth.isData(c)) {
          synth.fill(c, buf);
          f.seek(c * CLUSTER_SIZE);
          f.write(buf);
          dataBytes += CLUSTER_SIZE;
        }
      }
    }
    assertTrue(dataBytes >= DATA / 2, "too little data: " + dataBytes);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cp", "qemu-img-raw", "qemu-img-qcow2"})
  void copiesAreIdenticalSparseAndSkipTheHoles(String tool) throws IOException {
    Path baselineOut = dir.resolve("baseline-" + tool);
    Path out = dir.resolve("copy-" + tool);
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt-" + tool))) {
      Path img = m.file(IMAGE);
      long baseline = timed(copy(tool, source, baselineOut));
      long mounted = timed(copy(tool, img, out));

      String fmt = tool.equals("qemu-img-qcow2") ? "qcow2" : "raw";
      Run.Result cmp = Run.cmd("qemu-img", "compare", "-f", fmt, "-F", "raw", out.toString(), source.toString());
      assertEquals(0, cmp.code(), cmp.out() + cmp.err());
      assertTrue(cmp.out().contains("Images are identical."), cmp.out());
      assertEquals(SIZE, virtualSize(out));

      long du = du(out);
      assertTrue(du <= dataBytes + (4L << 20), tool + ": copy not sparse: du " + du + " vs data " + dataBytes);
      assertTrue(du >= dataBytes * 3 / 4, tool + ": copy lost data? du " + du + " vs data " + dataBytes);

      // Holes were skipped, not read: the page cache of the mounted file holds about the data.
      long cached = Long.parseLong(Run.cmd("fincore", "-b", "-n", "-o", "RES", img.toString()).ok().out().trim());
      assertTrue(cached <= 4 * dataBytes + (16L << 20), tool + ": " + cached + " bytes of the mounted file were read"
          + " into the page cache for " + dataBytes + " of data: holes were read, not skipped");

      // And the time follows the data: about that of the same copy from local disk.
      System.out.printf("%s: 8 GiB with %d MiB data: from the mount %d ms, from the source file %d ms%n",
          tool, dataBytes >> 20, mounted, baseline);
      assertTrue(mounted <= 5 * baseline + 3000, tool + " took " + mounted + " ms from the mount, " + baseline
          + " ms from the source file");
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(baselineOut);
    }
  }

  static List<String> copy(String tool, Path from, Path to) {
    return switch (tool) {
      case "cp" -> List.of("cp", "--sparse=auto", from.toString(), to.toString());
      case "qemu-img-raw" -> List.of("qemu-img", "convert", "-f", "raw", "-O", "raw", from.toString(), to.toString());
      case "qemu-img-qcow2" -> List.of("qemu-img", "convert", "-f", "raw", "-O", "qcow2", from.toString(), to.toString());
      default -> throw new IllegalArgumentException(tool);
    };
  }

  static long timed(List<String> cmd) {
    long t0 = System.nanoTime();
    Run.exec(cmd, null, java.util.Map.of()).ok();
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static long du(Path file) {
    return Long.parseLong(Run.cmd("du", "-B1", file.toString()).ok().out().split("\\s")[0]);
  }

  static long virtualSize(Path image) {
    String json = Run.cmd("qemu-img", "info", "--output=json", image.toString()).ok().out();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"virtual-size\":\\s*(\\d+)").matcher(json);
    assertTrue(m.find(), json);
    return Long.parseLong(m.group(1));
  }
}
