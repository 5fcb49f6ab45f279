package vmafs.vma.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** A buffered sequential view of {@link StoredBytes} from a start offset, read positionally. */
public final class PositionalInputStream extends InputStream {
  private final StoredBytes stored;
  private final ByteBuffer buf;
  private long next;

  public PositionalInputStream(StoredBytes stored, long position, int bufferSize) {
    this.stored = stored;
    this.next = position;
    this.buf = ByteBuffer.allocate(bufferSize).flip();
  }

  private boolean fill() throws IOException {
    if (buf.hasRemaining()) {
      return true;
    }
    buf.clear();
    int n = stored.read(next, buf);
    buf.flip();
    if (n <= 0) {
      return false;
    }
    next += n;
    return true;
  }

  @Override
  public int read() throws IOException {
    return fill() ? buf.get() & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (!buf.hasRemaining()) {
      // Straight into the caller's array: a reader with its own buffer gets one read, no copy.
      int n = stored.read(next, ByteBuffer.wrap(b, off, len));
      if (n > 0) {
        next += n;
      }
      return n <= 0 ? -1 : n;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, buf.remaining());
    buf.get(b, off, n);
    return n;
  }

  @Override
  public long skip(long n) {
    if (n <= 0) {
      return 0;
    }
    long inBuf = Math.min(n, buf.remaining());
    buf.position(buf.position() + (int) inBuf);
    next += n - inBuf;
    return n;
  }
}
