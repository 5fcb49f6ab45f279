package vmafs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.archive.Archive;
import vmafs.image.ImageContent;
import vmafs.vma.image.DeviceImage;

/** A device image as a file of the mount: the FUSE layer sees bytes and holes, nothing of VMA. */
final class ImageFile implements ImageContent {
  private final DeviceImage image;
  private final Archive archive;

  ImageFile(DeviceImage image, Archive archive) {
    this.image = image;
    this.archive = archive;
  }

  @Override
  public long size() {
    return image.size();
  }

  @Override
  public long allocatedBytes() {
    return image.allocatedBytes();
  }

  @Override
  public int read(long offset, ByteBuffer dst) throws IOException {
    // A read of holes only never reaches the archive's guarded source, yet its zeros come from an
    // index that may no longer describe the file: once the archive changed, it fails like the
    // others (found by ArchiveChangedUnderMountTest). Checked again after, as the source does.
    archive.checkValid();
    int n = image.read(offset, dst);
    archive.checkValid();
    return n;
  }

  @Override
  public long nextData(long offset) {
    return image.nextData(offset);
  }

  @Override
  public long nextHole(long offset) {
    return image.nextHole(offset);
  }
}
