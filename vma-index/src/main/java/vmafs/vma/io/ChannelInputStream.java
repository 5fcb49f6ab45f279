package vmafs.vma.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A buffered stream over a file channel whose {@link #skip} costs nothing: indexing a seekable
 * archive reads each 512-byte extent header and jumps over the data. Dense runs of small extents
 * (sparse disks: mostly mask-0 entries) are still read in large buffered chunks.
 */
public final class ChannelInputStream extends InputStream {
  private final FileChannel channel;
  private final long size;
  private final ByteBuffer buffer;
  private long bufferStart; // file offset of buffer[0]
  private long position;

  public ChannelInputStream(FileChannel channel, long start, int bufferSize) throws IOException {
    this.channel = channel;
    this.size = channel.size();
    this.buffer = ByteBuffer.allocate(bufferSize);
    this.buffer.limit(0);
    this.bufferStart = start;
    this.position = start;
  }

  public long position() {
    return position;
  }

  private boolean fill() throws IOException {
    long inBuffer = position - bufferStart;
    if (inBuffer >= 0 && inBuffer < buffer.limit()) {
      return true;
    }
    buffer.clear();
    bufferStart = position;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, bufferStart + buffer.position());
      if (n < 0) {
        break;
      }
    }
    buffer.flip();
    return buffer.hasRemaining();
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    int b = buffer.get((int) (position - bufferStart)) & 0xFF;
    position++;
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int at = (int) (position - bufferStart);
    int n = Math.min(len, buffer.limit() - at);
    buffer.get(at, b, off, n);
    position += n;
    return n;
  }

  /** Skips without reading; never past end of file, so truncation is still noticed. */
  @Override
  public long skip(long n) {
    long s = Math.max(0, Math.min(n, size - position));
    position += s;
    return s;
  }

  @Override
  public int available() {
    return (int) Math.min(Integer.MAX_VALUE, size - position);
  }
}
