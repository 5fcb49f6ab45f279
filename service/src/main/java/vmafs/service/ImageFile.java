package vmafs.service;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.archive.GuardedSource;
import vmafs.image.ImageContent;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.image.GrowingImage;

/**
 * A device image as the front ends see it: bytes and holes, nothing of VMA. Over a {@link
 * DeviceImage} (index built) or a {@link GrowingImage} (index pass still running).
 */
public final class ImageFile implements ImageContent {
  private final DeviceImage image;
  private final GrowingImage growing;
  private final GuardedSource guard;

  /** @param guard the archive's source, to fail reads of holes too once the archive changed */
  public ImageFile(DeviceImage image, GuardedSource guard) {
    this.image = image;
    this.growing = null;
    this.guard = guard;
  }

  ImageFile(GrowingImage growing, GuardedSource guard) {
    this.image = null;
    this.growing = growing;
    this.guard = guard;
  }

  @Override
  public long size() {
    return image != null ? image.size() : growing.size();
  }

  @Override
  public long allocatedBytes() {
    return image != null ? image.allocatedBytes() : growing.allocatedBytes();
  }

  @Override
  public int read(long offset, ByteBuffer dst) throws IOException {
    // A read of holes only never reaches the archive's guarded source, yet its zeros come from an
    // index that may no longer describe the file: once the archive changed, it fails like the
    // others (found by ArchiveChangedUnderMountTest). Checked again after, as the source does.
    guard.check();
    int n = image != null ? image.read(offset, dst) : growing.read(offset, dst);
    guard.check();
    return n;
  }

  @Override
  public long nextData(long offset) {
    return image != null ? image.nextData(offset) : growing.nextData(offset);
  }

  @Override
  public long nextHole(long offset) {
    return image != null ? image.nextHole(offset) : growing.nextHole(offset);
  }

  @Override
  public long knownDataBytes(long from, long to) {
    return image != null ? image.storedBytes(from, to) : growing.knownStoredBytes(from, to);
  }

  @Override
  public boolean allocationSettled() {
    return image != null || growing.settled();
  }

  @Override
  public long dataBytes(long from, long to) {
    return image != null ? image.storedBytes(from, to) : growing.storedBytes(from, to);
  }
}
