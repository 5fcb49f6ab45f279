package vmafs.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import vmafs.source.RandomAccess;
import vmafs.vma.VmaHeader;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.io.ArchiveSource;

/**
 * An opened archive: its index and a random-access source of its uncompressed stream, whatever
 * the compression. What {@code info}, {@code extract} and {@code mount} work on.
 */
public final class Archive implements Closeable {
  private final StoredBytes stored;
  private final ExtentIndex index;
  private final GuardedSource source;
  private final String compression;
  private final List<DeviceImage> images;
  private final Path indexFile;
  private final ArchiveOpener.IndexOrigin indexOrigin;
  private final boolean hasData;
  private final RandomAccess randomAccess;

  Archive(StoredBytes stored, ExtentIndex index, ArchiveSource source, String compression, Path indexFile,
      ArchiveOpener.IndexOrigin indexOrigin, RandomAccess randomAccess) {
    this.stored = stored;
    this.randomAccess = randomAccess;
    this.indexFile = indexFile;
    this.indexOrigin = indexOrigin;
    this.index = index;
    this.source = new GuardedSource(source);
    this.compression = compression;
    this.hasData = !(source instanceof ArchiveOpener.NoReads);
    List<DeviceImage> imgs = new ArrayList<>();
    for (DeviceIndex d : index.devices()) {
      imgs.add(new DeviceImage(d, this.source));
    }
    this.images = List.copyOf(imgs);
  }

  /** What to call the archive: its path or URL. */
  public String name() {
    return stored.name();
  }

  /** The archive's file, or null for a remote archive. */
  public Path localPath() {
    return stored instanceof LocalStoredBytes local ? local.path() : null;
  }

  /** The archive as stored, which this archive owns (closes). */
  public StoredBytes stored() {
    return stored;
  }

  public VmaHeader header() {
    return index.header();
  }

  public ExtentIndex index() {
    return index;
  }

  public GuardedSource source() {
    return source;
  }

  /**
   * Makes every later read fail: call when the archive file changed under an open archive (its
   * index no longer describes it).
   */
  public void invalidate(String reason) {
    source.invalidate(reason);
  }

  /**
   * Throws the reason once {@link #invalidate} was called. For reads that never reach the source:
   * the zeros of holes and zero blocks come from the index, which no longer describes the file.
   */
  public void checkValid() throws IOException {
    source.check();
  }

  /** "none", "zstd", "lzop", "gzip". */
  public String compression() {
    return compression;
  }

  /** The saved index in use, or null when the index lives only in memory. */
  public Path indexFile() {
    return indexFile;
  }

  /**
   * Whether the images can be read: false for a compressed archive opened for its index only
   * with no saved map of it ({@code info} before the first mount or {@code vmafs index}).
   */
  public boolean hasData() {
    return hasData;
  }

  public ArchiveOpener.IndexOrigin indexOrigin() {
    return indexOrigin;
  }

  /**
   * How reads of the stream are served (direct, blocks, frames, restart points, spill), or null
   * when the archive was opened for its index only and that is not known.
   */
  public RandomAccess randomAccess() {
    return randomAccess;
  }

  /** One image per device, in dev_id order. */
  public List<DeviceImage> images() {
    return images;
  }

  public Optional<DeviceImage> image(String deviceName) {
    return images.stream().filter(i -> i.info().name().equals(deviceName)).findFirst();
  }

  @Override
  public void close() throws IOException {
    try (stored; source) {
      index.close();
    }
  }
}
