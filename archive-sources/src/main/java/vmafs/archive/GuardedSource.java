package vmafs.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.source.internal.ForwardingSource;
import vmafs.vma.io.ArchiveSource;

/**
 * A source that can be invalidated: once the archive file is seen to change under a mount, every
 * later read fails (the mount answers EIO) instead of serving bytes the index no longer
 * describes.
 */
public final class GuardedSource implements ForwardingSource {
  private final ArchiveSource delegate;
  private volatile String invalidReason;

  public GuardedSource(ArchiveSource delegate) {
    this.delegate = delegate;
  }

  /** From now on every read fails with this reason. */
  public void invalidate(String reason) {
    invalidReason = reason;
  }

  @Override
  public ArchiveSource delegate() {
    return delegate;
  }

  public boolean isValid() {
    return invalidReason == null;
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    check();
    delegate.readFully(position, dst);
    // A change noticed while this read ran may have torn it: re-check before handing it out.
    check();
  }

  /** Throws once invalidated. */
  public void check() throws IOException {
    String why = invalidReason;
    if (why != null) {
      throw new IOException(delegate.name() + ": " + why);
    }
  }
}
