package vmafs.image;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A byte range of another image seen as an image of its own (a partition of a disk): offsets are
 * translated, reads and the hole map are clipped to the range, so {@code SEEK_DATA}/{@code
 * SEEK_HOLE} answer exactly what the disk answers there. Thread-safe when the disk is.
 */
public final class SliceContent implements ImageContent {
  private static final long ALLOCATION_UNIT = 4096;

  private final ImageContent disk;
  private final long offset;
  private final long length;
  /** Once the disk's allocation is final: counted once, since {@code stat} asks on every call. */
  private volatile long allocatedBytes = -1;
  /** The last count while it was not final. */
  private volatile long lastCount;

  private SliceContent(ImageContent disk, long offset, long length) {
    this.disk = disk;
    this.offset = offset;
    this.length = length;
  }

  /**
   * The bytes {@code [offset, offset + length)} of {@code disk}. Counts the range's data here
   * when the disk's allocation is final; while it is not (an index pass runs), each {@code stat}
   * counts what is known so far ({@link ImageContent#knownDataBytes}).
   *
   * @throws IllegalArgumentException if the range is not inside the disk
   * @throws IOException if the disk's hole map cannot be read
   */
  public static SliceContent of(ImageContent disk, long offset, long length) throws IOException {
    if (offset < 0 || length < 0 || length > disk.size() - offset) {
      throw new IllegalArgumentException("range [" + offset + ", +" + length + ") is not inside an image of "
          + disk.size() + " bytes");
    }
    SliceContent s = new SliceContent(disk, offset, length);
    s.allocated();
    return s;
  }

  /** The range's known data in whole allocation units; kept once the disk's allocation is final. */
  private long allocated() throws IOException {
    long a = allocatedBytes;
    if (a >= 0) {
      return a;
    }
    boolean settled = disk.allocationSettled(); // before counting: a count after it is final
    long data = disk.knownDataBytes(offset, offset + length);
    a = (data == 0 ? 0 : (data - 1) / ALLOCATION_UNIT + 1) * ALLOCATION_UNIT;
    if (settled) {
      allocatedBytes = a;
    }
    lastCount = a;
    return a;
  }

  /** Where the slice starts in the disk. */
  public long offset() {
    return offset;
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public long allocatedBytes() {
    try {
      return allocated();
    } catch (IOException e) {
      // Only a hole map that answers inconsistently fails the count (the first one, in of(),
      // fails the slice): st_blocks cannot say so, and the last count is still true.
      return lastCount;
    }
  }

  @Override
  public long knownDataBytes(long from, long to) throws IOException {
    long f = Math.max(0, from);
    long t = Math.min(to, length);
    return f >= t ? 0 : disk.knownDataBytes(offset + f, offset + t);
  }

  @Override
  public boolean allocationSettled() {
    return disk.allocationSettled();
  }

  @Override
  public int read(long pos, ByteBuffer dst) throws IOException {
    if (pos < 0) {
      throw new IllegalArgumentException("negative offset " + pos);
    }
    if (pos >= length) {
      return 0;
    }
    int n = (int) Math.min(dst.remaining(), length - pos);
    int got = disk.read(offset + pos, dst.slice(dst.position(), n));
    dst.position(dst.position() + got);
    return got;
  }

  @Override
  public long nextData(long pos) throws IOException {
    if (pos >= length) {
      return -1;
    }
    long d = disk.nextData(offset + Math.max(0, pos));
    return d < 0 || d >= offset + length ? -1 : d - offset;
  }

  @Override
  public long nextHole(long pos) throws IOException {
    if (pos >= length) {
      return length;
    }
    long h = disk.nextHole(offset + Math.max(0, pos));
    return Math.min(h, offset + length) - offset;
  }

  @Override
  public long dataBytes(long from, long to) throws IOException {
    long f = Math.max(0, from);
    long t = Math.min(to, length);
    return f >= t ? 0 : disk.dataBytes(offset + f, offset + t);
  }
}
