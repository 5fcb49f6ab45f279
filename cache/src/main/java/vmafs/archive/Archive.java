package vmafs.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
  private final Path path;
  private final ExtentIndex index;
  private final ArchiveSource source;
  private final String compression;
  private final List<DeviceImage> images;

  Archive(Path path, ExtentIndex index, ArchiveSource source, String compression) {
    this.path = path;
    this.index = index;
    this.source = source;
    this.compression = compression;
    List<DeviceImage> imgs = new ArrayList<>();
    for (DeviceIndex d : index.devices()) {
      imgs.add(new DeviceImage(d, source));
    }
    this.images = List.copyOf(imgs);
  }

  public Path path() {
    return path;
  }

  public VmaHeader header() {
    return index.header();
  }

  public ExtentIndex index() {
    return index;
  }

  public ArchiveSource source() {
    return source;
  }

  /** "none", "zstd", "lzop", "gzip". */
  public String compression() {
    return compression;
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
    try (source) {
      index.close();
    }
  }
}
