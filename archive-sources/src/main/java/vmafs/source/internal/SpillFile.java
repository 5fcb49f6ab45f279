package vmafs.source.internal;

import java.io.DataOutput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.zip.CRC32C;
import vmafs.source.CorruptArchiveException;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.ArchiveSource;

/**
 * A completed spill file: a plain copy of (part of) the decompressed stream, and a CRC-32C of every
 * {@value #CHUNK}-byte chunk of it as the decode pass wrote it (the archive's own checksums had
 * been verified by then). A source checks each chunk before it serves a byte of it, so bytes
 * changed in the spill after the pass are an error, never disk content.
 *
 * <p>The map records only the length and the CRCs; where the file is comes from the saved index's
 * own location ({@code ArchiveOpener}), so an index can never point its reader at another file.
 * Serialized as {@code u64 length, u32 chunk size, u32 count} and the CRCs (big-endian).
 *
 * @param crcs big-endian u32s, one per chunk (kept, not copied: it may map the index file)
 */
public record SpillFile(Path path, long length, ByteBuffer crcs) {
  /** 64 KiB: CRC-32C costs ~5 µs per chunk here, small beside a FUSE round trip. */
  static final int CHUNK = 64 << 10;
  private static final int CHUNK_SHIFT = 16;

  public SpillFile {
    if (length < 0 || crcs.remaining() != 4 * chunks(length)) {
      throw new IllegalArgumentException("spill of " + length + " bytes needs " + chunks(length)
          + " chunk CRCs, not " + crcs.remaining() / 4);
    }
    crcs = crcs.slice().order(ByteOrder.BIG_ENDIAN);
  }

  static long chunks(long length) {
    return (length + CHUNK - 1) >>> CHUNK_SHIFT;
  }

  /** A spill whose chunk CRCs {@code crcs} were computed as it was written. */
  static SpillFile of(Path path, long length, int[] crcs) {
    ByteBuffer b = ByteBuffer.allocate(4 * crcs.length);
    b.asIntBuffer().put(crcs);
    return new SpillFile(path, length, b);
  }

