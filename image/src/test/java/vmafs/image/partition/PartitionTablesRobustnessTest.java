package vmafs.image.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.image.SparseImage;

/**
 * Fuzz-style: random bytes and mutated real tables (from sfdisk, sgdisk, fdisk and the builders)
 * must never make the reader throw, read more than its bounds, or return partitions that are out
 * of the disk or overlap. Seeded, so a failure names the case that reproduces it: a fixed set of
 * structure-aware mutations (re-sealed CRCs, truncation) in every build, beside the
 * coverage-guided {@link PartitionTablesFuzzTest}.
 */
class PartitionTablesRobustnessTest {
  /** More with {@code -Dvmafs.partition.cases=N} (the default keeps the unit tests quick). */
  private static final int CASES_PER_SEED = Integer.getInteger("vmafs.partition.cases", 1000);
  private static final long[] INTERESTING = {0, 1, 2, 33, 34, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, -1L,
      Long.MAX_VALUE, Long.MIN_VALUE, 128, 8192, 1 << 20};

  @TempDir Path dir;

  @Test
  void mutatedTablesNeverBreakTheReader() throws IOException {
    List<SparseImage> seeds = new ArrayList<>();
    seeds.add(ToolImages.load(ToolImages.mbrWithLogicals(dir.resolve("mbr.raw"))));
    seeds.add(ToolImages.load(ToolImages.gpt(dir.resolve("gpt.raw"))));
    seeds.add(ToolImages.load(ToolImages.gpt4k(dir.resolve("gpt4k.raw"))));
    seeds.add(TestTables.mbrWithLogicals(1 << 17, 4096, 100_000,
        new long[][] {{6144, 1000}, {10_000, 1000}, {20_000, 5000}}, TestTables.entry(0x83, 2048, 2048)));
    for (int s = 0; s < seeds.size(); s++) {
      SparseImage seed = seeds.get(s);
      int sectorSize = s == 2 ? 4096 : 512;
      for (int c = 0; c < CASES_PER_SEED; c++) {
        long caseSeed = s * 1_000_003L + c;
        SparseImage img = mutate(seed, new Random(caseSeed), sectorSize);
        TableInvariants.check(img, "seed " + s + " case " + c);
      }
    }
  }

  @Test
  void randomBytesNeverBreakTheReader() throws IOException {
    for (int c = 0; c < 2 * CASES_PER_SEED; c++) {
      Random r = new Random(c);
      long size = switch (r.nextInt(4)) {
        case 0 -> r.nextInt(70_000);
        case 1 -> 512L * (1 + r.nextInt(200));
        default -> (1L << 20) + r.nextInt(1 << 20);
      };
      SparseImage img = new SparseImage(size);
      for (int i = 0, n = r.nextInt(40); i < n && size > 0; i++) {
        byte[] b = new byte[512];
        r.nextBytes(b);
        if (r.nextBoolean()) { // often a plausible MBR, so the EBR and GPT paths are reached
          b[510] = 0x55;
          b[511] = (byte) 0xAA;
          for (int e = 0; e < 4; e++) {
            b[446 + 16 * e] = r.nextBoolean() ? 0 : (byte) 0x80;
            if (r.nextInt(3) == 0) {
              b[446 + 16 * e + 4] = (byte) new int[] {0x05, 0x0f, 0x85, 0xee, 0x83}[r.nextInt(5)];
            }
          }
        }
        long sector = r.nextInt(4) == 0 ? size / 512 - 1 - r.nextInt(40) : r.nextInt(80);
        if (sector >= 0 && sector * 512 < size) {
          img.write(sector * 512, java.util.Arrays.copyOf(b, (int) Math.min(512, size - sector * 512)));
        }
      }
      TableInvariants.check(img, "random case " + c);
    }
  }

  /** A copy of {@code seed} with a few bytes or fields changed, maybe re-sealed, maybe truncated. */
  private static SparseImage mutate(SparseImage seed, Random r, int sectorSize) {
    SparseImage img = seed.copy();
    List<Long> sectors = new ArrayList<>();
    seed.writtenSectors().forEach(sectors::add);
    for (int i = 0, n = 1 + r.nextInt(6); i < n; i++) {
      long sector = sectors.get(r.nextInt(sectors.size()));
      long at = sector * 512 + r.nextInt(512);
      if (r.nextInt(3) == 0) {
        long v = INTERESTING[r.nextInt(INTERESTING.length)];
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        img.write(at & ~3L, java.util.Arrays.copyOf(b.array(), r.nextBoolean() ? 4 : 8));
      } else {
        img.write(at, new byte[] {(byte) r.nextInt(256)});
      }
    }
    if (r.nextBoolean()) {
      // Re-seal the CRCs so that the mutation reaches the checks behind them.
      reseal(img, 1, sectorSize);
      reseal(img, img.size() / sectorSize - 1, sectorSize);
    }
    if (r.nextInt(5) == 0) {
      img = img.truncated((long) (r.nextDouble() * img.size()));
    }
    return img;
  }

  private static void reseal(SparseImage img, long lba, int sectorSize) {
    if (lba < 1 || (lba + 1) * sectorSize > img.size()) {
      return;
    }
    ByteBuffer h = ByteBuffer.wrap(img.bytes(lba * sectorSize, 92)).order(ByteOrder.LITTLE_ENDIAN);
    long entriesLba = h.getLong(72);
    long bytes = (long) h.getInt(80) * h.getInt(84);
    long sectors = img.size() / sectorSize;
    if (entriesLba > 0 && entriesLba < sectors && bytes > 0 && bytes <= 1 << 20
        && entriesLba * sectorSize + bytes <= img.size()) {
      TestTables.resealEntries(img, lba, sectorSize);
    } else {
      TestTables.resealHeader(img, lba, sectorSize);
    }
  }

}
