package vmafs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.image.ImageContent;
import vmafs.vma.image.DeviceImage;

/** A device image as a file of the mount: the FUSE layer sees bytes and holes, nothing of VMA. */
final class ImageFile implements ImageContent {
  private final DeviceImage image;

  ImageFile(DeviceImage image) {
    this.image = image;
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
    return image.read(offset, dst);
  }

  @Override
  public long nextData(long offset) {
    return image.nextData(offset);
  }

  @Override
  public long nextHole(long offset) {
    return image.nextHole(offset);
  }

  @Override
  public long dataBytes(long from, long to) {
    return image.storedBytes(from, to);
  }
}
