package vmafs.archive;

import com.github.luben.zstd.Zstd;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import vmafs.vma.index.StaleIndexException;

/**
 * The index file carried inside a seekable .vma.zst as a skippable frame (written by {@code vmafs
 * convert}). It is zstd-compressed: a sparse disk's table is mostly identical mask-0 entries.
 *
 * <pre>
 *   8 bytes  magic "VMAFSEMB"
 *   8 bytes  uncompressed length (big-endian)
 *   …        zstd frame of the index file
 * </pre>
 */
public final class EmbeddedIndex {
  /** The skippable-frame magic nibble (0x184D2A5A); 0xE is the seek table's. */
  public static final int NIBBLE = 0xA;
  private static final byte[] MAGIC = "VMAFSEMB".getBytes(StandardCharsets.US_ASCII);
  /** An index file of more than this would be a 4 PiB disk: a corrupt length, not a real one. */
  private static final long MAX_INDEX_BYTES = 1L << 30;

  private EmbeddedIndex() {}

  public static byte[] pack(byte[] indexFile) {
    byte[] z = Zstd.compress(indexFile, 3);
    ByteBuffer b = ByteBuffer.allocate(16 + z.length);
    b.put(MAGIC).putLong(indexFile.length).put(z);
    return b.array();
  }

  public static byte[] unpack(byte[] payload) throws StaleIndexException {
    if (payload.length < 16 || !Arrays.equals(payload, 0, 8, MAGIC, 0, 8)) {
      throw new StaleIndexException("embedded index has a wrong magic");
    }
    long len = ByteBuffer.wrap(payload, 8, 8).getLong();
    if (len <= 0 || len > MAX_INDEX_BYTES) {
      throw new StaleIndexException("embedded index claims " + len + " bytes");
    }
    try {
      byte[] out = Zstd.decompress(Arrays.copyOfRange(payload, 16, payload.length), (int) len);
      if (out.length != len) {
        throw new StaleIndexException("embedded index is truncated");
      }
      return out;
    } catch (RuntimeException e) {
      throw new StaleIndexException("embedded index does not decompress: " + e.getMessage());
    }
  }

}
