package vmafs.source.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import vmafs.vma.io.StoredBytes;

/** Positional reads that either fill the buffer or say where the file ended. */
public final class FileReads {
  private FileReads() {}

  /** One positional read, as {@link StoredBytes#read} and {@link FileChannel#read(ByteBuffer, long)} do. */
  private interface Reader {
    int read(long position, ByteBuffer dst) throws IOException;
  }

  public static void readFully(StoredBytes ch, String name, long position, byte[] dst, int off, int len)
      throws IOException {
    readFully(ch, name, position, ByteBuffer.wrap(dst, off, len));
  }

  /** Fills {@code buf} from its position to its limit. */
  public static void readFully(StoredBytes ch, String name, long position, ByteBuffer buf)
      throws IOException {
    readFully(ch::read, name, position, buf);
  }

  /** As {@link #readFully(StoredBytes, String, long, ByteBuffer)} for a local scratch file. */
  public static void readFully(FileChannel ch, String name, long position, ByteBuffer buf)
      throws IOException {
    readFully((p, b) -> ch.read(b, p), name, position, buf);
  }

  private static void readFully(Reader ch, String name, long position, ByteBuffer buf)
      throws IOException {
    int len = buf.remaining();
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(pos, buf);
      if (n < 0) {
        throw new EOFException(name + ": unexpected end of file at compressed offset " + pos
            + " (needed " + len + " bytes from offset " + position + "); truncated or replaced?");
      }
      pos += n;
    }
  }

  public static byte[] read(StoredBytes ch, String name, long position, int len) throws IOException {
    byte[] b = new byte[len];
    readFully(ch, name, position, b, 0, len);
    return b;
  }
}
