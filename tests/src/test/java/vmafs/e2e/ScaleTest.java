package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 TiB-virtual disk (16 M clusters, ~282 k extents, mostly mask-0 entries, stretches out of
 * order) with 64 MiB of scattered data: it must mount, walk its holes exactly, read back exactly,
 * and keep its saved index within 8 bytes per cluster.
 */
class ScaleTest {
  static final long TIB = 1L << 40;
  static final long DATA = 64L << 20;
  @TempDir static Path dir;
  static SyntheticArchive synthetic;
  static Path archive;

  @BeforeAll
  static void write() throws IOException {
    synthetic = new SyntheticArchive(TIB, DATA, 7);
    archive = dir.resolve("vzdump-qemu-900-2026_11_22-00_00_00.vma");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(archive), 1 << 20)) {
      synthetic.write(out);
    }
  }

  /** Data ranges as the synthetic archive defines them: each data cluster minus its zero last block. */
  static List<long[]> expectedRanges() {
    List<long[]> out = new ArrayList<>();
    for (long c = 0; c < TIB >>> 16; c++) {
      if (synthetic.isData(c)) {
        out.add(new long[] {c << 16, (c << 16) + 65536 - 4096});
      }
    }
    return out;
  }

  @Test
  void aOneTerabyteDiskMountsWalksItsHolesAndReadsBackExactly() throws IOException {
    Run.vmafs("index", archive.toString()).ok();
    long clusters = TIB >>> 16;
    Path index = Path.of(archive + ".vmafs-index");
    // The whole file, header, summaries and metadata included: 7 bytes per entry leave room.
    assertTrue(Files.size(index) <= 8 * clusters,
        "index is " + Files.size(index) + " bytes for " + clusters + " clusters");

    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt"))) {
      Path img = m.file("disk-drive-scsi0.raw");
      assertEquals(TIB, Files.size(img));
      List<long[]> expected = expectedRanges();
      assertEquals(DATA >>> 16, expected.size());
      assertEquals(MountTest.render(expected), MountTest.render(MountTest.seekWalk(img)));

      long du = Long.parseLong(Run.cmd("du", "-B1", img.toString()).ok().out().split("\\s")[0]);
      assertEquals(expected.size() * (65536L - 4096), du);

      byte[] want = new byte[65536];
      byte[] got = new byte[65536];
      try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
        for (int i = 0; i < expected.size(); i += 7) {
          long c = expected.get(i)[0] >>> 16;
          synthetic.fill(c, want);
          f.seek(c << 16);
          f.readFully(got);
          assertArrayEquals(want, got, "cluster " + c);
          // The hole right after the data cluster reads as zeros.
          f.seek((c + 1) << 16);
          f.readFully(got, 0, 4096);
          assertArrayEquals(new byte[4096], java.util.Arrays.copyOf(got, 4096), "hole after cluster " + c);
        }
        f.seek(TIB - 4096);
        f.readFully(got, 0, 4096);
        assertArrayEquals(new byte[4096], java.util.Arrays.copyOf(got, 4096), "last block");
      }
    }
    // A remount reuses the saved index instead of rebuilding it.
    Run.Result again = Run.vmafs("info", archive.toString()).ok();
    assertTrue(again.out().contains("(saved earlier)"), again.out());
  }
}
