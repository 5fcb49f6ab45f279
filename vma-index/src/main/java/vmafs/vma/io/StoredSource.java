package vmafs.vma.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * An uncompressed {@code .vma} as stored: the stream is the stored bytes. Does not own them
 * (whoever opened the {@link StoredBytes} closes them), so several sources may share one.
 */
public final class StoredSource implements ArchiveSource {
  private final StoredBytes stored;

  public StoredSource(StoredBytes stored) {
    this.stored = stored;
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = stored.read(pos, dst);
      if (n < 0) {
        throw new EOFException(
            stored.name() + ": unexpected end of file at offset " + pos + " (wanted " + dst.remaining()
                + " more bytes); was the archive truncated or replaced?");
      }
      pos += n;
    }
  }

  @Override
  public long size() throws IOException {
    return stored.size();
  }

  @Override
  public String name() {
    return stored.name();
  }

  @Override
  public void close() {}
}
