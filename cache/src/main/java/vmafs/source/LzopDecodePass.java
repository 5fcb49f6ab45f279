package vmafs.source;

import io.airlift.compress.MalformedInputException;
import io.airlift.compress.lzo.LzoDecompressor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Checksum;

/**
 * Decodes a {@code .vma.lzo} block by block, verifying every checksum the header announces, and
 * records each block's sizes and data checksum for {@link LzopMap}.
 */
final class LzopDecodePass extends DecodePassBase {
  private final LzopFormat.Header header;
  private final LzoDecompressor lzo = new LzoDecompressor();
  private final LzopMap.Builder blocks;
  private byte[] compressed = new byte[0];
  private byte[] block = new byte[0];
  private int blockPos;
  private int blockLen;
  private boolean ended;

  LzopDecodePass(Path archive, DecodeOptions options) throws IOException {
    super(archive, options);
    this.header = LzopFormat.readHeader(in);
    this.blocks = new LzopMap.Builder(header);
  }

  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.LZOP;
  }

  @Override
  protected int produce(byte[] b, int off, int len) throws IOException {
    if (blockPos == blockLen) {
      if (ended || !nextBlock()) {
        return -1;
      }
    }
    int n = Math.min(len, blockLen - blockPos);
    System.arraycopy(block, blockPos, b, off, n);
    blockPos += n;
    return n;
  }

  /** Reads, decodes and verifies the next block; false at the verified end marker. */
  private boolean nextBlock() throws IOException {
    long headerOffset = in.offset();
    long usize = in.readU32BE();
    if (usize == 0) {
      ended = true;
      if (!in.atEof()) {
        throw new CorruptArchiveException(name + ": trailing garbage after the lzop end marker at compressed offset "
            + in.offset());
      }
      return false;
    }
    long csize = in.readU32BE();
    LzopMap.checkSizes(name, blocks.count(), headerOffset, csize, usize);
    long adlerD = (header.flags() & LzopFormat.F_ADLER32_D) != 0 ? in.readU32BE() : -1;
    long crcD = (header.flags() & LzopFormat.F_CRC32_D) != 0 ? in.readU32BE() : -1;
    long adlerC = -1;
    long crcC = -1;
    if (csize < usize) {
      adlerC = (header.flags() & LzopFormat.F_ADLER32_C) != 0 ? in.readU32BE() : -1;
      crcC = (header.flags() & LzopFormat.F_CRC32_C) != 0 ? in.readU32BE() : -1;
    }
    int c = (int) csize;
    int u = (int) usize;
    if (compressed.length < c) {
      compressed = new byte[c];
    }
    if (block.length < u) {
      block = new byte[u];
    }
    in.readFully(compressed, 0, c);
    String where = "lzop block #" + blocks.count() + " at compressed offset " + headerOffset;
    verify(adlerC, new Adler32(), compressed, c, where, "compressed data Adler-32");
    verify(crcC, new CRC32(), compressed, c, where, "compressed data CRC-32");
    if (c == u) {
      System.arraycopy(compressed, 0, block, 0, u);
    } else {
      decompress(lzo, compressed, c, block, u, where);
    }
    verify(adlerD, new Adler32(), block, u, where, "Adler-32");
    verify(crcD, new CRC32(), block, u, where, "CRC-32");
    blocks.add(c, u, crcD >= 0 ? crcD : adlerD);
    blockPos = 0;
    blockLen = u;
    return true;
  }

  static void decompress(LzoDecompressor lzo, byte[] src, int c, byte[] dst, int u, String where)
      throws IOException {
    int n;
    try {
      n = lzo.decompress(src, 0, c, dst, 0, u);
    } catch (MalformedInputException | IndexOutOfBoundsException e) {
      throw new CorruptArchiveException(where + ": corrupt LZO data: " + e.getMessage(), e);
    }
    if (n != u) {
      throw new CorruptArchiveException(where + ": decoded to " + n + " bytes instead of " + u);
    }
  }

  static void verify(long expected, Checksum sum, byte[] data, int len, String where, String what)
      throws IOException {
    if (expected < 0) {
      return;
    }
    sum.update(data, 0, len);
    if (sum.getValue() != expected) {
      throw new CorruptArchiveException(where + ": " + what + " mismatch (stored " + Long.toHexString(expected)
          + ", computed " + Long.toHexString(sum.getValue()) + "); the archive is damaged");
    }
  }

  @Override
  protected SourceMap buildMap(long size, SpillFile spill, long spillStart) {
    return blocks.build(in.fileSize(), size);
  }
}
