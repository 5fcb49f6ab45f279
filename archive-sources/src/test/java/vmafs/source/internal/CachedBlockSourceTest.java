package vmafs.source.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.cache.BlockCache;

/** Reads over independently decoded blocks: exact bytes, and no block decoded more than needed. */
class CachedBlockSourceTest {
  private static final int BLOCK = 1 << 20;
  private static final int BLOCKS = 24;

  private static byte[] content(int block) {
    byte[] b = new byte[BLOCK];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (block * 31 + i * 7 + (i >>> 9));
    }
    return b;
  }

  /**
   * A sequential reader asks for each block once per 64 KiB piece. Whatever the cache admits (a
   * cache far smaller than one block admits nothing), every block must be decoded exactly once.
   */
  @ParameterizedTest(name = "cache {0} bytes")
  @ValueSource(longs = {4096, 8L << 20, 256L << 20})
  void sequentialReadsDecodeEachBlockOnce(long cacheBytes) throws IOException {
    long[] starts = new long[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      starts[i] = (long) i * BLOCK;
    }
    AtomicIntegerArray decodes = new AtomicIntegerArray(BLOCKS);
    BlockDecoder decoder = i -> {
      decodes.incrementAndGet(i);
      return content(i);
    };
    try (CachedBlockSource src = new CachedBlockSource("test", new BlockTable(starts, (long) BLOCKS * BLOCK),
        decoder, new BlockCache(cacheBytes), () -> {})) {
      // Two passes, the second like a re-read; pieces unaligned to blocks (60 KiB + 4 KiB hole).
      for (int pass = 0; pass < 2; pass++) {
        for (long pos = 0; pos + 61_440 <= (long) BLOCKS * BLOCK; pos += 65_536) {
          ByteBuffer dst = ByteBuffer.allocate(61_440);
          src.readFully(pos, dst);
          int b = (int) (pos / BLOCK);
          int off = (int) (pos % BLOCK);
          byte[] want = new byte[61_440];
          int first = Math.min(want.length, BLOCK - off);
          System.arraycopy(content(b), off, want, 0, first);
          if (first < want.length) {
            System.arraycopy(content(b + 1), 0, want, first, want.length - first);
          }
          assertArrayEquals(want, dst.array(), "at " + pos);
        }
        for (int i = 0; i < BLOCKS; i++) {
          // A cache that holds everything serves the second pass; a smaller one may not.
          int expected = cacheBytes >= 2L * BLOCKS * BLOCK ? 1 : pass + 1;
          if (pass == 0 || expected == 1) {
            assertEquals(expected, decodes.get(i), "decodes of block " + i + " after pass " + pass + ": " + decodes);
          } else {
            assertEquals(true, decodes.get(i) <= expected, "block " + i + " decoded again within a pass: " + decodes);
          }
        }
      }
      assertThrows(EOFException.class, () -> src.readFully((long) BLOCKS * BLOCK - 10, ByteBuffer.allocate(11)));
    }
  }

  /** A decoder that can stop at 64 KiB chunk boundaries, counting what it was asked for. */
  private static final class PrefixDecoder implements BlockDecoder {
    final java.util.List<String> calls = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    @Override
    public byte[] decode(int index) {
      calls.add(index + ":whole");
      return content(index);
    }

    @Override
    public boolean decodesPrefixes() {
      return true;
    }

    @Override
    public byte[] decodePrefix(int index, int minLength) {
      int len = Math.min(BLOCK, (minLength + 65_535) / 65_536 * 65_536);
      calls.add(index + ":" + (len >> 10) + "K");
      return java.util.Arrays.copyOf(content(index), len);
    }
  }

  private static CachedBlockSource source(BlockDecoder decoder) {
    long[] starts = new long[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      starts[i] = (long) i * BLOCK;
    }
    return new CachedBlockSource("test", new BlockTable(starts, (long) BLOCKS * BLOCK), decoder,
        new BlockCache(256L << 20), () -> {});
  }

  private static void check(CachedBlockSource src, long pos, int len) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(len);
    src.readFully(pos, dst);
    byte[] want = new byte[len];
    for (int k = 0; k < len; ) {
      long p = pos + k;
      int n = (int) Math.min(len - k, BLOCK - p % BLOCK);
      System.arraycopy(content((int) (p / BLOCK)), (int) (p % BLOCK), want, k, n);
      k += n;
    }
    assertArrayEquals(want, dst.array(), "bytes at " + pos);
  }

  /**
   * A random read decodes its block only up to the chunk it needs; a read further into a block
   * that is cached as a prefix decodes it whole, once; reads inside the prefix decode nothing.
   */
  @org.junit.jupiter.api.Test
  void randomReadsDecodeOnlyThePrefixTheyNeed() throws IOException {
    PrefixDecoder d = new PrefixDecoder();
    try (CachedBlockSource src = source(d)) {
      check(src, 5L * BLOCK + 100_000, 4096);
      assertEquals(java.util.List.of("5:128K"), d.calls);
      check(src, 5L * BLOCK + 3, 70_000);
      assertEquals(java.util.List.of("5:128K"), d.calls, "inside the cached prefix");
      check(src, 9L * BLOCK + 700_000, 4096);
      check(src, 5L * BLOCK + 900_000, 4096);
      assertEquals(java.util.List.of("5:128K", "9:704K", "5:whole"), d.calls);
      // A read across the end of a block into the next needs all of the first, and counts as
      // moving forward: the next block is decoded whole too.
      check(src, 12L * BLOCK - 2048, 4096);
      assertEquals(java.util.List.of("5:128K", "9:704K", "5:whole", "11:whole", "12:whole"), d.calls);
    }
  }

  /** A sequential reader gets whole blocks from the second block on, and no block twice. */
  @org.junit.jupiter.api.Test
  void sequentialReadsWithPrefixesDecodeWholeBlocks() throws IOException {
    PrefixDecoder d = new PrefixDecoder();
    try (CachedBlockSource src = source(d)) {
      for (long pos = 0; pos + 65_536 <= 4L * BLOCK; pos += 65_536) {
        check(src, pos, 65_536);
      }
    }
    assertEquals(java.util.List.of("0:64K", "0:whole", "1:whole", "2:whole", "3:whole"), d.calls);
  }
}