  /** A verifying source over the spill; fails if the file is not what the pass wrote. */
  public ArchiveSource open() throws IOException {
    if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      // Never open a FIFO (it would hang) or follow a link planted in place of the spill.
      throw new IOException("spill file " + path + " is missing or not a regular file;"
          + " the decode pass runs again");
    }
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    if (ch.size() != length) {
      long actual = ch.size();
      ch.close();
      throw new IOException("spill file " + path + " has " + actual + " bytes, expected "
          + length + "; delete it and run the decode pass again");
    }
    return new Verified(ch);
  }

  public void write(DataOutput out) throws IOException {
    out.writeLong(length);
    out.writeInt(CHUNK);
    out.writeInt(crcs.remaining() / 4);
    for (int at = 0; at < crcs.remaining(); at += 4) {
      out.writeInt(crcs.getInt(at));
    }
  }

  /** Reads what {@link #write} wrote; the file is {@code path}, which the caller knows. */
  public static SpillFile read(ByteBuffer in, Path path) throws IOException {
    long len = MapCodec.nonNegative(in.getLong(), "spill length");
    int chunk = in.getInt();
    long count = in.getInt() & 0xffffffffL;
    if (chunk != CHUNK || count != chunks(len) || 4 * count > in.remaining()) {
      throw new IOException("source map: spill checksums do not fit (" + count + " of " + chunk
          + " bytes for " + len + " bytes)");
    }
    if (path == null) {
      throw new IOException("source map: the stream is in a spill file, but none was given");
    }
    ByteBuffer crcs = in.slice(in.position(), (int) (4 * count));
    in.position(in.position() + (int) (4 * count));
    return new SpillFile(path, len, crcs);
  }

  /**
   * Positional reads that never return a byte of a chunk that failed its CRC. Each chunk is checked
   * the first time it is read — in the caller's buffer when the read covers it whole, else read
   * whole into a pooled buffer — and remembered as good, so later reads of it cost a plain
   * {@code pread}: measured here, checking every read on every access made 4 KiB random reads 5×
   * slower (a 64 KiB read and CRC per 4 KiB); checked once, only the first touch pays.
   */
  private final class Verified implements ArchiveSource {
    private final FileChannel ch;
    private final IntBuffer expected;
    /** One bit per chunk: its CRC held when it was first read. */
    private final AtomicLongArray good;
    private final ConcurrentLinkedDeque<ByteBuffer> buffers = new ConcurrentLinkedDeque<>();

    Verified(FileChannel ch) {
      this.ch = ch;
      this.expected = crcs.duplicate().order(ByteOrder.BIG_ENDIAN).asIntBuffer();
      this.good = new AtomicLongArray((int) ((chunks(length) + 63) >>> 6));
    }

    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
      if (position < 0 || position > length - dst.remaining()) {
        throw new EOFException(path + ": read of " + dst.remaining() + " bytes at offset "
            + position + " is outside the " + length + "-byte stream");
      }
      long pos = position;
      long runStart = pos; // a run of chunks already checked, read with one pread
      while (dst.position() + (pos - runStart) < dst.limit()) {
        long chunk = pos >>> CHUNK_SHIFT;
        long start = chunk << CHUNK_SHIFT;
        int chunkLength = (int) Math.min(CHUNK, length - start);
        int from = (int) (pos - start);
        int n = (int) Math.min(dst.limit() - dst.position() - (pos - runStart), chunkLength - from);
        if (isGood(chunk)) {
          pos += n;
          continue;
        }
        flushRun(runStart, pos, dst);
        if (from == 0 && n == chunkLength) {
          ByteBuffer whole = dst.slice(dst.position(), n);
          readAt(start, whole);
          check(chunk, whole.flip());
        } else {
          checkWhole(chunk, start, chunkLength, dst, from, n);
        }
        dst.position(dst.position() + n);
        pos += n;
        runStart = pos;
      }
      flushRun(runStart, pos, dst);
    }

    private void flushRun(long from, long to, ByteBuffer dst) throws IOException {
      if (to > from) {
        ByteBuffer part = dst.slice(dst.position(), (int) (to - from));
        readAt(from, part);
        dst.position(dst.position() + (int) (to - from));
      }
    }

    /** Reads chunk {@code chunk} whole, checks it and copies {@code [from, from + n)} to dst. */
    private void checkWhole(long chunk, long start, int chunkLength, ByteBuffer dst, int from, int n)
        throws IOException {
      ByteBuffer b = buffers.pollFirst();
      if (b == null) {
        b = ByteBuffer.allocateDirect(CHUNK);
      }
      try {
        b.clear().limit(chunkLength);
        readAt(start, b);
        check(chunk, b.flip().duplicate());
        dst.put(dst.position(), b, from, n);
      } finally {
        buffers.offerFirst(b);
      }
    }

    private boolean isGood(long chunk) {
      return (good.get((int) (chunk >>> 6)) & 1L << chunk) != 0;
    }

    private void readAt(long at, ByteBuffer b) throws IOException {
      long p = at;
      while (b.hasRemaining()) {
        int n = ch.read(b, p);
        if (n < 0) {
          throw new EOFException(path + ": ends at " + p + ", before its " + length + " bytes");
        }
        p += n;
      }
    }

    private void check(long chunk, ByteBuffer data) throws IOException {
      CRC32C c = new CRC32C();
      c.update(data);
      if ((int) c.getValue() != expected.get((int) chunk)) {
        throw new CorruptArchiveException(Where.archive(path.toString()), "the spill file changed after it was written"
            + " (CRC-32C mismatch in the 64 KiB at offset " + (chunk << CHUNK_SHIFT)
            + "); remove it, or mount with --reindex, to decode the archive again");
      }
      int word = (int) (chunk >>> 6);
      long bit = 1L << chunk;
      for (long v = good.get(word); (v & bit) == 0 && !good.compareAndSet(word, v, v | bit); ) {
        v = good.get(word);
      }
    }

    @Override
    public long size() {
      return length;
    }

    @Override
    public String name() {
      return path.toString();
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }
}
