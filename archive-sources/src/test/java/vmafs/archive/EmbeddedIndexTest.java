package vmafs.archive;

import static org.junit.jupiter.api.Assertions.*;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.index.StaleIndexException;

/** The embedded index streams both ways and is bounded by what it really holds (issue #13). */
class EmbeddedIndexTest {
  @TempDir Path dir;

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  private Path payload(long declared, byte[] content) throws IOException {
    byte[] z = Zstd.compress(content);
    ByteBuffer b = ByteBuffer.allocate(16 + z.length).put("VMAFSEMB".getBytes()).putLong(declared).put(z);
    return Files.write(dir.resolve("payload"), b.array());
  }

  private void unpack(Path payload, Path out) throws IOException {
    try (FileChannel in = FileChannel.open(payload);
        FileChannel o = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      EmbeddedIndex.unpack(in, 0, in.size(), o);
    }
  }

  /** Reproduction: the declared length (up to 1 GiB) was allocated before decompressing. */
  @Test
  void aDeclaredLengthCostsNothingUntilTheDataIsThere() throws IOException {
    Path p = payload(1L << 30, new byte[1000]);
    long before = allocatedByThisThread();
    StaleIndexException e = assertThrows(StaleIndexException.class, () -> unpack(p, dir.resolve("out")));
    long allocated = allocatedByThisThread() - before;
    assertTrue(e.getMessage().contains("truncated (1000 of 1073741824"), e.getMessage());
    assertTrue(allocated < 16 << 20, "allocated " + allocated + " bytes");
  }

  @Test
  void moreDataThanDeclaredIsRefused() throws IOException {
    Path p = payload(10, new byte[100_000]);
    StaleIndexException e = assertThrows(StaleIndexException.class, () -> unpack(p, dir.resolve("out")));
    assertTrue(e.getMessage().contains("more than the 10 bytes"), e.getMessage());
    assertTrue(Files.size(dir.resolve("out")) <= 10);
  }

  @Test
  void packAndUnpackRoundTripThroughFiles() throws IOException {
    byte[] index = new byte[3_000_000];
    new java.util.Random(3).nextBytes(index);
    java.util.Arrays.fill(index, 1_000_000, 2_900_000, (byte) 0);
    Path in = Files.write(dir.resolve("index"), index);
    byte[] packed;
    try (FileChannel ch = FileChannel.open(in)) {
      packed = EmbeddedIndex.pack(ch, ch.size());
    }
    Path p = Files.write(dir.resolve("payload"), packed);
    unpack(p, dir.resolve("out"));
    assertArrayEquals(index, Files.readAllBytes(dir.resolve("out")));
  }

  /**
   * Reproduction: convert read the whole index with readAllBytes, which fails at 2 GiB (a ~20 TiB
   * disk's index). Packing streams from the file: what it allocates does not grow with the index.
   */
  @Test
  void packingStreamsTheIndexFile() throws IOException {
    Path big = dir.resolve("big-index");
    long length = 96L << 20;
    try (FileChannel ch = FileChannel.open(big, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {42}), length - 1); // sparse: zeros, then 42
    }
    byte[] packed;
    long before = allocatedByThisThread();
    try (FileChannel ch = FileChannel.open(big)) {
      packed = EmbeddedIndex.pack(ch, length);
    }
    long allocated = allocatedByThisThread() - before;
    assertTrue(allocated < 24 << 20, "allocated " + allocated + " bytes for a " + length + "-byte index");
    assertEquals(length, ByteBuffer.wrap(packed, 8, 8).getLong());
    Path p = Files.write(dir.resolve("payload"), packed);
    unpack(p, dir.resolve("out"));
    assertEquals(length, Files.size(dir.resolve("out")));
  }
}
