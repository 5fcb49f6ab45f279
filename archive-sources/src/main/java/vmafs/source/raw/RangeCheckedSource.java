package vmafs.source.raw;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.vma.io.ArchiveSource;

/**
 * Gives a plain-file source (raw VMA, spill) the same out-of-range behaviour as the compressed
 * ones: an {@link EOFException} naming the range, before any byte is read.
 */
final class RangeCheckedSource implements ArchiveSource {
  private final ArchiveSource delegate;
  private final long size;

  RangeCheckedSource(ArchiveSource delegate) throws IOException {
    this.delegate = delegate;
    this.size = delegate.size();
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    if (position < 0 || position > size - dst.remaining()) {
      throw new EOFException(delegate.name() + ": read of " + dst.remaining() + " bytes at offset "
          + position + " is outside the " + size + "-byte stream");
    }
    delegate.readFully(position, dst);
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
