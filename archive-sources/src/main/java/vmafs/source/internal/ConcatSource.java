package vmafs.source.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.vma.io.ArchiveSource;

/** A stream whose first part comes from one source and the rest from another (gzip + spill tail). */
public final class ConcatSource implements ArchiveSource {
  private final String name;
  private final ArchiveSource head;
  private final ArchiveSource tail;
  private final long headSize;
  private final java.util.function.LongSupplier tailSize;

  public ConcatSource(String name, ArchiveSource head, ArchiveSource tail) throws IOException {
    this(name, head, head.size(), tail, constant(tail.size()));
  }

  /** @param tailSize how long the tail is now (a spill still being written grows) */
  public ConcatSource(String name, ArchiveSource head, long headSize, ArchiveSource tail,
      java.util.function.LongSupplier tailSize) {
    this.name = name;
    this.head = head;
    this.tail = tail;
    this.headSize = headSize;
    this.tailSize = tailSize;
  }

  private static java.util.function.LongSupplier constant(long n) {
    return () -> n;
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    long size = size();
    if (position < 0 || position > size - dst.remaining()) {
      throw new EOFException(name + ": read of " + dst.remaining() + " bytes at offset " + position
          + " is outside the " + size + "-byte uncompressed stream");
    }
    if (position < headSize) {
      int n = (int) Math.min(dst.remaining(), headSize - position);
      ByteBuffer part = dst.slice(dst.position(), n);
      head.readFully(position, part);
      dst.position(dst.position() + n);
    }
    if (dst.hasRemaining()) {
      tail.readFully(Math.max(position, headSize) - headSize, dst);
    }
  }

  @Override
  public long size() {
    return headSize + tailSize.getAsLong();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() throws IOException {
    try {
      head.close();
    } finally {
      tail.close();
    }
  }
}
