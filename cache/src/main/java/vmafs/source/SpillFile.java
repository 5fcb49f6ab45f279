package vmafs.source;

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
import java.util.zip.CRC32C;
import vmafs.cache.BlockCache;
import vmafs.vma.io.ArchiveSource;

/**
 * A completed spill file: a plain copy of (part of) the decompressed stream, and a CRC-32C of every
 * {@value #CHUNK}-byte chunk of it as the decode pass wrote it (the archive's own checksums had
 * been verified by then). Every read checks the chunks it serves, so bytes changed in the spill
 * after the pass are an error, never disk content.
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
  ArchiveSource open(BlockCache cache) throws IOException {
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
    return new Verified(ch, cache);
  }

  void write(DataOutput out) throws IOException {
    out.writeLong(length);
    out.writeInt(CHUNK);
    out.writeInt(crcs.remaining() / 4);
    for (int at = 0; at < crcs.remaining(); at += 4) {
      out.writeInt(crcs.getInt(at));
    }
  }

  /** Reads what {@link #write} wrote; the file is {@code path}, which the caller knows. */
  static SpillFile read(ByteBuffer in, Path path) throws IOException {
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
   * Positional reads that check every chunk they return. A read covering whole chunks is checked
   * in the caller's buffer; a partial chunk is read whole, checked and cached (random 4 KiB reads
   * then cost one 64 KiB read per chunk, once).
   */
  private final class Verified implements ArchiveSource {
    private final FileChannel ch;
    private final BlockCache cache;
    private final long sourceId;
    private final IntBuffer expected;

    Verified(FileChannel ch, BlockCache cache) {
      this.ch = ch;
      this.cache = cache;
      this.sourceId = cache.newSourceId();
      this.expected = crcs.duplicate().order(ByteOrder.BIG_ENDIAN).asIntBuffer();
    }

    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
      if (position < 0 || position > length - dst.remaining()) {
        throw new EOFException(path + ": read of " + dst.remaining() + " bytes at offset "
            + position + " is outside the " + length + "-byte stream");
      }
      long pos = position;
      while (dst.hasRemaining()) {
        long chunk = pos >>> CHUNK_SHIFT;
        long start = chunk << CHUNK_SHIFT;
        int chunkLength = (int) Math.min(CHUNK, length - start);
        int from = (int) (pos - start);
        int n = Math.min(dst.remaining(), chunkLength - from);
        if (from == 0 && n == chunkLength) {
          ByteBuffer whole = dst.slice(dst.position(), n);
          readAt(start, whole);
          check(chunk, whole.flip());
        } else {
          byte[] b = cache.get(new BlockCache.Key(sourceId, chunk), () -> load(chunk, chunkLength));
          dst.put(dst.position(), b, from, n);
        }
        dst.position(dst.position() + n);
        pos += n;
      }
    }

    private byte[] load(long chunk, int chunkLength) throws IOException {
      byte[] b = new byte[chunkLength];
      readAt(chunk << CHUNK_SHIFT, ByteBuffer.wrap(b));
      check(chunk, ByteBuffer.wrap(b));
      return b;
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
        throw new CorruptArchiveException(path + ": the spill file changed after it was written"
            + " (CRC-32C mismatch in the 64 KiB at offset " + (chunk << CHUNK_SHIFT)
            + "); remove it, or mount with --reindex, to decode the archive again");
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
      cache.invalidateSource(sourceId);
      ch.close();
    }
  }
}
