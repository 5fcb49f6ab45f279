package vmafs.source;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * CRC-32C of every 64 KiB chunk of every block (zstd frame), counted from the block's start, so a
 * random read can decode a block only as far as it needs and still serve nothing unverified.
 *
 * <p>Why: a zstd frame's own checksum covers the whole frame, so without these a cold 4 KiB read
 * must decode its entire frame (1 MiB by default: ~1.3 ms here) before a byte may be served; with
 * them it decodes up to the end of the chunk it needs, half the frame on average. {@code vmafs
 * convert} writes them into a skippable frame of the seekable archive:
 *
 * <pre>
 *   8 bytes   magic "VMAFSCRC"
 *   u32       chunk size (big-endian), a power of two from 4 KiB to 1 MiB
 *   u32       count
 *   count×u32 CRC-32C of each chunk, block after block (a block of n bytes has ceil(n / chunk))
 * </pre>
 *
 * A table that does not fit the blocks is ignored (reads then decode whole blocks), and a chunk
 * that fails its CRC is decoded again as a whole block under the format's own checksum, so a
 * damaged table can cost speed but never serve wrong bytes or fail a good read.
 */
final class ChunkChecksums {
  /** The skippable-frame magic nibble (0x184D2A5B); 0xA is the embedded index, 0xE the seek table. */
  static final int NIBBLE = 0xB;
  static final int DEFAULT_CHUNK = 64 << 10;
  private static final byte[] MAGIC = "VMAFSCRC".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER = 16;
  private static final int MIN_CHUNK = 4 << 10;
  private static final int MAX_CHUNK = 1 << 20;

  private final int chunk;
  private final int chunkShift;
  private final int[] crcs;
  /** Index in {@link #crcs} of each block's first chunk. */
  private final int[] base;

  private ChunkChecksums(int chunk, int[] crcs, int[] base) {
    this.chunk = chunk;
    this.chunkShift = Integer.numberOfTrailingZeros(chunk);
    this.crcs = crcs;
    this.base = base;
  }

  /** The CRCs of one block's chunks, as the writer records them. */
  static int[] of(byte[] block, int off, int len, int chunk) {
    int[] out = new int[chunksIn(len, chunk)];
    CRC32C c = new CRC32C();
    for (int i = 0; i < out.length; i++) {
      int from = i * chunk;
      c.reset();
      c.update(block, off + from, Math.min(chunk, len - from));
      out[i] = (int) c.getValue();
    }
    return out;
  }

  static byte[] pack(int chunk, List<int[]> perBlock) {
    int n = perBlock.stream().mapToInt(a -> a.length).sum();
    ByteBuffer b = ByteBuffer.allocate(HEADER + 4 * n);
    b.put(MAGIC).putInt(chunk).putInt(n);
    for (int[] a : perBlock) {
      for (int crc : a) {
        b.putInt(crc);
      }
    }
    return b.array();
  }

  /**
   * Parses a table for blocks of the given lengths.
   *
   * @throws IOException naming what does not fit; callers fall back to whole-block decoding
   */
  static ChunkChecksums parse(byte[] payload, long[] blockLengths) throws IOException {
    if (payload.length < HEADER || !Arrays.equals(payload, 0, 8, MAGIC, 0, 8)) {
      throw new IOException("chunk checksum frame has a wrong magic");
    }
    ByteBuffer b = ByteBuffer.wrap(payload);
    int chunk = b.getInt(8);
    int n = b.getInt(12);
    if (chunk < MIN_CHUNK || chunk > MAX_CHUNK || Integer.bitCount(chunk) != 1) {
      throw new IOException("chunk checksum frame: bad chunk size " + chunk);
    }
    int[] base = new int[blockLengths.length];
    long expected = 0;
    for (int i = 0; i < blockLengths.length; i++) {
      base[i] = (int) Math.min(expected, Integer.MAX_VALUE);
      expected += chunksIn(blockLengths[i], chunk);
    }
    if (n < 0 || n != expected || payload.length != HEADER + 4L * n) {
      throw new IOException("chunk checksum frame lists " + n + " chunks in " + payload.length
          + " bytes; the blocks have " + expected);
    }
    int[] crcs = new int[n];
    b.position(HEADER);
    b.asIntBuffer().get(crcs);
    return new ChunkChecksums(chunk, crcs, base);
  }

  int chunkSize() {
    return chunk;
  }

  /** The prefix length to decode so that {@code minLength} bytes can be verified. */
  int prefixFor(int minLength, int blockLength) {
    long end = ((long) minLength + chunk - 1) >>> chunkShift << chunkShift;
    return (int) Math.min(end, blockLength);
  }

  /**
   * Whether {@code prefix[0, len)} matches block {@code index}'s chunks; {@code len} must end on a
   * chunk boundary or at the block's end.
   */
  boolean matches(int index, byte[] prefix, int len) {
    CRC32C c = new CRC32C();
    for (int from = 0, i = base[index]; from < len; from += chunk, i++) {
      c.reset();
      c.update(prefix, from, Math.min(chunk, len - from));
      if ((int) c.getValue() != crcs[i]) {
        return false;
      }
    }
    return true;
  }

  private static int chunksIn(long len, int chunk) {
    return (int) ((len + chunk - 1) / chunk);
  }
}
