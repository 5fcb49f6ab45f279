package vmafs.source.lzop;

import io.airlift.compress.lzo.LzoDecompressor;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.RandomAccess;
import vmafs.source.internal.BlockDecoder;
import vmafs.source.internal.BlockTable;
import vmafs.source.internal.CachedBlockSource;
import vmafs.source.internal.CompressedMap;
import vmafs.source.internal.FileReads;
import vmafs.source.internal.MapCodec;
import vmafs.vma.io.StoredBytes;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.Checksum;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.ArchiveSource;

/**
 * Every block of a {@code .vma.lzo}: lzop blocks are compressed independently, so a read decodes
 * only the blocks it touches. Raw-stored blocks (csize == usize) are read straight from the file.
 *
 * <p>Serialized as the header fields needed to recompute block offsets, then {@code u32 csize,
 * u32 usize, u32 data checksum} per block (12 bytes; ~48 KiB per GiB of stream).
 */
public final class LzopMap extends CompressedMap {
  private static final int RECORD_BYTES = 12;

  private final int version;
  private final int method;
  private final int flags;
  private final long firstBlockOffset;
  private final int[] csize;
  private final int[] usize;
  /** Data checksum per block as stored (CRC-32 if the file has it, else Adler-32); unused if none. */
  private final int[] checksum;
  private final long[] dataOffset;
  private final long[] starts;

  private LzopMap(long archiveSize, LzopFormat.Header h, int[] csize, int[] usize, int[] checksum,
      long size) throws IOException {
    super(ArchiveFormat.LZOP, archiveSize, size, null);
    this.version = h.version();
    this.method = h.method();
    this.flags = h.flags();
    this.firstBlockOffset = h.firstBlockOffset();
    this.csize = csize;
    this.usize = usize;
    this.checksum = checksum;
    this.dataOffset = new long[csize.length];
    this.starts = new long[csize.length];
    long off = firstBlockOffset;
    long u = 0;
    for (int i = 0; i < csize.length; i++) {
      checkSizes("lzop map", i, off, csize[i] & 0xffffffffL, usize[i] & 0xffffffffL);
      off += LzopFormat.BLOCK_SIZES_LEN + h.checksumBytes(csize[i], usize[i]);
      dataOffset[i] = off;
      starts[i] = u;
      off += csize[i];
      u += usize[i];
    }
    // The end marker follows the last block and ends the file.
    if (u != size || off + 4 != archiveSize) {
      throw new IOException("lzop map does not add up: blocks hold " + u + " bytes (expected "
          + size + ") and end at " + (off + 4) + " (archive size " + archiveSize + ")");
    }
  }

  static void checkSizes(String name, int index, long headerOffset, long csize, long usize)
      throws IOException {
    if (usize > LzopFormat.MAX_BLOCK_SIZE || csize == 0 || csize > usize) {
      throw new CorruptArchiveException(Where.of(name, Part.LZOP_BLOCK, index, headerOffset),
          "impossible sizes (compressed " + csize + ", uncompressed " + usize + ")");
    }
  }

  private LzopFormat.Header header() {
    return new LzopFormat.Header(version, method, flags, firstBlockOffset);
  }

  /** Blocks lzop stored uncompressed (csize == usize); reads copy them without decoding. */
  public int rawStoredBlocks() {
    int n = 0;
    for (int i = 0; i < csize.length; i++) {
      n += csize[i] == usize[i] ? 1 : 0;
    }
    return n;
  }

  public int blockCount() {
    return csize.length;
  }

  /** Uncompressed offsets where independently decoded blocks start (for tests and stats). */
  public long[] blockBoundaries() {
    return starts.clone();
  }

  @Override
  public RandomAccess randomAccess() {
    return new RandomAccess(RandomAccess.LZOP_BLOCKS, csize.length, 0, 0);
  }

  @Override
  public ArchiveSource open(StoredBytes archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    return openUnchecked(archive, cache);
  }

