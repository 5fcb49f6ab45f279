package vmafs.vma.index;

import java.io.Closeable;
import java.util.List;
import java.util.Optional;
import vmafs.vma.VmaHeader;

/**
 * The result of one pass over an archive: its header and, per device, where every cluster lives.
 * Any 4 KiB block of any device can then be located in O(1).
 *
 * @see ExtentIndexBuilder
 */
public final class ExtentIndex implements Closeable {
  private final VmaHeader header;
  private final List<DeviceIndex> devices;
  private final long extents;
  private final long streamLength;
  private final Closeable resources;

  ExtentIndex(VmaHeader header, List<DeviceIndex> devices, long extents, long streamLength,
      Closeable resources) {
    this.header = header;
    this.devices = List.copyOf(devices);
    this.extents = extents;
    this.streamLength = streamLength;
    this.resources = resources;
  }

  public VmaHeader header() {
    return header;
  }

  /** One index per device, in dev_id order. */
  public List<DeviceIndex> devices() {
    return devices;
  }

  public Optional<DeviceIndex> device(String name) {
    return devices.stream().filter(d -> d.info().name().equals(name)).findFirst();
  }

  /** Extents in the archive. */
  public long extents() {
    return extents;
  }

  /** Length of the (uncompressed) archive stream that was indexed. */
  public long streamLength() {
    return streamLength;
  }

  /** Whether every device would restore completely. */
  public boolean isComplete() {
    return devices.stream().allMatch(d -> d.stats().isComplete());
  }

  @Override
  public void close() throws java.io.IOException {
    if (resources != null) {
      resources.close();
    }
  }
}
