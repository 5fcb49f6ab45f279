package vmafs.image;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The bytes of one read-only image: a disk image, a partition of one, a config blob, a vmstate
 * stream. What every front end serves (a file of the FUSE mount, an NBD export).
 * Knows nothing of FUSE, NBD, VMA or compression; a front end asks it for bytes and its hole map.
 * Implementations must be thread-safe: front ends serve reads from several threads at once.
 */
public interface ImageContent {

  /** Apparent size in bytes ({@code st_size}). */
  long size();

  /** Bytes that hold data, rounded to 4 KiB blocks ({@code st_blocks × 512}), for {@code du}. */
  long allocatedBytes();

  /**
   * Fills {@code dst} with the bytes at {@code offset}, fewer only at end of file. {@code dst} may
   * be a direct buffer over FUSE's reply memory.
   *
   * @return the number of bytes written into {@code dst}, 0 at or past end of file
   * @throws IOException if the bytes cannot be produced exactly (the mount answers EIO)
   */
  int read(long offset, ByteBuffer dst) throws IOException;

  /**
   * {@code SEEK_DATA}: the smallest offset ≥ {@code offset} that lies in data, or -1 when there is
   * no data at or after {@code offset} (the mount answers ENXIO).
   */
  long nextData(long offset) throws IOException;

  /**
   * {@code SEEK_HOLE}: the smallest offset ≥ {@code offset} that lies in a hole; end of file
   * counts as a hole, so the answer is at most {@link #size()}.
   */
  long nextHole(long offset) throws IOException;

  /**
   * The bytes of {@code [from, to)} (clipped to the image) that lie in data, exactly, for the
   * {@code st_blocks} of a view of part of this image ({@link SliceContent}). This default walks
   * {@link #nextData}/{@link #nextHole}, one step per data run; an image with a summary of its
   * allocation should answer without visiting every run.
   *
   * @throws IOException if the hole map cannot be read, or answers inconsistently
   */
  default long dataBytes(long from, long to) throws IOException {
    long end = Math.min(to, size());
    long total = 0;
    long pos = Math.max(0, from);
    while (pos < end) {
      long d = nextData(pos);
      if (d < 0 || d >= end) {
        break;
      }
      long h = nextHole(d);
      if (d < pos || h <= d) {
        throw new IOException("hole map: data after " + pos + " at " + d + ", the next hole at " + h);
      }
      total += Math.min(h, end) - d;
      pos = h;
    }
    return total;
  }

  /**
   * The bytes of {@code [from, to)} known to hold data, for the {@code st_blocks} of a view of
   * part of this image. The same as {@link #dataBytes} for an image whose hole map is final; an
   * image still being indexed reports its unknown ranges as data to {@code SEEK_DATA} (never a
   * hole that may turn out to be data) but counts only what is known here, as its own {@link
   * #allocatedBytes} does.
   */
  default long knownDataBytes(long from, long to) throws IOException {
    return dataBytes(from, to);
  }

  /**
   * Whether {@link #knownDataBytes} and {@link #allocatedBytes} are final: false while an index
   * pass still lists the image's clusters.
   */
  default boolean allocationSettled() {
    return true;
  }

  /** A small in-memory file with no holes, for config blobs. */
  static ImageContent ofBytes(byte[] bytes) {
    return new BytesContent(bytes.clone());
  }
}
