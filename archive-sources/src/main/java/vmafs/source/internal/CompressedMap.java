package vmafs.source.internal;

import java.io.IOException;
import java.nio.file.Path;
import vmafs.source.ArchiveFormat;
import vmafs.source.SourceMap;
import vmafs.vma.io.ArchiveSource;

/**
 * What the maps of the compressed formats share: the format, the size of the archive they were
 * made from ({@link #open} refuses a file of any other size), the length of the stream, and the
 * spill file that serves the stream's tail where the format gave no more restart points (gzip
 * without sync points, a zstd frame without job starts; null where nothing spilled).
 */
public abstract class CompressedMap implements SourceMap {
  private final ArchiveFormat format;
  protected final long archiveSize;
  protected final long size;
  /** Serves the stream from {@code size - tail.length()} on; null if nothing spilled. */
  protected final SpillFile tail;

  protected CompressedMap(ArchiveFormat format, long archiveSize, long size, SpillFile tail) {
    this.format = format;
    this.archiveSize = archiveSize;
    this.size = size;
    this.tail = tail;
  }

  @Override
  public final ArchiveFormat format() {
    return format;
  }

  @Override
  public final long uncompressedSize() {
    return size;
  }

  @Override
  public final long archiveSize() {
    return archiveSize;
  }

  @Override
  public final boolean isRandomAccessible() {
    return tail == null;
  }

  /** Uncompressed bytes served from the spill file rather than decoded from the archive. */
  public final long spilledBytes() {
    return tail == null ? 0 : tail.length();
  }

  /** The spill file holding the tail, or null. */
  public final Path spillPath() {
    return tail == null ? null : tail.path();
  }

  /**
   * {@code head}, the source of what the archive's own restart points cover, followed by the
   * spill tail if there is one; {@code head} is closed if the tail cannot be opened.
   */
  protected final ArchiveSource withTail(String name, ArchiveSource head) throws IOException {
    if (tail == null) {
      return head;
    }
    try {
      return new ConcatSource(name, head, tail.open());
    } catch (IOException e) {
      head.close();
      throw e;
    }
  }

  /**
   * Uncompressed offsets where independently decoded blocks start (for tests and stats); the
   * blocks an {@link ArchiveSource} of this map decodes and caches.
   */
  public abstract long[] blockBoundaries();
}
