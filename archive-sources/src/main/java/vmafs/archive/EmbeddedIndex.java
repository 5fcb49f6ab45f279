package vmafs.archive;

import com.github.luben.zstd.ZstdIOException;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import vmafs.vma.index.StaleIndexException;

/**
 * The index file carried inside a seekable .vma.zst as a skippable frame (written by {@code vmafs
 * convert}). It is zstd-compressed: a sparse disk's table is mostly identical mask-0 entries.
 * Both directions stream, so neither side holds the uncompressed index (which can exceed 2 GiB)
 * in memory, and unpacking writes only what the frame really decompresses to, never the length it
 * declares.
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
  private static final int HEADER = 16;
  /** An index file of more than this would describe a 4 PiB stream: a corrupt length. */
  private static final long MAX_INDEX_BYTES = 1L << 40;
  private static final int BUFFER = 1 << 20;

  private EmbeddedIndex() {}

  /** The payload for an index file of {@code length} bytes read from {@code index}. */
  public static byte[] pack(FileChannel index, long length) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(ByteBuffer.allocate(HEADER).put(MAGIC).putLong(length).array());
    try (ZstdOutputStream z = new ZstdOutputStream(bytes, 3)) {
      ByteBuffer buf = ByteBuffer.allocate(BUFFER);
      for (long at = 0; at < length; ) {
        buf.clear().limit((int) Math.min(BUFFER, length - at));
        int n = index.read(buf, at);
        if (n < 0) {
          throw new IOException("the index file ended at " + at + " of " + length + " bytes");
        }
        z.write(buf.array(), 0, n);
        at += n;
        if (bytes.size() > Integer.MAX_VALUE - 64) {
          throw new IOException("the index compresses to more than 2 GiB: too large to embed");
        }
      }
    }
    return bytes.toByteArray();
  }

  /**
   * Writes the index file the payload at {@code offset} of {@code archive} ({@code length} bytes)
   * holds into {@code out} from position 0.
   *
   * @throws StaleIndexException if the payload is not a well-formed embedded index
   */
  public static void unpack(FileChannel archive, long offset, long length, FileChannel out)
      throws IOException {
    ByteBuffer head = ByteBuffer.allocate(HEADER);
    if (length < HEADER) {
      throw new StaleIndexException("embedded index is truncated");
    }
    readFully(archive, head, offset);
    if (!Arrays.equals(head.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new StaleIndexException("embedded index has a wrong magic");
    }
    long declared = head.getLong(MAGIC.length);
    if (declared <= 0 || declared > MAX_INDEX_BYTES) {
      throw new StaleIndexException("embedded index claims " + declared + " bytes");
    }
    long written = 0;
    try (InputStream z = new ZstdInputStream(new Region(archive, offset + HEADER, length - HEADER))) {
      byte[] buf = new byte[BUFFER];
      int n;
      while ((n = z.read(buf)) > 0) {
        if (written + n > declared) {
          throw new StaleIndexException("embedded index decompresses to more than the " + declared
              + " bytes it declares");
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
        while (b.hasRemaining()) {
          written += out.write(b, written);
        }
      }
    } catch (ZstdIOException e) {
      throw new StaleIndexException("embedded index does not decompress: " + e.getMessage());
    }
    if (written != declared) {
      throw new StaleIndexException("embedded index is truncated (" + written + " of " + declared
          + " bytes)");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    for (long p = at; b.hasRemaining(); ) {
      int n = ch.read(b, p);
      if (n < 0) {
        throw new StaleIndexException("embedded index is truncated");
      }
      p += n;
    }
  }

  /** {@code length} bytes of a channel from {@code start}, read positionally. */
  private static final class Region extends InputStream {
    private final FileChannel ch;
    private long at;
    private long left;

    Region(FileChannel ch, long start, long length) {
      this.ch = ch;
      this.at = start;
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left == 0) {
        return -1;
      }
      int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, left)), at);
      if (n < 0) {
        throw new StaleIndexException("embedded index is truncated (the archive ended)");
      }
      at += n;
      left -= n;
      return n;
    }
  }
}
