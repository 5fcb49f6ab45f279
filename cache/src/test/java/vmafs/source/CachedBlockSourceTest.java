package vmafs.source;

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
}
