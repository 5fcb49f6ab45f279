package vmafs.source.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChunkChecksumsTest {
  private static final int CHUNK = ChunkChecksums.DEFAULT_CHUNK;

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  @Test
  void packedTablesParseAndVerifyPrefixes() throws IOException {
    byte[] a = random(3 * CHUNK + 100, 1);
    byte[] b = random(CHUNK, 2);
    byte[] packed = ChunkChecksums.pack(CHUNK, List.of(ChunkChecksums.of(a, 0, a.length, CHUNK),
        ChunkChecksums.of(b, 0, b.length, CHUNK)));
    ChunkChecksums c = ChunkChecksums.parse(ByteBuffer.wrap(packed), new long[] {a.length, b.length});
    assertEquals(CHUNK, c.prefixFor(1, a.length));
    assertEquals(2 * CHUNK, c.prefixFor(CHUNK + 1, a.length));
    assertEquals(a.length, c.prefixFor(3 * CHUNK + 1, a.length), "the last, short chunk");
    assertTrue(c.matches(0, a, 2 * CHUNK));
    assertTrue(c.matches(0, a, a.length));
    assertTrue(c.matches(1, b, b.length));
    a[CHUNK + 7] ^= 1;
    assertTrue(c.matches(0, a, CHUNK), "the damage is in the second chunk");
    assertFalse(c.matches(0, a, 2 * CHUNK));
  }

  @Test
  void tablesThatDoNotFitTheBlocksAreRefused() {
    byte[] a = random(CHUNK + 1, 3);
    byte[] good = ChunkChecksums.pack(CHUNK, List.of(ChunkChecksums.of(a, 0, a.length, CHUNK)));
    long[] lengths = {a.length};
    assertThrows(IOException.class, () -> ChunkChecksums.parse(ByteBuffer.wrap(good), new long[] {a.length + CHUNK}));
    byte[] magic = good.clone();
    magic[0] = 'X';
    assertThrows(IOException.class, () -> ChunkChecksums.parse(ByteBuffer.wrap(magic), lengths));
    byte[] size = good.clone();
    ByteBuffer.wrap(size).putInt(8, 3000); // not a power of two
    assertThrows(IOException.class, () -> ChunkChecksums.parse(ByteBuffer.wrap(size), lengths));
    byte[] count = good.clone();
    ByteBuffer.wrap(count).putInt(12, Integer.MAX_VALUE);
    assertThrows(IOException.class, () -> ChunkChecksums.parse(ByteBuffer.wrap(count), lengths));
    assertThrows(IOException.class, () -> ChunkChecksums.parse(ByteBuffer.wrap(new byte[5]), lengths));
  }

  /** The gzip pass learns where a span ends after seeing bytes beyond it. */
  @Test
  void aRecorderEndsABlockAtAnEarlierMark() {
    byte[] data = random(5 * CHUNK, 4);
    ChunkChecksums.Recorder r = new ChunkChecksums.Recorder(CHUNK);
    int end = 2 * CHUNK + 1234;
    r.update(data, 0, 1000);
    r.update(data, 1000, end - 1000);
    ChunkChecksums.Recorder.Mark m = r.mark();
    r.update(data, end, 70_000); // read on past the candidate end
    assertArrayEquals(ChunkChecksums.of(data, 0, end, CHUNK), r.finishAt(m));
    assertArrayEquals(ChunkChecksums.of(data, 0, end + 70_000, CHUNK), r.finish());
    r.reset();
    r.update(data, 0, CHUNK);
    assertArrayEquals(ChunkChecksums.of(data, 0, CHUNK, CHUNK), r.finish(), "no empty tail chunk");
  }
}
