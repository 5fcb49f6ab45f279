package vmafs.source.internal;

import java.io.Closeable;
import java.io.IOException;
import vmafs.source.SourceMap;
import vmafs.vma.io.ArchiveSource;

/**
 * A source that closes something with itself: the stored archive it was opened over, or what a
 * map kept for the pass that made it ({@link SourceMap#releaseScratch}).
 */
public record OwningSource(ArchiveSource delegate, Closeable owned) implements ForwardingSource {
  @Override
  public void close() throws IOException {
    try (owned) {
      delegate.close();
    }
  }
}
