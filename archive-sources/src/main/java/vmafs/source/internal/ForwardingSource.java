package vmafs.source.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.vma.io.ArchiveSource;

/**
 * A source that passes every call to {@link #delegate()}; a wrapper overrides only what it adds
 * (checks before reads, more to close).
 */
public interface ForwardingSource extends ArchiveSource {
  ArchiveSource delegate();

  @Override
  default void readFully(long position, ByteBuffer dst) throws IOException {
    delegate().readFully(position, dst);
  }

  @Override
  default long size() throws IOException {
    return delegate().size();
  }

  @Override
  default String name() {
    return delegate().name();
  }

  @Override
  default void close() throws IOException {
    delegate().close();
  }
}
