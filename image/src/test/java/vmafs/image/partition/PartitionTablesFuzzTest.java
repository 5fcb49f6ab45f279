package vmafs.image.partition;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.image.SparseImage;

/**
 * The MBR/GPT reader on crafted disks (docs/fuzzing.md). An input is a sparse disk: its size, then
 * records of (sector, length, bytes), so mutations reach any sector of a disk of any size — the
 * GPT header at LBA 1, the entry array, the backup header in the last sector, an EBR chain deep in
 * the disk. Seeds are the tables of real tools (sfdisk, sgdisk, fdisk -b 4096) encoded this way:
 * {@code PartitionTablesFuzzTestInputs/fuzz/}, written by {@link #writeSeeds} when run with
 * {@code -Dvmafs.fuzz.seeds=image/src/test/resources}.
 *
 * <p>A finding is a runtime exception (bad tables are problems or rejected entries, never
 * exceptions), a read past the reader's bounds, a partition outside the disk, two partitions that
 * overlap (other than a logical one inside its extended container), or a second read of the same
 * disk that answers differently. Jazzer's -timeout and the fork's heap catch hangs and
 * allocations.
 */
class PartitionTablesFuzzTest {
  /** Disks up to 16 TiB: sizes whose sector counts overflow 32 bits are part of the input space. */
  private static final long MAX_SIZE = 1L << 44;
  /** A record's sector with this bit set counts back from the end of the disk. */
  private static final int FROM_END = 1 << 31;

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) throws IOException {
    SparseImage img = decode(input);
    if (img == null) {
      return;
    }
    TableInvariants.check(img, "a disk of " + img.size() + " bytes");
  }

  /** The disk an input describes, or null for an input too short to name a size. */
  static SparseImage decode(byte[] input) {
    if (input.length < 8) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN);
    long size = Long.remainderUnsigned(b.getLong(), MAX_SIZE + 1);
    SparseImage img = new SparseImage(size);
    while (b.remaining() >= 6) {
      int sector = b.getInt();
      int length = Math.min(b.getShort() & 0xFFFF, b.remaining());
      byte[] bytes = new byte[length];
      b.get(bytes);
      long at = (sector & FROM_END) != 0
          ? size - 512L * (1 + (sector & ~FROM_END)) : 512L * sector;
      if (at >= 0 && at < size) {
        img.write(at, Arrays.copyOf(bytes, (int) Math.min(length, size - at)));
      }
    }
    return img;
  }

  /** The input that {@link #decode} turns into {@code img} (its written sectors, one record each). */
  static byte[] encode(SparseImage img) {
    List<Long> sectors = new ArrayList<>();
    img.writtenSectors().forEach(sectors::add);
    ByteBuffer b = ByteBuffer.allocate(8 + sectors.size() * (6 + 512)).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(img.size());
    long last = (img.size() - 1) / 512;
    for (long s : sectors) {
      // Sectors near the end are recorded from the end, so a mutated size keeps a backup GPT last.
      boolean nearEnd = last - s < 64;
      b.putInt(nearEnd ? FROM_END | (int) (last - s) : (int) s);
      b.putShort((short) 512);
      b.put(img.bytes(s * 512, 512));
    }
    return Arrays.copyOf(b.array(), b.position());
  }

  @TempDir Path dir;

  /** The seeds: real tools' tables, and a few hand-made ones (logical partitions, 4Kn). */
  @Test
  void writeSeeds() throws IOException {
    String to = System.getProperty("vmafs.fuzz.seeds");
    List<SparseImage> seeds = List.of(
        ToolImages.load(ToolImages.mbrWithLogicals(dir.resolve("mbr.raw"))),
        ToolImages.load(ToolImages.gpt(dir.resolve("gpt.raw"))),
        ToolImages.load(ToolImages.gpt4k(dir.resolve("gpt4k.raw"))),
        TestTables.mbrWithLogicals(1 << 17, 4096, 100_000,
            new long[][] {{6144, 1000}, {10_000, 1000}, {20_000, 5000}}, TestTables.entry(0x83, 2048, 2048)));
    String[] names = {"sfdisk-mbr-logicals", "sgdisk-gpt", "fdisk-gpt-4k", "mbr-logicals-hand-made"};
    for (int i = 0; i < seeds.size(); i++) {
      byte[] in = encode(seeds.get(i));
      SparseImage back = decode(in);
      // The encoding is what the target reads: a seed must describe its disk exactly.
      assertTrue(back.size() == seeds.get(i).size(), names[i]);
      assertTrue(PartitionTables.read(back).equals(PartitionTables.read(seeds.get(i))), names[i]);
      assertTrue(!PartitionTables.read(back).partitions().isEmpty(), names[i]);
      if (to != null) {
        Path d = Path.of(to, "vmafs/image/partition/PartitionTablesFuzzTestInputs/fuzz");
        Files.createDirectories(d);
        Files.write(d.resolve(names[i]), in);
      }
    }
  }
}