  /** {@link #open} without the archive size check: for a map of a prefix (a pass still running). */
  ArchiveSource openUnchecked(StoredBytes archive, BlockCache cache) throws IOException {
    StoredBytes ch = archive;
    String name = archive.name();
    LzopFormat.Header h = header();
    BlockDecoder decoder = i -> {
      int c = csize[i];
      int u = usize[i];
      byte[] data = FileReads.read(ch, name, dataOffset[i], c);
      Where where = Where.of(name, Part.LZOP_BLOCK, i, dataOffset[i]);
      byte[] out;
      if (c == u) {
        out = data; // stored raw: no decode
      } else {
        out = new byte[u];
        // LzoDecompressor keeps no state between calls, but is cheap enough to make per block.
        LzopDecodePass.decompress(new LzoDecompressor(), data, c, out, u, where);
      }
      Checksum sum = h.newDataChecksum();
      if (sum != null) {
        LzopDecodePass.verify(checksum[i] & 0xffffffffL, sum, out, u, where, "data checksum");
      }
      return out;
    };
    return new CachedBlockSource(name, new BlockTable(starts, size), decoder, cache, () -> {});
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_LZOP, archiveSize, size, out -> {
      out.writeShort(version);
      out.writeByte(method);
      out.writeInt(flags);
      out.writeLong(firstBlockOffset);
      out.writeInt(csize.length);
      for (int i = 0; i < csize.length; i++) {
        out.writeInt(csize[i]);
        out.writeInt(usize[i]);
        out.writeInt(checksum[i]);
      }
    });
  }

  public static LzopMap readBody(ByteBuffer in, long archiveSize, long size) throws IOException {
    int version = in.getShort() & 0xffff;
    int method = in.get() & 0xff;
    int flags = in.getInt();
    long first = MapCodec.nonNegative(in.getLong(), "lzop first block offset");
    int n = MapCodec.count(in, in.getInt(), RECORD_BYTES, "lzop block");
    int[] c = new int[n];
    int[] u = new int[n];
    int[] s = new int[n];
    for (int i = 0; i < n; i++) {
      c[i] = in.getInt();
      u[i] = in.getInt();
      s[i] = in.getInt();
    }
    return new LzopMap(archiveSize, new LzopFormat.Header(version, method, flags, first), c, u, s,
        size);
  }

  /** Collects blocks during the decode pass. */
  static final class Builder {
    private final LzopFormat.Header header;
    private int[] csize = new int[1024];
    private int[] usize = new int[1024];
    private int[] checksum = new int[1024];
    private int count;

    Builder(LzopFormat.Header header) {
      this.header = header;
    }

    int count() {
      return count;
    }

    void add(int c, int u, long sum) {
      if (count == csize.length) {
        csize = Arrays.copyOf(csize, count * 2);
        usize = Arrays.copyOf(usize, count * 2);
        checksum = Arrays.copyOf(checksum, count * 2);
      }
      csize[count] = c;
      usize[count] = u;
      checksum[count] = (int) sum;
      count++;
    }

    /**
     * A map of the blocks wholly inside the first {@code produced} bytes of the stream, for reads
     * while the pass goes on; its archive size is where those blocks end (plus an end marker's 4
     * bytes, as a whole map counts), so open it with {@link #openUnchecked}.
     */
    LzopMap prefix(long produced) throws IOException {
      long u = 0;
      long off = header.firstBlockOffset();
      int k = 0;
      while (k < count && u + (usize[k] & 0xffffffffL) <= produced) {
        u += usize[k] & 0xffffffffL;
        off += LzopFormat.BLOCK_SIZES_LEN + header.checksumBytes(csize[k], usize[k]) + csize[k];
        k++;
      }
      return new LzopMap(off + 4, header, Arrays.copyOf(csize, k), Arrays.copyOf(usize, k),
          Arrays.copyOf(checksum, k), u);
    }

    LzopMap build(long archiveSize, long size) {
      try {
        return new LzopMap(archiveSize, header, Arrays.copyOf(csize, count),
            Arrays.copyOf(usize, count), Arrays.copyOf(checksum, count), size);
      } catch (IOException e) {
        throw new IllegalStateException("decode pass produced an inconsistent lzop map", e);
      }
    }
  }
}
