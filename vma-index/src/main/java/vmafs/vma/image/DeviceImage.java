package vmafs.vma.image;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.vma.DeviceInfo;
import vmafs.vma.index.ClusterTable;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.io.ArchiveSource;

/**
 * A device of the archive seen as a sparse raw disk image: exact bytes at any offset and length,
 * and the hole map at 4 KiB granularity. Zero blocks are synthesised without touching the archive;
 * stored blocks are read from the {@link ArchiveSource}, with runs that are contiguous in the
 * archive merged into one positional read. Missing clusters (only mountable with --partial) read
 * as zeros and are holes. Thread-safe.
 */
public final class DeviceImage {
  private static final byte[] ZEROS = new byte[CLUSTER_SIZE];

  private final DeviceIndex index;
  private final ArchiveSource source;
  private final long size;

  public DeviceImage(DeviceIndex index, ArchiveSource source) {
    this.index = index;
    this.source = source;
    this.size = index.imageSize();
  }

  public DeviceInfo info() {
    return index.info();
  }

  public DeviceIndex index() {
    return index;
  }

  public long size() {
    return size;
  }

  /** Bytes in stored 4 KiB blocks (what {@code du} should show). */
  public long allocatedBytes() {
    return index.stats().storedBlocks() * BLOCK_SIZE;
  }

  /**
   * Fills {@code dst} from {@code offset}; fewer bytes only at the end of the image.
   *
   * @return bytes written into {@code dst}
   */
  public int read(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset);
    }
    if (offset >= size) {
      return 0;
    }
    int total = (int) Math.min(dst.remaining(), size - offset);
    long end = offset + total;
    long pos = offset;
    // A pending run: bytes that are contiguous both in the image and in the archive stream.
    long runSource = -1;
    int runStart = dst.position();
    int runLength = 0;
    int out = dst.position();
    while (pos < end) {
      long cluster = pos >>> CLUSTER_SHIFT;
      long clusterBase = cluster << CLUSTER_SHIFT;
      long clusterEnd = Math.min(end, clusterBase + CLUSTER_SIZE);
      long e = index.entry(cluster);
      int mask = ClusterTable.isPresent(e) ? ClusterTable.mask(e) : 0;
      while (pos < clusterEnd) {
        int j = (int) ((pos - clusterBase) >>> BLOCK_SHIFT);
        boolean stored = (mask >>> j & 1) != 0;
        // Extend over following blocks of the same kind within this cluster.
        int k = j + 1;
        while (k < BLOCKS_PER_CLUSTER && (mask >>> k & 1) == (stored ? 1 : 0)) {
          k++;
        }
        long pieceEnd = Math.min(clusterEnd, clusterBase + ((long) k << BLOCK_SHIFT));
        int len = (int) (pieceEnd - pos);
        if (stored) {
          long src = ClusterTable.offset(e)
              + ((long) Integer.bitCount(mask & ((1 << j) - 1)) << BLOCK_SHIFT)
              + (pos - clusterBase - ((long) j << BLOCK_SHIFT));
          if (runLength > 0 && runSource + runLength == src) {
            runLength += len;
          } else {
            flush(dst, runStart, runSource, runLength);
            runSource = src;
            runStart = out;
            runLength = len;
          }
        } else {
          flush(dst, runStart, runSource, runLength);
          runLength = 0;
          zero(dst, out, len);
        }
        out += len;
        pos = pieceEnd;
      }
    }
    flush(dst, runStart, runSource, runLength);
    dst.position(dst.position() + total);
    return total;
  }

  private void flush(ByteBuffer dst, int at, long sourceOffset, int length) throws IOException {
    if (length > 0) {
      source.readFully(sourceOffset, dst.slice(at, length));
    }
  }

  private static void zero(ByteBuffer dst, int at, int length) {
    for (int done = 0; done < length; done += ZEROS.length) {
      dst.put(at + done, ZEROS, 0, Math.min(ZEROS.length, length - done));
    }
  }

  /**
   * {@code SEEK_DATA}: the smallest offset ≥ {@code offset} inside a stored block, or -1 if the
   * rest of the image is a hole.
   */
  public long nextData(long offset) {
    return find(offset, true);
  }

  /** {@code SEEK_HOLE}: the smallest offset ≥ {@code offset} in a hole; the end counts as one. */
  public long nextHole(long offset) {
    long h = find(offset, false);
    return h < 0 ? size : h;
  }

  /** The first offset ≥ {@code offset} whose block is stored ({@code wantData}) or not. */
  private long find(long offset, boolean wantData) {
    if (offset >= size) {
      return wantData ? -1 : size;
    }
    long block = offset >>> BLOCK_SHIFT;
    long lastBlock = (size - 1) >>> BLOCK_SHIFT;
    long clusters = index.clusterCount();
    long cluster = block >>> 4;
    int j = (int) (block & 15);
    while (cluster < clusters) {
      // Whole summary groups that cannot contain what we look for are skipped unread.
      if (j == 0 && (cluster & (DeviceIndex.GROUP_CLUSTERS - 1)) == 0) {
        long group = cluster >>> DeviceIndex.GROUP_SHIFT;
        if (wantData) {
          long listed = index.nextListedGroup(group);
          if (listed != group) {
            cluster = listed << DeviceIndex.GROUP_SHIFT; // groups never listed hold no data
            continue;
          }
        }
        int blocks = index.groupStoredBlocks(group);
        boolean skip = wantData ? blocks == 0
            : blocks == DeviceIndex.GROUP_CLUSTERS * BLOCKS_PER_CLUSTER;
        if (skip) {
          cluster += DeviceIndex.GROUP_CLUSTERS;
          continue;
        }
      }
      long e = index.entry(cluster);
      int mask = ClusterTable.isPresent(e) ? ClusterTable.mask(e) : 0;
      int bits = (wantData ? mask : ~mask & 0xFFFF) >>> j << j;
      if (bits != 0) {
        long found = (cluster << 4) + Integer.numberOfTrailingZeros(bits);
        if (found > lastBlock) {
          return -1;
        }
        return Math.max(offset, found << BLOCK_SHIFT);
      }
      cluster++;
      j = 0;
    }
    return -1;
  }
}
