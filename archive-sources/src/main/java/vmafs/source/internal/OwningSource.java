package vmafs.source.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.source.SourceMap;
import vmafs.vma.io.ArchiveSource;

/**
 * A source that closes something with itself: the stored archive it was opened over, or what a
 * map kept for the pass that made it ({@link SourceMap#releaseScratch}).
 */
public record OwningSource(ArchiveSource delegate, Closeable owned) implements ArchiveSource {
  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    delegate.readFully(position, dst);
  }

  @Override
  public long size() throws IOException {
    return delegate.size();
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public void close() throws IOException {
    try (owned) {
      delegate.close();
    }
  }
}
