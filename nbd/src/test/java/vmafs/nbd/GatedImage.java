package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import vmafs.image.ImageContent;

/** An image whose reads at offset 0 wait until {@link #open} (at most 10 s): a read kept in flight. */
final class GatedImage implements ImageContent {
  private final SparseImage image;
  private final CountDownLatch gate = new CountDownLatch(1);
  private final CountDownLatch entered = new CountDownLatch(1);

  GatedImage(SparseImage image) {
    this.image = image;
  }

  void open() {
    gate.countDown();
  }

  /** Waits until a read is held at the gate. */
  void awaitHeld() throws InterruptedException {
    if (!entered.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("no read reached the gate");
    }
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
    if (offset == 0) {
      entered.countDown();
      try {
        gate.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
    }
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
}
