package vmafs.source.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import vmafs.source.gzip.GzipMap;

/**
 * CRC-32C of every 64 KiB chunk of every block (zstd frame, gzip checkpoint span), counted from the
 * block's start, so a random read can decode a block only as far as it needs and still serve
 * nothing unverified.
 *
 * <p>Why: a zstd frame's own checksum covers the whole frame, so without these a cold 4 KiB read
 * must decode its entire frame (1 MiB by default: ~1.3 ms here) before a byte may be served; with
 * them it decodes up to the end of the chunk it needs, half the frame on average (gzip spans
 * likewise, where only the span's CRC-32 could be checked before). {@code vmafs convert} writes
 * them into a skippable frame of the seekable archive; the gzip decode pass records them in the
 * saved index ({@link GzipMap}):
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
public final class ChunkChecksums {
  /** The skippable-frame magic nibble (0x184D2A5B); 0xA is the embedded index, 0xE the seek table. */
  public static final int NIBBLE = 0xB;
  public static final int DEFAULT_CHUNK = 64 << 10;
  private static final byte[] MAGIC = "VMAFSCRC".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER = 16;
  private static final int MIN_CHUNK = 4 << 10;
  private static final int MAX_CHUNK = 1 << 20;

  private final int chunk;
  private final int chunkShift;
  /** Heap or a mapping of the index file: a 1 TiB stream has 16 M chunks. */
  private final IntBuffer crcs;
  /** Index in {@link #crcs} of each block's first chunk. */
  private final int[] base;

  private ChunkChecksums(int chunk, IntBuffer crcs, int[] base) {
    this.chunk = chunk;
    this.chunkShift = Integer.numberOfTrailingZeros(chunk);
    this.crcs = crcs;
    this.base = base;
  }

  /** The CRCs of one block's chunks, as the writer records them. */
  public static int[] of(byte[] block, int off, int len, int chunk) {
    Recorder r = new Recorder(chunk);
    r.update(block, off, len);
    return r.finish();
  }

  public static byte[] pack(int chunk, List<int[]> perBlock) {
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
  public static ChunkChecksums parse(ByteBuffer payload, long[] blockLengths) throws IOException {
    ByteBuffer b = payload.slice().order(java.nio.ByteOrder.BIG_ENDIAN);
    byte[] magic = new byte[MAGIC.length];
    if (b.remaining() >= HEADER) {
      b.get(0, magic);
    }
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IOException("chunk checksum frame has a wrong magic or is too short");
    }
    int n = b.getInt(12);
    if (n < 0 || b.remaining() != HEADER + 4L * n) {
      throw new IOException("chunk checksum frame lists " + n + " chunks in " + b.remaining()
          + " bytes");
    }
    return of(b.getInt(8), b.slice(HEADER, b.remaining() - HEADER), blockLengths);
  }

  /**
   * Checksums stored as big-endian u32s in {@code crcs} (kept, not copied) for blocks of the given
   * lengths.
   */
  public static ChunkChecksums of(int chunk, ByteBuffer crcs, long[] blockLengths) throws IOException {
    if (chunk < MIN_CHUNK || chunk > MAX_CHUNK || Integer.bitCount(chunk) != 1) {
      throw new IOException("chunk checksums: bad chunk size " + chunk);
    }
    int[] base = new int[blockLengths.length];
    long expected = 0;
    for (int i = 0; i < blockLengths.length; i++) {
      base[i] = (int) Math.min(expected, Integer.MAX_VALUE);
      expected += chunksIn(blockLengths[i], chunk);
    }
    if (crcs.remaining() != 4 * expected) {
      throw new IOException("chunk checksums: " + crcs.remaining() / 4 + " listed, the blocks have "
          + expected);
    }
    return new ChunkChecksums(chunk, crcs.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN).asIntBuffer(),
        base);
  }

  public int chunkSize() {
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
  public boolean matches(int index, byte[] prefix, int len) {
    CRC32C c = new CRC32C();
    for (int from = 0, i = base[index]; from < len; from += chunk, i++) {
      c.reset();
      c.update(prefix, from, Math.min(chunk, len - from));
      if ((int) c.getValue() != crcs.get(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code data} (from its position to its limit) matches block {@code index}'s chunks
   * from byte {@code from} of the block on; {@code from} must be a multiple of the chunk size and
   * the data must end on a chunk boundary or at the block's end. A span read piece by piece is
   * checked this way, one piece at a time.
   */
  public boolean matchesAt(int index, long from, ByteBuffer data) {
    if ((from & (chunk - 1)) != 0) {
      throw new IllegalArgumentException("not on a chunk boundary: " + from);
    }
    CRC32C c = new CRC32C();
    long first = base[index] + (from >>> chunkShift);
    ByteBuffer d = data.duplicate();
    for (long i = first; d.hasRemaining(); i++) {
      int n = Math.min(chunk, d.remaining());
      c.reset();
      c.update(d.slice(d.position(), n));
      d.position(d.position() + n);
      if (i >= crcs.limit() || (int) c.getValue() != crcs.get((int) i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Computes a block's chunk checksums as its bytes stream past, for a pass that learns where a
   * block ends only after it has seen bytes beyond that point ({@link #mark}).
   */
  public static final class Recorder {
    /** What the recorder had seen at some point: enough to end a block there later. */
    public record Mark(int chunks, int partialCrc, int partialLength) {}

    private final int chunk;
    private final CRC32C crc = new CRC32C();
    private int inChunk;
    private int[] done = new int[32];
    private int count;

    public Recorder(int chunk) {
      this.chunk = chunk;
    }

    public void reset() {
      crc.reset();
      inChunk = 0;
      count = 0;
    }

    public void update(byte[] b, int off, int n) {
      update(ByteBuffer.wrap(b, off, n));
    }

    /** Consumes {@code b}'s remaining bytes. */
    public void update(ByteBuffer b) {
      while (b.hasRemaining()) {
        int k = Math.min(b.remaining(), chunk - inChunk);
        crc.update(b.slice(b.position(), k));
        b.position(b.position() + k);
        inChunk += k;
        if (inChunk == chunk) {
          add((int) crc.getValue());
          crc.reset();
          inChunk = 0;
        }
      }
    }

    public Mark mark() {
      return new Mark(count, (int) crc.getValue(), inChunk);
    }

    /** The block's checksums if it ended at {@code m}. */
    public int[] finishAt(Mark m) {
      int[] out = Arrays.copyOf(done, m.chunks() + (m.partialLength() > 0 ? 1 : 0));
      if (m.partialLength() > 0) {
        out[m.chunks()] = m.partialCrc();
      }
      return out;
    }

    /** The block's checksums if it ends here. */
    public int[] finish() {
      return finishAt(mark());
    }

    private void add(int value) {
      if (count == done.length) {
        done = Arrays.copyOf(done, 2 * count);
      }
      done[count++] = value;
    }
  }

  private static int chunksIn(long len, int chunk) {
    return (int) ((len + chunk - 1) / chunk);
  }
}
