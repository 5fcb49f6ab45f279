package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stress (issue #13): 16 threads of random reads, of random lengths up to 300 KiB, on a mount of
 * every archive format at once, each byte checked against the source image. The compressed
 * formats serve from several blocks at a time through the shared block cache, the single-frame
 * .vma.zst through its restart points, the seekable one from its frames; every thread must see exactly
 * the source's bytes.
 */
class StressRandomReadsTest {
  private static final int THREADS = 16;
  private static final int READS_PER_THREAD = 30;

  @TempDir static Path dir;
  static Path disk;
  static Path raw;

  @BeforeAll
  static void archives() throws IOException {
    disk = dir.resolve("disk.raw");
    CompressedTest.semiCompressible(disk, 64L << 20, 16L << 20);
    raw = dir.resolve("stress.vma");
    Run.vmafs("create", "--order", "shuffled", raw.toString(), "drive-scsi0=" + disk).ok();
    Run.sh("zstd -q --threads=2 < '" + raw + "' > '" + archive("zst") + "'").ok();
    Run.sh("lzop < '" + raw + "' > '" + archive("lzo") + "'").ok();
    Run.sh("gzip --rsyncable < '" + raw + "' > '" + archive("gz") + "'").ok();
    Run.vmafs("convert", "--frame-size=256K", raw.toString(), "--seekable",
        archive("seekable.zst").toString()).ok();
  }

  static Path archive(String ext) {
    return ext.equals("vma") ? raw : dir.resolve("stress.vma." + ext);
  }

  @ParameterizedTest
  @ValueSource(strings = {"vma", "zst", "seekable.zst", "lzo", "gz"})
  void sixteenThreadsOfRandomReadsSeeTheSourceBytes(String ext) throws IOException {
    Path work = Files.createDirectories(dir.resolve("run-" + ext));
    Isolated vmafs = new Isolated(work);
    Path mnt = work.resolve("mnt");
    try (Mounted.Cleanup m = vmafs.mount(archive(ext), mnt)) {
      Path img = mnt.resolve("disk-drive-scsi0.raw");
      assertEquals(Files.size(disk), Files.size(img));
      MountTest.randomReadsMatch(img, disk, THREADS, READS_PER_THREAD);
    }
  }
}
