package vmafs.image;

import java.nio.ByteBuffer;

/** A fully allocated in-memory file (config blobs are at most 64 KiB). */
final class BytesContent implements ImageContent {
  private final byte[] bytes;

  BytesContent(byte[] bytes) {
    this.bytes = bytes;
  }

  @Override
  public long size() {
    return bytes.length;
  }

  @Override
  public long allocatedBytes() {
    return (bytes.length + 4095L) & ~4095L;
  }

  @Override
  public int read(long offset, ByteBuffer dst) {
    if (offset >= bytes.length) {
      return 0;
    }
    int n = (int) Math.min(dst.remaining(), bytes.length - offset);
    dst.put(bytes, (int) offset, n);
    return n;
  }

  @Override
  public long nextData(long offset) {
    return offset < bytes.length ? offset : -1;
  }

  @Override
  public long nextHole(long offset) {
    return Math.max(offset, bytes.length);
  }
}
